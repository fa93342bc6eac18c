
shop	shop-0001*T-shop-00010B0
cust-proen-GBGB2
emailmika@example.comZ ´€Øb
purchase.categorylensesb
purchase.currencyEURb 
purchase.item_idlens-100-prob
purchase.price1099