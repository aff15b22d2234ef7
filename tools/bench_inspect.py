#!/usr/bin/env python3
"""Inspection speed and memory benchmark: medians, each with a ratio to a baseline measured in the same run.

    python tools/bench_inspect.py [--quick] [--json OUT] [--markdown] [--peer/--no-peer] [--corpus DIR]

Cases (targets from issue #2 printed next to each number):
- 200-byte CBOR telemetry message over MQTT: Guard().inspect(bytes, source="mqtt") vs cbor2.loads  (<= 4x)
- 1 KB JSON message over MQTT: inspect vs json.loads
- 1 KB JSON messages whose text is prose, four styles (plain English, Markdown with code spans and
  links, a support ticket quoting commands, release notes): inspect vs json.loads   (<= 6x, issue #15)
- the CloudFront viewer-request sample, as dict and as bytes: inspect vs json.loads of the bytes
- the CRS attack payloads, one at a time: ours vs libddwaf on the same payloads      (>= 10x faster)
- 64 KB adversarial values (runs of quotes, parentheses, '<', '../', '%25', mixtures) (<= 5 ms, no deadline hit)
- cold `import edge_ssre` + `Guard()` in a fresh interpreter vs `python -c pass` and `import json` (<= 30 ms)
- bytes held by the compiled rule tables (tracemalloc around build_default(); table_bytes()/stats() if exposed)

Timing: each case is run ``number`` times per repeat (chosen so one repeat lasts a minimum time),
case and baseline interleaved repeat by repeat; the reported value is the median over repeats of
the time per call. The machine is shared and noisy: ratios are steadier than absolute numbers.

Exit codes: 0 done (also when a target is missed: this is a report, not a test), 2 usage or corpus error.
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_common as rc  # noqa: E402
from ddwaf_peer import DdwafPeer, request_addresses  # noqa: E402,F401

CBOR_SIZE = 200
JSON_SIZE = 1024
ADVERSARIAL_SIZE = 65536
TELEMETRY_TOPIC = "site/plant-3/gw-rpi4-0017/telemetry"

# (timing min seconds per repeat, repeats, CRS payloads, fresh interpreters per command)
FULL = {"min_time": 0.01, "repeats": 101, "crs_payloads": None, "crs_repeats": 5, "spawns": 21}
QUICK = {"min_time": 0.005, "repeats": 15, "crs_payloads": 200, "crs_repeats": 3, "spawns": 5}

TARGET_CBOR_RATIO = 4.0        # inspect(200 B CBOR) / cbor2.loads
TARGET_PROSE_RATIO = 6.0       # inspect(1 KB JSON of prose) / json.loads (issue #15)
TARGET_PEER_SPEEDUP = 10.0     # libddwaf time / ours, per payload
TARGET_ADVERSARIAL_MS = 5.0    # per 64 KB value
TARGET_COLD_MS = 30.0          # import edge_ssre + Guard(), over `python -c pass`
FIXED_GROWTH_BYTES = 16384     # table memory may not grow more than this after inspecting the corpus


# ---------------------------------------------------------------- inputs

def cbor_telemetry(size=CBOR_SIZE):
    """A realistic CBOR telemetry message of exactly ``size`` bytes (the status string is sized to fit)."""
    import cbor2
    reading = {
        "dev": "gw-rpi4-0017", "ts": 1732512345123, "seq": 48211,
        "temp_c": 21.37, "hum_pct": 48.2, "press_hpa": 1013.25, "co2_ppm": 612,
        "pm25": 7.4, "volt": 3.291, "rssi_dbm": -67, "lux": 350.5,
    }
    base = "ok fan=auto door=closed fw=2.4.1 uptime=86400s"
    for n in range(0, len(base) + 200):
        reading["status"] = (base * 5)[:n]
        data = cbor2.dumps(reading)
        if len(data) == size:
            return data
    raise SystemExit("bench: cannot size the CBOR message to %d bytes" % size)


def json_message(size=JSON_SIZE):
    """A realistic JSON telemetry/config message of exactly ``size`` bytes."""
    msg = {
        "deviceId": "gw-rpi4-0017", "site": "plant-3", "ts": "2024-11-25T05:21:07.123Z", "seq": 48211,
        "firmware": {"version": "2.4.1", "build": "2024-10-02", "channel": "stable"},
        "readings": [
            {"sensor": "temp-%02d" % i, "value": round(20.5 + i * 0.37, 2), "unit": "C", "ok": True}
            for i in range(6)
        ],
        "power": {"volt": 3.291, "current_ma": 412, "source": "poe"},
        "network": {"rssi_dbm": -67, "ip": "10.20.3.17", "uplink": "mqtt://broker.plant-3.local:8883"},
        "alerts": [],
        "tags": ["line-2", "hall-B", "cold-chain"],
        "note": "",
    }
    filler = "Routine reading after scheduled maintenance; operator checked the seals. " * 20
    for n in range(0, len(filler)):
        msg["note"] = filler[:n]
        data = json.dumps(msg, separators=(",", ":")).encode()
        if len(data) == size:
            return data
    raise SystemExit("bench: cannot size the JSON message to %d bytes" % size)


PROSE_STYLES = {
    # one text field of ordinary prose per style, as a device note, a ticket or a description carries it
    "plain English": "The pump at station 4 was replaced on Tuesday; the installer noted the battery was at 3.1 V "
                     "and that the enclosure's seal had cracked, so the gasket was swapped and the housing "
                     "re-torqued before the unit went back online. No further alarms were reported by the "
                     "operators during the night shift, and the flow readings stayed within 2 % of the baseline. ",
    "Markdown with code": "See the [setup guide](../../guide/setup.md) before you start. Set `reporting_interval` "
                          "to `300` and `session_id` to the gateway's id, then run `edge-ssre inspect FILE` to check "
                          "the message. The figure <a href=\"../img/wiring.png\"><img src=\"../img/x.png\" "
                          "width=120></a> shows the wiring; call `max(3*x, 10)` only once per cycle. ",
    "support ticket with commands": "Hi team, after the update the sensor stopped reporting. I edited `/etc/hosts` and "
                                    "added the broker's address, then ran `openssl req -in ./certs/x.csr -noout` and "
                                    "restarted the service with systemctl. It's still offline; the log says "
                                    "\"connection refused (111)\". Can you check the broker's ACL? Thanks, Sam. ",
    "release notes": "* Fix a crash in parse_reading() when the sensor's payload is empty (closes: #4411). "
                     "* The 'eco' profile now runs from 22:00 to 06:00. * Update the Debian packaging to 2.4.1-1; "
                     "no changes needed. * Don't retry more than 3 times on HTTP 503; see RFC 9110, section 15.6.4. ",
}


def prose_message(text, size=JSON_SIZE):
    """A JSON message of exactly ``size`` bytes whose one long field is ``text`` repeated (cut to fit)."""
    msg = {"deviceId": "gw-rpi4-0017", "ts": "2024-11-25T05:21:07.123Z", "ticket": 4411, "note": ""}
    base = len(json.dumps(msg, separators=(",", ":")).encode())
    filler = text * (size // max(1, len(text)) + 2)
    for n in range(max(0, size - base - 64), len(filler)):
        msg["note"] = filler[:n]
        data = json.dumps(msg, separators=(",", ":")).encode()
        if len(data) == size:
            return data
    raise SystemExit("bench: cannot size the prose message to %d bytes" % size)


def bench_prose(guard, cfg):
    """1 KB JSON messages whose text is ordinary prose, in several styles: inspect vs json.loads."""
    out = []
    for label, text in PROSE_STYLES.items():
        data = prose_message(text)
        mine, base = paired(lambda: guard.inspect(data, source="mqtt", topic=TELEMETRY_TOPIC), lambda: json.loads(data), cfg)
        v = guard.inspect(data, source="mqtt", topic=TELEMETRY_TOPIC)
        out.append(result("1 KB JSON of prose: %s (mqtt)" % label, us(mine), "us", "json.loads", us(base),
                          round(mine / base, 2), "inspect / baseline", "<= %gx json.loads" % TARGET_PROSE_RATIO,
                          mine / base <= TARGET_PROSE_RATIO, size=len(data), findings=len(v.findings)))
    return out


def adversarial_values(size=ADVERSARIAL_SIZE):
    """64 KB values built to stress scanners and decoders (each exactly ``size`` characters)."""
    import random
    tokens = ["'", '"', "(", ")", "<", "../", "%25"]
    rnd = random.Random(2)  # fixed seed: the same value every run
    mixed = []
    n = 0
    while n < size:
        t = rnd.choice(tokens)
        mixed.append(t)
        n += len(t)

    def fill(unit):
        return (unit * (size // len(unit) + 1))[:size]

    return [
        ("single quotes", fill("'")),
        ("double quotes", fill('"')),
        ("open parentheses", fill("(")),
        ("nested parentheses", fill("(")[:size // 2] + fill(")")[:size - size // 2]),
        ("'<' runs", fill("<")),
        ("'../' runs", fill("../")),
        ("'%25' runs", fill("%25")),
        ("token cycle '\"()<../%25", fill("'\"()<../%25")),
        ("random token mix", "".join(mixed)[:size]),
        ("quote-or runs (' or ')", fill("' or '")),
    ]


# ---------------------------------------------------------------- timing

def per_call(fn, min_time):
    """(timer, number): a timeit Timer for ``fn`` and the calls per repeat lasting >= ``min_time``."""
    timer = timeit.Timer(fn)
    number = 1
    while True:
        t = timer.timeit(number)
        if t >= min_time:
            return timer, number
        number = max(number * 2, int(number * min_time / max(t, 1e-9) * 1.1))


def paired(fn, base, cfg):
    """Median seconds per call of ``fn`` and of ``base``, interleaved repeat by repeat (short repeats,
    many of them: this machine's speed drifts by 2x within seconds, and both sides must see the same drift)."""
    fn()  # the first call compiles the rule tables' lazy parts: not part of the steady state
    if base is not None:
        base()
    t1, n1 = per_call(fn, cfg["min_time"])
    t2, n2 = per_call(base, cfg["min_time"]) if base is not None else (None, 0)
    a, b = [], []
    for _ in range(cfg["repeats"]):
        a.append(t1.timeit(n1) / n1)
        if t2 is not None:
            b.append(t2.timeit(n2) / n2)
    return statistics.median(a), (statistics.median(b) if b else None)


def result(name, value, unit, baseline=None, baseline_value=None, ratio=None, ratio_of=None,
           target=None, ok=None, **extra):
    """One reported number: value, baseline measured in the same run, ratio, target and pass mark."""
    d = {"name": name, "value": value, "unit": unit, "baseline": baseline, "baseline_value": baseline_value,
         "ratio": ratio, "ratio_of": ratio_of, "target": target, "pass": ok}
    d.update(extra)
    return d


def us(seconds):
    return round(seconds * 1e6, 2)


# ---------------------------------------------------------------- cases

def bench_messages(guard, cfg, corpus):
    import cbor2
    out = []
    cb = cbor_telemetry()
    mine, base = paired(lambda: guard.inspect(cb, source="mqtt", topic=TELEMETRY_TOPIC), lambda: cbor2.loads(cb), cfg)
    v = guard.inspect(cb, source="mqtt", topic=TELEMETRY_TOPIC)
    out.append(result("CBOR telemetry %d B (mqtt)" % len(cb), us(mine), "us", "cbor2.loads", us(base),
                      round(mine / base, 2), "inspect / baseline", "<= %gx cbor2.loads" % TARGET_CBOR_RATIO,
                      mine / base <= TARGET_CBOR_RATIO, size=len(cb), action=v.action, leaves=v.leaves,
                      findings=len(v.findings)))

    js = json_message()
    mine, base = paired(lambda: guard.inspect(js, source="mqtt", topic=TELEMETRY_TOPIC), lambda: json.loads(js), cfg)
    v = guard.inspect(js, source="mqtt", topic=TELEMETRY_TOPIC)
    out.append(result("JSON message %d B (mqtt)" % len(js), us(mine), "us", "json.loads", us(base),
                      round(mine / base, 2), "inspect / baseline", size=len(js), action=v.action, leaves=v.leaves,
                      findings=len(v.findings)))

    path = os.path.join(corpus, "aws_events", "cloudFrontViewerRequestEvent.json")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise rc.CorpusError("cannot read %s (%s)" % (path, exc.strerror))
    doc = json.loads(raw)
    for label, event in (("dict", doc), ("bytes", raw)):
        mine, base = paired(lambda: guard.inspect(event, source="auto"), lambda: json.loads(raw), cfg)
        v = guard.inspect(event, source="auto")
        out.append(result("CloudFront viewer-request as %s (%d B)" % (label, len(raw)), us(mine), "us",
                          "json.loads of the bytes", us(base), round(mine / base, 2), "inspect / baseline",
                          size=len(raw), action=v.action, source=v.source, leaves=v.leaves,
                          findings=len(v.findings)))
    return out


def bench_crs(guard, cfg, corpus, use_peer):
    rows = rc.load_rows(os.path.join(corpus, "crs_attacks.jsonl"), cfg["crs_payloads"])
    payloads = [r["payload"] for r in rows]
    n = len(payloads)
    if not n:
        return [result("CRS attack payloads", None, "us/payload", skipped="no payloads")]

    def ours_pass():
        for p in payloads:
            guard.inspect({"q": p}, source="lambda")

    peer = DdwafPeer.load() if use_peer else None
    if peer is None or not peer.available:
        reason = "disabled with --no-peer" if peer is None else peer.reason
        t, number = per_call(ours_pass, cfg["min_time"])
        mine = statistics.median(t.timeit(number) / number for _ in range(cfg["crs_repeats"])) / n
        return [result("CRS attack payloads (%d), ours" % n, us(mine), "us/payload", "libddwaf", None,
                       target=">= %gx faster than libddwaf" % TARGET_PEER_SPEEDUP, payloads=n,
                       peer_missing=reason)]

    engine_us = []
    query_only = [{"server.request.query": {"q": [p]}} for p in payloads]

    def peer_pass():
        total = 0.0
        for p in payloads:
            peer.scan(p)
            total += peer.last_waf_us
        engine_us.append(total / n)

    def peer_query_pass():
        for addresses in query_only:
            peer.scan_addresses(addresses)

    ours_t, peer_t, peer_q = [], [], []
    for _ in range(cfg["crs_repeats"]):  # one full pass each, interleaved
        ours_t.append(timeit.Timer(ours_pass).timeit(1) / n)
        peer_t.append(timeit.Timer(peer_pass).timeit(1) / n)
        peer_q.append(timeit.Timer(peer_query_pass).timeit(1) / n)
    mine, theirs, theirs_q = statistics.median(ours_t), statistics.median(peer_t), statistics.median(peer_q)
    engine = statistics.median(engine_us) / 1e6
    return [
        result("CRS attack payloads (%d): ours vs libddwaf" % n, us(mine), "us/payload",
               "libddwaf (query+body+path)", us(theirs), round(theirs / mine, 2), "baseline / ours (speed-up)",
               ">= %gx faster than libddwaf" % TARGET_PEER_SPEEDUP, theirs / mine >= TARGET_PEER_SPEEDUP,
               payloads=n, peer=peer.describe(),
               placement='ours: inspect({"q": payload}, source="lambda"); libddwaf: the payload in '
                         'server.request.query, .body and .path_params, a new context per payload',
               peer_engine_us=us(engine), speedup_vs_engine_only=round(engine / mine, 2)),
        result("CRS attack payloads (%d): ours vs libddwaf, query address only" % n, us(mine), "us/payload",
               "libddwaf (query only)", us(theirs_q), round(theirs_q / mine, 2), "baseline / ours (speed-up)",
               payloads=n, placement="libddwaf given only server.request.query {q: [payload]}: one value, "
                                     "like ours"),
    ]


def bench_adversarial(guard, cfg):
    out = []
    light = dict(cfg, repeats=max(3, cfg["repeats"] // 2))
    for label, value in adversarial_values():
        event = {"q": value}
        mine, _ = paired(lambda: guard.inspect(event, source="lambda"), None, light)
        v = guard.inspect(event, source="lambda")
        ms = mine * 1e3
        out.append(result("64 KB adversarial: %s" % label, round(ms, 3), "ms", target="<= %g ms, no deadline hit"
                          % TARGET_ADVERSARIAL_MS, ok=ms <= TARGET_ADVERSARIAL_MS and not v.timed_out,
                          timed_out=v.timed_out, action=v.action,
                          families=sorted({f.family for f in v.findings})))
    return out


_COLD_OURS = ("import time; t = time.perf_counter(); import sys; m = len(sys.modules); import edge_ssre; "
              "edge_ssre.Guard(); print((time.perf_counter() - t) * 1e3, len(sys.modules) - m)")


def _spawn_ms(code, env=None):
    t = timeit.default_timer()
    proc = subprocess.run([sys.executable, "-c", code], cwd=rc.PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, env=env)
    wall = (timeit.default_timer() - t) * 1e3
    if proc.returncode != 0:
        raise RuntimeError("`python -c %r` failed: %s" % (code, proc.stderr.strip().splitlines()[-1:]))
    return wall, proc.stdout


def bench_cold_import(cfg):
    walls = {"pass": [], "import json": [], "ours": []}
    inproc, modules = [], 0
    try:
        env = rc.bytecode_env()
        for _ in range(cfg["spawns"]):  # interleaved so that machine noise hits all three alike
            walls["pass"].append(_spawn_ms("pass", env)[0])
            walls["import json"].append(_spawn_ms("import json", env)[0])
            wall, out = _spawn_ms(_COLD_OURS, env)
            walls["ours"].append(wall)
            ms, modules = out.split()
            inproc.append(float(ms))
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
        return [result("cold import edge_ssre + Guard(), over python -c pass", None, "ms",
                       target="<= %g ms" % TARGET_COLD_MS, skipped="measurement failed: %s" % exc)]
    med = {k: statistics.median(v) for k, v in walls.items()}
    extra_ms = med["ours"] - med["pass"]
    return [
        result("cold start: python -c 'import edge_ssre; edge_ssre.Guard()'", round(med["ours"], 1), "ms",
               "python -c pass", round(med["pass"], 1), round(med["ours"] / med["pass"], 2), "ours / baseline",
               spawns=cfg["spawns"]),
        result("cold import edge_ssre + Guard(), over python -c pass", round(extra_ms, 1), "ms",
               "python -c 'import json' over pass", round(med["import json"] - med["pass"], 1),
               target="<= %g ms" % TARGET_COLD_MS, ok=extra_ms <= TARGET_COLD_MS,
               in_process_ms=round(statistics.median(inproc), 1), modules_imported=int(modules)),
    ]


_TABLES_CHILD = r"""
import gc, json, sys, tracemalloc
import edge_ssre
from edge_ssre import Guard
import edge_ssre.rules.ruleset as ruleset_mod
payloads = [json.loads(line)["payload"] for line in open(sys.argv[1], encoding="utf-8")]
gc.collect()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
rs = ruleset_mod.build_default()
if hasattr(rs, "compile_all"):
    rs.compile_all()  # patterns compile lazily for cold starts; measure the fully built tables
gc.collect()
held, peak = tracemalloc.get_traced_memory()
out = {"held": held - before, "peak": peak - before}
for name in ("table_bytes", "stats"):
    fn = getattr(rs, name, None)
    if callable(fn):
        out[name] = fn()
guard = Guard(ruleset=rs)
for p in payloads:  # first pass: fills the bounded memos of clean values to their working size
    guard.inspect({"q": p}, source="lambda")
gc.collect()
mark = tracemalloc.get_traced_memory()[0]
for p in payloads:
    guard.inspect({"q": p}, source="lambda")
gc.collect()
out["growth"] = tracemalloc.get_traced_memory()[0] - mark
if "table_bytes" in out:
    out["table_bytes_after"] = rs.table_bytes()
print(json.dumps(out, default=str))
"""


def bench_tables(corpus):
    """Memory held by the compiled ruleset, measured in a fresh interpreter (no caches from this run)."""
    attacks = os.path.join(corpus, "crs_attacks.jsonl")
    proc = subprocess.run([sys.executable, "-c", _TABLES_CHILD, attacks], cwd=rc.PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [result("compiled rule tables", None, "bytes", skipped="measurement failed: %s" % tail)]
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    fixed = m["growth"] <= FIXED_GROWTH_BYTES and m.get("table_bytes_after", 0) == m.get("table_bytes", 0)
    out = [
        result("compiled rule tables: bytes held (tracemalloc around build_default())", m["held"], "bytes",
               target="fixed, reported size", ok=fixed, build_peak_bytes=m["peak"],
               growth_after_corpus_bytes=m["growth"], table_bytes=m.get("table_bytes"),
               stats=m.get("stats"), note="growth = traced bytes still held after inspecting every CRS attack "
                                          "payload (verdicts dropped); fixed when <= %d B" % FIXED_GROWTH_BYTES),
    ]
    if m.get("table_bytes") is not None:
        out.append(result("compiled rule tables: ruleset.table_bytes()", m["table_bytes"], "bytes"))
    return out


# ---------------------------------------------------------------- output

def _fmt(v, unit):
    if v is None:
        return "-"
    if unit == "bytes":
        return "%d B (%.1f KiB)" % (v, v / 1024.0)
    return "%s %s" % (v, unit)


def _mark(ok):
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def _table_rows(results):
    rows = []
    for r in results:
        ratio = "-" if r["ratio"] is None else "%.2fx" % r["ratio"]
        base = "-" if r["baseline"] is None else "%s: %s" % (r["baseline"], _fmt(r["baseline_value"], r["unit"]))
        note = r.get("skipped") or r.get("peer_missing")
        if note:
            base = "(%s)" % note
        rows.append([r["name"], _fmt(r["value"], r["unit"]), base, ratio, r["target"] or "-", _mark(r["pass"])])
    return rows


HEADER = ["case", "ours (median)", "baseline (same run)", "ratio", "target", ""]


def _notes(doc):
    notes = []
    for r in doc["results"]:
        if "timed_out" in r and r["timed_out"]:
            notes.append("%s hit the inspection deadline (verdict.timed_out)." % r["name"])
        if r.get("peer_engine_us") is not None:
            notes.append("libddwaf's own reported run time is %s us/payload (without ddtrace's ctypes binding): "
                         "ours is %sx faster than that." % (r["peer_engine_us"], r["speedup_vs_engine_only"]))
        if r.get("in_process_ms") is not None:
            notes.append("import edge_ssre + Guard() measured inside the child: %s ms, %d modules imported."
                         % (r["in_process_ms"], r["modules_imported"]))
        if r.get("growth_after_corpus_bytes") is not None:
            notes.append("Rule tables: peak %d B while building; %d B more held after inspecting the CRS attack "
                         "payloads; table_bytes() = %s; stats() = %s." % (
                             r["build_peak_bytes"], r["growth_after_corpus_bytes"], r.get("table_bytes"),
                             json.dumps(r.get("stats"), default=str) if r.get("stats") is not None else None))
        if r.get("size") and "CBOR" in r["name"]:
            notes.append("The CBOR message is %d bytes: device id, timestamp, sequence, 8 sensor fields and a "
                         "status string." % r["size"])
    return notes


def print_text(doc):
    m = doc["meta"]
    print("edge_ssre inspection benchmark  %s  edge_ssre %s @ %s%s" % (
        m["date"], m["edge_ssre"], m["commit"], "  (--quick)" if doc["quick"] else ""))
    print("machine: %s" % m["machine"])
    print()
    print(rc.text_table(HEADER, _table_rows(doc["results"])))
    print()
    for n in _notes(doc):
        print("- " + n)


def print_markdown(doc):
    m = doc["meta"]
    out = ["## Inspection speed and memory (tools/bench_inspect.py)", ""]
    out.append("Command: `%s` · %s · %s · edge_ssre %s at `%s`." % (
        m["command"], m["date"], m["machine"], m["edge_ssre"], m["commit"]))
    out.append("")
    out.append("Medians over repeats (each repeat runs the call many times), case and baseline interleaved in the "
               "same run; targets from issue #2.")
    out.append("")
    rows = [[c.replace("|", "\\|") for c in r] for r in _table_rows(doc["results"])]
    out.append(rc.md_table(HEADER, rows, "lrlrll"))
    notes = _notes(doc)
    if notes:
        out.append("")
        out += ["- " + n for n in notes]
    print("\n".join(out))


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="tools/bench_inspect.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short run (fewer repeats, 200 CRS payloads)")
    ap.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    ap.add_argument("--markdown", action="store_true", help="print a section for docs/BENCHMARKS.md")
    ap.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                    help="also time libddwaf (PyPI ddtrace) on the CRS payloads (default: on)")
    ap.add_argument("--corpus", default=rc.DEFAULT_CORPUS, help="corpus folder (default: %(default)s)")
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def run(args):
    from edge_ssre import Guard
    cfg = QUICK if args.quick else FULL
    guard = Guard()
    results = []
    results += bench_messages(guard, cfg, args.corpus)
    results += bench_prose(guard, cfg)
    results += bench_crs(guard, cfg, args.corpus, args.peer)
    results += bench_adversarial(guard, cfg)
    results += bench_cold_import(cfg)
    results += bench_tables(args.corpus)
    gc.collect()
    return {"tool": "bench_inspect", "meta": rc.run_meta(["tools/bench_inspect.py"] + list(args.argv)),
            "quick": bool(args.quick), "config": cfg, "results": results}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    return rc.run_tool("bench", lambda: run(args), print_markdown if args.markdown else print_text, args.json)


if __name__ == "__main__":
    sys.exit(main())
