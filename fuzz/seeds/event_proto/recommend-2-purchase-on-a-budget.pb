
shop	shop-0002*T-shop-00020B2
cust-budgeten-GBGB2
emailsam@example.comZ ´€Øb
purchase.categorylensesb
purchase.currencyEURb!
purchase.item_idlens-35-basicb
purchase.price199