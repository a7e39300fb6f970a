"""One module per benchmarked app; each serves the same five endpoints."""
