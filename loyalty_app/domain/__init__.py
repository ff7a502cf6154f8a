"""Pure-Python loyalty domain core. Nothing here imports Reflex or the database."""
