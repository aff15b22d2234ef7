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


# ---- help that explains itself ------------------------------------------------------------
def _pages():
    """(argv, parser) for the top level, every verb and every verb's actions."""
    import argparse
    from edge_ssre.cli import build_parser

    def children(p):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                return dict(a.choices)
        return {}
    top = build_parser()
    out = [([], top)]
    for verb, p in children(top).items():
        out.append(([verb], p))
        out += [([verb, action], q) for action, q in children(p).items()]
    return out


def test_every_option_has_help_and_a_default():
    missing = []
    for argv, parser in _pages():
        for action in parser._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            text = parser._get_formatter()._expand_help(action) if action.help else ""
            if not text or "default" not in text:
                missing.append("%s %s" % (" ".join(argv), action.option_strings[0]))
    assert not missing, missing


@pytest.mark.parametrize("argv", [a for a, _ in _pages()], ids=lambda a: " ".join(a) or "edge-ssre")
def test_every_help_lists_exit_codes_and_an_example(argv):
    res = run(*(argv + ["--help"]))
    out = res.stdout.decode()
    assert res.returncode == 0 and "exit codes:" in out and "example" in out and "edge-ssre " in out.split("example")[-1]
    if argv:
        assert out.startswith("usage: edge-ssre " + " ".join(argv))  # its own help, not the parent's


def test_greengrass_build_help_is_its_own():
    out = run("greengrass", "build", "--help").stdout.decode()
    assert "--bucket" in out and "--config-json" not in out and "recipe" in out


def test_piping_into_head_is_quiet(tmp_path):
    from edge_ssre.store import EventStore
    from edge_ssre.store.record import encode
    path = tmp_path / "ev.ring"
    with EventStore(str(path), capacity_bytes=1 << 20) as store:
        for i in range(3000):
            store.append(encode({"type": "finding", "rule": "sqli.grammar", "n": i, "excerpt": "x" * 40}))
    for cmd in ("events export --store %s" % path, "events tail -n 3000 --store %s" % path, "--help", "run --help"):
        res = subprocess.run("%s -m edge_ssre.cli %s | head -1" % (sys.executable, cmd), shell=True,
                             capture_output=True, timeout=60)
        assert res.stdout.count(b"\n") == 1 and res.stderr == b"", (cmd, res.stderr)


# ---- what inspect says ----------------------------------------------------------------------
def test_a_plain_document_is_labelled_auto_not_lambda(tmp_path):
    p = tmp_path / "ev.json"
    p.write_text('{"reading": 21.5}')
    assert json.loads(run("inspect", str(p)).stdout)["source"] == "auto"
    cf = json.loads(run("inspect", os.path.join(SAMPLES, "cloudfront-viewer-request.json")).stdout)
    assert cf["source"] == "lambda-edge"  # what it detected


def test_excerpts_keep_the_case_as_written_and_matching_ignores_it():
    res = run("inspect", "-", stdin=b'{"q": "1 UNION SELECT Password FROM Users--", "x": "<ScRiPt>Alert(1)</sCrIpT>"}')
    excerpts = {f["path"]: f["excerpt"] for f in json.loads(res.stdout)["findings"]}
    assert res.returncode == 1
    assert "UNION SELECT Password" in excerpts["q"] and "<ScRiPt>" in excerpts["x"]


def test_topic_gets_the_sidecars_default_telemetry_denials(tmp_path):
    res = run("inspect", "--topic", "$aws/things/x/shadow/update", "-", stdin=b'{"state": {}}')
    out = json.loads(res.stdout)
    assert res.returncode == 1 and out["findings"][0]["rule_id"] == "telemetry.topic_denied"
    assert run("inspect", "--topic", "sensors/1/telemetry", "-", stdin=b'{"t": 1}').returncode == 0
    policy = tmp_path / "p.toml"  # a policy file's [telemetry] table replaces the defaults, as in the sidecar
    policy.write_text('[telemetry]\ndeny = ["$SYS/#"]\n')
    assert run("inspect", "--policy", str(policy), "--topic", "$aws/things/x/shadow/update", "-",
               stdin=b'{"state": {}}').returncode == 0


def test_every_public_exception_is_importable_from_the_package():
    import inspect as pyinspect
    import edge_ssre
    from edge_ssre import errors
    public = [n for n, o in vars(errors).items()
              if pyinspect.isclass(o) and issubclass(o, BaseException) and not n.startswith("_")]
    assert "EventBlocked" in public
    for name in public:
        assert name in edge_ssre.__all__ and getattr(edge_ssre, name) is getattr(errors, name)


def test_unreachable_broker_is_exit_3_in_one_line():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    res = run("run", "--broker", "127.0.0.1:%d" % port, "--input", "a/#", "--connect-timeout", "1", "--duration", "30")
    lines = res.stderr.decode().strip().splitlines()
    assert res.returncode == 3 and len(lines) == 1 and ":%d within 1 s" % port in lines[0]
