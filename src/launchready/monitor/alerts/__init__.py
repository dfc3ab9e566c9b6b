"""Alert delivery: the outbox worker, routing, maintenance windows, reminders and SLO burn rates.

``routing.py`` decides which ``[[monitor.alerts]]`` entries hear about a flip (the scheduler
passes the answer to ``record_flip``) and whether a maintenance window silences it;
``message.py`` renders a flip for the providers; ``worker.py`` drains the outbox with leases,
retries and back-off; ``reminders.py`` re-announces subjects that stay down; ``slo.py`` turns
the results table into multi-window burn-rate flips; ``providers.py`` builds the provider table
from the config.
"""
