"""ftmigrate: find and fix code that races on free-threaded CPython (PEP 703)."""

__version__ = "0.1.0"
