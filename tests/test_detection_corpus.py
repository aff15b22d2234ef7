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
