"""The member's screens read across contexts (cockpit, activity) and the member's actions that span them (closing the account).

Uses catalog and everything below; never store, program, crm or operations.
"""
