
shop	shop-0004*T-shop-00040B2
cust-budgeten-GBGB2
emailsam@example.comR8The autofocus of my lens hunts in low light, any advice?Z ´€Ø