"""Style Transfer: cli, page, runner, views."""
