"""Use cases: read from the store, call engines, persist results, enforce tenancy."""
