
demo	demo-0003*T-10020B:
cust-77ja-JPJP"
Asia/Tokyo2
emailsato@example.jpR'配送状況を教えてください。Z�Ó