"""The REST API under /api/v1/ (django-ninja): every operation the CLI and the web offer."""
