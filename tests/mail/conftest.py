"""Fixtures for the mail tests."""

from tests.mail.smtpserver import tls_files

__all__ = ["tls_files"]
