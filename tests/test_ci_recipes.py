"""The CI recipes run as written: the GitHub Action's shell steps and the GitLab job's script,
executed by bash against the lab (the steps that download, set up Python or upload are checked
for what they would run, not run)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from launchready.lab.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def _bin_path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _evaluate(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match[1]
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression == "github.action_path":
            return str(ROOT)
        if expression.startswith("steps.audit.outputs."):
            return outputs[expression.removeprefix("steps.audit.outputs.")]
        raise AssertionError(f"the test does not know the expression {expression!r}")

    return EXPRESSION.sub(one, text)


def _run_action(lab: Lab, workdir: Path, config: Path, fail_on: str) -> tuple[dict[str, str], dict[str, int]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(
        {
            "domain": "marketlab.test",
            "config": str(config),
            "fail-on": fail_on,
            "args": " ".join([*lab.cli_args(), "--no-history", "--only", "web.hsts"]),
        }
    )
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}
    github_output = workdir / "github_output"
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].startswith(("actions/setup-python@", "github/codeql-action/upload-sarif@"))
            continue
        if step.get("id") == "install":
            # Installing from the action's own checkout: the package this test already runs.
            assert 'pip install --quiet "$ACTION_PATH"' in step["run"]
            assert step["env"]["ACTION_PATH"] == "${{ github.action_path }}"
            continue
        env = {k: _evaluate(str(v), inputs, outputs) for k, v in step.get("env", {}).items()}
        github_output.write_text("", encoding="utf-8")
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=workdir,
            env={**os.environ, "PATH": _bin_path(), "GITHUB_OUTPUT": str(github_output), **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        codes[step["id"]] = done.returncode
        for line in github_output.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
    return outputs, codes


@pytest.fixture(scope="module")
def lab() -> object:
    with Lab(faults=["no-hsts"]) as running:
        yield running


def test_the_action_uploads_sarif_and_fails_only_at_the_threshold(lab: Lab, tmp_path: Path) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text(lab.config_toml(), encoding="utf-8")
    outputs, codes = _run_action(lab, tmp_path, config, fail_on="blocker")
    assert codes == {"audit": 0, "verdict": 0}
    assert outputs["exit-code"] == "0"  # web.hsts.missing is medium: below blocker
    sarif = json.loads((tmp_path / "launchready.sarif").read_text(encoding="utf-8"))
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"web.hsts.missing"}
    outputs, codes = _run_action(lab, tmp_path, config, fail_on="medium")
    assert outputs["exit-code"] == "1"
    assert codes == {"audit": 0, "verdict": 1}  # the audit step records; the last step fails the job


def test_the_action_fails_on_a_usage_error_without_hiding_it(lab: Lab, tmp_path: Path) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text(lab.config_toml() + '\n[audit]\nonly = ["emial"]\n', encoding="utf-8")
    outputs, codes = _run_action(lab, tmp_path, config, fail_on="blocker")
    assert outputs["exit-code"] == "2"
    assert codes["verdict"] == 2


def test_the_gitlab_job_writes_junit_and_fails_on_findings(lab: Lab, tmp_path: Path) -> None:
    job = yaml.safe_load((ROOT / "ci" / "launchready.gitlab-ci.yml").read_text(encoding="utf-8"))["launchready"]
    install, audit = job["script"]
    assert install.startswith("python -m pip install")
    assert job["artifacts"]["reports"]["junit"] == "launchready-junit.xml"
    config = tmp_path / "launchready.toml"
    config.write_text(lab.config_toml(), encoding="utf-8")
    variables = {
        **{k: str(v) for k, v in job["variables"].items()},
        "LAUNCHREADY_DOMAIN": "marketlab.test",
        "LAUNCHREADY_FAIL_ON": "medium",
        "LAUNCHREADY_ARGS": " ".join(["--config", str(config), *lab.cli_args(), "--no-history", "--only", "web.hsts"]),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", audit],
        cwd=tmp_path,
        env={**os.environ, "PATH": _bin_path(), **variables},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    junit = (tmp_path / "launchready-junit.xml").read_text(encoding="utf-8")
    assert 'failures="' in junit and "web.hsts.missing" in junit
