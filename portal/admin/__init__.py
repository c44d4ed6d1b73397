"""Administration of the chain: stores, staff and their imports (used by the CLI)."""
