"""Crash safety with real processes and real files: a child appends with fsync and acknowledges
each sequence number over a pipe; the parent SIGKILLs it at a random moment, reopens the store
and checks that every acknowledged record is there, in order, intact. 200 kills here; the
stress tool (tools/stress_store.py) runs thousands."""

import hashlib
import os
import random
import signal
import time

import pytest

from edge_ssre import EventStore

KILLS = int(os.environ.get("EDGE_SSRE_CRASH_KILLS", "200"))
CAP = 4 << 20


def payload(seq):
    return b"\x00" + hashlib.sha256(b"%d" % seq).digest() * (1 + seq % 4)


def _child(path, wfd, durability):
    try:
        store = EventStore(path, capacity_bytes=CAP, durability=durability)
        while True:
            seq = store._ring.next_seq
            got = store.append(payload(seq))
            assert got == seq
            if durability != "always":
                store.flush()
            os.write(wfd, b"%d\n" % got)
    finally:
        os._exit(0)


def _run_cycle(path, rng, durability):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(path, w, durability)
    os.close(w)
    time.sleep(rng.uniform(0.0, 0.02))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    return [int(x) for x in data.split(b"\n")[:-1]]  # complete lines only


@pytest.mark.parametrize("durability", ["always"])
def test_no_acknowledged_record_is_lost_across_kills(tmp_path, durability):
    path = str(tmp_path / "crash.ring")
    rng = random.Random(1234)
    acked_all = []
    for cycle in range(KILLS):
        acked = _run_cycle(path, rng, durability)
        acked_all.extend(acked)
        with EventStore(path, capacity_bytes=CAP, durability="always") as s:
            present = {seq: p for seq, p in s.iter_from(1)}
            for seq in acked:
                assert present.get(seq) == payload(seq), "cycle %d: acknowledged seq %d missing or corrupt" % (cycle, seq)
            seqs = sorted(present)
            assert seqs == list(range(seqs[0], seqs[-1] + 1)) if seqs else True, "gap in the log"
            if acked:
                assert s.stats()["newest_seq"] >= acked[-1]
    assert len(acked_all) > KILLS, "the children acknowledged too little to exercise recovery"
