#!/usr/bin/env python3
"""Detection of the micro core's signature scan on the project's corpus, beside the full engine.

    python tools/evaluate_micro.py [--corpus corpus]

Every payload is scanned as one value by ``micro.scan.Scanner`` (the packaged esp32-micropython
table) and by the full engine (``Guard``). Per family: attacks caught (TPR) and benign payloads
flagged (FPR). Runs on CPython; the same table gives the same answers on MicroPython
(tests/test_micropython.py).
"""

import argparse
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=os.path.join(ROOT, "corpus"))
    args = ap.parse_args(argv)
    rows = []
    for name in ("crs_attacks.jsonl", "crs_benign.jsonl"):
        path = os.path.join(args.corpus, name)
        if not os.path.exists(path):
            print("evaluate_micro: no %s (give --corpus)" % path, file=sys.stderr)
            return 2
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    from edge_ssre import Guard
    from edge_ssre.micro import rules_table, scan
    sc = scan.Scanner(rules_table)
    guard = Guard()
    stats = {}
    for r in rows:
        text = r["payload"]
        micro = bool(sc.scan(text.encode("utf-8", "surrogatepass")))
        full = bool(guard.inspect({"v": text}).findings)
        s = stats.setdefault((r["label"], r["family"]), [0, 0, 0])
        s[0] += 1
        s[1] += micro
        s[2] += full
    print("| label | family | payloads | micro flagged | full engine flagged |")
    print("|---|---|---:|---:|---:|")
    tot = {}
    for (label, fam), (n, m, f) in sorted(stats.items()):
        print("| %s | %s | %d | %.1f %% | %.1f %% |" % (label, fam, n, 100.0 * m / n, 100.0 * f / n))
        t = tot.setdefault(label, [0, 0, 0])
        t[0] += n
        t[1] += m
        t[2] += f
    for label, (n, m, f) in sorted(tot.items()):
        print("| **%s** | all | %d | %.1f %% | %.1f %% |" % (label, n, 100.0 * m / n, 100.0 * f / n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
