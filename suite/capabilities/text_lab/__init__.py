"""Text Lab: cli, page, runner, views."""
