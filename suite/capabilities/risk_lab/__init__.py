"""Risk Lab: cli, page, report, runner, views."""
