"""Image generators: cli, page, runner, views."""
