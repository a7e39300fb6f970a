"""One module per benchmarked app; each serves the same five endpoints.

The apps in the validation suite (raw RSGI, Satchel, Litestar, FastAPI) also serve its two.
The database suite's apps are modules of their own (``*_db_app``), so the other suites'
apps load no database or template library.
"""
