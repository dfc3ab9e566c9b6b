"""Smoke tests of real user flows: flow files (YAML), a runner on the project's HTTP stack, reports.

``loader`` turns flow files into a validated model (every mistake is ``file:line`` before any
request), ``runner`` executes flows (independent flows in parallel), ``report`` renders results.
"""
