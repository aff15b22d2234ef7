"""Signature scan of the micro core: prefilter literals, then patterns MicroPython's ``re`` runs.
MicroPython-clean: the same file runs on a board and on CPython, with the same verdicts.

The rule rows come from a table the host compiled (``micro/build.py``): the rule data of the
inspection engine, each pattern translated to what re1.5 can express (``micro/translate.py``).
The scanner matches lower-cased UTF-8 **bytes** (``re`` on bytes means the same on both runtimes;
NUL is held as 0x01, which re1.5 can see). Four views, as in the full engine:

* ``raw``: the bytes, lower-cased;
* ``norm``: ``%xx`` decoded (two passes), ``&#..;``/``&lt;``-style entities decoded, ``\\xNN``
  escapes decoded, lower-cased;
* ``compact``: ``norm`` with SQL/HTML comments turned into a space and whitespace runs into one;
* ``nospace``: ``norm`` without whitespace and control bytes.

Each view is built only when a rule needs it, and is the previous view itself when nothing
changes (a plain telemetry string costs one ``lower()``). A rule runs when its view holds one of
its prefilter literals (``needs``; a literal with a space at an end also matches at that end of
the text), and fires when one of its patterns is found. Compiled patterns sit in a cache of
``cache_slots`` entries (emptied when full): memory stays fixed whatever the traffic.
"""

import re

RAW, NORM, COMPACT, NOSPACE = 0, 1, 2, 3
_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"), (b"&amp;", b"&"),
             (b"&sol;", b"/"), (b"&lpar;", b"("), (b"&rpar;", b")"), (b"&colon;", b":"), (b"&tab;", b"\t"),
             (b"&newline;", b"\n"))
_SPACE = b" \t\r\n\x0b\x0c"
_COMMENT = None  # compiled on first use (re objects are not free on a board)
_PLAIN = None
_GAPS = None
_CTRL = None


def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    c |= 0x20
    return c - 87 if 97 <= c <= 102 else -1


def _unescape(b, lead, marker):
    """``<lead><marker>HH`` and ``<lead>uHHHH`` (ASCII range) decoded, other bytes kept: ``%xx`` /
    ``%uXXXX`` with ``lead`` ``%`` and no marker, ``\\xNN`` / ``\\uNNNN`` with ``\\`` and ``x``."""
    if b.find(lead) < 0:
        return b
    lead = lead[0]
    m = len(marker)
    mark = marker[0] if m else -1
    out = bytearray()
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c == lead:
            j = i + 1 + m  # the first hex digit of the short form
            if j + 1 < n and (m == 0 or b[i + 1] | 0x20 == mark):
                hi, lo = _hexval(b[j]), _hexval(b[j + 1])
                if hi >= 0 and lo >= 0:
                    out.append(hi * 16 + lo)
                    i = j + 2
                    continue
            if i + 5 < n and b[i + 1] | 0x20 == 0x75 and b[i + 2] == 0x30 and b[i + 3] == 0x30:
                hi, lo = _hexval(b[i + 4]), _hexval(b[i + 5])
                if 0 <= hi < 8 and lo >= 0:
                    out.append(hi * 16 + lo)
                    i += 6
                    continue
        out.append(c)
        i += 1
    return bytes(out)


def _entities(b):
    if b.find(b"&") < 0:
        return b
    for name, rep in _ENTITIES:
        if b.find(name) >= 0:
            b = b.replace(name, rep)
    if b.find(b"&#") < 0:
        return b
    out = bytearray()
    i, n = 0, len(b)
    while i < n:
        if b[i] == 0x26 and i + 2 < n and b[i + 1] == 0x23:  # &#...; / &#x...;
            j = i + 2
            base = 10
            if b[j] | 0x20 == 0x78:
                base = 16
                j += 1
            v, k = 0, j
            while k < n and k - j < 7:
                d = _hexval(b[k])
                if d < 0 or d >= base:
                    break
                v = v * base + d
                k += 1
            if k > j and v < 0x80:
                out.append(v)
                i = k + 1 if k < n and b[k] == 0x3B else k
                continue
        out.append(b[i])
        i += 1
    return bytes(out)


def normalize(raw_lower):
    """The ``norm`` view of an already lower-cased raw view."""
    b = raw_lower
    if b.find(b"%") >= 0:
        b = _unescape(_unescape(b, b"%", b""), b"%", b"")
    if b.find(b"&") >= 0:
        b = _entities(b)
        if b.find(b"%") >= 0:
            b = _unescape(b, b"%", b"")
    if b.find(b"\\") >= 0:
        b = _unescape(b, b"\\", b"x")
    if b is raw_lower:
        return b
    return b.lower().replace(b"\x00", b"\x01")


