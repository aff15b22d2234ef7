#!/usr/bin/env python3
"""Signed bundles: verify + apply time of a bundle of the default rules, and the per-event inspection
cost of a guard configured from that bundle beside the built-in guard, in the same run.

    python tools/bench_bundle.py [--rounds N] [--markdown] [--json OUT]

Target (issue #18): verify + apply <= 50 ms on this machine; inspection cost ratio ~1.00.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

EVENTS = [
    {"device": "th-12", "temperature": 21.5, "humidity": 40, "note": "door closed at 10:02; battery 3.1 V"},
    {"q": "1' OR '1'='1' --", "page": "2"},
    {"comment": "The installer replaced the seal on Tuesday; it's fine now.", "rating": 5},
    {"url": "http://169.254.169.254/latest/meta-data/", "id": 7},
    {"html": "<p>Hello <b>world</b></p>", "lang": "en"},
]


def per_event_us(guard, rounds):
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for ev in EVENTS:
            guard.inspect(ev)
        samples.append((time.perf_counter() - t) / len(EVENTS) * 1e6)
    return statistics.median(samples)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Signed bundles: verify + apply time and inspection cost.")
    ap.add_argument("--rounds", type=int, default=200, help="inspection rounds per guard (default: 200)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table for docs/BENCHMARKS.md")
    ap.add_argument("--json", default=None, metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    from report_common import run_meta
    from edge_ssre import Guard
    from edge_ssre.bundle.build import build, keygen, sign
    from edge_ssre.bundle.install import Verifier, apply
    from edge_ssre.bundle.trust import TrustStore
    from edge_ssre.rules.ruleset import COMPILED
    with tempfile.TemporaryDirectory() as tmp:
        keygen(tmp)
        with open(os.path.join(tmp, "bundle.key"), "rb") as fh:
            key = fh.read()
        trust = TrustStore.load(os.path.join(tmp, "bundle.pub"))
    with open(COMPILED, "rb") as fh:
        table = fh.read()
    data = sign(build("rules", 1, {"rules.json": table, "policy.toml": b'mode = "enforce"\n'}), key)
    verify_ms, apply_ms = [], []
    for _ in range(15):
        guard = Guard()
        t0 = time.perf_counter()
        accepted = Verifier(trust).verify(data)
        t1 = time.perf_counter()
        apply(accepted, guard)
        t2 = time.perf_counter()
        verify_ms.append((t1 - t0) * 1e3)
        apply_ms.append((t2 - t1) * 1e3)
    builtin = Guard()
    builtin.ruleset.compile_all()
    per_event_us(builtin, 20)
    per_event_us(guard, 20)
    base = per_event_us(builtin, args.rounds)
    bundled = per_event_us(guard, args.rounds)
    total = [a + b for a, b in zip(verify_ms, apply_ms)]
    doc = dict(run_meta(sys.argv), bundle_bytes=len(data), rules_table_bytes=len(table),
               verify_ms=round(statistics.median(verify_ms), 2), apply_ms=round(statistics.median(apply_ms), 2),
               verify_apply_ms=round(statistics.median(total), 2), verify_apply_max_ms=round(max(total), 2),
               inspect_builtin_us=round(base, 1), inspect_bundle_us=round(bundled, 1),
               inspect_ratio=round(bundled / base, 3), target_ms=50,
               passed=statistics.median(total) <= 50)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2)
    if args.markdown:
        print("Command: `%s` · %s · %s · commit %s\n" % (doc["command"], doc["date"], doc["machine"], doc["commit"]))
        print("| what | value |\n| --- | --- |")
        print("| bundle of the default rules (compiled table %d B, zlib) | %d B |" % (len(table), len(data)))
        print("| verify (parse, Ed25519, hashes, build the ruleset), median of 15 | %.1f ms |" % doc["verify_ms"])
        print("| apply (compile its patterns, swap into a running Guard), median | %.1f ms |" % doc["apply_ms"])
        print("| verify + apply, median / max (target <= 50 ms) | %.1f / %.1f ms: %s |"
              % (doc["verify_apply_ms"], doc["verify_apply_max_ms"], "PASS" if doc["passed"] else "FAIL"))
        print("| inspection per event, built-in guard / bundle guard | %.1f / %.1f us (ratio %.3f) |"
              % (base, bundled, doc["inspect_ratio"]))
    else:
        print(json.dumps(doc, indent=2))
    return 0 if doc["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
