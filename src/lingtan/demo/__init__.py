"""Demo data: a seeded, deterministic example park."""
