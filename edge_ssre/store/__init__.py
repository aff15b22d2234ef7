"""``EventStore``: security events in a persistent ring buffer of fixed size.

    from edge_ssre import EventStore
    store = EventStore(path, capacity_bytes=4 << 20, durability="group")
    seq = store.append(record_bytes)        # returns once durable as the mode promises
    for seq, record in store.iter_from(seq): ...
    store.commit(seq)                       # everything up to seq was delivered
    store.stats()

Durability modes and what a power cut can lose:

- ``always``: fsync before ``append`` returns. Nothing acknowledged is lost.
- ``group`` (default): a background flush fsyncs every ``group_commit_ms`` (default 50 ms);
  ``append`` returns at once. A power cut loses at most the records appended in the last
  interval; ``flush()`` (or ``wait_durable(seq)``) makes everything so far durable. A process
  crash (SIGKILL) loses nothing: written records are in the OS page cache.
- ``none``: no fsync; a process crash loses nothing, a power cut may lose everything not yet
  written back by the OS.

When full: ``overwrite`` (default) evicts the oldest records, ``reject`` refuses new ones until
the reader commits; either way the count of lost records grows and a synthetic *loss* record
is written as soon as there is room. One writer and one reader may use the store from separate
threads; a second process opening the same file gets ``StoreLockedError``.
"""

import os
import threading
import time

from .. import guard_threads
from ..errors import StoreError, StoreLockedError
from .ring_buffer import DATA_START, T_LOSS, Ring, RingError

DURABILITY = ("always", "group", "none")
WHEN_FULL = ("overwrite", "reject")
MIN_CAPACITY = 4096
LOSS_RECORD_INTERVAL = 1.0  # seconds: losses are counted at once, recorded at most this often

__all__ = ["EventStore", "DURABILITY", "WHEN_FULL"]


