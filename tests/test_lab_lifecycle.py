"""Lab start/stop, its flags and config, and the foreground runner behind `launchready lab up`."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import dns.message
import dns.query
import pytest
from netutil import closed_port

import launchready
from launchready.config.model import Config
from launchready.core.net import build_net_settings
from launchready.lab.client import LabClient
from launchready.lab.lab import Lab, run_lab_foreground


def tcp_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def udp_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_start_stop_leaves_no_thread_port_or_workdir() -> None:
    threads_before = set(threading.enumerate())
    lab = Lab(["no-hsts"]).start()
    ports = (lab.dns_port, lab.https_port, lab.http_port, lab.smtp_port)
    workdir = lab.workdir
    assert len(set(ports)) == 4
    assert workdir.is_dir() and lab.ca_bundle.is_file()
    # Real traffic on every service while it runs, so stop() has open state to clean up.
    assert LabClient.for_lab(lab).get("https://app.marketlab.test/health").status == 200
    dns.query.tcp(dns.message.make_query("marketlab.test", "A"), "127.0.0.1", port=lab.dns_port, timeout=3)
    with socket.create_connection(("127.0.0.1", lab.smtp_port), timeout=3) as smtp:
        assert smtp.recv(128).startswith(b"220")
        lab.stop()
    lab.stop()  # idempotent

    assert set(threading.enumerate()) <= threads_before
    for port in ports:
        assert tcp_refused(port), port
    assert udp_port_free(lab_dns_port := ports[0]), lab_dns_port
    assert not workdir.exists()
    with pytest.raises(RuntimeError):
        _ = lab.https_port


def test_context_manager_and_given_workdir_is_kept(tmp_path: Path) -> None:
    with Lab(workdir=tmp_path / "lab") as lab:
        assert lab.workdir == tmp_path / "lab"
        assert lab.ca_bundle == tmp_path / "lab" / "ca.pem"
    assert (tmp_path / "lab" / "ca.pem").is_file()


def test_unknown_fault_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no-such-fault"):
        Lab(["no-hsts", "no-such-fault"])


def test_non_ip_bind_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="bind"):
        Lab(bind="localhost")


def test_port_in_use_fails_start_cleanly() -> None:
    threads_before = set(threading.enumerate())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        lab = Lab(https_port=taken)
        with pytest.raises(OSError):
            lab.start()
    assert set(threading.enumerate()) <= threads_before
    lab.stop()  # nothing to stop, no error


def test_cli_args_and_config_are_what_launchready_accepts() -> None:
    with Lab() as lab:
        args = lab.cli_args()
        assert args == [
            "--nameserver", f"127.0.0.1:{lab.dns_port}",
            "--ca-bundle", str(lab.ca_bundle),
            "--connect-to", f"ns1.marketlab.test:53:127.0.0.1:{lab.dns_port}",
            "--connect-to", f"ns2.marketlab.test:53:127.0.0.1:{lab.ns2_port}",
            "--connect-to", f":443:127.0.0.1:{lab.https_port}",
            "--connect-to", f":80:127.0.0.1:{lab.http_port}",
            "--connect-to", f":25:127.0.0.1:{lab.smtp_port}",
            "--rdap-server", lab.rdap_url,
        ]  # fmt: skip
        assert lab.rdap_url.startswith("http://127.0.0.1:") and lab.rdap_url.endswith("/")
        net = build_net_settings([args[1]], Path(args[3]), args[5:14:2], timeout=5.0, environ={}, rdap_server=args[15])
        assert net.route("ns2.marketlab.test", 53) == ("127.0.0.1", lab.ns2_port)
        assert net.route("app.marketlab.test", 443) == ("127.0.0.1", lab.https_port)
        assert net.route("marketlab.test", 80) == ("127.0.0.1", lab.http_port)
        assert net.route("mail.marketlab.test", 25) == ("127.0.0.1", lab.smtp_port)
        assert net == lab.net_settings()

        config = Config.model_validate(tomllib.loads(lab.config_toml()))
    assert config.domain == "marketlab.test"
    assert config.subdomains == ("app", "admin", "api")
    assert str(config.environments["production"].base_url).rstrip("/") == "https://app.marketlab.test"
    assert config.environments["production"].health_path == "/health"
    assert config.email.senders == ("ip4:127.0.0.1",)
    assert config.email.dkim_selectors == ("lab",)
    # The lab's registrar and DNS accounts are held, so its clean audit names no ownership gap.
    assert set(config.owners) == {"registrar", "dns"}


def test_run_lab_foreground_prints_flags_and_mail_then_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    threads_before = set(threading.enumerate())
    runner = threading.Thread(target=run_lab_foreground, args=(["no-hsts"],), kwargs={"out": out, "stop": stop})
    runner.start()
    try:
        for _ in range(200):
            if "Press Ctrl-C" in out.getvalue():
                break
            stop.wait(0.05)
        text = out.getvalue()
        assert "faults: no-hsts" in text
        assert "launchready audit marketlab.test --nameserver 127.0.0.1:" in text
        assert "--connect-to :443:127.0.0.1:" in text and "--ca-bundle " in text
        https_port = int(re.search(r"--connect-to :443:127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        http_port = int(re.search(r"--connect-to :80:127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        ca = re.search(r"--ca-bundle (\S+)", text).group(1)  # type: ignore[union-attr]
        client = LabClient(address="127.0.0.1", https_port=https_port, http_port=http_port, ca_bundle=ca)
        form = {"name": "Foreground", "email": "fg@example.test", "password": "long enough"}
        assert client.post("https://app.marketlab.test/signup", form=form).status == 200
        for _ in range(200):
            if "mail to fg@example.test" in out.getvalue():
                break
            stop.wait(0.05)
        line = re.search(r"mail to fg@example\.test: Confirm your Market Lab account -> (\S+\.eml)", out.getvalue())
        assert line, out.getvalue()
        assert "verify?token=" not in out.getvalue()  # one-time links stay out of the terminal
        assert "https://app.marketlab.test/verify?token=" in Path(line.group(1)).read_text()
    finally:
        stop.set()
        runner.join()
    assert "Stopping the lab." in out.getvalue()
    assert set(threading.enumerate()) <= threads_before | {runner}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_lab_up_process_stops_cleanly_on_ctrl_c_and_sigterm(signum: int) -> None:
    code = (
        "import sys; from launchready.lab.lab import run_lab_foreground; sys.exit(run_lab_foreground(out=sys.stdout))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        workdir = Path(re.search(r"CA\s+(\S+)/ca\.pem", "".join(lines)).group(1))  # type: ignore[union-attr]
        assert workdir.is_dir()
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Stopping the lab." in rest
    assert not workdir.exists()


def test_lab_up_mail_relay_to_hands_the_apps_mail_to_email_receive(tmp_path: Path) -> None:
    """`lab up --mail-relay-to` then the `email receive` command it prints, both as a user runs them:
    a sign-up's confirmation mail goes app -> relay -> receiver, judged with the relay's address."""
    port = closed_port()
    # Both processes run the launchready this test imported, whatever their working directory.
    source = str(Path(launchready.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))}
    lab = subprocess.Popen(
        [sys.executable, "-m", "launchready", "lab", "up", "--mail-relay-to", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    receiver: subprocess.Popen[str] | None = None
    try:
        assert lab.stdout is not None
        lines: list[str] = []
        for line in lab.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(lines)
        assert f"it forwards to 127.0.0.1:{port}, not the mailbox above" in text
        [command] = [ln.strip() for ln in lines if ln.strip().startswith("launchready email receive --listen")]
        receiver = subprocess.Popen(
            [sys.executable, "-m", *command.split(), "--count", "1", "--format", "json", "--no-spamassassin"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert receiver.stderr is not None
        ready = receiver.stderr.readline()
        assert ready.startswith(f"listening on 127.0.0.1:{port}"), ready
        https_port = int(re.search(r"--connect-to :443:127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        http_port = int(re.search(r"--connect-to :80:127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        ca = re.search(r"--ca-bundle (\S+)", text).group(1)  # type: ignore[union-attr]
        client = LabClient(address="127.0.0.1", https_port=https_port, http_port=http_port, ca_bundle=ca)
        form = {"name": "Relayed", "email": "relayed@example.test", "password": "long enough"}
        assert client.post("https://app.marketlab.test/signup", form=form).status == 200
        out, err = receiver.communicate(timeout=60)
        assert receiver.returncode == 0, err
        lab.send_signal(signal.SIGINT)
        rest, _ = lab.communicate(timeout=20)
    finally:
        for process in (receiver, lab):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    data = json.loads(out)
    assert data["headers"]["to"] == "relayed@example.test"
    assert data["headers"]["subject"].startswith("Confirm your")
    # The relay connected from 127.0.0.1 with its own HELO; the app signed with the lab's key.
    assert (data["spf"]["result"], data["spf"]["client_ip"], data["spf"]["helo"]) == (
        "pass",
        "127.0.0.1",
        "smtp.marketlab.test",
    )
    assert [(d["domain"], d["result"]) for d in data["dkim"]] == [("marketlab.test", "pass")]
    assert data["dmarc"]["result"] == "pass"
    assert "mail to relayed@example.test" not in rest  # the lab's own mailbox got nothing
