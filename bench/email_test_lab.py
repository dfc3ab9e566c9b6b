"""Benchmark: what judging the mail adds to running the flows that send it, on the lab.

Run by hand:  PYTHONPATH=src .venv/bin/python bench/email_test_lab.py [--rounds 5]

Baseline (named, measured in the same run): the smoke runner alone on the same three flows
(signup, invite, password-reset: the lab's flows with an email step of their own), reading the
mail from the lab's Mailpit-style API. The mail test runs the same flows and also fetches each
message's source, judges SPF, DKIM, DMARC and the content (DNS through the lab's server), measured
twice: without SpamAssassin (the judging alone) and with it (the default: one `spamassassin`
process for the three messages, when installed). The runs are interleaved round by round so a busy
machine slows them alike; the medians and the ratios to the baseline are printed, with the
machine's load average.
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
from launchready.mailtest.extended import ExtendedOptions
from launchready.mailtest.policy import config_policy
from launchready.mailtest.run import MailTest
from launchready.mailtest.spam import spamassassin_path
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
        spam_s: list[float] = []
        scoring = spamassassin_path() is not None
        for _ in range(rounds):
            started = time.perf_counter()
            run = asyncio.run(execute(plan_smoke(config, "production", flow_names=FLOWS), net))
            smoke_s.append(time.perf_counter() - started)
            assert run.passed, [f.reason for f in run.failed]
            started = time.perf_counter()
            judging = MailTest(config, net, config_policy(config), options=ExtendedOptions(spamassassin=False))
            facts = asyncio.run(judging.test("production"))
            mail_s.append(time.perf_counter() - started)
            assert len(facts.messages) == 3 and not any(m.findings for m in facts.messages)
            if scoring:
                started = time.perf_counter()
                facts = asyncio.run(MailTest(config, net, config_policy(config)).test("production"))
                spam_s.append(time.perf_counter() - started)
                assert all(m.spam_score is not None for m in facts.messages)
    baseline, measured = statistics.median(smoke_s), statistics.median(mail_s)
    print(f"load average (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    print(f"smoke flows alone (baseline): median {baseline * 1000:.0f} ms over {rounds} rounds")
    print(f"email test --no-spamassassin (same flows, 3 messages judged): median {measured * 1000:.0f} ms")
    print(f"ratio email test --no-spamassassin / smoke: {measured / baseline:.2f}")
    if spam_s:
        scored = statistics.median(spam_s)
        print(f"email test (3 messages judged and scored by SpamAssassin): median {scored * 1000:.0f} ms")
        print(f"ratio email test / smoke: {scored / baseline:.2f}")
    else:
        print("email test with SpamAssassin: not measured (spamassassin is not installed)")


if __name__ == "__main__":
    main()
