"""Exports of the registers to CSV (and later XLSX, 360Giving)."""
