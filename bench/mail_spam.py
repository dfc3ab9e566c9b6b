"""Benchmark: SpamAssassin scoring of a run's messages in one process, against one process per message.

Run by hand:  .venv/bin/python bench/mail_spam.py [--messages 10] [--rounds 3]

Baseline (named, measured in the same run): ``score_messages`` called once per message, i.e. one
``spamassassin`` start per message, which is what scoring each message as it arrives would cost.
Candidate: ``score_messages`` called once with every message (what ``extend_judgements`` does).
Both score the same messages with the same options; rounds are interleaved so a busy machine
slows both alike, and the medians are printed with the ratio. Needs ``spamassassin`` installed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from email.message import EmailMessage

from launchready.mailtest.spam import score_messages, spamassassin_path


def messages(count: int) -> list[bytes]:
    out = []
    for n in range(count):
        message = EmailMessage()
        message["From"] = "Example <hello@example.com>"
        message["To"] = f"member{n}@example.com"
        message["Subject"] = f"Your receipt #{1000 + n}"
        message["Date"] = "Mon, 30 Nov 2026 08:00:00 +0000"
        message["Message-ID"] = f"<receipt-{n}.4f2a9c1e7b@mail.example.com>"
        message.set_content(f"Thanks for your order {n}.\nhttps://app.example.com/orders/{n}\n")
        message.add_alternative(
            f'<p>Thanks for your order {n}.</p><a href="https://app.example.com/orders/{n}">Order</a>', subtype="html"
        )
        out.append(message.as_bytes())
    return out


async def one_process(raws: list[bytes]) -> None:
    run = await score_messages(raws)
    assert run.skipped is None and all(s is not None for s in run.scores), run.skipped


async def process_per_message(raws: list[bytes]) -> None:
    for raw in raws:
        await one_process([raw])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if spamassassin_path() is None:
        sys.exit("spamassassin is not installed (apt-get install spamassassin)")
    raws = messages(args.messages)
    batch: list[float] = []
    each: list[float] = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        asyncio.run(process_per_message(raws))
        each.append(time.perf_counter() - start)
        start = time.perf_counter()
        asyncio.run(one_process(raws))
        batch.append(time.perf_counter() - start)
    base, cand = statistics.median(each), statistics.median(batch)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"baseline  one spamassassin per message ({args.messages} messages): {base:.2f} s (median of {args.rounds})")
    print(f"candidate one spamassassin for all {args.messages} messages:      {cand:.2f} s")
    print(f"ratio candidate/baseline: {cand / base:.2f}")


if __name__ == "__main__":
    main()
