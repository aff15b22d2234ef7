"""EventStore as a specification: a model-based property test of append/read/wrap/commit/reopen,
recovery from torn and corrupt tails, the file lock, full-store policies."""

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from edge_ssre import EventStore
from edge_ssre.errors import StoreError
from edge_ssre.store import record as rec
from edge_ssre.store.ring_buffer import DATA_START, REC_HEAD, frame_size

CAP = 4096


def data_records(store, start=None):
    out = []
    for seq, payload in store.iter_from(start):
        if payload[:1] == b"\x00":  # test payloads start with a NUL; loss records are CBOR maps
            out.append((seq, payload))
    return out


ops = st.lists(st.one_of(
    st.tuples(st.just("append"), st.binary(min_size=0, max_size=300).map(lambda b: b"\x00" + b)),
    st.tuples(st.just("commit"), st.integers(0, 50)),
    st.tuples(st.just("reopen"), st.none()),
), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops)
def test_matches_a_model_across_wraps_and_reopens(tmp_path, ops):
    path = str(tmp_path / ("m%d.ring" % abs(hash(tuple(map(str, ops))))))
    store = EventStore(path, capacity_bytes=CAP, durability="none")
    model = []          # (seq, payload) still expected to be retained, oldest first
    committed = 0
    try:
        for op, arg in ops:
            if op == "append":
                seq = store.append(arg)
                assert seq is not None
                model.append((seq, arg))
            elif op == "commit" and model:
                target = model[min(arg, len(model) - 1)][0]
                store.commit(target)
                committed = max(committed, target)
            elif op == "reopen":
                store.close()
                store = EventStore(path, capacity_bytes=CAP, durability="none")
            got = data_records(store, 1)
            # what is retained is a suffix of everything appended, in order, byte for byte
            assert got == model[len(model) - len(got):] if got else True
            if model:
                assert got and got[-1] == model[-1]
            st_ = store.stats()
            assert st_["used_bytes"] <= CAP
            assert st_["committed_seq"] == min(committed, model[-1][0] if model else 0)
        sizes = sum(frame_size(len(p)) for _, p in data_records(store, 1))
        assert sizes <= CAP
    finally:
        store.close()


def test_commit_persists_and_iteration_resumes(tmp_path):
    p = str(tmp_path / "c.ring")
    with EventStore(p, capacity_bytes=CAP, durability="always") as s:
        seqs = [s.append(b"\x00event-%d" % i) for i in range(10)]
        s.commit(seqs[3])
    with EventStore(p, capacity_bytes=CAP, durability="always") as s:
        assert [q for q, _ in s.iter_from()] == seqs[4:]
        assert s.stats()["committed_seq"] == seqs[3]


def _last_record_offset(s):
    r = s._ring
    return (r.head_off - frame_size(len(b"\x00tail-record"))) % CAP


@pytest.mark.parametrize("damage", ["truncate", "flip", "zero"])
def test_torn_or_corrupt_tail_is_discarded(tmp_path, damage):
    p = str(tmp_path / "t.ring")
    s = EventStore(p, capacity_bytes=CAP, durability="always")
    good = [s.append(b"\x00ok-%d" % i) for i in range(5)]
    s.append(b"\x00tail-record")
    off = DATA_START + _last_record_offset(s)
    s.close()
    with open(p, "r+b") as fh:
        if damage == "truncate":  # a power cut mid-record: only the first bytes reached the disk
            fh.seek(off + 10)
            fh.write(b"\x00" * 30)
        elif damage == "flip":
            fh.seek(off + REC_HEAD + 2)
            b = fh.read(1)
            fh.seek(off + REC_HEAD + 2)
            fh.write(bytes([b[0] ^ 0xFF]))
        else:
            fh.seek(off)
            fh.write(b"\x00" * 4)
    with EventStore(p, capacity_bytes=CAP, durability="always") as s:
        assert [q for q, _ in s.iter_from(1)] == good
        # the store keeps working after recovery; a last record whose frame head survived is
        # counted as lost and its seq is not given out again, a torn head is a write never made
        after = s.append(b"\x00after")
        if damage == "truncate":
            assert after == good[-1] + 1 and s.stats()["dropped"] == 0
        else:
            assert after > good[-1] + 1 and s.stats()["dropped"] == 1


def test_header_damage_in_one_slot_is_survived(tmp_path):
    p = str(tmp_path / "h.ring")
    with EventStore(p, capacity_bytes=CAP, durability="always") as s:
        seqs = [s.append(b"\x00r%d" % i) for i in range(3)]
        s.commit(seqs[0])
    with open(p, "r+b") as fh:
        fh.seek(0)
        fh.write(b"JUNK" * 4)  # slot A destroyed
    with EventStore(p, capacity_bytes=CAP, durability="always") as s:
        assert [q for q, _ in s.iter_from(1)] == seqs


