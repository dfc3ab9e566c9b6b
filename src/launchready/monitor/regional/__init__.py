"""Monitoring from several places: the regional probe (``agent``, ``spool``) and several nodes on one store (``cluster``).

The judging itself (per-region state machines, the quorum, silent probes, slot claims) lives in
``monitor/store/regions.py`` and the pure ``monitor/quorum.py``; the probes' API in
``monitor/web/probe_api.py``.
"""
