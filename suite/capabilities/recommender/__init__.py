"""Recommender: cli, page, runner, views."""
