"""The DNS map against the lab: `launchready dns map`, and the map in the JSON/Markdown/HTML reports."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tomllib

import jsonschema

from launchready.cli.dns_cmd import MapFormat, build_map, render_map
from launchready.config.model import Config
from launchready.core.dnsmap import DnsMap
from launchready.lab.lab import Lab
from launchready.report.json_report import load_schema


def lab_map(lab: Lab) -> DnsMap:
    config = Config.model_validate({**tomllib.loads(lab.config_toml()), "audit": {"discover": False}})
    return asyncio.run(build_map(lab.domain, config, lab.net_settings()))


def test_map_lists_every_record_that_matters(lab: Lab) -> None:
    dns_map = lab_map(lab)
    rows = {(r.name, r.type) for r in dns_map.records}
    d = lab.domain
    for expected in [
        (d, "SOA"),
        (d, "NS"),
        (d, "A"),
        (d, "MX"),
        (d, "TXT"),
        (d, "CAA"),
        (f"www.{d}", "A"),
        (f"app.{d}", "A"),
        (f"mail.{d}", "A"),
        (f"_dmarc.{d}", "TXT"),
        (f"lab._domainkey.{d}", "TXT"),
    ]:
        assert expected in rows, expected
    assert all(r.ttl is not None for r in dns_map.records)
    # The lab signs its zone and publishes the DS from the parent side.
    assert dns_map.dnssec == "signed" and dns_map.unanswered == ()
    assert (d, "DNSKEY") in rows and (d, "DS") in rows
    text = render_map(dns_map, MapFormat.MD)
    assert f"| _dmarc.{d} | TXT | 300 | `v=DMARC1; p=reject; rua=mailto:dmarc@{d}` | dmarc |" in text
    assert json.loads(render_map(dns_map, MapFormat.JSON))["domain"] == d


def test_dns_map_command(lab: Lab) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "launchready", "dns", "map", lab.domain, "--format", "json", *lab.cli_args()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert any(r["type"] == "MX" for r in json.loads(out.stdout)["records"])


def test_map_in_json_report_validates_and_renders(lab: Lab) -> None:
    from report_samples import sample_run

    from launchready.report.html import render_html
    from launchready.report.json_report import render_json
    from launchready.report.markdown import render_markdown

    run = sample_run().model_copy(update={"dns_map": lab_map(lab)})
    document = json.loads(render_json(run))
    jsonschema.validate(document, load_schema())
    assert document["dns_map"]["dnssec"] == "signed"
    assert "## DNS map" in render_markdown(run)
    assert 'id="dns-map"' in render_html(run)


def test_unsigned_lab_maps_as_unsigned() -> None:
    with Lab(faults=["dnssec-unsigned"]) as lab:
        dns_map = lab_map(lab)
    assert dns_map.dnssec == "unsigned" and dns_map.unanswered == ()
    assert not [r for r in dns_map.records if r.type in ("DNSKEY", "DS")]
