"""Locust's fastest user class, no think time: the closed-loop baseline for bench_load.py."""

from locust import FastHttpUser, constant, task  # type: ignore[import-not-found]


class Hammer(FastHttpUser):  # type: ignore[misc]
    wait_time = constant(0)

    @task
    def index(self) -> None:
        self.client.get("/")
