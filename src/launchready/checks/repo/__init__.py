"""Checks on the application repository: secrets, credential files, deploy configs."""
