"""Checks on deployed environments' configuration (the environment contract)."""
