"""Satchel's benchmark suite: a command (``python benchmarks/run.py``), never a test."""
