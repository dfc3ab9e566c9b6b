"""Uptime checks: Gatus-style conditions (pure) and the runner that measures through the audit's probes."""
