"""edge-ssre inspect: JSON verdicts, documented exit codes, one-line errors, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

SAMPLES = os.path.join(os.path.dirname(__file__), "data", "samples")


def run(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "edge_ssre.cli"] + list(args), input=stdin,
                          capture_output=True, timeout=60)


def test_benign_sample_exit_0():
    res = run("inspect", os.path.join(SAMPLES, "cloudfront-viewer-request.json"))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["action"] == "allow"


def test_attack_sample_exit_1_with_findings():
    res = run("inspect", "--pretty", os.path.join(SAMPLES, "cloudfront-viewer-request-attack.json"))
    assert res.returncode == 1
    out = json.loads(res.stdout)
    assert out["action"] == "block" and {f["family"] for f in out["findings"]} >= {"sqli"}


def test_stdin_and_topic():
    res = run("inspect", "--source", "mqtt", "--topic", "sensors/1", "-", stdin=b"<script>alert(1)</script>")
    assert res.returncode == 1 and json.loads(res.stdout)["source"] == "mqtt"


@pytest.mark.parametrize("payload", [b"", b"\xff\xfe\x00garbage\x01", b'{"truncated": ', b"\xa2\x61a"])
def test_bad_input_gets_a_verdict_not_a_traceback(payload):
    res = run("inspect", "-", stdin=payload)
    assert res.returncode in (0, 1)
    assert b"Traceback" not in res.stderr
    json.loads(res.stdout)


def test_missing_file_is_usage_error():
    res = run("inspect", "/nonexistent/event.json")
    assert res.returncode == 2
    assert res.stderr.decode().startswith("edge-ssre:") and b"Traceback" not in res.stderr


def test_bad_option_is_usage_error():
    res = run("inspect", "--source", "pigeon", "-")
    assert res.returncode == 2 and b"Traceback" not in res.stderr


def test_bad_policy_file_is_one_line(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('mode = "loud"\n')
    res = run("inspect", "--policy", str(p), "-", stdin=b"{}")
    assert res.returncode == 2
    lines = res.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and str(p) in lines[0]


def test_unknown_profile_is_usage_error():
    res = run("inspect", "--profile", "toaster", "-", stdin=b"{}")
    assert res.returncode == 2 and b"known profiles" in res.stderr


def test_no_verb_prints_help_and_usage_code():
    res = run()
    assert res.returncode == 2 and b"inspect" in res.stderr
