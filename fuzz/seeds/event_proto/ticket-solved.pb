
demo	demo-0004*T-10010B	
cust-42J	
agent-7ZøÚ–Ø