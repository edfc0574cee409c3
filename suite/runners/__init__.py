"""Workflows that wrap a domain call in a workspace run; shared by the pages and the CLI."""
