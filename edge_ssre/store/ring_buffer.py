"""A ring of framed records in one preallocated file. MicroPython-clean core of the event store.

File layout (little-endian)::

    0      header slot A (64 bytes)   magic "SSRE", version, generation, capacity, committed seq,
    64     header slot B (64 bytes)   tail offset, tail seq, dropped count, CRC32 of the slot
    128    data region (capacity bytes), records back to back, wrapping to its start

    record: u32 length | u32 crc32 | u64 seq | u8 type | 7 bytes pad | payload | pad to 8

The CRC covers seq, type, length and payload. Header slots are written alternately with a
rising generation, so a torn header write leaves the other slot valid. Recovery starts at the
persisted tail and walks forward while records are valid and their sequence numbers follow
each other; the first torn, corrupt or stale record ends the log and is never returned.
Eviction (overwrite mode, or committed records in reject mode) persists the new tail *before*
the new record overwrites the old bytes, so recovery never starts inside a record.
"""

import struct

try:
    from binascii import crc32
except ImportError:  # pragma: no cover
    from zlib import crc32  # type: ignore[no-redef]

MAGIC = b"SSRE"
VERSION = 1
SLOT = 64
DATA_START = 2 * SLOT
REC_HEAD = 24            # length, crc, seq, type + pad
T_DATA = 1
T_LOSS = 2
T_WRAP = 3               # the rest of the region is unused; continue at its start
_SLOT_FMT = "<4sHHQQQQQQI"   # magic, version, pad, generation, capacity, committed, tail_off, tail_seq, dropped, crc
_SLOT_BODY = struct.calcsize(_SLOT_FMT) - 4


class RingError(Exception):
    pass


def _align(n):
    return (n + 7) & ~7


def frame_size(payload_len):
    return REC_HEAD + _align(payload_len)


def _rec_crc(seq, rtype, payload):
    return crc32(struct.pack("<QBI", seq, rtype, len(payload)) + payload) & 0xFFFFFFFF


