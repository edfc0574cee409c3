"""Topology: cli, page, runner, views."""
