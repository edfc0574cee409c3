"""Part Design: cli, page, runner, topology_handoff, views."""
