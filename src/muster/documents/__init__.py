"""Printable documents: PDF from a Django template, and QR codes sized to scan on paper."""
