
demo	demo-0005*T-10010B	
cust-42RMuy rÃ¡pido, graciasZ€é–Øb

csat.score5