def test_second_opener_gets_a_clear_lock_error(tmp_path):
    p = str(tmp_path / "l.ring")
    with EventStore(p, capacity_bytes=CAP):
        import subprocess, sys
        code = ("import sys\nfrom edge_ssre import EventStore\nfrom edge_ssre.errors import StoreLockedError\n"
                "try:\n    EventStore(%r, capacity_bytes=%d)\nexcept StoreLockedError as e:\n"
                "    print('locked:', e); sys.exit(7)\n" % (p, CAP))
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert res.returncode == 7 and "another process" in res.stdout


def test_wrong_capacity_or_foreign_file_is_refused(tmp_path):
    p = str(tmp_path / "w.ring")
    EventStore(p, capacity_bytes=CAP).close()
    with pytest.raises(StoreError, match="expected"):
        EventStore(p, capacity_bytes=CAP * 2)
    other = tmp_path / "notes.txt"
    other.write_bytes(b"hello" * 1000)
    with pytest.raises(StoreError):
        EventStore(str(other), capacity_bytes=len(b"hello" * 1000) - DATA_START)


def test_overwrite_counts_losses_and_records_them(tmp_path):
    with EventStore(str(tmp_path / "o.ring"), capacity_bytes=CAP, durability="none") as s:
        for i in range(200):
            s.append(b"\x00" + b"x" * 120)
        st_ = s.stats()
        assert st_["dropped"] > 0 and st_["used_bytes"] <= CAP
    with EventStore(str(tmp_path / "o.ring"), capacity_bytes=CAP, durability="none") as s:
        losses = [rec.decode(p) for _, p in s.iter_from(1) if p[:1] != b"\x00"]
        assert losses and all(l["type"] == "loss" and l["dropped"] > 0 for l in losses)


def test_reject_mode_refuses_until_delivered(tmp_path):
    with EventStore(str(tmp_path / "r.ring"), capacity_bytes=CAP, durability="none", when_full="reject") as s:
        seqs = []
        while True:
            q = s.append(b"\x00" + b"y" * 200)
            if q is None:
                break
            seqs.append(q)
        first = list(s.iter_from(1))
        assert [q for q, _ in first] == seqs  # nothing undelivered was overwritten
        assert s.stats()["dropped"] == 1
        s.commit(seqs[-1])
        assert s.append(b"\x00" + b"z" * 200) is not None


def test_record_larger_than_the_store_is_an_error(tmp_path):
    with EventStore(str(tmp_path / "big.ring"), capacity_bytes=CAP) as s:
        with pytest.raises(StoreError, match="does not fit"):
            s.append(b"\x00" * CAP)


def test_bad_arguments_are_clear(tmp_path):
    with pytest.raises(StoreError, match="durability"):
        EventStore(str(tmp_path / "a"), durability="sometimes")
    with pytest.raises(StoreError, match="capacity_bytes"):
        EventStore(str(tmp_path / "b"), capacity_bytes=10)
    with EventStore(str(tmp_path / "c"), capacity_bytes=CAP) as s:
        with pytest.raises(TypeError):
            s.append("text")


def test_group_commit_makes_records_durable(tmp_path):
    with EventStore(str(tmp_path / "g.ring"), capacity_bytes=CAP, durability="group", group_commit_ms=5) as s:
        seq = s.append(b"\x00g")
        assert s.wait_durable(seq, timeout=5)
        assert s.stats()["durable_seq"] >= seq


@pytest.mark.parametrize("text,needle", [
    ("key AKIAABCDEFGHIJKLMNOP here", "[aws-key]"),
    ("Authorization: Bearer abcdefghijklmnop", "Bearer [token]"),
    ("password=hunter2&x=1", "password=[redacted]"),
    ("card 4111 1111 1111 1111 ok", "[card]"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123", "[jwt]"),
])
def test_secrets_are_redacted(text, needle):
    assert needle in rec.redact(text)


def test_numbers_that_fail_luhn_are_kept():
    assert rec.redact("order 1234 5678 9012 3456") == "order 1234 5678 9012 3456"


def test_store_from_a_device_profile(tmp_path):
    with EventStore.from_profile("raspberry-pi-zero-2w", path=str(tmp_path / "p.ring")) as s:
        st_ = s.stats()
        assert st_["capacity_bytes"] == 4194304 and st_["durability"] == "group"
        assert st_["file_bytes"] == os.path.getsize(str(tmp_path / "p.ring"))
