"""Support Chat: cli, page, runner, views."""
