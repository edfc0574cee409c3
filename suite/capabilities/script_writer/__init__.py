"""Script Writer: cli, page, runner, views, voice."""
