"""A ring of framed records in one preallocated file. MicroPython-clean core of the event store.

File layout (little-endian)::

    0      header slot A (64 bytes)   magic "SSRE", version, generation, capacity, committed seq,
    64     header slot B (64 bytes)   tail offset, tail seq, dropped count, CRC32 of the slot
    128    data region (capacity bytes), frames back to back, wrapping to its start

    frame: u32 length | u32 crc32 | u64 seq | u8 type | 7 zero bytes | payload | pad to 8

    type 1 data, 2 loss: a record; the CRC covers seq, type, length and payload
    type 3 wrap: the rest of the region is unused, continue at its start (crc "WRAP", seq 0)
    type 4 skip: a repaired corruption; continue at offset 8 * length with sequence number seq
          (the CRC covers seq, type and length). The records skipped were counted as dropped.

Header slots are written alternately with a rising generation, so a torn header write leaves
the other slot valid; when both are damaged the header is rebuilt from the data region.

Reading walks forward from the persisted tail while frames are valid and their sequence numbers
follow each other. Where a frame is corrupt, the walk resynchronises on the next valid record
(a bounded scan of the aligned offsets ahead), counts the sequence numbers in between as
dropped and writes a skip frame over the damage, so the loss is counted once and the damaged
records never come back. On opening, a break with no valid record after it is the end of the
log (a torn last write, never acknowledged in ``always`` mode); it is not counted.

Eviction persists the new tail *before* the new record overwrites the old bytes, so recovery
never starts inside a record, and zeroes the head of every evicted frame that the new record
does not overwrite, so a header rebuild cannot bring an evicted record back. A write that fails
or comes back short raises ``OSError`` and leaves the in-memory state as it was: the caller gets
no sequence number for a record that is not on disk.
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
T_SKIP = 4               # damaged bytes: continue at another offset and sequence number
WRAP_CRC = 0x57524150
SCAN_CHUNK = 16384       # bytes read at a time when scanning for the next valid record
ENOSPC = 28
_HEAD_FMT = "<IIQB7x"
_SLOT_FMT = "<4sHHQQQQQQI"   # magic, version, pad, generation, capacity, committed, tail_off, tail_seq, dropped, crc
_SLOT_BODY = struct.calcsize(_SLOT_FMT) - 4
_SLOT_SIZE = struct.calcsize(_SLOT_FMT)
_ZERO_HEAD = b"\0" * REC_HEAD
_RECORD_TYPES = (b"\x01", b"\x02")  # type bytes of T_DATA and T_LOSS, searched for when scanning
_PAD = b"\0" * 7


class RingError(Exception):
    pass


def _align(n):
    return (n + 7) & ~7


def frame_size(payload_len):
    return REC_HEAD + _align(payload_len)


def _rec_crc(seq, rtype, payload):
    return crc32(struct.pack("<QBI", seq, rtype, len(payload)) + payload) & 0xFFFFFFFF


def _skip_crc(seq, field):
    return crc32(struct.pack("<QBI", seq, T_SKIP, field)) & 0xFFFFFFFF


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
        self.dropped = 0            # records lost ever: overwritten, rejected, corrupt, failed writes
        self.corrupt = 0            # of those, records found corrupt since this Ring was opened
        self.records = 0            # records between tail and head (incl. loss records)
        self.newest = 0             # seq of the newest record held (0 when none)
        self.used = 0               # bytes between tail and head
        self.rebuilt = False        # the header was rebuilt from the data region on opening
        self._hint = None           # (seq, offset) of a record read recently: readers resume there
        self._skips = {}            # offset -> (seq, target) of repairs whose skip frame is not on disk
        self._end = (0, 1)          # (offset, seq) where the last walk ended
        self.scan_chunk = SCAN_CHUNK
        self.read_window = 0        # bytes read ahead when walking records (0: read each frame)
        self._win = None            # (file position, bytes) read ahead; dropped on every write
        self._recounting = False

    # ---- raw I/O ------------------------------------------------------------------------------
    def _read(self, pos, n):
        """``n`` bytes at file position ``pos`` (fewer at the end of the file)."""
        win = self._win
        if win is not None and win[0] <= pos and pos + n <= win[0] + len(win[1]):
            i = pos - win[0]
            return win[1][i:i + n]
        self.fh.seek(pos)
        if self.read_window > n:
            data = self.fh.read(self.read_window) or b""
            self._win = (pos, data)
            return data[:n]
        return self.fh.read(n) or b""

    def _put(self, pos, data):
        """Write ``data`` at file position ``pos``; a short write is an error (disk full)."""
        self._win = None
        self.fh.seek(pos)
        n = self.fh.write(data)
        if n is not None and n < len(data):
            more = self.fh.write(data[n:])  # a full disk raises here
            if more is None or n + more < len(data):
                raise OSError(ENOSPC, "short write (%d of %d bytes)" % (n + (more or 0), len(data)))

    def _sync(self):
        if self.fsync is not None:
            self.fsync()

    # ---- header -------------------------------------------------------------------------
    def _pack_slot(self):
        body = struct.pack(_SLOT_FMT[:-1], MAGIC, VERSION, 0, self.generation, self.capacity,
                           self.committed, self.tail_off, self.tail_seq, self.dropped)
        return body + struct.pack("<I", crc32(body) & 0xFFFFFFFF)

    def write_header(self):
        self.generation += 1
        try:
            self._put((self.generation & 1) * SLOT, self._pack_slot())
        except OSError:
            self.generation -= 1  # the next try goes to the same slot: the other one stays valid
            raise

    def read_header(self):
        """The fields of the newest valid header slot, or None when neither slot is valid."""
        best = None
        for slot in (0, 1):
            self.fh.seek(slot * SLOT)
            raw = self.fh.read(_SLOT_SIZE)
            if raw is None or len(raw) < _SLOT_SIZE:
                continue
            vals = struct.unpack(_SLOT_FMT, raw)
            if vals[0] != MAGIC or (crc32(raw[:_SLOT_BODY]) & 0xFFFFFFFF) != vals[-1]:
                continue
            if best is None or vals[3] > best[3]:
                best = vals
        return best

    # ---- create / open ----------------------------------------------------------------------
    def format(self):
        self._skips = {}
        self.write_header()
        self.write_header()  # both slots valid
        self._sync()

    def recover(self):
        """Rebuild the in-memory state from the file (the header from the data region when
        both slots are damaged); returns the number of records found corrupt."""
        self._win = None
        vals = self.read_header()
        if vals is None:
            self._rebuild_header()
        else:
            _, version, _, gen, capacity, committed, tail_off, tail_seq, dropped, _ = vals
            if version != VERSION:
                raise RingError("event store format %d, this version reads %d" % (version, VERSION))
            if capacity != self.capacity:
                raise RingError("event store capacity is %d bytes, not %d" % (capacity, self.capacity))
            if tail_off >= self.capacity or tail_off & 7:
                raise RingError("event store header names tail offset %d outside its data" % tail_off)
            self.generation, self.committed, self.dropped = gen, committed, dropped
            self.tail_off, self.tail_seq = tail_off, tail_seq
        before = self.corrupt
        header_tail = (self.tail_off, self.tail_seq)
        self._skips = {}
        self._hint = None
        first = None
        records = 0
        for rseq, _, _, roff, _, _ in self._walk(self.tail_off, self.tail_seq, self.capacity, True):
            if first is None:
                first = (roff, rseq)
            records += 1
            self.newest = rseq
        end_off, end_seq = self._end
        self.head_off, self.next_seq, self.records = end_off, end_seq, records
        if first is None:  # empty: the tail is where the next record goes
            self.tail_off, self.tail_seq, self.used = end_off, end_seq, 0
        else:
            self.tail_off, self.tail_seq = first
            self.used = (end_off - first[0]) % self.capacity or self.capacity
        if self.committed >= self.next_seq:
            self.committed = self.next_seq - 1
        if self.rebuilt or self.corrupt > before or (self.tail_off, self.tail_seq) != header_tail:
            # the count (and the tail) first, then the skip frames over the damage
            try:
                self.write_header()
                if self.rebuilt:
                    self.write_header()
                self._sync()
            except OSError:
                pass
            for off in self._skips:
                to_seq, target = self._skips[off]
                if (target - off) % self.capacity >= REC_HEAD:
                    self._write_skip(off, to_seq, target)
        return self.corrupt - before

    def _rebuild_header(self):
        """Both header slots are damaged: find the tail from the records themselves.

        The newest record is the valid one with the highest sequence number; going back from it
        through lower sequence numbers, the tail is the last one still physically before the
        previous (older laps lie after it). Delivery state is unknown, so nothing counts as
        delivered (records may be sent again: delivery is at-least-once)."""
        cap = self.capacity
        frames = []  # (seq, offset, size) of valid records, never one inside another's payload
        skip_to = 0
        for off in self._marks(0, cap, _RECORD_TYPES):
            if off < skip_to:
                continue
            rec = self._read_at(off)
            if rec is not None and rec[0] in (T_DATA, T_LOSS):
                frames.append((rec[1], off, rec[3]))
                skip_to = off + rec[3]
        if not frames:
            raise RingError("not an edge_ssre event store (no valid header and no valid record)")
        frames.sort()
        newest = frames[-1]
        head = (newest[1] + newest[2]) % cap
        tail = newest
        limit = (newest[1] - head) % cap
        for i in range(len(frames) - 2, -1, -1):
            seq, off, _ = frames[i]
            pos = (off - head) % cap
            if seq >= tail[0] or pos >= limit:
                break
            tail, limit = frames[i], pos
        self.generation, self.committed, self.dropped = 0, tail[0] - 1, 0
        self.tail_off, self.tail_seq = tail[1], tail[0]
        self.rebuilt = True

    # ---- frames -----------------------------------------------------------------------------
    def _read_at(self, off):
        """(type, seq, payload, frame size) of a valid frame at ``off``, or None. For a skip
        frame: (T_SKIP, seq to continue with, None, offset to continue at)."""
        if off + REC_HEAD > self.capacity:
            return None
        skip = self._skips.get(off)
        if skip is not None:
            return (T_SKIP, skip[0], None, skip[1])
        head = self._read(DATA_START + off, REC_HEAD)
        if len(head) < REC_HEAD:
            return None
        length, crc, seq, rtype = struct.unpack("<IIQB", head[:17])
        if rtype == T_WRAP:
            if length == 0 and crc == WRAP_CRC:
                return (T_WRAP, seq, b"", self.capacity - off)
            return None
        if rtype == T_SKIP:
            target = length * 8
            if target < self.capacity and target != off and crc == _skip_crc(seq, length):
                return (T_SKIP, seq, None, target)
            return None
        if rtype not in (T_DATA, T_LOSS) or off + frame_size(length) > self.capacity:
            return None
        payload = self._read(DATA_START + off + REC_HEAD, length)
        if len(payload) < length or _rec_crc(seq, rtype, payload) != crc:
            return None
        return (rtype, seq, payload, frame_size(length))

    def _marks(self, start, length, types):
        """Aligned offsets in [start, start + length) of the region (cyclic), in order, where a
        frame head of one of ``types`` could start (its type byte, then seven zero bytes). Reads
        the region a chunk at a time and searches it for the type byte, so a zeroed or stale
        region costs a bytes search, not a loop per offset."""
        cap = self.capacity
        pos, left = start, length
        while left > 0:
            n = min(self.scan_chunk, left, cap - pos)
            self.fh.seek(DATA_START + pos + 16)
            buf = self.fh.read(n + 8) or b""
            found = []
            for t in types:
                i = buf.find(t)
                while 0 <= i < n:
                    if i & 7 == 0 and buf[i + 1:i + 8] == _PAD:
                        found.append(pos + i)
                        i = buf.find(t, i + 8)
                    else:
                        i = buf.find(t, i + 1)
            if len(types) > 1:
                found.sort()
            for off in found:
                yield off
            left -= n
            pos = pos + n if pos + n < cap else 0

    def _resync(self, off, seq, length, hi):
        """(offset, record) of the valid record with the lowest sequence number in [seq, hi)
        within ``length`` bytes after the damaged frame at ``off``, or None. A damaged frame whose
        head is intact says where its successor starts: that offset is tried first. The lowest
        sequence number, not the nearest frame, so a stale tail pointer (a newer record where an
        older one was expected) resumes at the oldest record instead of skipping to the newest."""
        cap = self.capacity
        head = self._read(DATA_START + off, REC_HEAD)
        if len(head) == REC_HEAD:
            length0, _, seq0, rtype0 = struct.unpack("<IIQB", head[:17])
            nxt = off + frame_size(length0)
            if rtype0 in (T_DATA, T_LOSS) and seq0 == seq and frame_size(length0) < length and nxt <= cap:
                if cap - nxt < REC_HEAD:
                    nxt = 0
                rec = self._read_at(nxt)
                if rec is not None and rec[0] == T_WRAP:
                    nxt = 0
                    rec = self._read_at(0)
                if rec is not None and rec[0] in (T_DATA, T_LOSS) and rec[1] == seq + 1 < hi:
                    return nxt, rec
        best = None
        for cand in self._marks((off + 8) % cap, length - 8, _RECORD_TYPES):
            raw = self._read(DATA_START + cand + 8, 8)
            if len(raw) < 8:
                continue
            cseq = struct.unpack("<Q", raw)[0]
            if cseq < seq or cseq >= hi or (best is not None and cseq >= best[1][1]):
                continue
            rec = self._read_at(cand)
            if rec is not None and rec[0] in (T_DATA, T_LOSS) and rec[1] == cseq:
                best = (cand, rec)
                if cseq == seq:
                    break
        return best

    def _count_lost(self, seq, to_seq):
        lost = to_seq - max(seq, self.committed + 1)
        if lost > 0:
            self.dropped += lost
            self.corrupt += lost

    def _write_skip(self, off, to_seq, target):
        field = target >> 3
        try:
            self._put(DATA_START + off, struct.pack(_HEAD_FMT, field, _skip_crc(to_seq, field), to_seq, T_SKIP))
        except OSError:
            pass

    def _walk(self, off, seq, left, recovering=False):
        """Yield (seq, type, payload, offset, frame size, bytes skipped before it) of the records
        from ``off`` (where record ``seq`` starts) over at most ``left`` bytes, repairing damage on
        the way. Opening (``recovering``), the log ends at the first break with no valid record
        after it; otherwise it ends at the head, and a break with nothing after it loses every
        record up to the head. Leaves the end in ``self._end``.

        A repair counts the lost records first and persists the count (the header) before the
        skip frame goes over the damage (opening: once the walk is done), so a crash in between
        counts a loss twice rather than never. A break before the first record moves the tail
        instead: nothing is written where a stale tail pointer may point into newer records."""
        cap = self.capacity
        skipped = 0
        started = False
        hi = self.tail_seq + cap // REC_HEAD + 1 if recovering else self.next_seq
        while left > 0 and (recovering or seq < self.next_seq):
            if cap - off < REC_HEAD:  # too little room for a wrap marker: implicit wrap
                skipped += cap - off
                left -= cap - off
                off = 0
                continue
            rec = self._read_at(off)
            if rec is not None:
                rtype = rec[0]
                if rtype == T_WRAP:
                    skipped += cap - off
                    left -= cap - off
                    off = 0
                    continue
                if rtype == T_SKIP:
                    step = (rec[3] - off) % cap
                    if seq <= rec[1] <= hi and step <= left:
                        skipped += step
                        left -= step
                        off, seq = rec[3], rec[1]
                        continue
                elif rec[1] == seq and rec[3] <= left:
                    started = True
                    self._end = (off, seq)
                    yield seq, rtype, rec[2], off, rec[3], skipped
                    skipped = 0
                    left -= rec[3]
                    off = off + rec[3] if off + rec[3] < cap else 0
                    seq += 1
                    continue
            found = self._resync(off, seq, left, hi)
            last = False
            if found is None:
                if not recovering:
                    found = (self.head_off, (None, self.next_seq))
                else:
                    after = self._after_intact_head(off, seq, left)
                    if after is None:
                        break  # the end of the log (a torn or never written frame)
                    found, last = (after, (None, seq + 1)), True
            target, to_seq = found[0], found[1][1]
            step = (target - off) % cap or left
            self._count_lost(seq, to_seq)
            at_tail = not recovering and off == self.tail_off and seq == self.tail_seq
            if at_tail:
                self.tail_off, self.tail_seq = target, to_seq
                self.used -= step
                if to_seq == self.next_seq:
                    self.tail_off, self.used = self.head_off, 0
            elif started or not recovering:
                self._skips[off] = (to_seq, target)
            if not recovering:
                try:
                    self.write_header()
                except OSError:
                    pass
                if not at_tail and step >= REC_HEAD:
                    self._write_skip(off, to_seq, target)
                self._recount()
            skipped += step
            left -= step
            off, seq = target, to_seq
            if last:
                break
        self._end = (off, seq)

    def _recount(self):
        """After a repair while open: the records held and the newest one, from a fresh walk
        (repairs are rare; a damaged span may hold records already skipped, so the count is
        not a difference of sequence numbers)."""
        if self._recounting:
            return
        self._recounting = True
        try:
            records, newest = 0, 0
            for rseq, _, _, _, _, _ in self._walk(self.tail_off, self.tail_seq, self.used):
                records += 1
                newest = rseq
            self.records, self.newest = records, newest
            if records == 0:
                self.tail_off, self.tail_seq, self.used = self.head_off, self.next_seq, 0
        finally:
            self._recounting = False

    def _after_intact_head(self, off, seq, left):
        """Where the frame at ``off`` ends when its head names record ``seq`` (a damaged last
        record: counted as lost, and its seq is not used again), else None."""
        head = self._read(DATA_START + off, REC_HEAD)
        if len(head) < REC_HEAD:
            return None
        length, _, seq0, rtype = struct.unpack("<IIQB", head[:17])
        size = frame_size(length)
        if rtype not in (T_DATA, T_LOSS) or seq0 != seq or head[17:] != _PAD or size > left \
                or off + size > self.capacity:
            return None
        return off + size if off + size < self.capacity else 0

    # ---- records ----------------------------------------------------------------------------
    def _evict_one(self, evicted):
        """Drop the oldest frame (the caller decides whether that is allowed); returns 1 when an
        undelivered data record was lost. Offsets of evicted frames are added to ``evicted``."""
        cap = self.capacity
        if cap - self.tail_off < REC_HEAD:
            self.used -= cap - self.tail_off
            self.tail_off = 0
            return 0
        rec = self._read_at(self.tail_off)
        if rec is not None and rec[0] == T_WRAP:
            evicted.append(self.tail_off)
            self.used -= rec[3]
            self.tail_off = 0
            return 0
        if rec is not None and rec[0] == T_SKIP and rec[1] >= self.tail_seq:
            evicted.append(self.tail_off)
            self._skips.pop(self.tail_off, None)
            self.used -= (rec[3] - self.tail_off) % cap
            self.tail_off, self.tail_seq = rec[3], rec[1]
            return 0
        if rec is None or rec[0] == T_SKIP or rec[1] != self.tail_seq:
            # damaged tail: resynchronise (the loss is counted as corrupt) and move the tail past it
            for _ in self._walk(self.tail_off, self.tail_seq, self.used):
                break
            return 0
        rtype, seq, _, size = rec
        evicted.append(self.tail_off)
        lost = 1 if (seq > self.committed and rtype == T_DATA) else 0
        self.dropped += lost
        self.tail_off = (self.tail_off + size) if self.tail_off + size < cap else 0
        self.tail_seq = seq + 1
        self.records -= 1
        self.used -= size
        return lost

    def room_for(self, payload_len):
        """Bytes the append needs at the head (including a wrap of the region's end)."""
        need = frame_size(payload_len)
        if self.head_off + need > self.capacity:
            need += self.capacity - self.head_off
        return need

    def _state(self):
        return (self.generation, self.committed, self.tail_off, self.tail_seq, self.dropped, self.corrupt,
                self.records, self.newest, self.used, dict(self._skips))

    def _restore(self, st):
        (self.generation, self.committed, self.tail_off, self.tail_seq, self.dropped, self.corrupt,
         self.records, self.newest, self.used, self._skips) = st

    def append(self, payload, rtype=T_DATA, overwrite=True, sync=False):
        """Write one record; returns (seq, lost) where lost counts unread records evicted.

        Returns (None, 0) when there is no room and ``overwrite`` is False (only delivered
        records may be reclaimed then). Raises OSError when the disk refuses the write (or, with
        ``sync``, the flush): the record is then not stored and the state is as before it, except
        for records evicted to make room (the new tail is on disk by then)."""
        size = frame_size(len(payload))
        cap = self.capacity
        if size + REC_HEAD > cap:
            raise RingError("record of %d bytes does not fit an event store of %d bytes"
                            % (len(payload), cap))
        lost = 0
        evicted = []
        self._win = None
        before = None
        while cap - self.used < self.room_for(len(payload)) and self.records > 0:
            if before is None:
                before = self._state()
            rec = self._read_at(self.tail_off) if cap - self.tail_off >= REC_HEAD else None
            if (not overwrite and rec is not None and rec[0] in (T_DATA, T_LOSS) and rec[1] == self.tail_seq
                    and rec[1] > self.committed):
                if evicted:
                    self._persist_tail(evicted, None)
                return None, 0
            lost += self._evict_one(evicted)
        if self.records == 0 and (self.tail_off != self.head_off or self.used):
            if before is None:
                before = self._state()
            self.tail_off, self.tail_seq, self.used = self.head_off, self.next_seq, 0
            evicted.append(-1)
        if evicted:
            start = 0 if self.head_off + size > cap else self.head_off
            try:
                self._persist_tail(evicted, (start, start + size))
            except OSError:
                self._restore(before)
                raise
        head, used = self.head_off, self.used
        seq = self.next_seq
        at = head
        try:
            if head + size > cap:
                if cap - head >= REC_HEAD:
                    self._put(DATA_START + head, struct.pack(_HEAD_FMT, 0, WRAP_CRC, 0, T_WRAP))
                self.used += cap - head
                at = 0
            pad = _align(len(payload)) - len(payload)
            self._put(DATA_START + at, struct.pack(_HEAD_FMT, len(payload), _rec_crc(seq, rtype, payload), seq, rtype)
                      + payload + b"\0" * pad)
            if sync:
                self._sync()
        except OSError:
            self.head_off, self.used = head, used
            try:  # whatever part reached the file must not read as a record
                self._put(DATA_START + at, _ZERO_HEAD)
            except OSError:
                pass
            raise
        self.head_off = at + size if at + size < cap else 0
        self.next_seq += 1
        self.newest = seq
        self.records += 1
        self.used += size
        return seq, lost

    def _persist_tail(self, evicted, overwritten):
        """Make the new tail durable, then zero the heads of the evicted frames that the new
        record (bytes ``overwritten``) does not cover."""
        self.write_header()
        for off in evicted:
            if off < 0 or (overwritten is not None and overwritten[0] <= off < overwritten[1]):
                continue
            try:
                self._put(DATA_START + off, _ZERO_HEAD)
            except OSError:
                pass
        self._sync()

    def iter_from(self, seq):
        """(seq, type, payload) of the records with seq >= ``seq``, oldest first.

        A reader that resumes where it stopped starts at the remembered offset instead of
        walking from the tail again (the hint is dropped when the tail passes it)."""
        self._win = None  # see the file as it is now
        off, cur, left = self.tail_off, self.tail_seq, self.used
        hint = self._hint
        if hint is not None and self.tail_seq <= hint[0] <= seq and hint[0] < self.next_seq:
            off, cur = hint[1], hint[0]
            left = (self.head_off - off) % self.capacity or self.capacity
        for rseq, rtype, payload, roff, _, _ in self._walk(off, cur, left):
            if rseq >= seq:
                self._hint = (rseq, roff)
                yield rseq, rtype, payload

    def commit(self, seq):
        if seq > self.committed:
            old = self.committed
            self.committed = min(seq, self.next_seq - 1)
            try:
                self.write_header()
            except OSError:
                self.committed = old
                raise
