"""Portfolio figures: what the foundation funded and what it led to."""
