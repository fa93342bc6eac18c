
supportsupport-0002*T-50020B)
	cust-pt-1pt-BRBR"America/Sao_PauloR8Ol√°, a minha encomenda ainda n√£o chegou. Podem ajudar?Z–âªÿ