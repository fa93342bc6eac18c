
globalglobal-reply-us*T-20US0B2
cust-USen-USUS"America/New_York*
Anna SmithJ
agent-7enRxI hope this email finds you well. Unfortunately your order #4471 is delayed by two days!! We will ship it on Friday ðŸ˜ŠZ€é–Ø