"""Duties (R9): duty types, posts, shifts, rostering, check-in and check-out."""
