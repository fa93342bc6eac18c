
demo	demo-0001*T-10010BX
cust-42es-MXMX"America/Mexico_City*Luc√≠a Hern√°ndez2
whatsapp+5215512345678J
agent-7enR:Hola, mi pedido #4471 no ha llegado y quiero un reembolso.ZÂŒñÿb
planpremium