"""Alerts (R7): conditions someone must act on, raised by a scheduled job, acknowledged and
resolved by entries."""
