"""The merchant's other systems: the webhooks outbox and its delivery, CSV exports.

Subscribes to platform events; uses member_app and everything below; independent of store and program.
"""
