"""The merchant's numbers: analytics (charts, RFM, uplift), their nightly rollups, the overview and fraud signals.

Reads the ledger's tables; uses only platform. Segments read its RFM scoring.
"""
