"""The shared layers (connection, pool, client): async source in _async/, sync twin in _sync/ (scripts/unasync)."""
