"""A small CBOR (RFC 8949) decoder and encoder within budgets. MicroPython-clean.

The micro core decodes telemetry with it on a board; on CPython ``cbor2`` does the work and this
module is checked against it (tests/test_micro.py). Limits: nesting depth, number of items and
bytes of one string; a length is never trusted beyond the bytes actually present, so a forged
header cannot make it allocate. Every problem raises ``CborError`` (a ``ValueError``) saying what
and where; nothing else escapes.

Decoded types: int, float, str, bytes, list, dict, bool, None. Tags are read through (the value
inside is returned; bignums, tags 2 and 3, become ints); ``undefined`` becomes None.
"""

import struct

MAX_DEPTH = 8
MAX_ITEMS = 1024
MAX_STRING = 4096


class CborError(ValueError):
    pass


def _half(h):
    exp = (h >> 10) & 0x1F
    frac = h & 0x3FF
    if exp == 0:
        v = frac / 16777216.0  # 2**-24
    elif exp == 31:
        v = float("inf") if frac == 0 else float("nan")
    else:
        v = (1 + frac / 1024.0) * (2.0 ** (exp - 15))
    return -v if h & 0x8000 else v


class _Reader:
    __slots__ = ("data", "view", "pos", "items", "max_depth", "max_items", "max_string")

    def __init__(self, data, max_depth, max_items, max_string):
        self.data = data
        self.view = memoryview(data)  # strings are cut from it: one copy (the str), not two
        self.pos = 0
        self.items = 0
        self.max_depth = max_depth
        self.max_items = max_items
        self.max_string = max_string

    def take(self, n):
        """The next ``n`` bytes (consumed), as a view."""
        p = self.need(n)
        return self.view[p:p + n]

    def need(self, n):
        """Position of the next ``n`` bytes (consumed), without cutting them out."""
        p = self.pos
        if p + n > len(self.data):
            raise CborError("truncated at byte %d (needs %d more)" % (p, p + n - len(self.data)))
        self.pos = p + n
        return p

    def byte(self):
        p = self.pos
        if p >= len(self.data):
            raise CborError("truncated at byte %d" % p)
        self.pos = p + 1
        return self.data[p]

    def arg(self, info):
        if info < 24:
            return info
        if info == 24:
            return self.byte()
        d = self.data
        if info == 25:
            p = self.need(2)
            return d[p] << 8 | d[p + 1]
        if info == 26:
            p = self.need(4)
            return (d[p] << 8 | d[p + 1]) * 65536 + (d[p + 2] << 8 | d[p + 3])
        if info == 27:
            return struct.unpack_from(">Q", d, self.need(8))[0]
        raise CborError("reserved additional info %d at byte %d" % (info, self.pos - 1))

    def string(self, major, info):
        if info == 31:  # indefinite: definite chunks of the same type until a break
            parts = []
            total = 0
            while True:
                ib = self.byte()
                if ib == 0xFF:
                    break
                if ib >> 5 != major or ib & 31 == 31:
                    raise CborError("bad chunk in an indefinite string at byte %d" % (self.pos - 1))
                chunk = self.take(self._length(ib & 31))
                total += len(chunk)
                if total > self.max_string:
                    raise CborError("string over %d bytes" % self.max_string)
                parts.append(bytes(chunk))
            raw = b"".join(parts)
        else:
            raw = self.take(self._length(info))
        if major == 2:
            return bytes(raw)
        try:
            return str(raw, "utf-8")
        except UnicodeError:
            raise CborError("text string is not UTF-8")

    def _length(self, info):
        n = self.arg(info)
        if n > self.max_string:
            raise CborError("string of %d bytes over %d" % (n, self.max_string))
        return n

    def count(self):
        self.items += 1
        if self.items > self.max_items:
            raise CborError("more than %d items" % self.max_items)

    def item(self, depth):
        self.count()
        ib = self.byte()
        major, info = ib >> 5, ib & 31
        if major == 0:
            return self.arg(info)
        if major == 1:
            return -1 - self.arg(info)
        if major == 2 or major == 3:
            return self.string(major, info)
        if major == 4 or major == 5:
            if depth >= self.max_depth:
                raise CborError("nesting deeper than %d" % self.max_depth)
            return self.container(major, info, depth + 1)
        if major == 6:
            tag = self.arg(info)
            if depth >= self.max_depth:
                raise CborError("nesting deeper than %d" % self.max_depth)
            v = self.item(depth + 1)
            if tag in (2, 3) and isinstance(v, bytes):
                n = 0
                for b in v:
                    n = n * 256 + b
                return n if tag == 2 else -1 - n
            return v
        # major 7
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22 or info == 23:
            return None
        if info == 25:
            return _half(self.arg(25))
        if info == 26:
            return struct.unpack_from(">f", self.data, self.need(4))[0]
        if info == 27:
            return struct.unpack_from(">d", self.data, self.need(8))[0]
        if info == 31:
            raise CborError("unexpected break at byte %d" % (self.pos - 1))
        raise CborError("unsupported simple value %d at byte %d" % (info, self.pos - 1))

    def container(self, major, info, depth):
        indefinite = info == 31
        n = -1 if indefinite else self.arg(info)
        if not indefinite and n > len(self.data) - self.pos:
            raise CborError("%s of %d items cannot fit the %d bytes left" % (
                "array" if major == 4 else "map", n, len(self.data) - self.pos))
        if major == 4:
            out = []
            while n != 0:
                if indefinite and self._brk():
                    break
                out.append(self.item(depth))
                n -= 1
            return out
        m = {}
        while n != 0:
            if indefinite and self._brk():
                break
            k = self.item(depth)
            if type(k) is list or type(k) is dict:
                raise CborError("a map key is an array or map")
            m[k] = self.item(depth)
            n -= 1
        return m

    def _brk(self):
        if self.pos < len(self.data) and self.data[self.pos] == 0xFF:
            self.pos += 1
            return True
        return False


