"""The event store under faults, with real files and a real full disk (a small tmpfs): it never
reports a record it does not hold, counts and records every loss, never brings a dropped record
back, opens every store whose data region is intact, and leaves nothing behind when it cannot
be created. Long versions: tools/harden_store.py (figures in docs/HARDENING.md)."""

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import edge_ssre.store as store_mod
from edge_ssre import EventStore, Guard
from edge_ssre.errors import StoreError
from edge_ssre.store import record as rec
from edge_ssre.store.ring_buffer import DATA_START, REC_HEAD, SLOT
from edge_ssre.store.sink import StoreSink
from store_faults import (SmallDisk, TmpfsUnavailable, flip_bit, make_sparse_store, record_offsets,
                          zero_range)

CAP = 16384


def payload(i):
    return b"\x00event-%05d-" % i + b"p" * (i % 40)


def data_of(store):
    """{seq: payload} of the data records (test payloads start with NUL; loss records are CBOR maps)."""
    return {s: p for s, p in store.iter_from(1) if p[:1] == b"\x00"}


def losses_of(store):
    out = [rec.decode(p) for _, p in store.iter_from(1) if p[:1] != b"\x00"]
    return [r for r in out if r["type"] == "loss"]


def agree(store):
    """stats() and iter_from describe the same records."""
    got = list(store.iter_from(1))
    st_ = store.stats()
    assert st_["records"] == len(got)
    if got:
        assert (st_["oldest_seq"], st_["newest_seq"]) == (got[0][0], got[-1][0])
    seqs = [s for s, _ in got]
    assert seqs == sorted(set(seqs))
    return got


@pytest.fixture
def small_disk(tmp_path):
    try:
        with SmallDisk(tmp_path / "disk", 1 << 20) as disk:
            yield disk
    except TmpfsUnavailable as exc:
        pytest.skip(str(exc))


# ---- full disk -------------------------------------------------------------------------------

def test_full_disk_under_a_sparse_store_stores_exactly_what_it_acknowledges(small_disk, monkeypatch):
    """The issue's case: a sparse data region (a copy or a restore), the disk fills, the guard keeps
    writing findings. Short writes are errors, no seq is returned twice, the sink's count is what
    is stored, stats() agrees with iter_from, and once space returns a disk-full loss record says
    how many were lost."""
    monkeypatch.setattr(store_mod, "LOSS_RECORD_INTERVAL", 0.0)
    path = os.path.join(small_disk.path, "ev.ring")
    make_sparse_store(path, 256 << 10)
    small_disk.fill()
    with EventStore(path, capacity_bytes=256 << 10, durability="none", device="gw") as store:
        sink = StoreSink(store)
        guard = Guard(sink=sink)
        for i in range(300):
            assert guard.inspect({"q": "1' OR '1'='1' -- %d" % i}, source="mqtt").action == "block"
        got = agree(store)
        findings = [q for q, p in got if rec.decode(p)["type"] == "finding"]
        assert 0 < sink.written < sink.lost
        assert len(findings) == sink.written, "the sink counted records the store does not hold"
        st_ = store.stats()
        assert st_["dropped"] == sink.lost and st_["write_errors"] >= sink.lost
        small_disk.free()
        assert store.append(b"\x00after") is not None
        losses = losses_of(store)
        assert {l["reason"] for l in losses} == {"disk-full"}
        assert sum(l["dropped"] for l in losses) == sink.lost
        assert store.stats()["pending_loss"] == 0
        held = agree(store)
    with EventStore(path, capacity_bytes=256 << 10, durability="none") as store:
        assert agree(store) == held
        assert store.stats()["dropped"] == sink.lost


