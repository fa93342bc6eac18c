
demo	demo-0009	*T-10010J
agent-7enR-Su reembolso del pedido #4471 ya fue emitido.Zภา–ุb
source_languageenb;
source_text,Your refund for order #4471 has been issued.b
target_languageesb
termsrefund=reembolso