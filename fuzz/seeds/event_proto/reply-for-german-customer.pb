
globalglobal-reply-german*T-20DE0B1
cust-DEde-DEDE"Europe/Berlin*Jonas BeckerJ
agent-7enRxI hope this email finds you well. Unfortunately your order #4471 is delayed by two days!! We will ship it on Friday ðŸ˜ŠZ€é–Ø