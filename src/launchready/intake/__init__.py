"""Error intake: a receiver for the official Sentry SDKs, scrubbing, grouping, log clustering, alerts.

Modules: ``body`` (bounded reading and decompression), ``envelope`` (the envelope format and the
legacy store body), ``auth`` (DSNs and the three ways an SDK presents its key), ``ratelimit``
(per-key token buckets), ``scrub`` (the data scrubber), ``templating`` (variable parts of a
message become placeholders), ``grouping`` (which group an event belongs to, its title and
culprit), ``ingest`` (writes groups, events and alerts to the monitor store), ``checkins``
(cron check-ins fed to heartbeats), ``projects`` (DSN keys), ``routes`` (the Starlette endpoints),
``logs`` (log clustering, following files) and ``api`` (the JSON API for groups).
"""
