"""The scanner against a labelled corpus: every planted secret found by its rule, no decoy above low.

Recall and precision are printed (run with -s to see them) so a rule change that trades one for
the other shows up in the test output, not only as a pass/fail.
"""

from __future__ import annotations

import pytest
from secrets_corpus import DECOYS, SECRETS, TEST_KEYS, Sample

from launchready.core.severity import Severity
from launchready.secrets.allowlist import Allowlist
from launchready.secrets.detector import Detector, shannon_entropy
from launchready.secrets.rules import RULES, Kind


def detect(sample: Sample) -> list[tuple[str, str]]:
    """(rule id, effective severity) of everything reported for the sample."""
    return [
        (m.rule.id, m.severity_override or m.rule.severity.value) for m in Detector().scan(sample.text, sample.path)
    ]


def test_every_provider_rule_has_a_true_sample() -> None:
    covered = {s.rule for s in SECRETS + TEST_KEYS}
    missing = {r.id for r in RULES if r.id not in covered} - {"aws-access-key-id", "jwt"}
    assert missing == set()


@pytest.mark.parametrize("sample", SECRETS + TEST_KEYS, ids=lambda s: s.name)
def test_true_secret_is_found_by_its_rule(sample: Sample) -> None:
    found = Detector().scan(sample.text, sample.path)
    assert sample.rule in {m.rule.id for m in found}, found
    assert any(m.secret.replace("\n", "") == sample.secret.replace("\n", "") for m in found if m.rule.id == sample.rule)


@pytest.mark.parametrize("sample", DECOYS, ids=lambda s: s.name)
def test_decoy_is_nothing_above_low(sample: Sample) -> None:
    above_low = [(rule, sev) for rule, sev in detect(sample) if Severity(sev).rank > Severity.LOW.rank]
    assert above_low == []


def test_recall_and_precision_printed(capsys: pytest.CaptureFixture[str]) -> None:
    true_positive = sum(1 for s in SECRETS + TEST_KEYS if s.rule in {rule for rule, _ in detect(s)})
    reported = [(s, hit) for s in SECRETS + TEST_KEYS + DECOYS for hit in detect(s)]
    correct = sum(1 for s, (rule, _) in reported if s.rule is not None)
    false_above_low = sum(1 for s, (_, sev) in reported if s.rule is None and Severity(sev).rank > Severity.LOW.rank)
    recall = true_positive / len(SECRETS + TEST_KEYS)
    precision = correct / len(reported) if reported else 1.0
    with capsys.disabled():
        print(
            f"\nsecrets corpus: recall {recall:.1%} ({true_positive}/{len(SECRETS + TEST_KEYS)}), "
            f"precision {precision:.1%} ({correct}/{len(reported)} reports), "
            f"{len(DECOYS)} decoys, {false_above_low} decoy report(s) above low"
        )
    assert recall == 1.0
    assert false_above_low == 0


def test_test_keys_are_low_and_live_keys_blockers() -> None:
    [test_key] = TEST_KEYS
    assert detect(test_key) == [("stripe-test-key", "low")]
    live = next(s for s in SECRETS if s.rule == "stripe-live-key")
    assert detect(live) == [("stripe-live-key", "blocker")]


def test_aws_key_id_alone_is_medium_and_pair_is_a_blocker() -> None:
    pair = next(s for s in SECRETS if s.name == "aws pair")
    assert detect(pair) == [("aws-secret-access-key", "blocker")]
    key_id_line = pair.text.splitlines()[0]
    assert detect(Sample("id alone", "x.py", key_id_line, None)) == [("aws-access-key-id", "medium")]


def test_secret_in_yaml_json_toml_env_dockerfile_and_notebook() -> None:
    formats = {
        "yaml": ".github/bot.yml",
        "json": "config/prod.json",
        "toml": "config.toml",
        ".env": ".env.production",
        "Dockerfile": "Dockerfile",
        "notebook": "analysis.ipynb",
    }
    for kind, path in formats.items():
        sample = next(s for s in SECRETS if s.path == path)
        assert sample.rule in {rule for rule, _ in detect(sample)}, kind


def test_allowlists_path_regex_value_and_inline() -> None:
    sample = next(s for s in SECRETS if s.rule == "github-token")
    assert Detector(Allowlist(paths=(".github/**",))).scan(sample.text, sample.path) == []
    import re

    assert Detector(Allowlist(regexes=(re.compile("^ghp_"),))).scan(sample.text, sample.path) == []
    assert Detector(Allowlist(values=frozenset({sample.secret}))).scan(sample.text, sample.path) == []
    assert Detector().scan(sample.text.rstrip() + "  # launchready:allow\n", sample.path) == []
    # Lock files are skipped by default, wherever they are.
    assert Detector().scan(sample.text, "web/node_modules/x/index.js") == []


def test_line_numbers_point_at_the_secret() -> None:
    text = "a = 1\n\n\n" + next(s for s in SECRETS if s.rule == "stripe-live-key").text
    [match] = Detector().scan(text, "x.py")
    assert match.line == 4
    # With a line map (history: added lines of a hunk), the map's numbers are used.
    [mapped] = Detector().scan(text, "x.py", [10, 11, 12, 40])
    assert mapped.line == 40


def test_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0


def test_generic_rules_are_marked_generic() -> None:
    assert {r.id for r in RULES if r.kind is Kind.GENERIC} == {"generic-secret", "jwt"}
