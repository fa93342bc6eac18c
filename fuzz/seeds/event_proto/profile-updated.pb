
demo	demo-00080B;
cust-992
emailjonas@example.de2
facebook	fb-100234Z À•Ø