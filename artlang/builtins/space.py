"""space built-ins (being written)."""
