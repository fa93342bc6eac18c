
demo	demo-00060B>
cust-99de-DEDE"Europe/Berlin2
emailjonas@example.deZ¤•Ø