def test_a_short_write_returns_no_seq(tmp_path):
    """A write that reaches the file only in part is an error the caller sees; the next append
    reuses the place and the seq, and what reached the file never reads as a record."""
    path = str(tmp_path / "s.ring")
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        assert s.append(payload(1)) == 1
        real = s._fh.write

        def short(data):
            return real(bytes(data[:len(data) // 2])) if len(data) > 100 else real(data)
        s._fh.write = short
        assert s.append(payload(2) + b"x" * 200) is None
        s._fh.write = real
        assert s.stats()["write_errors"] == 1 and s.stats()["dropped"] == 1
        assert [q for q, _ in agree(s)] == [1]
        assert s.append(payload(3)) is not None
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        got = agree(s)
        assert [p for _, p in got if p[:1] == b"\x00"] == [payload(1), payload(3)]
        assert [(l["reason"], l["dropped"]) for l in losses_of(s)] == [("disk-full", 1)]


def test_a_failed_fsync_in_always_mode_returns_no_seq(tmp_path):
    with EventStore(str(tmp_path / "f.ring"), capacity_bytes=CAP, durability="always") as s:
        assert s.append(payload(1)) == 1

        def failing():
            raise OSError(5, "Input/output error")
        s._ring.fsync = failing
        assert s.append(payload(2)) is None
        s._ring.fsync = s._fsync
        assert [q for q, _ in agree(s)] == [1]
        assert s.append(payload(3)) is not None
        assert [l["reason"] for l in losses_of(s)] == ["io-error"]


def test_creating_on_a_full_disk_leaves_nothing_behind(small_disk):
    path = os.path.join(small_disk.path, "new.ring")
    small_disk.fill()
    with pytest.raises(StoreError, match="cannot create"):
        EventStore(path, capacity_bytes=256 << 10)
    assert not os.path.exists(path)
    small_disk.free()
    with EventStore(path, capacity_bytes=256 << 10) as s:
        assert s.append(payload(1)) == 1


@pytest.mark.parametrize("size", [0, 100, 4096, DATA_START + CAP, DATA_START + CAP + 512])
def test_a_partial_file_from_an_interrupted_creation_is_formatted(tmp_path, size):
    path = tmp_path / "p.ring"
    path.write_bytes(b"\0" * size)
    with EventStore(str(path), capacity_bytes=CAP) as s:
        assert s.append(payload(1)) == 1
    assert path.stat().st_size == DATA_START + CAP


def test_a_file_that_is_not_a_store_is_still_refused(tmp_path):
    other = tmp_path / "notes.ring"
    other.write_bytes(b"hello" * 4000)
    with pytest.raises(StoreError, match="not an edge_ssre event store"):
        EventStore(str(other), capacity_bytes=len(b"hello" * 4000) - DATA_START)
    assert other.read_bytes() == b"hello" * 4000


# ---- damaged store files ----------------------------------------------------------------------

def _store_with(path, n, commit=0):
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        seqs = [s.append(payload(i)) for i in range(1, n + 1)]
        if commit:
            s.commit(commit)
        return seqs, record_offsets(s)


DAMAGE = {
    "payload bit": lambda path, offs: flip_bit(path, offs[11] + REC_HEAD + 3, 5),
    "length bit": lambda path, offs: flip_bit(path, offs[11], 4),
    "seq bit": lambda path, offs: flip_bit(path, offs[11] + 8, 0),
    "type byte": lambda path, offs: flip_bit(path, offs[11] + 16, 1),
    "zeroed head": lambda path, offs: zero_range(path, offs[11], REC_HEAD),
    "zeroed block": lambda path, offs: zero_range(path, offs[11], offs[14] - offs[11]),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_corrupt_record_is_skipped_counted_and_never_comes_back(tmp_path, damage):
    """The issue's case: record 11 of 100 damaged. Records 12..100 are still read, the loss is
    counted once (not again on every open), recorded in a loss record, and after more appends
    the damaged records do not come back."""
    path = str(tmp_path / "c.ring")
    seqs, offs = _store_with(path, 100)
    DAMAGE[damage](path, offs)
    lost = [11, 12, 13] if damage == "zeroed block" else [11]
    for _ in range(2):  # counted on the first open only
        with EventStore(path, capacity_bytes=CAP, durability="always") as s:
            assert sorted(data_of(s)) == [q for q in seqs if q not in lost]
            assert all(data_of(s)[q] == payload(q) for q in data_of(s))
            assert s.stats()["dropped"] == len(lost)
            agree(s)
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        new = [s.append(payload(200 + i)) for i in range(5)]
        assert new[0] > 101  # a loss record went first
        assert [(l["reason"], l["dropped"]) for l in losses_of(s)] == [("corrupt", len(lost))]
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        got = data_of(s)
        assert not set(lost) & set(got), "a dropped record came back"
        assert sorted(got) == [q for q in seqs if q not in lost] + new
        assert s.stats()["dropped"] == len(lost)
        agree(s)


def test_damage_while_open_is_skipped_and_counted_by_the_reader(tmp_path):
    path = str(tmp_path / "o.ring")
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        seqs = [s.append(payload(i)) for i in range(1, 41)]
        offs = record_offsets(s)
        flip_bit(path, offs[20] + REC_HEAD + 1)
        assert sorted(data_of(s)) == [q for q in seqs if q != 20]
        st_ = s.stats()
        assert st_["dropped"] == 1 and st_["corrupt"] == 1 and st_["records"] == 39
        agree(s)
        flip_bit(path, offs[1] + REC_HEAD + 1)  # the oldest record
        assert sorted(data_of(s)) == [q for q in seqs if q not in (1, 20)]
        agree(s)
        assert s.append(payload(99)) is not None
        assert [(l["reason"], l["dropped"]) for l in losses_of(s)] == [("corrupt", 2)]


def test_delivered_records_that_are_damaged_are_not_counted_as_lost(tmp_path):
    path = str(tmp_path / "d.ring")
    seqs, offs = _store_with(path, 30, commit=20)
    flip_bit(path, offs[11] + REC_HEAD)
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        assert s.stats()["dropped"] == 0
        assert [q for q, _ in s.iter_from()] == seqs[20:]


def test_both_header_slots_damaged_rebuilds_the_header(tmp_path):
    """The data region is intact, so the store opens: the records are all there, the next seq
    follows the newest, evicted records do not come back, and nothing counts as delivered."""
    path = str(tmp_path / "h.ring")
    with EventStore(path, capacity_bytes=CAP, durability="none", when_full="overwrite") as s:
        for i in range(1, 400):  # wraps the ring several times
            s.append(payload(i))
        s.commit(s.stats()["newest_seq"] - 10)
    with EventStore(path, capacity_bytes=CAP, durability="none") as s:  # as closing left it
        before = agree(s)
    zero_range(path, 0, 2 * SLOT)
    with EventStore(path, capacity_bytes=CAP, durability="none") as s:
        st_ = s.stats()
        assert st_["header_rebuilt"]
        assert agree(s) == before
        assert st_["committed_seq"] == before[0][0] - 1
        assert s.append(payload(1000)) == before[-1][0] + 1
    with EventStore(path, capacity_bytes=CAP, durability="none") as s:
        assert not s.stats()["header_rebuilt"]
        assert data_of(s)[before[-1][0] + 1] == payload(1000)


def test_a_truncated_store_file_opens_and_keeps_what_is_left(tmp_path):
    path = str(tmp_path / "t.ring")
    seqs, offs = _store_with(path, 100)
    with open(path, "r+b") as fh:
        fh.truncate(offs[60])
    with EventStore(path, capacity_bytes=CAP, durability="always") as s:
        assert sorted(data_of(s)) == seqs[:59]
        assert s.append(payload(500)) is not None
        agree(s)
    assert os.path.getsize(path) == DATA_START + CAP


# ---- model: random appends, commits, reopens and damage --------------------------------------

events = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(0, 300)),
    st.tuples(st.just("commit"), st.integers(0, 30)),
    st.tuples(st.just("reopen"), st.none()),
    st.tuples(st.just("flip"), st.integers(0, CAP * 8 - 1)),
    st.tuples(st.just("zero"), st.tuples(st.integers(0, CAP // 8 - 1), st.integers(1, 64))),
), max_size=50)


_runs = itertools.count()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_no_invented_no_resurrected_records_and_stats_agree(tmp_path, events):
    """Whatever the damage: every record read is one that was appended under that seq, seqs only
    grow, a record missing between two present ones never comes back, stats() agrees with
    iter_from, and the store keeps accepting records."""
    path = str(tmp_path / ("m%d.ring" % next(_runs)))
    appended = {}
    gone = set()
    s = EventStore(path, capacity_bytes=CAP, durability="none")
    try:
        for op, arg in events:
            if op == "append":
                data = b"\x00" + bytes([arg % 251]) * arg
                seq = s.append(data)
                assert seq is not None
                if seq in appended:  # only after the newest records lost their frame heads
                    assert not {q for q, _ in s.iter_from(1) if q >= seq} - {seq}
                    for q in [q for q in appended if q >= seq]:
                        del appended[q]
                appended[seq] = data
            elif op == "commit":
                if appended:
                    s.commit(max(appended) - arg)
            elif op == "reopen":
                s.close()
                s = EventStore(path, capacity_bytes=CAP, durability="none")
            elif op == "flip":
                flip_bit(path, DATA_START + arg // 8, arg % 8)
            else:
                zero_range(path, DATA_START + arg[0] * 8, min(arg[1] * 8, CAP - arg[0] * 8))
            got = agree(s)
            data = {q: p for q, p in got if p[:1] == b"\x00"}
            for q, p in data.items():
                assert appended.get(q) == p, "seq %d read with content never appended under it" % q
            assert not gone & set(data), "dropped records came back: %s" % sorted(gone & set(data))
            if data:
                present = set(data)
                gone |= {q for q in appended if q < max(present) and q not in present}
        assert s.append(b"\x00last") is not None
    finally:
        s.close()


def test_events_cli_reads_a_damaged_store(tmp_path):
    """`edge-ssre events` opens a truncated store with both header slots intact and one whose
    header is gone, and reports the loss it found."""
    import json
    import subprocess
    import sys
    path = str(tmp_path / "cli.ring")
    seqs, offs = _store_with(path, 50)
    flip_bit(path, offs[7] + REC_HEAD + 2)
    with open(path, "r+b") as fh:
        fh.truncate(offs[40])

    def stat():
        res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "events", "stat", "--store", path, "--json"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
        return json.loads(res.stdout)
    st_ = stat()
    assert st_["dropped"] == 1 and st_["newest_seq"] >= 39 and st_["capacity_bytes"] == CAP
    zero_range(path, 0, 2 * SLOT)
    st_ = stat()
    assert st_["header_rebuilt"] and st_["newest_seq"] >= 39


# ---- short versions of tools/harden_store.py -------------------------------------------------

def _harden():
    import sys
    tools = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import harden_store
    return harden_store


def test_harden_damage_campaign_short():
    h = _harden()
    figures = h.run_damage(40, seed=16)
    assert figures["trials"] == 40 and figures["lost_records"] > 0 and figures["header_rebuilt"] > 0
    assert h.violations("damage", figures) == {}


def test_harden_disk_campaigns_short():
    h = _harden()
    try:
        disk = h.run_full_disk(4, seed=16)
        create = h.run_create(4, seed=16)
    except TmpfsUnavailable as exc:
        pytest.skip(str(exc))
    assert disk["refused_writes"] > 0 and disk["acknowledged"] > 0
    assert h.violations("full-disk", disk) == {} and h.violations("create", create) == {}
