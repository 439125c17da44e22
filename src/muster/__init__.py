"""Muster: the system of record for a volunteer defence force."""

__version__ = "0.1.0"
