"""Probes measure facts (DNS answers, TLS handshakes, HTTP exchanges) and never judge them.

Checks and, later, the monitor read the same frozen fact objects. A probe never raises for a
network failure: the failure is part of the facts (``error`` / ``status``), so the policy side
decides whether it is a finding or "could not run".
"""
