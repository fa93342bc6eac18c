
supportsupport-0001*T-50010B%
	cust-es-1es-ESES"Europe/MadridR:Hola, quiero cambiar la direcci√≥n de env√≠o de mi pedido.Zòß∫ÿ