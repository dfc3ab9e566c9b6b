"""Alert delivery: the outbox worker, routing, maintenance windows, reminders and SLO burn rates.

``routing.py`` decides which ``[[monitor.alerts]]`` entries hear about a flip (the scheduler
passes the answer to ``record_flip``) and whether a maintenance window silences it;
``message.py`` renders a flip for the providers; ``worker.py`` drains the outbox with leases,
retries and back-off; ``reminders.py`` re-announces subjects that stay down; ``slo.py`` turns
the results table into multi-window burn-rate flips; ``providers.py`` builds the provider table
from the config.

Wiring, as ``monitor serve`` does it::

    router = AlertRouter(monitor.alerts, monitor.maintenance)
    table = build_providers(monitor.alerts, os.environ, net)   # table.problems(): config errors
    worker = AlertWorker(engine, table, router=router)          # clock=time.time by default
    slo = SloEvaluator(engine, router, slo=monitor.slo)
    ... run worker.run() and slo.run() as tasks; on SIGTERM: worker.stop(), slo.stop(),
    then await table.close()

and wherever a state flips (same transaction as the new state)::

    record_flip(conn, ..., providers=router.providers_for(kind, name, tags, old, new))
    worker.wake()   # optional: deliver now instead of at the next poll (default every second)
"""