def compact(norm):
    """Comments to one space, whitespace runs to one space."""
    global _COMMENT, _GAPS
    b = norm
    if b.find(b"/*") >= 0 or b.find(b"<!--") >= 0 or b.find(b"--") >= 0:
        if _COMMENT is None:
            _COMMENT = re.compile(b"/\\*!\\d*|/\\*[\x01-\x7f\x80-\xff]*?\\*/|/\\*[\x01-\x7f\x80-\xff]*$|\\*/|<!--|--!?>")
        b = _COMMENT.sub(b" ", b)
    if _GAPS is None:
        _GAPS = re.compile(b"[\t\n\r\x0b\x0c]|  ")
    if _GAPS.search(b) is None:
        return b
    out = bytearray()
    gap = False
    for c in b:
        if c in _SPACE:
            if not gap:
                out.append(0x20)
            gap = True
        else:
            out.append(c)
            gap = False
    return bytes(out)


def nospace(norm):
    """Without whitespace and control bytes."""
    global _CTRL
    if _CTRL is None:
        _CTRL = re.compile(b"[\x01-\x20\x7f]")
    if _CTRL.search(norm) is None:
        return norm
    out = bytearray()
    for c in norm:
        if c >= 0x21 and c != 0x7F:
            out.append(c)
    return bytes(out)


def is_plain(view):
    """Only letters, digits, space and ``. , : / @ + - _`` (what a ``plain = false`` rule cannot match)."""
    global _PLAIN
    if _PLAIN is None:
        _PLAIN = compile_pattern(b"^[a-z0-9 .,:/@+_\\-]*$")
    return _PLAIN.match(view) is not None


try:
    import sys as _sys
    _CPYTHON = _sys.implementation.name == "cpython"
except (ImportError, AttributeError):
    _CPYTHON = False


