"""Findings reach the event store through the guard's sink; the events CLI reads them back;
a store that cannot be written never stops inspection."""

import json
import subprocess
import sys

from edge_ssre import EventStore, Guard
from edge_ssre.store.sink import StoreSink


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "edge_ssre.cli"] + list(args), capture_output=True,
                          text=True, timeout=60)


def test_findings_are_stored_redacted_and_exported(tmp_path):
    path = str(tmp_path / "ev.ring")
    with EventStore(path, capacity_bytes=1 << 16, durability="always", device="gw-1") as store:
        sink = StoreSink(store)
        g = Guard(sink=sink)
        v = g.inspect({"q": "1' OR '1'='1' -- password=hunter2"}, source="mqtt", topic="dev/1/cmd", client_id="dev-1")
        assert v.action == "block" and sink.written == len(v.findings) >= 1
    res = run_cli("events", "export", "--store", path)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert rows[0]["type"] == "finding" and rows[0]["device"] == "gw-1" and rows[0]["topic"] == "dev/1/cmd"
    assert rows[0]["family"] == "sqli" and rows[0]["seq"] == 1 and rows[0]["client"] == "dev-1"
    assert all("hunter2" not in r.get("excerpt", "") for r in rows)
    stat = run_cli("events", "stat", "--store", path, "--json")
    assert stat.returncode == 0 and json.loads(stat.stdout)["records"] == len(rows)
    tail = run_cli("events", "tail", "--store", path, "-n", "1")
    assert tail.returncode == 0 and "BLOCK" in tail.stdout


def test_events_cli_errors(tmp_path):
    res = run_cli("events", "stat", "--store", str(tmp_path / "missing.ring"))
    assert res.returncode == 2 and "no event store" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "junk.ring"
    bad.write_bytes(b"x" * 5000)
    res = run_cli("events", "stat", "--store", str(bad))
    assert res.returncode in (2, 3) and "Traceback" not in res.stderr and res.stderr.startswith("edge-ssre:")


def test_locked_store_is_a_runtime_error(tmp_path):
    path = str(tmp_path / "ev.ring")
    with EventStore(path, capacity_bytes=1 << 14):
        res = run_cli("events", "stat", "--store", path)
    assert res.returncode == 3 and "another process" in res.stderr


def test_sink_survives_a_broken_store():
    class Broken:
        def append(self, data):
            raise OSError(28, "No space left on device")
    sink = StoreSink(Broken(), device="d")
    v = Guard(sink=sink).inspect({"q": "<script>alert(1)</script>"})
    assert v.action == "block" and sink.lost >= 1 and sink.written == 0


def test_full_disk_guard_keeps_inspecting_and_counts_the_loss(tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: the store file cannot be created at full size."""
    code = r'''
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
from edge_ssre import Guard, EventStore
from edge_ssre.errors import StoreError
from edge_ssre.store.sink import StoreSink
class Lazy:  # what an adapter does when the store cannot be opened: keep inspecting, count losses
    def __init__(self, path):
        self.error = None
        try:
            self.store = EventStore(path, capacity_bytes=1 << 20)
        except StoreError as e:
            self.store, self.error = None, str(e)
    def append(self, data):
        if self.store is None:
            return None
        return self.store.append(data)
target = Lazy(sys.argv[1])
sink = StoreSink(target)
g = Guard(sink=sink)
verdicts = [g.inspect({"q": "1' or '1'='1"}).action for _ in range(5)]
print(verdicts, sink.lost, target.error is not None)
'''
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "full.ring")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().startswith("['block', 'block', 'block', 'block', 'block']")
    assert res.stdout.strip().endswith("True") and " 0 " not in res.stdout


def test_write_error_on_an_open_store_is_counted(tmp_path):
    """An I/O error on an already preallocated file cannot be provoked here without a faulty
    device, so the file object's write is replaced for one call: the narrowest boundary."""
    with EventStore(str(tmp_path / "e.ring"), capacity_bytes=1 << 14, durability="always") as s:
        assert s.append(b"\x00ok") == 1
        real = s._fh.write

        def failing(data):
            raise OSError(28, "No space left on device")
        s._fh.write = failing
        assert s.append(b"\x00lost") is None
        s._fh.write = real
        st_ = s.stats()
        assert st_["write_errors"] == 1 and st_["dropped"] == 1
        assert s.append(b"\x00back") is not None


def test_a_finding_with_a_lone_surrogate_is_stored_not_lost(tmp_path):
    """JSON lets an attacker send a lone surrogate (\\ud800), which UTF-8 cannot carry: the record
    keeps it as its escape instead of failing to encode (the attempt would vanish from the log)."""
    import json
    from edge_ssre import EventStore, Guard
    from edge_ssre.store.record import decode
    from edge_ssre.store.sink import StoreSink
    store = EventStore(str(tmp_path / "ev.ring"), capacity_bytes=1 << 16)
    sink = StoreSink(store, device="gw")
    event = json.loads('{"q": "\\ud800 1\' OR 1=1--"}')
    assert "\ud800" in event["q"]
    verdict = Guard(sink=sink).inspect(event)
    assert verdict.action == "block"
    assert sink.lost == 0 and sink.written == len(verdict.findings)
    recs = [decode(r) for _, r in store.iter_from(0)]
    store.close()
    assert recs and all(r["type"] == "finding" for r in recs)
