"""Reflex states. Kept flat under ``rx.State``: each event loads only the states it touches."""
