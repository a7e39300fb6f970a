"""The security regression suite: one module per class of past framework advisories."""
