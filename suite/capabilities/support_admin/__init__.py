"""Support Admin: page."""
