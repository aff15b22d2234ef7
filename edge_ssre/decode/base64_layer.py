"""base64 / base64url values that really are encodings. MicroPython-clean (``binascii``).

A value is decoded only when it looks like base64 (length >= 16, base64 alphabet, length a
multiple of 4 once padded) and what it decodes to is structured (JSON, CBOR, gzip) or mostly
printable UTF-8 text; random tokens and hashes decode to noise and are left alone.
"""

import re

from .sniff import BINARY, printable_ratio, sniff

MIN_LEN = 16
# written for MicroPython's re too (no {m,n}). Either alphabet: most values that are not base64
# (text with spaces, punctuation) fail this one search
_B64_EITHER = re.compile(r"^[A-Za-z0-9+/_-]+=?=?$")
_B64 = re.compile(r"^[A-Za-z0-9+/]+=?=?$")


def decode(s, force=False):
    """Decoded bytes of ``s`` if it is a base64 encoding of something meaningful, else None.

    ``force`` skips the "meaningful" test (for fields documented as base64, such as Kinesis data)."""
    if s[-1:] == "\n":  # CPython's $ matches before a final newline, MicroPython's does not: strip it
        s = s.rstrip("\r\n")
    n = len(s)
    if n < MIN_LEN and not force:
        return None
    if not force and n & 3 and "=" not in s and n % 4 == 1:
        return None
    if _B64_EITHER.match(s) is None:
        return None
    url = False
    if _B64.match(s) is None:
        if "+" in s or "/" in s:
            return None  # mixes the two alphabets
        url = True
    body = s.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    if url:
        padded = padded.replace("-", "+").replace("_", "/")
    try:
        import binascii
        raw = binascii.a2b_base64(padded.encode())  # bytes: some MicroPython ports take no str
    except (ValueError, TypeError):
        return None
    if force:
        return raw
    kind = sniff(raw)
    if kind == BINARY:
        return None
    if kind in ("gzip", "zlib", "cbor", "json"):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeError:
        return None
    # a readable decoding: enough letters and few control characters
    if printable_ratio(text) < 0.95 or sum(1 for c in text if c.isalpha()) < len(text) // 4:
        return None
    return raw
