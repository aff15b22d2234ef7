"""Transformations applied to a leaf before matching, each with a cap. MicroPython-clean.

A leaf is matched in up to three views, computed lazily and at most once per leaf:
- ``raw``: the text as decoded by the decoder;
- ``norm``: URL-decoded (up to ``MAX_URL_PASSES`` passes, ``%uXXXX`` too), HTML entities,
  JS/C escapes (``\\xHH``, ``\\uHHHH``, ``\\u{H..}``) decoded, NULs removed, fullwidth and
  enclosed-alphanumeric digits/letters folded to ASCII, lower-cased;
- ``compact``: ``norm`` with SQL/C comments replaced by one space and every run of
  whitespace folded to one space.
Each pass is linear in the input; none grows its output beyond its input.
"""

import re

from .lazy_re import LazyRe

MAX_URL_PASSES = 3

_PCT = LazyRe(r"%(?:[uU][0-9a-fA-F]{4}|[0-9a-fA-F]{2})")
_ENTITY = LazyRe(r"&(?:#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});?")
_JSESC = LazyRe(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|[0-7]{3})")
_COMMENT = LazyRe(r"/\*!\d{0,6}|/\*.{0,2048}?(?:\*/|$)|\*/|<!--|--!?>", re.S)  # MySQL /*!...*/ content runs
_SPACE = LazyRe(r"\s+")
# overlong UTF-8 (a character encoded in more bytes than it needs): 2 to 6 byte forms, as
# percent-decoding left them (one latin-1 code point per byte); strict decoders refuse them,
# old ones (IIS, Tomcat, some Java and PHP versions) decoded %c0%ae or %e0%80%ae to "."
_OVERLONG = LazyRe("[\xc0\xc1][\x80-\xbf]|\xe0[\x80-\x9f][\x80-\xbf]|\xf0[\x80-\x8f][\x80-\xbf]{2}"
                   "|\xf8[\x80-\x87][\x80-\xbf]{3}|\xfc[\x80-\x83][\x80-\xbf]{4}")
_OVERLONG_LEAD = "\xc0\xc1\xe0\xf0\xf8\xfc"


def _overlong(m):
    s = m.group(0)
    lead = ord(s[0])
    value = lead & (0x1F if lead < 0xE0 else 0x0F if lead < 0xF0 else 0x07 if lead < 0xF8 else 0x03 if lead < 0xFC else 0x01)
    for ch in s[1:]:
        value = (value << 6) | (ord(ch) & 0x3F)
    return chr(value)

_NAMED = {
    "lt": "<", "gt": ">", "quot": '"', "apos": "'", "amp": "&", "tab": "\t", "newline": "\n",
    "colon": ":", "lpar": "(", "rpar": ")", "sol": "/", "bsol": "\\", "semi": ";", "comma": ",",
    "period": ".", "excl": "!", "num": "#", "dollar": "$", "percnt": "%", "equals": "=",
    "lsqb": "[", "rsqb": "]", "lcub": "{", "rcub": "}", "grave": "`", "nbsp": " ", "plus": "+",
    "quest": "?", "commat": "@", "ast": "*", "vert": "|", "hat": "^", "lowbar": "_",
}


def _chr(code):
    if 0 <= code < 0x110000 and not (0xD800 <= code < 0xE000):
        return chr(code)
    return ""


def _pct(m):
    s = m.group(0)
    if s[1] in "uU":
        return _chr(int(s[2:], 16))
    return chr(int(s[1:], 16))


_HEX2 = None  # built on first use: every two-hex-digit string -> its character


def _pct_decode(text):
    """``_PCT.sub(_pct, text)``. Without ``%u`` escapes, by splitting on "%" and one dict lookup
    per piece instead of a regex callback per escape: a 70 KB value encoded three times took ~22 ms
    (more than the whole inspection deadline) in the callbacks alone."""
    global _HEX2
    if "%u" in text or "%U" in text:
        return _PCT.sub(_pct, text)
    if _HEX2 is None:
        digits = "0123456789abcdefABCDEF"
        _HEX2 = {a + b: chr(int(a + b, 16)) for a in digits for b in digits}
    parts = text.split("%")
    out = [parts[0]]
    get = _HEX2.get
    for part in parts[1:]:
        c = get(part[:2])
        if c is None:
            out.append("%")
            out.append(part)
        else:
            out.append(c)
            out.append(part[2:])
    return "".join(out)


def url_decode(text):
    """Percent-decode (bytes >= 0x80 map to latin-1 code points, then UTF-8 is re-read when valid)."""
    out = _pct_decode(text)
    if out is text or out == text:
        return text
    for lead in _OVERLONG_LEAD:
        if lead in out:  # overlong UTF-8 (%c0%ae, %e0%80%ae = "."): an old evasion
            out = _OVERLONG.sub(_overlong, out)
            break
    try:
        raw = out.encode("latin-1")
        return raw.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return out


def url_decode_repeated(text, passes=MAX_URL_PASSES):
    for _ in range(passes):
        if "%" not in text:
            break
        out = url_decode(text)
        if out == text:
            break
        text = out
    return text


def _entity(m):
    s = m.group(0)
    body = s[1:-1] if s.endswith(";") else s[1:]
    if body[:1] == "#":
        try:
            code = int(body[2:], 16) if body[1:2] in "xX" else int(body[1:])
        except ValueError:
            return s
        return _chr(code)
    rep = _NAMED.get(body.lower())
    return s if rep is None else rep


def html_decode(text):
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _jsesc(m):
    s = m.group(0)
    c = s[1]
    if c == "x":
        return chr(int(s[2:], 16))
    if c == "u":
        return _chr(int(s[3:-1] if s[2] == "{" else s[2:], 16))
    return _chr(int(s[1:], 8))


def js_unescape(text):
    return _JSESC.sub(_jsesc, text) if "\\" in text else text


_FOLD = None  # built on first use where str.translate exists: code point -> its ASCII fold
# path separators and dots that best-fit mappings (Windows code pages, some URL decoders) turn into
# ASCII: division and set-minus slashes, fraction slash, big solidi, small forms, one-dot leader
_LOOKALIKES = {0x2215: "/", 0x2044: "/", 0x29F8: "/", 0xFE68: "\\", 0x2216: "\\", 0x29F9: "\\",
               0x2024: ".", 0xFE52: "."}


def fold_unicode(text):
    """Fold fullwidth forms and circled/enclosed alphanumerics to ASCII (evasion in hosts/keywords).

    With ``str.translate`` (CPython) one C pass over a table of what ``_fold_loop`` folds: the loop
    took ~47 ms on 64 KB of text with one character above U+2000 in it (MicroPython keeps it)."""
    global _FOLD
    if _FOLD is None:
        if not hasattr(text, "translate"):
            return _fold_loop(text)
        points = list(range(0xFF01, 0xFF5F)) + list(range(0x2460, 0x2469)) + [0x24EA, 0x24FF, 0x3002, 0xFF61]
        points += list(range(0x24F5, 0x24FE)) + list(range(0x2776, 0x277F)) + list(range(0x2780, 0x2789))
        points += list(range(0x278A, 0x2793)) + list(range(0x24B6, 0x24EA)) + list(_LOOKALIKES)
        _FOLD = {o: _fold_loop(chr(o)) for o in points}
    return text.translate(_FOLD)


def _fold_loop(text):
    out = None
    for i, ch in enumerate(text):
        o = ord(ch)
        rep = None
        if 0xFF01 <= o <= 0xFF5E:
            rep = chr(o - 0xFEE0)
        elif 0x2460 <= o <= 0x2468:
            rep = chr(0x31 + o - 0x2460)
        elif o == 0x24EA or o == 0x24FF:
            rep = "0"
        elif 0x24F5 <= o <= 0x24FD:
            rep = chr(0x31 + o - 0x24F5)
        elif 0x2776 <= o <= 0x277E or 0x2780 <= o <= 0x2788 or 0x278A <= o <= 0x2792:
            rep = chr(0x31 + (o - 0x2776) % 10)
        elif 0x24B6 <= o <= 0x24CF:
            rep = chr(0x61 + o - 0x24B6)
        elif 0x24D0 <= o <= 0x24E9:
            rep = chr(0x61 + o - 0x24D0)
        elif o == 0x3002 or o == 0xFF61:
            rep = "."
        elif o in _LOOKALIKES:
            rep = _LOOKALIKES[o]
        if rep is not None:
            if out is None:
                out = list(text[:i])
            out.append(rep)
        elif out is not None:
            out.append(ch)
    return text if out is None else "".join(out)


_WIDE = LazyRe("[\u2001-\U0010ffff]")  # what fold_unicode may change lies above U+2000


def normalize(text):
    """The ``norm`` view."""
    if "%" in text:
        text = url_decode_repeated(text)
    if "&" in text:
        text = html_decode(text)
        if "%" in text:
            text = url_decode(text)
    if "\\" in text:
        text = js_unescape(text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and _WIDE.search(text) is not None:  # isascii: O(1), the string knows its width
        text = fold_unicode(text)
    return text.lower()


def compact(norm_text):
    """The ``compact`` view of an already-normalized text."""
    if "/*" in norm_text or "<!--" in norm_text or "--" in norm_text:
        norm_text = _COMMENT.sub(" ", norm_text)
    return _SPACE.sub(" ", norm_text)
