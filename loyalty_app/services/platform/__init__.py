"""What every context stands on: transactions and retries, in-transaction events, permissions, throttles, live push to open apps, the engine handle, merchants, the admin audit trail, QR images, definitions upserted by their key.

Uses only the domain, models and db; every other service package may use it.
"""
