"""Administration of the chain: stores, staff and their imports, and the database's schema
and rollups (used by the CLI)."""
