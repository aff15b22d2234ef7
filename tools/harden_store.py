#!/usr/bin/env python3
"""Hardening runs of the event store, one per fault class, with real processes, files and disks.

    python tools/harden_store.py [--only kill,full-disk,create,damage] [--kills 1000] [--rounds 40]
                                 [--trials 2000] [--seed N] [--markdown] [--json OUT]

- kill: a child appends and acknowledges each seq as ``append`` returns it; SIGKILL at a random
  moment, reopen, check (``always`` and ``group``, a small store that wraps).
- full-disk: a small tmpfs (root only: skipped with one line otherwise) holding a store whose data
  region is sparse (a copy or a restore) or preallocated, filled to a random level; appends until
  the disk refuses them, space returns, more appends; every returned seq must be held, every
  failure counted and recorded in a ``disk-full`` loss record.
- create: creating a store on a tmpfs filled to a random level; a creation that fails must leave
  no file, and the next try (with space) must succeed.
- damage: stores with random records (wrapping, commits) whose file gets bit flips, zeroed blocks,
  truncation or header damage; the reopened store must invent nothing, agree with its stats,
  count every loss it can see, bring nothing dropped back, and open whenever its data is intact.

Exit 1 when any campaign reports a violation. Short versions run in tests/test_store_faults.py
and tests/test_store_crash.py; figures are in docs/HARDENING.md.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import edge_ssre.store as store_mod  # noqa: E402
from edge_ssre import EventStore  # noqa: E402
from edge_ssre.errors import StoreError  # noqa: E402
from edge_ssre.store import record as rec  # noqa: E402
from edge_ssre.store.ring_buffer import DATA_START, SLOT  # noqa: E402
import store_faults as faults  # noqa: E402
import test_store_crash as crash  # noqa: E402

VIOLATIONS = {  # the figures that must be 0
    "kill": ("lost_acknowledged",),
    "full-disk": ("acked_not_held", "duplicate_seqs", "stats_disagree", "failures_not_counted",
                  "failures_not_recorded", "reopen_differs"),
    "create": ("leftover_files", "next_try_failed"),
    "damage": ("invented", "stats_disagree", "uncounted_mid_log", "resurrected", "refused_intact",
               "unusable"),
}


def _payload(rng, i):
    return b"\x00%d:" % i + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 160)))


def _agree(store):
    got = list(store.iter_from(1))
    st = store.stats()
    ok = st["records"] == len(got) and (not got or (st["oldest_seq"], st["newest_seq"]) == (got[0][0], got[-1][0]))
    return got, st, ok


# ---- SIGKILL -----------------------------------------------------------------------------------

def run_kill(kills, seed, capacity=256 << 10, modes=("always", "group")):
    out = {"kills": 0, "acknowledged": 0, "lost_acknowledged": 0, "first_problem": None}
    rng = random.Random(seed)
    crash.CAP = capacity
    for mode in modes:
        tmp = tempfile.mkdtemp(prefix="edge-ssre-kill-")
        path = os.path.join(tmp, "kill.ring")
        nxt = 0
        for cycle in range(kills):
            acked = crash.run_cycle(path, rng, mode, nxt)
            nxt += 10 ** 6
            out["kills"] += 1
            out["acknowledged"] += len(acked)
            out["acknowledged_" + mode] = out.get("acknowledged_" + mode, 0) + len(acked)
            problem = crash.check(path, acked, capacity)
            if problem:
                out["lost_acknowledged"] += 1
                out["first_problem"] = out["first_problem"] or "%s cycle %d: %s" % (mode, cycle, problem)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---- full disk ---------------------------------------------------------------------------------

def _full_disk_round(disk, rng, out):
    cap = rng.choice((128 << 10, 256 << 10, 512 << 10))
    durability = rng.choice(("always", "group", "none"))
    path = os.path.join(disk.path, "ev.ring")
    sparse = rng.random() < 0.75
    if sparse:
        faults.make_sparse_store(path, cap)
    else:
        EventStore(path, capacity_bytes=cap, durability="none").close()
    disk.fill()
    spare = rng.randint(0, 24) * 1024
    if spare:
        with open(disk.filler, "r+b") as fh:
            fh.truncate(max(0, os.path.getsize(disk.filler) - spare))
    acked = {}
    failed = 0
    seen = set()
    i = 0
    with EventStore(path, capacity_bytes=cap, durability=durability, group_commit_ms=5) as s:
        for phase in ("full", "freed"):
            if phase == "freed":
                disk.free()
            for _ in range(rng.randint(50, 400) if phase == "full" else rng.randint(1, 20)):
                i += 1
                data = _payload(rng, i)
                seq = s.append(data)
                if seq is None:
                    failed += 1
                    continue
                if seq in seen:
                    out["duplicate_seqs"] += 1
                seen.add(seq)
                acked[seq] = data
        got, st, ok = _agree(s)
        out["stats_disagree"] += 0 if ok else 1
        held = dict(got)
        out["acked_not_held"] += sum(1 for q, d in acked.items() if held.get(q, d) != d or
                                     (q not in held and q >= (st["oldest_seq"] or 0)))
        losses = [rec.decode(p) for _, p in got if p[:1] != b"\x00"]
        disk_full = sum(r["dropped"] for r in losses if r.get("reason") == "disk-full")
        evicted = sum(r["dropped"] for r in losses if r.get("reason") == "overwrite")
        out["failures_not_counted"] += max(0, failed - (st["dropped"] - evicted - st["pending_loss"]))
        out["failures_not_recorded"] += max(0, failed - disk_full - st["pending_loss"])
        out["appends"] += i
        out["refused_writes"] += failed
        out["acknowledged"] += len(acked)
        out["sparse_rounds" if sparse else "preallocated_rounds"] += 1
        before = got
    with EventStore(path, capacity_bytes=cap, durability="none") as s:
        got, _, _ = _agree(s)
        if [q for q, _ in got][:len(before)] != [q for q, _ in before]:
            out["reopen_differs"] += 1
    os.unlink(path)


def run_full_disk(rounds, seed):
    """Loss records are written at once here (not at most once a second), so that the first
    append after space returns records every failure."""
    out = {k: 0 for k in VIOLATIONS["full-disk"] + ("rounds", "appends", "refused_writes", "acknowledged",
                                                   "sparse_rounds", "preallocated_rounds")}
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="edge-ssre-disk-")
    interval = store_mod.LOSS_RECORD_INTERVAL
    store_mod.LOSS_RECORD_INTERVAL = 0.0
    try:
        with faults.SmallDisk(os.path.join(tmp, "disk"), 2 << 20) as disk:
            for _ in range(rounds):
                disk.free()
                _full_disk_round(disk, rng, out)
                out["rounds"] += 1
    finally:
        store_mod.LOSS_RECORD_INTERVAL = interval
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run_create(rounds, seed):
    out = {"rounds": 0, "failed_creations": 0, "leftover_files": 0, "next_try_failed": 0}
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="edge-ssre-create-")
    try:
        with faults.SmallDisk(os.path.join(tmp, "disk"), 1 << 20) as disk:
            for _ in range(rounds):
                disk.free()
                path = os.path.join(disk.path, "new.ring")
                disk.fill()
                keep = rng.randint(0, 1024) * 1024
                with open(disk.filler, "r+b") as fh:
                    fh.truncate(max(0, os.path.getsize(disk.filler) - keep))
                try:
                    EventStore(path, capacity_bytes=512 << 10).close()
                except StoreError:
                    out["failed_creations"] += 1
                    if os.path.exists(path):
                        out["leftover_files"] += 1
                disk.free()
                try:
                    with EventStore(path, capacity_bytes=512 << 10) as s:
                        if s.append(b"\x00ok") is None:
                            out["next_try_failed"] += 1
                except StoreError:
                    out["next_try_failed"] += 1
                if os.path.exists(path):
                    os.unlink(path)
                out["rounds"] += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---- damage ------------------------------------------------------------------------------------

KINDS = ("flip", "flips", "zero-block", "truncate", "header-slot", "both-header-slots", "both-slots+flip")


def _damage(path, kind, rng, cap):
    size = DATA_START + cap
    if kind in ("flip", "flips", "both-slots+flip"):
        for _ in range(1 if kind != "flips" else rng.randint(2, 8)):
            faults.flip_bit(path, DATA_START + rng.randrange(cap), rng.randrange(8))
    if kind == "zero-block":
        n = rng.choice((8, 24, 512, 4096))
        at = rng.randrange(cap // 8) * 8
        faults.zero_range(path, DATA_START + at, min(n, cap - at))
    if kind == "truncate":
        with open(path, "r+b") as fh:
            fh.truncate(rng.randrange(DATA_START, size))
    if kind == "header-slot":
        faults.zero_range(path, rng.choice((0, SLOT)) + rng.randrange(SLOT - 8), 8)
    if kind in ("both-header-slots", "both-slots+flip"):
        faults.zero_range(path, 0, 2 * SLOT)


def _frames_intact(path, offsets, snapshot):
    with open(path, "rb") as fh:
        now = fh.read()
    return all(now[a:b] == snapshot[a:b] for a, b in offsets)


def _damage_trial(rng, out, tmp, n):
    cap = rng.choice((8 << 10, 16 << 10, 64 << 10))
    path = os.path.join(tmp, "d%d.ring" % n)
    when_full = rng.choice(("overwrite", "reject"))
    appended = {}
    with EventStore(path, capacity_bytes=cap, durability="none", when_full=when_full) as s:
        for i in range(rng.randint(1, cap // 60)):
            data = _payload(rng, i)
            seq = s.append(data)
            if seq is not None:
                appended[seq] = data
        if appended and rng.random() < 0.5:
            s.commit(rng.choice(list(appended)))
    with EventStore(path, capacity_bytes=cap, durability="none", when_full=when_full) as s:  # as closing left it
        before = dict(s.iter_from(1))
        st0 = s.stats()
        spans = [(off, off + 24 + len(before[q])) for q, off in faults.record_offsets(s).items()]
    with open(path, "rb") as fh:
        snapshot = fh.read()
    kind = rng.choice(KINDS)
    _damage(path, kind, rng, cap)
    out["trials"] += 1
    out["kind " + kind] = out.get("kind " + kind, 0) + 1
    try:
        s = EventStore(path, capacity_bytes=cap, durability="none", when_full=when_full)
    except StoreError:
        out["refused"] += 1
        if kind.endswith("header-slots") or kind == "header-slot":
            out["refused_intact"] += 1 if _frames_intact(path, spans, snapshot) and before else 0
        return
    with s:
        got, st1, ok = _agree(s)
        out["stats_disagree"] += 0 if ok else 1
        held = dict(got)
        for q, p in held.items():
            if p[:1] == b"\x00" and appended.get(q) != p:
                out["invented"] += 1
            elif p[:1] != b"\x00" and rec.decode(p).get("type") != "loss":
                out["invented"] += 1
        committed = st0["committed_seq"]
        lost = [q for q in before if q not in held and q > committed]
        newest = max(held) if held else 0
        mid = [q for q in lost if q < newest]
        counted = st1["dropped"] - (0 if st1["header_rebuilt"] else st0["dropped"])
        out["lost_records"] += len(lost)
        out["counted_losses"] += max(0, min(counted, len(lost)))
        out["uncounted_mid_log"] += max(0, len(mid) - counted)
        end = max(0, len(lost) - max(counted, len(mid)))
        out["uncounted_end_of_log"] += end
        for key, n in (("lost", len(lost)), ("uncounted", end)):
            out["%s %s" % (key, kind)] = out.get("%s %s" % (key, kind), 0) + n
        out["header_rebuilt"] += 1 if st1["header_rebuilt"] else 0
        gone = {q for q in before if q not in held}
        extra = [s.append(_payload(rng, 10 ** 6 + k)) for k in range(rng.randint(1, 8))]
        if any(q is None for q in extra) and when_full == "overwrite":
            out["unusable"] += 1
        out["seqs_reused"] += sum(1 for q in extra if q is not None and q in before)
        gone -= set(extra)
    with EventStore(path, capacity_bytes=cap, durability="none", when_full=when_full) as s:
        again = dict(s.iter_from(1))
        # back with its old content (a seq given out again after an end-of-log loss holds a new record)
        out["resurrected"] += sum(1 for q in gone if q in again and again[q] == before[q])
    os.unlink(path)


def run_damage(trials, seed):
    out = {k: 0 for k in VIOLATIONS["damage"] + ("trials", "refused", "lost_records", "counted_losses",
                                                "uncounted_end_of_log", "header_rebuilt", "seqs_reused")}
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="edge-ssre-damage-")
    try:
        for n in range(trials):
            _damage_trial(rng, out, tmp, n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---- main --------------------------------------------------------------------------------------

def violations(name, figures):
    return {k: figures[k] for k in VIOLATIONS[name] if figures.get(k)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="kill,full-disk,create,damage")
    ap.add_argument("--kills", type=int, default=1000, help="SIGKILLs per durability mode")
    ap.add_argument("--rounds", type=int, default=40, help="full-disk and create rounds")
    ap.add_argument("--trials", type=int, default=2000, help="damage trials")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    runs = {"kill": lambda: run_kill(args.kills, args.seed),
            "full-disk": lambda: run_full_disk(args.rounds, args.seed),
            "create": lambda: run_create(args.rounds, args.seed),
            "damage": lambda: run_damage(args.trials, args.seed)}
    results, bad = {}, False
    for name in args.only.split(","):
        t = time.time()
        try:
            figures = runs[name]()
        except faults.TmpfsUnavailable as exc:
            print("%s: skipped (%s)" % (name, exc), flush=True)
            continue
        figures["seconds"] = round(time.time() - t, 1)
        results[name] = figures
        v = violations(name, figures)
        bad = bad or bool(v)
        print("%s: %s %s" % (name, "VIOLATIONS %s" % v if v else "ok",
                             json.dumps(figures, sort_keys=True)), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"seed": args.seed, "results": results}, fh, indent=1, sort_keys=True)
    if args.markdown:
        print("\n| campaign | figure | value |\n| --- | --- | ---: |")
        for name, figures in results.items():
            for k in sorted(figures):
                if figures[k] is not None:
                    print("| %s | %s | %s |" % (name, k, figures[k]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
