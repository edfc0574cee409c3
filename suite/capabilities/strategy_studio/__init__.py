"""Strategy Studio: cli, page, runner, views."""
