#!/usr/bin/env python3
"""Long crash test of the event store: thousands of SIGKILLs while a child appends.

    python tools/stress_store.py [--kills 5000] [--durability always|group|both] [--capacity 262144] [--seed N]

Each cycle forks a child that opens the store, appends records and acknowledges every sequence
number over a pipe as soon as ``append`` returns it; the parent kills it at a random moment while
it appends, reopens the store and checks that every acknowledged record is present and intact
(or was evicted and counted) and that every gap in the log is counted as dropped. A small capacity
makes the ring wrap and evict under the kills. Exit 1 on the first violation. The same cycle runs
100 times per mode in tests/test_store_crash.py; tools/harden_store.py runs it with the other
fault classes.
"""

import argparse
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tools"))

from harden_store import run_kill  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=5000, help="SIGKILLs per durability mode")
    ap.add_argument("--durability", default="both", choices=("always", "group", "both"))
    ap.add_argument("--capacity", type=int, default=256 << 10)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args(argv)
    modes = ("always", "group") if args.durability == "both" else (args.durability,)
    t = time.time()
    res = run_kill(args.kills, args.seed, args.capacity, modes)
    if res["lost_acknowledged"]:
        print("FAIL (seed %d): %s" % (args.seed, res["first_problem"]))
        return 1
    print("OK: %d kills (%s), %d acknowledged records, none lost (%.0f s, seed %d)"
          % (res["kills"], "+".join(modes), res["acknowledged"], time.time() - t, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
