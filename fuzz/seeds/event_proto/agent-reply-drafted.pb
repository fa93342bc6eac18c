
demo	demo-0002*T-10010B)
cust-42es-MXMX"America/Mexico_CityJ
agent-7enR,Your refund for order #4471 has been issued.ZÈÑ–Ø