
supportsupport-0003*T-50030B"
	cust-ja-1ja-JPJP"
Asia/TokyoRWオートフォーカスがうまく合いません。どうすればいいですか？Z����