"""The data model every other layer shares: findings, check metadata and check results."""