def _cpython_source(src):
    """On CPython ``$`` also matches before a final newline; re1.5's does not. Make CPython's strict."""
    out = []
    i, n = 0, len(src)
    in_class = False
    while i < n:
        c = src[i:i + 1]
        if c == b"\\":
            out.append(src[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == b"]":
                in_class = False
        elif c == b"[":
            in_class = True
        elif c == b"$":
            c = b"(?!\n)$"
        out.append(c)
        i += 1
    return b"".join(out)


def _at(text, p, needle, a, b):
    """``needle[a:b]`` is in ``text`` at ``p`` (compared in place: no slice is made)."""
    if p < 0 or p + b - a > len(text):
        return False
    while a < b:
        if text[p] != needle[a]:
            return False
        p += 1
        a += 1
    return True


def _find_in(text, n, key, needle, a, b, lead):
    """``needle[a:b]`` occurs in ``text``; ``key`` (1 byte) is its byte at ``lead``."""
    p = text.find(key, lead)
    while p >= 0:
        if p - lead + b - a > n:
            return False
        if _at(text, p - lead, needle, a, b):
            return True
        p = text.find(key, p + 1)
    return False


def compile_pattern(src):
    """``re.compile`` with the same meaning on both runtimes (``src`` bytes or str)."""
    if not _CPYTHON:
        return re.compile(src)
    if isinstance(src, str):
        return re.compile(_cpython_source(src.encode("utf-8")).decode("utf-8"))
    return re.compile(_cpython_source(src))


class Scanner:
    """Matches leaves against a compiled micro table (a table module: ``RULES``, ``BLOB``,
    ``PREFILTER``, ``MICRO``). Fixed memory: ``regex_cache`` compiled patterns and ``clean_cache``
    strings known clean, both emptied when full. A scan of a clean string allocates at most its
    lower-cased bytes (nothing when it was seen clean before)."""

    __slots__ = ("rules", "blob", "prefilter", "keys", "needles", "cache", "cache_slots", "max_scan", "compiles", "clean",
                 "clean_slots", "_views")

    def __init__(self, table):
        self.rules = table.RULES
        self.blob = table.BLOB
        self.prefilter = table.PREFILTER
        # one 1-byte bytes object per key byte (shared by the views), to find it in a text
        one = {}
        self.keys = tuple(tuple(one.setdefault(c, bytes((c,))) for c in p[0]) for p in self.prefilter)
        # CPython-only speed-up: the needles as objects, found by the C ``in`` (same answers as
        # the in-place compare a board uses, which keeps the table free of ~800 small objects)
        self.needles = None
        if _CPYTHON:
            self.needles = tuple(tuple(p[2][p[3][j]:p[3][j + 1]] for j in range(len(p[4]))) for p in self.prefilter)
        micro = table.MICRO
        self.cache_slots = micro[0]
        self.max_scan = micro[1]
        self.clean_slots = micro[2] if len(micro) > 2 else 32
        self.cache = {}
        self.clean = ({}, {})  # per leaf kind: str -> True
        self.compiles = 0
        self._views = [None, None, None, None]

    def _regex(self, key, src):
        if len(self.cache) >= self.cache_slots:
            self.cache.clear()
        rx = compile_pattern(src)
        self.cache[key] = rx
        self.compiles += 1
        return rx

    def _fires(self, idx, text):
        """Whether one of rule ``idx``'s patterns is found in ``text``. Cache keys are ints
        (rule index and position in its spans): a lookup allocates nothing."""
        sp = self.rules[idx][7]
        blob = self.blob
        cache = self.cache
        base = idx << 12
        i, n = 0, len(sp)
        while i < n:
            k = sp[i]
            if k == 0:
                rx = cache.get(base + i)
                if rx is None:
                    rx = self._regex(base + i, blob[sp[i + 1]:sp[i + 2]])
                if rx.search(text) is not None:
                    return True
                i += 3
                continue
            j = i + 5
            for _ in range(k):
                rx = cache.get(base + j)
                if rx is None:
                    rx = self._regex(base + j, blob[sp[i + 1]:sp[i + 2]] + blob[sp[j]:sp[j + 1]] +
                                     blob[sp[i + 3]:sp[i + 4]])
                if rx.search(text) is not None:
                    return True
                j += 2
            i = j
        return False

    def views(self, data):
        """The four views of ``data`` (bytes or str), lazily: a list the scan fills (the scanner's
        own list, reused: one scan at a time)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > self.max_scan:
            data = data[:self.max_scan]
        raw = data if data.islower() else data.lower()
        if raw.find(b"\x00") >= 0:
            raw = raw.replace(b"\x00", b"\x01")
        vs = self._views
        vs[RAW] = raw
        vs[NORM] = vs[COMPACT] = vs[NOSPACE] = None
        return vs

    def view(self, views, v):
        text = views[v]
        if text is None:
            if v == NORM:
                text = normalize(views[RAW])
            elif v == COMPACT:
                text = compact(self.view(views, NORM))
            else:
                text = nospace(self.view(views, NORM))
            views[v] = text
        return text

    def scan(self, data, kind=0, first_only=False):
        """Indexes of the rules that fire on ``data`` (a leaf of ``kind``: 0 value, 1 key), in
        table order; an empty tuple when none does."""
        memo = None
        if isinstance(data, str) and len(data) <= 64:
            memo = self.clean[kind]
            if data in memo:
                return ()
        views = self.views(data)
        bit = 1 << kind
        rules = self.rules
        hits = None
        for v in (RAW, NORM, COMPACT, NOSPACE):
            keys = self.keys[v]
            if not keys:
                continue
            _, gstart, joined, nstart, owners, modes = self.prefilter[v]
            objs = self.needles[v] if self.needles is not None else None
            # compact and nospace only drop or merge bytes of norm: a key byte missing from
            # norm is missing from them too, so they are built only when a group may match
            probe = views[RAW] if v == RAW else self.view(views, NORM)
            text = None
            cand = None
            for g in range(len(keys)):
                key = keys[g]
                if probe.find(key) < 0:
                    continue
                if text is None:
                    text = probe if v <= NORM else self.view(views, v)
                    n = len(text)
                for j in range(gstart[g], gstart[g + 1]):
                    idx = owners[j]
                    if (cand is not None and idx in cand) or not rules[idx][4] & bit:
                        continue
                    a, b = nstart[j], nstart[j + 1]
                    m = modes[j]
                    if m & 3 == 0:
                        if objs is not None:
                            found = objs[j] in text
                        else:
                            found = _find_in(text, n, key, joined, a, b, m >> 2)
                    else:
                        found = _at(text, n - (b - a) if m & 3 == 2 else 0, joined, a, b)
                    if found:
                        if cand is None:
                            cand = []
                        cand.append(idx)
            if cand is None:
                continue
            plain = None
            for idx in cand:
                if hits is not None and idx in hits:
                    continue
                if not rules[idx][5]:
                    if plain is None:
                        plain = is_plain(text)
                    if plain:
                        continue
                if self._fires(idx, text):
                    if hits is None:
                        hits = []
                    hits.append(idx)
                    if first_only:
                        return hits
        if hits is None:
            if memo is not None:
                if len(memo) >= self.clean_slots:
                    memo.clear()
                memo[data] = True
            return ()
        hits.sort()
        return hits
