#!/usr/bin/env python3
"""Long crash test of the event store: thousands of SIGKILLs while a child appends with fsync.

    python tools/stress_store.py [--kills 5000] [--durability always] [--capacity 1048576]

Each cycle forks a child that appends records and acknowledges every sequence number over a
pipe, kills it at a random moment, reopens the store and checks that every acknowledged record
is present, in order and intact. A small capacity makes the ring wrap many times. Exit 1 on the
first violation (with the cycle and sequence number).
"""

import argparse
import os
import random
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from edge_ssre import EventStore  # noqa: E402
import test_store_crash as crash  # noqa: E402  (the suite's cycle, reused)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=5000)
    ap.add_argument("--durability", default="always", choices=("always",))
    ap.add_argument("--capacity", type=int, default=1 << 20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args(argv)
    crash.CAP = args.capacity
    rng = random.Random(args.seed)
    path = os.path.join(tempfile.mkdtemp(prefix="edge-ssre-stress-"), "stress.ring")
    acked_total = 0
    t = time.time()
    for cycle in range(args.kills):
        acked = crash._run_cycle(path, rng, args.durability)
        acked_total += len(acked)
        with EventStore(path, capacity_bytes=args.capacity, durability="always") as s:
            present = {seq: p for seq, p in s.iter_from(1)}
            oldest = min(present) if present else 0
            for seq in acked:
                if seq >= oldest and present.get(seq) != crash.payload(seq):
                    print("FAIL cycle %d: acknowledged seq %d missing or corrupt (seed %d)" % (cycle, seq, args.seed))
                    return 1
                if seq < oldest and s.stats()["dropped"] == 0:
                    print("FAIL cycle %d: seq %d evicted without being counted" % (cycle, seq))
                    return 1
        if cycle % 500 == 0:
            print("cycle %d: %d records acknowledged so far" % (cycle, acked_total), flush=True)
    print("OK: %d kills, %d acknowledged records, none lost (%.0f s, seed %d)"
          % (args.kills, acked_total, time.time() - t, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
