
demo	demo-0010d"refund-issued*T-10010d:lineB	
cust-42Z Ö–Øb
amount39.90b
currencyMXN