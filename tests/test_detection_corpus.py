"""Accuracy regression on the project's labeled corpus (corpus/): the issue's targets.

Not a timing test: rates only. Skipped when the corpus is not beside the checkout."""

import collections
import json
import os

import pytest

from edge_ssre import Guard

CORPUS = os.environ.get("EDGE_SSRE_CORPUS") or os.path.join(
    os.path.dirname(__file__), "..", "corpus")


def _rows(name):
    with open(os.path.join(CORPUS, name), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def guard():
    return Guard()


def test_crs_attack_tpr_paranoia_1_2(guard):
    hit, total = collections.Counter(), collections.Counter()
    for r in _rows("crs_attacks.jsonl"):
        if r["paranoia"] not in (1, 2):
            continue
        total[r["family"]] += 1
        if guard.inspect({"q": r["payload"]}, source="lambda").findings:
            hit[r["family"]] += 1
    overall = sum(hit.values()) / sum(total.values())
    assert overall >= 0.85, overall
    for fam, n in total.items():
        if n >= 30:
            assert hit[fam] / n >= 0.70, (fam, hit[fam], n)


def test_crs_benign_fpr_paranoia_1_2(guard):
    rows = [r for r in _rows("crs_benign.jsonl") if r["paranoia"] in (1, 2)]
    flagged = [r["payload"] for r in rows if guard.inspect({"q": r["payload"]}, source="lambda").findings]
    assert len(flagged) / len(rows) <= 0.03, flagged


def test_aws_sample_events_have_no_findings(guard):
    folder = os.path.join(CORPUS, "aws_events")
    noisy = {}
    guard.inspect({"warm": "up"})
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as fh:
            v = guard.inspect(fh.read(), source="auto")
        # the deadline depends on this machine's load; everything else must be clean
        real = [f for f in v.findings if f.rule_id != "limits.deadline"]
        if real:
            noisy[name] = [(f.rule_id, f.path, f.excerpt) for f in real]
    assert noisy == {}


# ---- the project's own sets (corpus/benign_text, corpus/telemetry, corpus/generated_attacks)
# Regression floors at the levels measured on the test splits (docs/DETECTION.md has the numbers and
# the targets); the split rule is in tools/build_corpus.py.

def _split(folder, split):
    return _rows(os.path.join(folder, split + ".jsonl"))


def test_generated_attack_families_are_caught_on_the_test_split(guard):
    hit, total = collections.Counter(), collections.Counter()
    for r in _split("generated_attacks", "test"):
        total[r["family"]] += 1
        if guard.inspect({"q": r["payload"]}, source="lambda").findings:
            hit[r["family"]] += 1
    assert set(total) == {"path", "ldap", "xpath", "cmdi", "xss"}
    for fam, n in total.items():
        assert hit[fam] / n >= 0.95, (fam, hit[fam], n)


def test_benign_text_test_split_is_rarely_flagged(guard):
    rows = _split("benign_text", "test")
    assert len(rows) >= 6000
    flagged = sum(1 for r in rows if guard.inspect({"q": r["payload"]}, source="lambda").findings)
    assert flagged / len(rows) <= 0.006, flagged


def test_telemetry_test_split_findings_stay_few(guard):
    import base64
    rows = _split("telemetry", "test")
    noisy = 0
    for r in rows:
        data = base64.b64decode(r["payload"]) if r["encoding"] == "cbor" else r["payload"].encode()
        if [f for f in guard.inspect(data, source="mqtt", topic=r["topic"]).findings if f.rule_id != "limits.deadline"]:
            noisy += 1
    assert noisy / len(rows) <= 0.05, noisy


def test_context_decisions():
    """The issue's pairs: the same characters in prose and as a bare value."""
    from edge_ssre.rules import default_ruleset
    rs = default_ruleset()
    clean = ["Collaborators may add a link in the [`README.md`](../../README.md) file in the section titled `Support`.",
             "Set `session_id` and `user` in the `key` field, then edit `/etc/hosts` and add the gateway.",
             "{{ value_json.temperature | round(1) }}",
             "The figure <a href=\"../guide/setup.html\"><img src=\"../img/x.png\" width=120></a> shows the wiring."]
    for text in clean:
        assert rs.scan(text, 0) == [], text
    for text, family in (("{{ ''.__class__.__mro__ }}", "ssti"), ("../../../../etc/passwd", "path"),
                         ("`cat /etc/passwd`", "cmdi"), ("x`id`", "cmdi")):
        assert family in {h[1] for h in rs.scan(text, 0)}, text