def loads(data, max_depth=MAX_DEPTH, max_items=MAX_ITEMS, max_string=MAX_STRING):
    """One CBOR item from ``data`` (bytes); trailing bytes are an error."""
    r = _Reader(data, max_depth, max_items, max_string)
    v = r.item(0)
    if r.pos != len(data):
        raise CborError("%d bytes after the item" % (len(data) - r.pos))
    return v


def _head(out, major, n):
    if n < 24:
        out.append(major << 5 | n)
    elif n < 0x100:
        out.append(major << 5 | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(major << 5 | 25)
        out.extend(struct.pack(">H", n))
    elif n < 0x100000000:
        out.append(major << 5 | 26)
        out.extend(struct.pack(">I", n))
    else:
        out.append(major << 5 | 27)
        out.extend(struct.pack(">Q", n))


def _dump(out, v, depth):
    if depth > MAX_DEPTH:
        raise CborError("nesting deeper than %d" % MAX_DEPTH)
    if v is None:
        out.append(0xF6)
    elif v is True:
        out.append(0xF5)
    elif v is False:
        out.append(0xF4)
    elif isinstance(v, int):
        if v >= 0:
            _head(out, 0, v)
        else:
            _head(out, 1, -1 - v)
    elif isinstance(v, float):
        out.append(0xFB)
        out.extend(struct.pack(">d", v))
    elif isinstance(v, str):
        b = v.encode("utf-8")
        _head(out, 3, len(b))
        out.extend(b)
    elif isinstance(v, (bytes, bytearray)):
        _head(out, 2, len(v))
        out.extend(v)
    elif isinstance(v, (list, tuple)):
        _head(out, 4, len(v))
        for x in v:
            _dump(out, x, depth + 1)
    elif isinstance(v, dict):
        _head(out, 5, len(v))
        for k in v:
            _dump(out, k, depth + 1)
            _dump(out, v[k], depth + 1)
    else:
        raise CborError("cannot encode %s" % type(v).__name__)


def dumps(v):
    """``v`` (None, bool, int < 2**64, float, str, bytes, list/tuple, dict) as CBOR bytes."""
    out = bytearray()
    _dump(out, v, 0)
    return bytes(out)
