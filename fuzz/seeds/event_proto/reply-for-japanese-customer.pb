
globalglobal-reply-japanese*T-20JP0B/
cust-JPja-JPJP"
Asia/Tokyo*å±±ç”° å¤ªéƒŽJ
agent-7enRxI hope this email finds you well. Unfortunately your order #4471 is delayed by two days!! We will ship it on Friday ðŸ˜ŠZ€é–Ø