"""Defect Inspection: cli, page, runner, views."""
