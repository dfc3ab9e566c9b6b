"""Runs checks on time, judges state flips and watches heartbeats for lateness (``Scheduler``)."""

from launchready.monitor.scheduler.scheduler import Clock, Routing, Scheduler, SystemClock

__all__ = ["Clock", "Routing", "Scheduler", "SystemClock"]
