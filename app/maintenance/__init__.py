"""Operating the database: `grantpath backup FILE` and `grantpath restore FILE` (no pages)."""
