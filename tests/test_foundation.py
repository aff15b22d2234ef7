"""The public API's contract: names, types, and never raising."""

import subprocess
import sys

import edge_ssre
from edge_ssre import Finding, Guard, Verdict


def test_public_names_exported():
    for name in ("Guard", "Verdict", "Finding", "EventStore", "protect", "SsreError"):
        assert name in edge_ssre.__all__


def test_import_does_not_pull_transport_libraries():
    code = ("import sys, edge_ssre; edge_ssre.Guard().inspect({'a': 'b'});"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('paho', 'awsiot', 'awscrt')];"
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_verdict_shape():
    v = Guard().inspect({"note": "hello"})
    assert isinstance(v, Verdict)
    assert v.action == "allow" and v.findings == ()


def test_finding_is_value_like():
    a = Finding("x.y", "sqli", "p", "e", "high")
    assert a == Finding("x.y", "sqli", "p", "e", "high")
    assert tuple(a) == ("x.y", "sqli", "p", "e", "high")
    assert a.to_dict()["rule_id"] == "x.y"
