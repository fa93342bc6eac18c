
shop	shop-0003*T-shop-00030B0
cust-proen-GBGB2
emailmika@example.comR8The autofocus of my lens hunts in low light, any advice?Z ´€Ø