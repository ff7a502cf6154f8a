"""Benchmarks: scripts that print figures (``python -m benchmarks.<name>``); they never assert."""
