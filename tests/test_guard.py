"""Guard: verdicts, policy application, budgets and the deadline, and never raising."""

import json

from hypothesis import given, settings, strategies as st

from edge_ssre import Finding, Guard, Verdict
from edge_ssre.decode.budget import Limits
from edge_ssre.policy import Policy

ATTACK = {"note": "1' OR '1'='1' --"}


def test_attack_is_blocked_with_a_path_and_excerpt():
    v = Guard().inspect(ATTACK)
    assert v.action == "block" and v.blocked
    f = v.findings[0]
    assert (f.family, f.path) == ("sqli", "note")
    assert "or" in f.excerpt.lower()


def test_benign_event_is_allowed():
    v = Guard().inspect({"device": "sensor-12", "temp": 21.5, "status": "ok"})
    assert v.action == "allow" and v.findings == ()


def test_alert_only_mode_never_blocks():
    v = Guard(policy={"mode": "alert-only"}).inspect(ATTACK)
    assert v.action == "alert" and v.findings


def test_family_off_and_rule_override():
    assert Guard(policy={"families": {"sqli": "off"}}).inspect(ATTACK).action == "allow"
    v = Guard(policy={"families": {"sqli": "off"}, "rules": {"sqli.grammar": "alert"}}).inspect(ATTACK)
    assert [f.rule_id for f in v.findings] == ["sqli.grammar"] and v.action == "alert"


def test_allowlist_by_path_and_topic():
    pol = {"allow": [{"path": "cms.*.html", "families": ["xss"]}]}
    g = Guard(policy=pol)
    assert g.inspect({"cms": {"p1": {"html": "<script>alert(1)</script>"}}}).action == "allow"
    assert g.inspect({"cms": {"p1": {"text": "<script>alert(1)</script>"}}}).action == "block"
    g = Guard(policy={"allow": [{"topic": "cms/+/pages"}]})
    assert g.inspect(b"<script>alert(1)</script>", source="mqtt", topic="cms/a/pages").action == "allow"
    assert g.inspect(b"<script>alert(1)</script>", source="mqtt", topic="cms/a/other").action == "block"


def test_reload_swaps_policy_whole():
    g = Guard()
    g.reload(policy={"mode": "alert-only"})
    assert g.inspect(ATTACK).action == "alert"


class SteppingClock:
    """Advances by ``step`` microseconds on every read: the deadline is reached deterministically."""

    def __init__(self, step):
        self.now = 0
        self.step = step

    def __call__(self):
        self.now += self.step
        return self.now


def test_deadline_is_a_finding_not_an_exception():
    event = {"k%d" % i: "value %d" % i for i in range(2000)}
    g = Guard(limits=Limits(deadline_us=1000, clock_every=8), clock=SteppingClock(50))
    v = g.inspect(event)
    assert v.timed_out
    assert any(f.rule_id == "limits.deadline" and f.action == "alert" for f in v.findings)


def test_no_deadline_with_a_frozen_clock():
    g = Guard(limits=Limits(deadline_us=1000), clock=lambda: 0)
    assert not g.inspect({"a": "b" * 100}).timed_out


def test_oversized_string_is_cut_and_reported():
    v = Guard(limits=Limits(max_string=64)).inspect({"a": "x" * 1000})
    assert any(f.rule_id == "limits.string" for f in v.findings)


def test_depth_budget():
    deep = current = {}
    for _ in range(100):
        current["a"] = {}
        current = current["a"]
    v = Guard(limits=Limits(max_depth=8)).inspect(deep)
    assert any(f.rule_id == "limits.depth" for f in v.findings)


def test_unknown_source_is_a_finding():
    v = Guard().inspect({"a": "b"}, source="carrier-pigeon")
    assert any(f.rule_id == "limits.malformed" for f in v.findings)


def test_sink_receives_verdicts_with_findings_and_its_errors_are_contained():
    seen = []
    g = Guard(sink=lambda v, env: seen.append((v.action, env.topic)))
    g.inspect(ATTACK, topic="t/1")
    g.inspect({"ok": "fine"})
    assert seen == [("block", "t/1")]

    def broken(v, env):
        raise OSError("disk full")
    assert Guard(sink=broken).inspect(ATTACK).action == "block"


def test_verdict_serialises():
    v = Guard().inspect(ATTACK)
    d = json.loads(json.dumps(v.to_dict()))
    assert d["action"] == "block" and d["findings"][0]["family"] == "sqli"


def test_findings_are_capped_and_deduplicated():
    event = {"k%d" % i: "<script>alert(%d)</script>" % i for i in range(100)}
    v = Guard().inspect(event)
    assert 0 < len(v.findings) <= 32
    assert len({(f.rule_id, f.path) for f in v.findings}) == len(v.findings)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_value_gets_a_verdict(value):
    v = Guard().inspect(value)
    assert isinstance(v, Verdict) and v.action in ("allow", "alert", "block")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["auto", "mqtt", "raw", "lambda", "lambda-edge"]))
def test_any_bytes_get_a_verdict(data, source):
    v = Guard().inspect(data, source=source, topic="t")
    assert isinstance(v, Verdict)
    assert all(isinstance(f, Finding) for f in v.findings)


def test_policy_object_and_file(tmp_path):
    p = tmp_path / "policy.toml"
    p.write_text('mode = "alert-only"\n[families]\nxss = "off"\n')
    g = Guard(policy=str(p))
    assert g.inspect({"a": "<script>alert(1)</script>"}).action == "allow"
    assert g.inspect(ATTACK).action == "alert"
    assert isinstance(Policy.load(str(p)), Policy)


def test_random_large_and_layered_events_never_raise_nor_fault():
    """The short version of tools/fuzz_inspect.py: 60 random events (64 KB token mixes, raw bytes,
    many keys, deep nesting, JSON-in-JSON, base64 and URL layers, gzip, CBOR) with a fixed seed."""
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import fuzz_inspect
    cases, problems, _, _ = fuzz_inspect.run(600, seed=3, max_events=60)
    assert problems == [] and cases == 60
