"""Judging one received message: authentication (SPF, DKIM, DMARC, ARC) and content."""
