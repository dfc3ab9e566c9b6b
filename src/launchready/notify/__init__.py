"""Alert and notification providers behind one interface (as Gatus has them: validate, send).

``base.py`` holds the interface (:class:`Provider`), the :class:`Message` every provider renders
and the :class:`Delivery` it returns; ``slack.py``, ``webhook.py`` and ``email.py`` are the
providers; ``transport.py`` holds the network plumbing they share (the run's ``--nameserver``,
``--connect-to``, ``--ca-bundle`` and ``--timeout``, through the probes' resolver and TLS trust).
The deploy gate and the monitor's alert worker both send through these.
"""
