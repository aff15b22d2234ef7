"""tools/evaluate.py and tools/bench_inspect.py run end to end, and their JSON output adds up.

Both tools run as real subprocesses on a small slice of corpus/ (evaluate --limit 40,
bench --quick). Detection and speed targets are not asserted here: the numbers are reports
(docs/DETECTION.md, docs/BENCHMARKS.md); this checks that the reports are well-formed and
consistent. The "peer missing" path is exercised with a stand-in ``ddtrace`` package that
fails to import (the one fake: an uninstalled peer cannot be produced otherwise in this venv).
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
CORPUS = os.path.normpath(os.path.join(ROOT, "corpus"))
LIMIT = 40


sys.path.insert(0, TOOLS)
import report_common  # noqa: E402


def run_tool(name, *args, env=None, timeout=120):
    return subprocess.run([sys.executable, os.path.join(TOOLS, name)] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)


def aws_files():
    return sorted(n for n in os.listdir(os.path.join(CORPUS, "aws_events")) if n.endswith(".json"))


def families_in(path, limit):
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(limit), fh)]
    counts = {}
    for r in rows:
        counts[r["family"]] = counts.get(r["family"], 0) + 1
    return counts, rows


def check_summary(summary, expected_rows, family_counts):
    """A summarize() block: totals, buckets and families all add up; rates in [0, 1]."""
    assert summary["rows"] == expected_rows
    assert 0 <= summary["hits"] <= summary["rows"]
    assert 0 <= summary["limits_only"] <= summary["hits"]
    assert summary["rate"] == pytest.approx(summary["hits"] / summary["rows"])
    assert sum(b["rows"] for b in summary["by_bucket"].values()) == expected_rows
    assert sum(b["hits"] for b in summary["by_bucket"].values()) == summary["hits"]
    assert {f: c["all"]["rows"] for f, c in summary["by_family"].items()} == family_counts
    assert sum(c["all"]["hits"] for c in summary["by_family"].values()) == summary["hits"]
    for cells in summary["by_family"].values():
        assert cells["pl12"]["rows"] + cells["pl34"]["rows"] == cells["all"]["rows"]
        for cell in cells.values():
            assert 0 <= cell["hits"] <= cell["rows"]
            assert cell["rate"] is None if not cell["rows"] else 0.0 <= cell["rate"] <= 1.0


def test_evaluate_json_adds_up(tmp_path):
    out = tmp_path / "eval.json"
    res = run_tool("evaluate.py", "--limit", str(LIMIT), "--misses", "2", "--json", str(out))
    assert res.returncode == 0, res.stderr
    assert "TPR on crs_attacks.jsonl" in res.stdout and "Traceback" not in res.stderr
    doc = json.loads(out.read_text())
    att_fams, att_rows = families_in(os.path.join(CORPUS, "crs_attacks.jsonl"), LIMIT)
    ben_fams, _ = families_in(os.path.join(CORPUS, "crs_benign.jsonl"), LIMIT)
    assert doc["rows"] == {"attacks": LIMIT, "benign": LIMIT}
    assert set(doc["ours"]) == {"lambda", "apigw"}
    for placement in doc["ours"].values():
        check_summary(placement["attacks"], LIMIT, att_fams)
        check_summary(placement["benign"], LIMIT, ben_fams)
        assert placement["timing"]["n"] == 2 * LIMIT
        missed = sum(sum(c.values()) for c in placement["misses_by_rule"].values())
        assert missed == LIMIT - placement["attacks"]["hits"]
        assert sum(len(v) for v in placement["false_positives"].values()) == placement["benign"]["hits"]
    for family, rows in doc["ours"]["lambda"]["top_misses"].items():
        assert 0 < len(rows) <= 2
        assert all(r["family"] == family and r["payload"] in {a["payload"] for a in att_rows} for r in rows)

    peer = doc["peer"]
    assert peer["enabled"] is True
    if peer["available"]:
        check_summary(peer["attacks"], LIMIT, att_fams)
        check_summary(peer["benign"], LIMIT, ben_fams)
        assert peer["timing"]["n"] == 2 * LIMIT and peer["timing"]["median_us"] > 0
    else:
        assert peer["reason"]

    aws = doc["aws_events"]
    assert [e["file"] for e in aws["events"]] == aws_files() and aws["files"] == len(aws_files())
    assert aws["findings"] == sum(len(e["findings"]) for e in aws["events"])
    assert aws["with_findings"] == sum(1 for e in aws["events"] if e["findings"])
    for e in aws["events"]:
        for f in e["findings"]:
            assert set(f) == {"rule_id", "family", "path", "excerpt", "severity"}


def test_evaluate_runs_without_the_peer_and_says_why(tmp_path):
    fake = tmp_path / "shadow" / "ddtrace"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('ddtrace blocked by the test')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "shadow"))
    out = tmp_path / "eval.json"
    res = run_tool("evaluate.py", "--limit", "5", "--placement", "lambda", "--json", str(out), env=env)
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    assert doc["peer"]["available"] is False
    assert "ddtrace" in doc["peer"]["reason"]
    assert "libddwaf" not in doc["ours"]["lambda"] and "peer_only" not in doc["ours"]["lambda"]
    assert "peer: " in res.stdout and "ddtrace" in res.stdout.split("peer: ", 1)[1].splitlines()[0]
    assert doc["ours"]["lambda"]["attacks"]["rows"] == 5


def test_evaluate_markdown_is_a_docs_section():
    res = run_tool("evaluate.py", "--limit", "10", "--no-peer", "--markdown")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("## ")
    assert "python tools/evaluate.py --limit 10 --no-peer --markdown" in res.stdout
    assert "### False positives by family" in res.stdout and "### Misses per family" in res.stdout
    assert "not measured: disabled with --no-peer" in res.stdout
    tables = [ln for ln in lines if ln.startswith("|")]
    assert tables and all(ln.endswith("|") for ln in tables)


@pytest.mark.parametrize("tool", ["evaluate.py", "bench_inspect.py"])
def test_missing_corpus_is_one_line_and_exit_2(tmp_path, tool):
    res = run_tool(tool, "--corpus", str(tmp_path / "nowhere"), "--no-peer", *(["--quick"] if "bench" in tool else []))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "nowhere" in res.stderr


def test_bench_quick_json_is_complete(tmp_path):
    out = tmp_path / "bench.json"
    res = run_tool("bench_inspect.py", "--quick", "--json", str(out), timeout=180)
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["meta"]["command"].startswith("python tools/bench_inspect.py")
    by_name = {r["name"]: r for r in doc["results"]}
    assert len(by_name) == len(doc["results"])
    cbor = by_name["CBOR telemetry 200 B (mqtt)"]
    assert cbor["size"] == 200 and cbor["baseline"] == "cbor2.loads"
    assert by_name["JSON message 1024 B (mqtt)"]["size"] == 1024
    assert any(n.startswith("CloudFront viewer-request as dict") for n in by_name)
    assert any(n.startswith("CloudFront viewer-request as bytes") for n in by_name)
    adversarial = [r for r in doc["results"] if r["name"].startswith("64 KB adversarial")]
    assert len(adversarial) >= 6 and all(isinstance(r["timed_out"], bool) for r in adversarial)
    crs = [r for r in doc["results"] if r["name"].startswith("CRS attack payloads")]
    assert crs and crs[0]["payloads"] == 200
    for r in doc["results"]:
        assert r["pass"] in (True, False, None)
        if r.get("skipped"):
            continue
        assert isinstance(r["value"], (int, float)) and r["value"] >= 0, r
        if r["ratio"] is not None:
            assert r["ratio"] > 0 and r["baseline_value"] > 0
        peer_missing = r.get("baseline") == "libddwaf" and r.get("baseline_value") is None
        if r["target"] and not peer_missing:  # without ddtrace the libddwaf comparison cannot be judged
            assert r["pass"] is not None, r
    cold = [r for r in doc["results"] if r["name"].startswith("cold import")]
    assert cold and (cold[0].get("skipped") or cold[0]["in_process_ms"] > 0)
    tables = [r for r in doc["results"] if r["name"].startswith("compiled rule tables")]
    assert tables and (tables[0].get("skipped") or tables[0]["value"] > 0)
    assert "CBOR telemetry 200 B" in res.stdout


@pytest.mark.parametrize("text, expected", [
    ("a|b", "`a\\|b`"),
    ("line1\nline2", "`line1\\nline2`"),
    ("x`y", "``x`y``"),
    ("`x", "`` `x ``"),
    ("nul\x00", "`nul\\x00`"),
    ("", "*(empty)*"),
])
def test_markdown_code_cells_stay_in_one_table_cell(text, expected):
    assert report_common.md_code(text) == expected


def test_paranoia_buckets():
    assert [report_common.bucket_of(p) for p in (1, 2, 3, 4, None)] == ["pl12", "pl12", "pl34", "pl34", "pl34"]


def test_package_never_imports_tools():
    for folder, _, files in os.walk(os.path.join(ROOT, "edge_ssre")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    text = fh.read()
                for mod in ("report_common", "ddwaf_peer", "bench_inspect", "evaluate", "tools"):
                    assert "import %s" % mod not in text and "from %s" % mod not in text, (name, mod)


def test_bench_behavior_runs_end_to_end_with_its_services_process():
    """One round of tools/bench_behavior.py: bare and monitored interpreters against the services
    process, every case reported, and the services process gone afterwards."""
    pattern = r"sys\.stdin\.read\(\)  # until the bench"
    before = set(subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split())
    res = run_tool("bench_behavior.py", "--markdown", "--rounds", "1", "--repeats", "1", timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if line.startswith("| ") and " us " in line]
    assert [r.split(" | ")[0] for r in rows] == ["| open+read+close of a file",
                                                  "| connect to a loopback port (getaddrinfo + connect)",
                                                  "| I/O-light handler (6 file opens, 1 connect, JSON)",
                                                  "| typical edge handler (read config, HTTP request/reply over "
                                                  "loopback, write result)"]
    for row in rows:
        assert ("PASS" in row or "FAIL" in row) and "nan" not in row
    ps = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    assert set(ps.stdout.split()) <= before  # this run's services process is gone (others' may run on a shared machine)


def test_evaluate_fails_in_one_line_on_a_missing_or_malformed_set(tmp_path):
    import shutil
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("benign_text", "telemetry"))
    res = run_tool("evaluate.py", "--corpus", str(corpus), "--limit", "5", "--no-peer")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "build_corpus.py" in res.stderr
    (corpus / "benign_text").mkdir()
    (corpus / "telemetry").mkdir()
    for split in ("dev", "test"):
        (corpus / "benign_text" / (split + ".jsonl")).write_text('{"payload": "ok", "family": "markdown"}\n')
        (corpus / "telemetry" / (split + ".jsonl")).write_text('{"payload": "{not json", "family": "x", "topic": "t", "encoding": "json"}\n')
    res = run_tool("evaluate.py", "--corpus", str(corpus), "--limit", "5", "--no-peer", "--sets", "telemetry")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "bad JSON payload" in res.stderr
