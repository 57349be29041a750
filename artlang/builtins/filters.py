"""filters built-ins (being written)."""