class EventStore:
    def __init__(self, path, capacity_bytes=4 << 20, durability="group", when_full="overwrite",
                 group_commit_ms=50, device="", boot=None):
        if durability not in DURABILITY:
            raise StoreError("durability must be one of %s, got %r" % (", ".join(DURABILITY), durability))
        if when_full not in WHEN_FULL:
            raise StoreError("when_full must be overwrite or reject, got %r" % (when_full,))
        if not isinstance(capacity_bytes, int) or capacity_bytes < MIN_CAPACITY:
            raise StoreError("capacity_bytes must be an integer >= %d" % MIN_CAPACITY)
        self.path = os.fspath(path)
        self.capacity = capacity_bytes - (capacity_bytes % 8)
        self.durability = durability
        self.when_full = when_full
        self.group_commit_ms = group_commit_ms
        self.device = device
        self.boot = boot or os.urandom(6).hex()
        self._lock = threading.RLock()
        self._pending_loss = 0       # lost records not yet recorded as a loss record
        self._last_loss_record = 0.0
        self._write_errors = 0
        self._durable_seq = 0
        self._closed = False
        self._fh = None
        self._open()
        self._flusher = None
        self._stop = threading.Event()
        if durability == "group":
            self._flusher = guard_threads.start(self._flush_loop, "edge-ssre-store-flush")

    @classmethod
    def from_profile(cls, profile, path=None, **kw):
        """A store sized by a device profile's [store] section (a name or a loaded Profile)."""
        from ..profiles import load_profile
        prof = load_profile(profile) if not hasattr(profile, "store") else profile
        conf = dict(prof.store)
        path = path or conf.pop("path", None) or "/var/lib/edge-ssre/events.ring"
        conf.pop("path", None)
        args = {"capacity_bytes": conf.get("capacity_bytes", 4 << 20), "durability": conf.get("durability", "group"),
                "when_full": conf.get("when_full", "overwrite"), "group_commit_ms": conf.get("group_commit_ms", 50)}
        args.update(kw)
        return cls(path, **args)

    # ---- open / close -------------------------------------------------------------------
    def _open(self):
        size = DATA_START + self.capacity
        exists = os.path.exists(self.path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError("%s: cannot open event store: %s" % (self.path, exc.strerror or exc)) from None
        fh = os.fdopen(fd, "r+b", buffering=0)
        try:
            import fcntl
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - no flock on this platform
            pass
        except OSError:
            fh.close()
            raise StoreLockedError("%s: event store is open in another process (file lock held)" % self.path) from None
        self._fh = fh
        self._ring = Ring(fh, self.capacity, self._fsync)
        try:
            if not exists or os.fstat(fd).st_size == 0:
                self._preallocate(fd, size)
                self._ring.format()
            else:
                actual = os.fstat(fd).st_size
                if actual != size:
                    raise StoreError("%s: event store file is %d bytes, expected %d for capacity_bytes=%d"
                                     % (self.path, actual, size, self.capacity))
                self._ring.recover()
        except RingError as exc:
            fh.close()
            raise StoreError("%s: %s" % (self.path, exc)) from None
        except OSError as exc:
            fh.close()
            raise StoreError("%s: %s" % (self.path, exc.strerror or exc)) from None
        self._durable_seq = self._ring.next_seq - 1

    @staticmethod
    def _preallocate(fd, size):
        try:
            os.posix_fallocate(fd, 0, size)
            return
        except (AttributeError, OSError):
            pass
        chunk = b"\0" * 65536
        os.lseek(fd, 0, 0)
        left = size
        while left > 0:
            left -= os.write(fd, chunk[:min(left, len(chunk))])
        os.fsync(fd)

    def close(self):
        if self._closed:
            return
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=2)
        with self._lock:
            try:
                if self._pending_loss:
                    self._write_loss()
                self._ring.write_header()
                if self.durability != "none":
                    self._fsync()
            except OSError:
                pass
            self._fh.close()
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- writing ------------------------------------------------------------------------
    def _fsync(self):
        os.fsync(self._fh.fileno())

    def append(self, record):
        """Append one record (bytes); returns its sequence number, or None when it was not
        stored (reject mode and full, or the disk refused the write: counted in stats)."""
        if not isinstance(record, (bytes, bytearray)):
            raise TypeError("records are bytes (encode with edge_ssre.store.record.encode)")
        with self._lock:
            if self._closed:
                raise StoreError("%s: event store is closed" % self.path)
            try:
                if self._pending_loss and time.monotonic() - self._last_loss_record >= LOSS_RECORD_INTERVAL:
                    self._write_loss()
                seq = self._append(bytes(record))
                if seq is None:
                    self._pending_loss += 1
                    self._ring.dropped += 1
                    return None
                if self.durability == "always":
                    self._fsync()
                    self._durable_seq = seq
                return seq
            except RingError as exc:
                raise StoreError("%s: %s" % (self.path, exc)) from None
            except OSError:
                # disk full or I/O error: the record is lost, counted, and reported when possible
                self._write_errors += 1
                self._pending_loss += 1
                self._ring.dropped += 1
                self._reopen_after_error()
                return None

    def _append(self, data):
        seq, lost = self._ring.append(data, overwrite=self.when_full == "overwrite")
        if lost:
            self._pending_loss += lost
        return seq

    def _write_loss(self):
        from .record import encode, loss_record
        n = self._pending_loss
        reason = "disk-full" if self._write_errors else ("overwrite" if self.when_full == "overwrite" else "reject")
        seq, lost = self._ring.append(encode(loss_record(n, reason, self.device, self.boot)), T_LOSS,
                                      overwrite=True)
        self._last_loss_record = time.monotonic()
        if seq is not None:
            self._pending_loss = lost

    def _reopen_after_error(self):
        """After a failed write the in-memory state may be ahead of the file: reread it,
        keeping the loss counter (the header on disk may predate the losses)."""
        dropped = self._ring.dropped
        try:
            self._ring.recover()
        except (RingError, OSError):
            pass
        self._ring.dropped = max(self._ring.dropped, dropped)

    def flush(self):
        """Make everything appended so far durable (fsync) and persist the read cursor."""
        with self._lock:
            if self._closed:
                return
            self._ring.write_header()
            self._fsync()
            self._durable_seq = self._ring.next_seq - 1

    def wait_durable(self, seq, timeout=None):
        """Block until ``seq`` is durable (group mode); True when it is."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._durable_seq < seq:
            if self.durability != "group":
                self.flush()
                continue
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(self.group_commit_ms / 4000.0)
        return True

    def _flush_loop(self):
        interval = max(self.group_commit_ms, 1) / 1000.0
        while not self._stop.wait(interval):
            if self._durable_seq < self._ring.next_seq - 1:
                try:
                    self.flush()
                except OSError:
                    self._write_errors += 1

    # ---- reading ------------------------------------------------------------------------
    def iter_from(self, seq=None):
        """(seq, record bytes) from ``seq`` (default: the first undelivered), oldest first.

        Loss records appear in the stream like events (their ``type`` is "loss")."""
        if seq is None:
            seq = self._ring.committed + 1
        batch = []
        while True:
            with self._lock:
                if self._closed:
                    return
                batch = [(s, p) for s, _, p in self._take(seq, 256)]
            if not batch:
                return
            for item in batch:
                yield item
            seq = batch[-1][0] + 1

    def _take(self, seq, n):
        out = []
        for item in self._ring.iter_from(seq):
            out.append(item)
            if len(out) >= n:
                break
        return out

    def read(self, seq=None, max_records=256, max_bytes=None):
        """A list of (seq, record) from ``seq``, bounded by count and total payload bytes."""
        if seq is None:
            seq = self._ring.committed + 1
        out, total = [], 0
        with self._lock:
            for s, _, p in self._ring.iter_from(seq):
                if max_bytes is not None and out and total + len(p) > max_bytes:
                    break
                out.append((s, p))
                total += len(p)
                if len(out) >= max_records:
                    break
        return out

    def commit(self, seq):
        """Everything up to ``seq`` was delivered: persist the read cursor."""
        with self._lock:
            self._ring.commit(seq)
            if self.durability == "always":
                self._fsync()

    @property
    def committed_seq(self):
        return self._ring.committed

    def stats(self):
        r = self._ring
        with self._lock:
            return {
                "path": self.path,
                "capacity_bytes": self.capacity,
                "used_bytes": r.used,
                "records": r.records,
                "dropped": r.dropped,
                "oldest_seq": r.tail_seq if r.records else None,
                "newest_seq": r.next_seq - 1 if r.records else None,
                "committed_seq": r.committed,
                "backlog": max(0, (r.next_seq - 1) - max(r.committed, r.tail_seq - 1)),
                "durable_seq": self._durable_seq,
                "durability": self.durability,
                "when_full": self.when_full,
                "write_errors": self._write_errors,
                "pending_loss": self._pending_loss,
                "file_bytes": DATA_START + self.capacity,
            }
