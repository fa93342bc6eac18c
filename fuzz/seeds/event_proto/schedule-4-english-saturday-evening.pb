
supportsupport-0004*T-50040B'
	cust-en-1en-USUS"America/ChicagoRIWhere is my order? It has not arrived yet and I need the shipping status.ZÀÚÑØ