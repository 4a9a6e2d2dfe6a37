"""Adapters that bring outside data in: files, API posts, gateways."""
