"""Persistence: models, sessions, migrations and scoped queries."""