class Ring:
    """Records in a file of fixed size. Not thread-safe: ``EventStore`` serialises access.

    ``fh`` is an open binary file (r+b) of exactly DATA_START + capacity bytes.
    """

    def __init__(self, fh, capacity, fsync=None):
        self.fh = fh
        self.capacity = capacity
        self.fsync = fsync          # callable flushing to stable storage, or None
        self.generation = 0
        self.committed = 0          # highest seq delivered (read cursor)
        self.tail_off = 0           # offset (in the data region) of the oldest record
        self.tail_seq = 1           # seq of the oldest record (== next seq when empty)
        self.head_off = 0           # where the next record goes
        self.next_seq = 1
        self.dropped = 0            # records lost to overwrite or rejection, ever
        self.records = 0            # records between tail and head (incl. loss records)
        self.used = 0               # bytes between tail and head
        self._hint = None           # (seq, offset) of a record read recently: readers resume there

    # ---- header -------------------------------------------------------------------------
    def _pack_slot(self):
        body = struct.pack(_SLOT_FMT[:-1], MAGIC, VERSION, 0, self.generation, self.capacity,
                           self.committed, self.tail_off, self.tail_seq, self.dropped)
        return body + struct.pack("<I", crc32(body) & 0xFFFFFFFF)

    def write_header(self):
        self.generation += 1
        slot = self.generation & 1
        self.fh.seek(slot * SLOT)
        self.fh.write(self._pack_slot())

    def _read_slots(self):
        best = None
        for slot in (0, 1):
            self.fh.seek(slot * SLOT)
            raw = self.fh.read(struct.calcsize(_SLOT_FMT))
            if len(raw) < struct.calcsize(_SLOT_FMT):
                continue
            vals = struct.unpack(_SLOT_FMT, raw)
            if vals[0] != MAGIC or (crc32(raw[:_SLOT_BODY]) & 0xFFFFFFFF) != vals[-1]:
                continue
            if best is None or vals[3] > best[3]:
                best = vals
        return best

    # ---- create / open ----------------------------------------------------------------------
    def format(self):
        self.write_header()
        self.write_header()  # both slots valid
        self._sync()

    def recover(self):
        """Rebuild the in-memory state from the file; returns the number of bytes discarded."""
        vals = self._read_slots()
        if vals is None:
            raise RingError("not an edge_ssre event store (no valid header)")
        _, version, _, gen, capacity, committed, tail_off, tail_seq, dropped, _ = vals
        if version != VERSION:
            raise RingError("event store format %d, this version reads %d" % (version, VERSION))
        if capacity != self.capacity:
            raise RingError("event store capacity is %d bytes, not %d" % (capacity, self.capacity))
        self.generation, self.committed, self.dropped = gen, committed, dropped
        self.tail_off, self.tail_seq = tail_off, tail_seq
        records, used, off, seq = 0, 0, tail_off, tail_seq
        for rseq, rtype, payload, roff, size, skipped in self._chain(tail_off, tail_seq, self.capacity):
            records += 1
            used += skipped + size
            seq = rseq + 1
            off = roff + size if roff + size < self.capacity else 0
        # bytes skipped at the end of the region by a wrap right before the head count as used
        self.head_off, self.next_seq, self.records, self.used = off, seq, records, used
        self._hint = None
        if self.committed >= self.next_seq:
            self.committed = self.next_seq - 1
        return 0

    # ---- records ----------------------------------------------------------------------------
    def _read_at(self, off):
        """(type, seq, payload, frame size) of a valid record at ``off``, or None."""
        if off + REC_HEAD > self.capacity:
            return None
        self.fh.seek(DATA_START + off)
        head = self.fh.read(REC_HEAD)
        if len(head) < REC_HEAD:
            return None
        length, crc, seq, rtype = struct.unpack("<IIQB", head[:17])
        if rtype == T_WRAP and length == 0 and crc == 0x57524150:
            return (T_WRAP, seq, b"", self.capacity - off)
        if rtype not in (T_DATA, T_LOSS) or off + frame_size(length) > self.capacity:
            return None
        payload = self.fh.read(length)
        if len(payload) < length or _rec_crc(seq, rtype, payload) != crc:
            return None
        return (rtype, seq, payload, frame_size(length))

    def _evict_one(self):
        """Drop the oldest record (caller decides whether that is allowed)."""
        if self.capacity - self.tail_off < REC_HEAD:
            self.used -= self.capacity - self.tail_off
            self.tail_off = 0
            return 0
        rec = self._read_at(self.tail_off)
        if rec is None:
            raise RingError("event store is corrupt at offset %d" % self.tail_off)
        rtype, seq, _, size = rec
        if rtype == T_WRAP:
            self.used -= size
            self.tail_off = 0
            return 0
        if seq > self.committed and rtype == T_DATA:
            self.dropped += 1
        self.tail_off = (self.tail_off + size) if self.tail_off + size < self.capacity else 0
        self.tail_seq = seq + 1
        self.records -= 1
        self.used -= size
        return 1 if (seq > self.committed and rtype == T_DATA) else 0

    def room_for(self, payload_len):
        """Bytes the append needs at the head (including a wrap of the region's end)."""
        need = frame_size(payload_len)
        if self.head_off + need > self.capacity:
            need += self.capacity - self.head_off
        return need

    def append(self, payload, rtype=T_DATA, overwrite=True):
        """Write one record; returns (seq, lost) where lost counts unread records evicted.

        Returns (None, 0) when there is no room and ``overwrite`` is False (only delivered
        records may be reclaimed then)."""
        size = frame_size(len(payload))
        if size + REC_HEAD > self.capacity:
            raise RingError("record of %d bytes does not fit an event store of %d bytes"
                            % (len(payload), self.capacity))
        lost = 0
        moved = False
        while self.capacity - self.used < self.room_for(len(payload)) and self.records > 0:
            rec = self._read_at(self.tail_off) if self.capacity - self.tail_off >= REC_HEAD else None
            if rec is not None and rec[0] != T_WRAP and rec[1] > self.committed and not overwrite:
                if moved:
                    self.write_header()
                return None, 0
            lost += self._evict_one()
            moved = True
        if self.records == 0:
            self.tail_off, self.tail_seq, self.used = self.head_off, self.next_seq, 0
            moved = True
        if moved:
            self.write_header()  # the new tail is durable before old bytes are overwritten
            self._sync()
        if self.head_off + size > self.capacity:
            self._write_wrap()
        seq = self.next_seq
        self.fh.seek(DATA_START + self.head_off)
        pad = _align(len(payload)) - len(payload)
        self.fh.write(struct.pack("<IIQB7x", len(payload), _rec_crc(seq, rtype, payload), seq, rtype)
                      + payload + b"\0" * pad)
        self.head_off = self.head_off + size if self.head_off + size < self.capacity else 0
        self.next_seq += 1
        self.records += 1
        self.used += size
        return seq, lost

    def _write_wrap(self):
        if self.capacity - self.head_off >= REC_HEAD:
            self.fh.seek(DATA_START + self.head_off)
            self.fh.write(struct.pack("<IIQB7x", 0, 0x57524150, 0, T_WRAP))
        self.used += self.capacity - self.head_off
        self.head_off = 0

    def _chain(self, off, seq, max_bytes=None, max_records=None):
        """Walk the valid records from ``off`` whose sequence numbers follow ``seq``: yields
        (seq, type, payload, offset, frame size, bytes skipped by a wrap before it). Stops at the
        first torn, corrupt or stale record, after ``max_records``, or past ``max_bytes``."""
        walked = 0
        skipped = 0
        n = 0
        while (max_records is None or n < max_records) and (max_bytes is None or walked < max_bytes):
            if self.capacity - off < REC_HEAD:  # too little room for a wrap marker: implicit wrap
                skipped += self.capacity - off
                walked += self.capacity - off
                off = 0
                continue
            rec = self._read_at(off)
            if rec is None:
                return
            rtype, rseq, payload, size = rec
            if rtype == T_WRAP:
                skipped += self.capacity - off
                walked += self.capacity - off
                off = 0
                continue
            if rseq != seq:
                return
            yield rseq, rtype, payload, off, size, skipped
            skipped = 0
            walked += size
            n += 1
            seq += 1
            off = off + size if off + size < self.capacity else 0

    def iter_from(self, seq):
        """(seq, type, payload) of the records with seq >= ``seq``, oldest first.

        A reader that resumes where it stopped starts at the remembered offset instead of
        walking from the tail again (the hint is dropped when the tail passes it)."""
        off, cur, n = self.tail_off, self.tail_seq, self.records
        hint = self._hint
        if hint is not None and self.tail_seq <= hint[0] <= seq and hint[0] < self.next_seq:
            off, cur = hint[1], hint[0]
            n = self.next_seq - cur
        for rseq, rtype, payload, roff, size, _ in self._chain(off, cur, None, n):
            if rseq >= seq:
                self._hint = (rseq, roff)
                yield rseq, rtype, payload

    def commit(self, seq):
        if seq > self.committed:
            self.committed = min(seq, self.next_seq - 1)
            self.write_header()

    def _sync(self):
        if self.fsync is not None:
            self.fsync()
