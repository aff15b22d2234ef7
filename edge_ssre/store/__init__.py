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

Faults: ``append`` returns a seq only for a record wholly written (and fsynced in ``always``
mode); a refused or short write returns None and is counted (``disk-full`` / ``io-error`` loss
record once the disk takes one). Corrupt records are skipped, counted once (``corrupt``) and
never come back; a header with both slots damaged is rebuilt from the records; a creation the
disk cannot hold leaves no file. docs/EVENTS.md says what can and cannot be counted.
"""

import errno
import os
import threading
import time

from .. import guard_threads
from ..errors import StoreError, StoreLockedError
from .ring_buffer import DATA_START, T_LOSS, Ring, RingError

DURABILITY = ("always", "group", "none")
WHEN_FULL = ("overwrite", "reject")
MIN_CAPACITY = 4096
READ_AHEAD = 1 << 18  # bytes read at a time when walking or scanning the file
LOSS_RECORD_INTERVAL = 1.0  # seconds: losses are counted at once, recorded at most this often

__all__ = ["EventStore", "DURABILITY", "WHEN_FULL"]
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _loss_reason(exc):
    return "disk-full" if getattr(exc, "errno", None) in DISK_FULL_ERRNOS else "io-error"


def _all_zero(fh, size):
    """True when the file holds nothing but zero bytes (a creation cut short)."""
    fh.seek(0)
    left = size
    while left > 0:
        chunk = fh.read(min(left, 1 << 20))
        if not chunk:
            break
        if chunk.count(0) != len(chunk):
            return False
        left -= len(chunk)
    return True


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
        self._pending = {}           # reason -> lost records not yet recorded in a loss record
        self._corrupt_seen = 0       # the ring's corrupt count already moved to _pending
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
        """Open (creating if missing) and recover the store file.

        A file that holds nothing (empty, or all zero bytes: a creation cut short) is formatted;
        a store file shorter than its header says (truncated by a copy) gets its length back and
        loses only the records that were cut off; a store with both header slots damaged gets its
        header rebuilt from its records. Anything else that is not this store is refused."""
        size = DATA_START + self.capacity
        created = False
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            fd, created = self._create(size), True
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
        self._ring.scan_chunk = self._ring.read_window = READ_AHEAD
        try:
            if created:
                self._ring.format()
            else:
                self._recover_file(fd, size)
        except (RingError, OSError) as exc:
            fh.close()
            if created:
                self._unlink_quietly()
            if isinstance(exc, StoreError):
                raise
            reason = exc if isinstance(exc, RingError) else (exc.strerror or exc)
            raise StoreError("%s: %s" % (self.path, reason)) from None
        self._durable_seq = self._ring.next_seq - 1
        self._collect()  # records found corrupt on opening: recorded with the next append

    def _create(self, size):
        """A new store file at full size, or an error that leaves no file behind (a disk too full
        for the store must not leave a partial file that blocks the next try)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by another process: open that one
            return os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise StoreError("%s: cannot create event store: %s" % (self.path, exc.strerror or exc)) from None
        try:
            self._preallocate(fd, size)
        except OSError as exc:
            os.close(fd)
            self._unlink_quietly()
            raise StoreError("%s: cannot create an event store of %d bytes: %s"
                             % (self.path, size, exc.strerror or exc)) from None
        return fd

    def _unlink_quietly(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _recover_file(self, fd, size):
        actual = os.fstat(fd).st_size
        header = self._ring.read_header()
        if header is None and _all_zero(self._fh, actual):
            if actual > size:
                os.ftruncate(fd, size)
            self._preallocate(fd, size)
            self._ring.format()
            return
        if actual != size:
            if header is not None and header[4] == self.capacity and actual < size:
                self._preallocate(fd, size)  # truncated: zeros read as "no record"
            else:
                raise StoreError("%s: event store file is %d bytes, expected %d for capacity_bytes=%d"
                                 % (self.path, actual, size, self.capacity))
        else:
            try:  # a copied or restored file may be sparse: allocate it now, while there is room
                os.posix_fallocate(fd, 0, size)
            except (AttributeError, OSError):
                pass  # no room: writes into holes fail later, and are counted
        self._ring.recover()

    @staticmethod
    def _preallocate(fd, size):
        try:
            os.posix_fallocate(fd, 0, size)
            return
        except AttributeError:
            pass
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
        chunk = b"\0" * 65536
        left = size - os.fstat(fd).st_size
        os.lseek(fd, 0, os.SEEK_END)
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
                if self._pending:
                    self._write_losses()
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
        stored (reject mode and full, or the disk refused or cut short the write: counted in
        stats and recorded in a loss record as soon as one can be written)."""
        if not isinstance(record, (bytes, bytearray)):
            raise TypeError("records are bytes (encode with edge_ssre.store.record.encode)")
        with self._lock:
            if self._closed:
                raise StoreError("%s: event store is closed" % self.path)
            if self._pending and time.monotonic() - self._last_loss_record >= LOSS_RECORD_INTERVAL:
                self._write_losses()
            try:
                seq, lost = self._ring.append(bytes(record), overwrite=self.when_full == "overwrite",
                                              sync=self.durability == "always")
            except RingError as exc:
                raise StoreError("%s: %s" % (self.path, exc)) from None
            except OSError as exc:
                # disk full or I/O error: the record is not stored; lost, counted, recorded later
                self._write_errors += 1
                self._ring.dropped += 1
                self._lose(_loss_reason(exc), 1)
                self._collect()
                return None
            self._collect()
            if lost:
                self._lose("overwrite", lost)
            if seq is None:
                self._ring.dropped += 1
                self._lose("reject", 1)
                return None
            if self.durability == "always":
                self._durable_seq = seq
            return seq

    def _lose(self, reason, n):
        self._pending[reason] = self._pending.get(reason, 0) + n

    def _collect(self):
        """Move records the ring found corrupt into the pending losses."""
        new = self._ring.corrupt - self._corrupt_seen
        if new > 0:
            self._corrupt_seen = self._ring.corrupt
            self._lose("corrupt", new)

    def _write_losses(self):
        """One loss record per reason with pending losses. A write that fails keeps them pending
        (tried again at most once per LOSS_RECORD_INTERVAL, so a full disk is not hammered)."""
        from .record import encode, loss_record
        self._last_loss_record = time.monotonic()
        for reason in sorted(self._pending):
            n = self._pending[reason]
            if n <= 0:
                continue
            try:
                seq, lost = self._ring.append(encode(loss_record(n, reason, self.device, self.boot)), T_LOSS,
                                              overwrite=True, sync=self.durability == "always")
            except (OSError, RingError):
                self._write_errors += 1
                return
            self._pending[reason] -= n
            if lost:
                self._lose("overwrite", lost)
            self._collect()
            if self.durability == "always":
                self._durable_seq = seq
        self._pending = {r: n for r, n in self._pending.items() if n > 0}

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
                self._collect()
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
            self._collect()
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
                "newest_seq": r.newest if r.records else None,
                "committed_seq": r.committed,
                "backlog": max(0, r.newest - max(r.committed, r.tail_seq - 1)) if r.records else 0,
                "durable_seq": self._durable_seq,
                "durability": self.durability,
                "when_full": self.when_full,
                "write_errors": self._write_errors,
                "corrupt": r.corrupt,
                "header_rebuilt": r.rebuilt,
                "pending_loss": sum(self._pending.values()),
                "file_bytes": DATA_START + self.capacity,
            }
