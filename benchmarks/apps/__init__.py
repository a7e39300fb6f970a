"""One module per benchmarked app; each serves the same five endpoints.

The apps in the validation suite (raw RSGI, Satchel, Litestar, FastAPI) also serve its two.
"""
