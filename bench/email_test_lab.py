"""Benchmark: what judging the mail adds to running the flows that send it, on the lab.

Run by hand:  PYTHONPATH=src .venv/bin/python bench/email_test_lab.py [--rounds 5]

Baseline (named, measured in the same run): the smoke runner alone on the same three flows
(signup, invite, password-reset: the lab's flows with an email step of their own), reading the
mail from the lab's Mailpit-style API. The mail test runs the same flows and also fetches each
message's source, judges SPF, DKIM, DMARC and the content (DNS through the lab's server). The two
are interleaved round by round so a busy machine slows both alike; the median of the rounds and
the ratio to the baseline are printed, with the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import tomllib

from launchready.config.model import Config
from launchready.lab.lab import Lab
from launchready.mailtest.policy import config_policy
from launchready.mailtest.run import MailTest
from launchready.smoke.plan import execute, plan_smoke

FLOWS = ("signup", "invite", "password-reset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with Lab() as lab:
        data = tomllib.loads(lab.config_toml())
        data["email"]["test"] = True
        config = Config.model_validate(data)
        net = lab.net_settings()
        smoke_s: list[float] = []
        mail_s: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            run = asyncio.run(execute(plan_smoke(config, "production", flow_names=FLOWS), net))
            smoke_s.append(time.perf_counter() - started)
            assert run.passed, [f.reason for f in run.failed]
            started = time.perf_counter()
            facts = asyncio.run(MailTest(config, net, config_policy(config)).test("production"))
            mail_s.append(time.perf_counter() - started)
            assert len(facts.messages) == 3 and not any(m.findings for m in facts.messages)
    baseline, measured = statistics.median(smoke_s), statistics.median(mail_s)
    print(f"load average (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    print(f"smoke flows alone (baseline): median {baseline * 1000:.0f} ms over {rounds} rounds")
    print(f"email test (same flows, 3 messages judged): median {measured * 1000:.0f} ms")
    print(f"ratio email test / smoke: {measured / baseline:.2f}")


if __name__ == "__main__":
    main()
