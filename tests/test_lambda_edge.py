"""Lambda@Edge wrapper on the CloudFront developer-guide sample events (copied in tests/data/samples)."""

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from edge_ssre.lambda_edge import protect

SAMPLES = os.path.join(os.path.dirname(__file__), "data", "samples")


def _event(name="cloudfront-viewer-request.json"):
    with open(os.path.join(SAMPLES, name)) as fh:
        return json.load(fh)


def _origin(request):
    return request["Records"][0]["cf"]["request"]


@protect
def handler(event, context):
    return _origin(event)


def test_benign_request_reaches_the_handler():
    ev = _event()
    assert handler(ev, None) == _origin(ev)


def test_attack_is_blocked_with_a_bare_403_and_logged():
    out = io.StringIO()
    with redirect_stdout(out):
        resp = handler(_event("cloudfront-viewer-request-attack.json"), None)
    assert resp["status"] == "403" and resp["body"] == "Forbidden"
    assert "sqli" not in json.dumps(resp)  # no rule details for the client
    lines = [json.loads(ln) for ln in out.getvalue().splitlines()]
    assert lines and all(ln["edge_ssre"] == "finding" for ln in lines)
    assert {ln["family"] for ln in lines} >= {"sqli", "path"}


@pytest.mark.parametrize("where", ["uri", "header", "cookie", "body"])
def test_every_request_part_is_inspected(where):
    ev = _event()
    req = _origin(ev)
    if where == "uri":
        req["uri"] = "/../../etc/passwd"
    elif where == "header":
        req["headers"]["x-forwarded-for"] = [{"key": "X-Forwarded-For", "value": "${jndi:ldap://x/a}"}]
    elif where == "cookie":
        req["headers"]["cookie"] = [{"key": "Cookie", "value": "session=1' OR '1'='1"}]
    else:
        import base64
        req["method"] = "POST"
        req["body"] = {"inputTruncated": True, "action": "read-only", "encoding": "base64",
                       "data": base64.b64encode(b'{"comment": "<script>alert(1)</script>"}').decode()}
    with redirect_stdout(io.StringIO()):
        assert handler(ev, None)["status"] == "403"


def test_alert_only_policy_calls_the_handler():
    @protect(policy={"mode": "alert-only"})
    def h(event, context):
        return "called"
    out = io.StringIO()
    with redirect_stdout(out):
        assert h(_event("cloudfront-viewer-request-attack.json"), None) == "called"
    assert '"action":"alert"' in out.getvalue()


def test_policy_file_next_to_the_handler(tmp_path):
    (tmp_path / "edge-policy.toml").write_text('mode = "alert-only"\n')
    (tmp_path / "fn.py").write_text(
        "from edge_ssre.lambda_edge import protect\n"
        "@protect(policy='edge-policy.toml')\n"
        "def handler(event, context):\n    return 'called'\n")
    code = ("import json, sys; sys.path.insert(0, %r); import fn; "
            "print(fn.handler(json.load(open(%r)), None))" % (str(tmp_path), os.path.join(SAMPLES, "cloudfront-viewer-request-attack.json")))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "called"


def test_guard_failure_fails_open_by_default_and_closed_on_request():
    class Broken:
        def inspect(self, *a, **k):
            raise RuntimeError("boom")
    with redirect_stdout(io.StringIO()) as out:
        assert protect(guard=Broken())(lambda e, c: "ran")(_event(), None) == "ran"
        assert protect(guard=Broken(), on_error="block")(lambda e, c: "ran")(_event(), None)["status"] == "403"
    assert '"edge_ssre": "error"' in out.getvalue()


def test_bad_on_error_is_rejected():
    with pytest.raises(ValueError):
        protect(on_error="maybe")


def test_wrapper_does_not_import_mqtt_or_aws_sdks():
    code = ("import sys, json; from edge_ssre.lambda_edge import protect\n"
            "h = protect(lambda e, c: 'ok')\n"
            "h(json.load(open(%r)), None)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('paho', 'awsiot', 'awscrt', 'cbor2')]\n"
            "sys.exit(1 if bad else 0)" % os.path.join(SAMPLES, "cloudfront-viewer-request.json"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
