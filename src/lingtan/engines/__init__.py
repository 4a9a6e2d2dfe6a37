"""Pure computation: plain data in, typed results out; no database, no I/O."""
