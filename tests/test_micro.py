"""The micro core on CPython: rule translation, the compiled table, cbor_lite against cbor2,
MicroGuard on arbitrary input, the bundle and benchmark tools. (The same core on the real
MicroPython runtime: tests/test_micropython.py.)"""

import json
import math
import os
import re
import subprocess
import sys

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_ssre.decode import cbor_lite
from edge_ssre.micro import rules_table, scan
from edge_ssre.micro.build import DEFAULT_TABLE, default_table
from edge_ssre.micro.guard import MicroGuard
from edge_ssre.micro.translate import Untranslatable, translate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def mp_match(entries, text):
    """Whether any translated pattern is found in ``text`` (lower-cased bytes), as the scanner runs them."""
    for e in entries:
        pats = [e] if isinstance(e, bytes) else [e[0] + b + e[1] for b in e[2]]
        for p in pats:
            if scan.compile_pattern(p).search(text) is not None:
                return True
    return False


@pytest.mark.parametrize("pattern,hit,miss", [
    (r"a{2,3}b", b"aab", b"ab"),
    (r"\bunion\b", b"1 union select", b"reunions"),
    (r"x.y", b"x-y", b"x\ny"),
    (r"(?:ab|cd){2}", b"abcd", b"ab"),
    (r"select\s+\w+\s+from", b"select a from", b"selecta from"),
])
def test_translation_keeps_meaning_on_examples(pattern, hit, miss):
    entries, _ = translate(pattern)
    assert mp_match(entries, hit) and not mp_match(entries, miss)
    for e in entries:
        src = e if isinstance(e, bytes) else e[0] + e[2][0] + e[1]
        assert b"{" not in src.replace(b"\\{", b"")  # MicroPython reads {m,n} as text


@pytest.mark.parametrize("pattern", [r"(?=a)b", r"(a)\1", r"a\Bb", r"(?:a?b?)*c"])
def test_untranslatable_constructs_are_refused(pattern):
    with pytest.raises(Untranslatable):
        translate(pattern)


def test_repeat_of_a_repeat_never_nests_stars():
    """(?:x{0,4}|y){0,3} must not become (?:x*|y)*, which backtracks exponentially."""
    entries, approx = translate(r"\$\{(?:[^{}]{0,4}|\$\{[^}]{0,60}\}){0,9}?:")
    assert approx
    text = b"${" + b"a" * 40
    for e in entries:
        assert not re.search(rb"\*\)\*", e)
    assert not mp_match(entries, text)  # returns at once


def test_packaged_table_is_up_to_date():
    text, report = default_table()
    with open(DEFAULT_TABLE) as fh:
        assert fh.read() == text, "run: python tools/build_rules.py"
    assert len(report.included) == len(rules_table.RULES) >= 60
    assert set(report.omitted) >= {"sqli.grammar", "xss.html", "ssrf.internal-address"}


def test_every_included_rule_fires_on_one_of_its_attack_examples():
    from edge_ssre.rules.ruleset import load_specs
    specs = {s.id: s for s in load_specs()}
    sc = scan.Scanner(rules_table)
    missed = []
    for idx, row in enumerate(rules_table.RULES):
        s = specs[row[0]]
        kind = 0 if row[4] & 1 else 1
        if not any(idx in sc.scan(a, kind) for a in s.attack):
            missed.append(row[0])
    assert not missed


def test_scanner_clean_cache_is_bounded():
    sc = scan.Scanner(rules_table)
    for i in range(500):
        assert sc.scan("reading %d ok" % i) == ()
    assert len(sc.clean[0]) <= sc.clean_slots
    assert sc.scan("1 union select password from users") != ()


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 64 + 1, 2 ** 64 - 1) | st.floats() | st.text(max_size=40)
    | st.binary(max_size=40),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(cbor_values)
def test_cbor_lite_reads_what_cbor2_writes(value):
    assert _same(cbor_lite.loads(cbor2.dumps(value), 64, 10000, 10000), value)
    assert _same(cbor2.loads(cbor_lite.dumps(value)), value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_cbor_lite_any_bytes_give_a_value_or_cbor_error(data):
    try:
        cbor_lite.loads(data, 8, 256, 1024)
    except cbor_lite.CborError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["sensors/a/telemetry", "$SYS/x", "a/b", "x" * 300, "#"]))
def test_micro_guard_any_bytes_any_topic_give_a_verdict(payload, topic):
    g = MicroGuard()
    v = g.inspect(topic, payload)
    assert v.action in ("allow", "alert", "block")
    assert not [f for f in v.findings if f.rule_id == "guard.error"]


def test_micro_guard_store_survives_garbage_file(tmp_path):
    path = tmp_path / "events.ring"
    path.write_bytes(b"not a ring at all" * 100)
    g = MicroGuard(store=str(path))
    v = g.inspect("sensors/a/telemetry", b'{"q": "1 union select password from users"}')
    assert v.blocked and g.pending(10)
    g.close()
    assert (tmp_path / "events.ring.bad").read_bytes().startswith(b"not a ring")


def test_build_micro_tool_reports_and_fails_clearly(tmp_path):
    tool = os.path.join(ROOT, "tools", "build_micro.py")
    res = subprocess.run([sys.executable, tool, "--out", str(tmp_path), "--json", "--telemetry",
                          os.path.join(ROOT, "tools", "examples", "micro_telemetry.toml")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["families"]["sqli"][0] >= 10 and "rules_table.py" in rep["files"]
    assert os.path.exists(tmp_path / "ssre" / "guard.py")
    bad = tmp_path / "bad.toml"
    bad.write_text("[telemetry]\ncolour = 1\n")
    res = subprocess.run([sys.executable, tool, "--out", str(tmp_path), "--telemetry", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "colour" in res.stderr and "Traceback" not in res.stderr
