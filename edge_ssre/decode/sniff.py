"""What a byte payload claims to be, from its first bytes. MicroPython-clean.

On CPython the two whole-payload passes (the share of printable characters, the printable runs
of binary data) run in C (bytes.translate, re); a Python loop over a 64 KB payload took ~20 ms,
the whole inspection deadline, before any rule ran. MicroPython keeps the loops (its payloads
are small, and it has neither)."""

import sys

_FAST = sys.implementation.name != "micropython"
if _FAST:
    import re as _re
    # bytes that are bad characters by themselves: C0 controls but tab, CR, LF; DEL
    _NOT_BAD = bytes(c for c in range(256) if not ((c < 32 and c not in (9, 10, 13)) or c == 127))
    _RUNS = {}  # type: dict  # compiled on first use: min_len -> printable ASCII runs; "c1" -> C1 in UTF-8

JSON = "json"
CBOR = "cbor"
GZIP = "gzip"
ZLIB = "zlib"
TEXT = "text"
BINARY = "binary"

_WS = b" \t\r\n"


def sniff(data):
    """One of JSON, CBOR, GZIP, ZLIB, TEXT, BINARY for ``data`` (bytes)."""
    n = len(data)
    if n == 0:
        return TEXT
    b0 = data[0]
    if b0 == 0x1F and n > 1 and data[1] == 0x8B:
        return GZIP
    if b0 == 0x78 and n > 1 and (b0 * 256 + data[1]) % 31 == 0 and data[1] in (0x01, 0x5E, 0x9C, 0xDA):
        return ZLIB
    # CBOR maps (0xa0-0xbf), arrays (0x80-0x9f) and the self-describe tag: these bytes cannot start
    # UTF-8 text (0x80-0xbf are continuation bytes), so there is no ambiguity with text.
    if 0x80 <= b0 <= 0xBF or (b0 == 0xD9 and n > 2 and data[1] == 0xD9 and data[2] == 0xF7):
        return CBOR
    i = 0
    while i < n and data[i] in _WS:
        i += 1
    if i < n and data[i] in b"{[":
        j = n - 1
        while j > i and data[j] in _WS:
            j -= 1
        if data[j] in b"}]":
            return JSON
    try:
        text = data.decode("utf-8")
    except UnicodeError:
        return BINARY
    if _FAST and text:  # printable_ratio(text), counted on the UTF-8 bytes in C
        bad = len(data.translate(None, _NOT_BAD)) + data.count(b"\xef\xbf\xbd")
        if b"\xc2" in data:  # a C1 control is 0xc2 0x80-0x9f (0xc2 is only ever a lead byte)
            c1 = _RUNS.get("c1") or _RUNS.setdefault("c1", _re.compile(b"\xc2[\x80-\x9f]"))
            bad += len(c1.findall(data))
        return TEXT if 1.0 - bad / len(text) >= 0.85 else BINARY
    return TEXT if printable_ratio(text) >= 0.85 else BINARY


def printable_ratio(text):
    """Share of characters that are printable or ordinary whitespace."""
    if not text:
        return 1.0
    bad = 0
    for ch in text:
        o = ord(ch)
        if (o < 32 and ch not in "\t\r\n") or o == 127 or 0x80 <= o < 0xA0 or o == 0xFFFD:
            bad += 1
    return 1.0 - bad / len(text)


def printable_runs(data, min_len=4):
    """The printable ASCII runs of binary garbage (what a `strings` tool would show)."""
    if _FAST:
        rx = _RUNS.get(min_len)
        if rx is None:
            rx = _RUNS[min_len] = _re.compile(b"[\t\n\r\x20-\x7e]{%d,}" % max(1, min_len))
        return [run.decode("ascii") for run in rx.findall(data)]
    out = []
    start = -1
    for i in range(len(data)):
        c = data[i]
        if 32 <= c < 127 or c in (9, 10, 13):
            if start < 0:
                start = i
        else:
            if start >= 0 and i - start >= min_len:
                out.append(data[start:i].decode("ascii"))
            start = -1
    if start >= 0 and len(data) - start >= min_len:
        out.append(data[start:].decode("ascii"))
    return out
