"""The shop floor: the till (scan, credit, undo, vouchers), signed card codes, check-ins and posters.

Uses member_app and everything below; independent of program and crm.
"""
