"""Query strings, form bodies and cookie headers, decoded once as a server would. MicroPython-clean."""

import re

_PCT = re.compile(r"%([0-9a-fA-F]{2})")


def unquote(s, plus=True):
    """Percent-decode once (``+`` is a space in forms); invalid UTF-8 keeps the encoded text."""
    if plus and "+" in s:
        s = s.replace("+", " ")
    if "%" not in s:
        return s
    try:
        raw = _PCT.sub(lambda m: chr(int(m.group(1), 16)), s).encode("latin-1")
        return raw.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def parse_query(qs, limit):
    """[(name, value)] of a query string or form body; at most ``limit`` pairs."""
    out = []
    if not qs:
        return out
    if qs[:1] == "?":
        qs = qs[1:]
    for part in qs.split("&"):
        if not part:
            continue
        if len(out) >= limit:
            break
        name, sep, value = part.partition("=")
        out.append((unquote(name), unquote(value) if sep else ""))
    return out


def parse_cookies(header, limit):
    """[(name, value)] of a Cookie header."""
    out = []
    for part in header.split(";"):
        part = part.strip()
        if not part:
            continue
        if len(out) >= limit:
            break
        name, _, value = part.partition("=")
        out.append((name.strip(), unquote(value.strip(), plus=False)))
    return out
