"""Character Design: cli, page, runner, views."""
