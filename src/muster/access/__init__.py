"""Who may see and do what: one place for access control (R10, DOMAIN "Who uses it")."""
