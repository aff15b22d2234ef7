"""Crash safety with real processes and real files: a child appends and acknowledges each
sequence number over a pipe as soon as ``append`` returns it; the parent SIGKILLs it at a random
moment while it appends, reopens the store and checks that every acknowledged record is there,
intact, and that every sequence number missing between the oldest and the newest is counted as
dropped. ``always`` fsyncs before returning; ``group`` returns at once (a process crash loses
nothing: the write is in the page cache). 100 kills per mode here; tools/stress_store.py runs
thousands."""

import hashlib
import os
import random
import signal
import time

import pytest

from edge_ssre import EventStore

KILLS = int(os.environ.get("EDGE_SSRE_CRASH_KILLS", "100"))
CAP = 256 << 10  # small: the ring wraps and evicts under the kills too


def payload(i):
    return b"\x00" + hashlib.sha256(b"%d" % i).digest() * (1 + i % 4)


def _child(path, wfd, durability, first):
    try:
        store = EventStore(path, capacity_bytes=CAP, durability=durability)
        os.write(wfd, b"ready\n")
        i = first
        while True:
            seq = store.append(payload(i))
            if seq is not None:
                os.write(wfd, b"%d %d\n" % (seq, i))
            i += 1
    finally:
        os._exit(0)


def run_cycle(path, rng, durability, first, max_delay=0.02):
    """One child life: returns the acknowledged (seq, payload index) pairs."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(path, w, durability, first)
    os.close(w)
    data = b""
    while b"\n" not in data:  # the kill lands while appending, not while opening
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    time.sleep(rng.uniform(0.0, max_delay))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    lines = data.split(b"\n")[1:-1]  # after "ready"; complete lines only
    return [tuple(int(x) for x in line.split()) for line in lines]


def check(path, acked, capacity=CAP):
    """None when every acknowledged record is held intact (or was evicted and counted) and every
    gap is counted; else what is wrong."""
    with EventStore(path, capacity_bytes=capacity, durability="none") as s:
        present = dict(s.iter_from(1))
        st = s.stats()
    oldest = min(present) if present else st["committed_seq"] + 1
    for seq, i in acked:
        if seq >= oldest and present.get(seq) != payload(i):
            return "acknowledged seq %d missing or corrupt" % seq
    if present:
        missing = (max(present) - min(present) + 1) - len(present)
        if missing > st["dropped"]:
            return "%d seqs missing inside the log, %d counted as dropped" % (missing, st["dropped"])
        if acked and max(present) < acked[-1][0]:
            return "newest acknowledged seq %d beyond the newest held %d" % (acked[-1][0], max(present))
    if acked and oldest > acked[0][0] and st["dropped"] == 0:
        return "acknowledged records evicted without being counted"
    return None


@pytest.mark.parametrize("durability", ["always", "group"])
def test_no_acknowledged_record_is_lost_across_kills(tmp_path, durability):
    path = str(tmp_path / "crash.ring")
    rng = random.Random(1234)
    acked_all = 0
    nxt = 0
    for cycle in range(KILLS):
        acked = run_cycle(path, rng, durability, nxt)
        nxt += 10 ** 6
        acked_all += len(acked)
        problem = check(path, acked)
        assert problem is None, "cycle %d: %s" % (cycle, problem)
    assert acked_all > KILLS, "the children acknowledged too little to exercise recovery"
