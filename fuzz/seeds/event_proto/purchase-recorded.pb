
demo	demo-00070B	
cust-99Z˜²•Øb
categorylensesb
currencyEURb
itemlens-85mm-f1.8b
price649.00