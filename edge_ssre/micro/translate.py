"""Rule patterns (CPython ``re`` syntax) -> patterns MicroPython's ``re`` can run. Host side.

MicroPython's ``re`` (re1.5) knows literals, ``.``, classes (with ``\\d \\w \\s`` inside), ``* + ?``
and their lazy forms, ``|``, ``(?:...)``, ``^`` and ``$``, and nothing else: no ``{m,n}`` (it is
read as literal text), no ``\\b``, no lookaround, no flags, no ``\\x`` escapes. Its compiled
program stores jump offsets in one signed byte, so an alternation or a repeated group whose code
exceeds ~127 bytes is refused ("regex too complex"); a NUL byte ends the pattern; class ranges
compare signed chars, so a range may not cross 0x7f/0x80. It matches bytes.

The micro scanner (``micro/scan.py``) matches lower-cased UTF-8 bytes, so the translation works on
bytes too and lower-cases every literal. Per construct:

* ``{m,n}``: ``m`` copies, then up to MAX_NESTED nested optionals ``(?:x(?:x)?)?`` (one
  backtracking path per length, like the original), else ``x*`` (an *approximation*: the rule may
  match longer runs than the original; counted in the report; the scanner caps the bytes it
  matches, so the run stays bounded).
* ``\\b``: decided from the neighbours' possible characters: dropped where they already imply a
  word boundary, ``(?:^|[^a-z0-9_])`` at the start of a top-level alternative and
  ``(?:[^a-z0-9_]|$)`` at its end (consuming one character there does not change whether the
  pattern is found); anywhere else the rule is not translated.
* ``.``: ``[^\\n]`` (``[\\x01-\\x7f\\x80-\\xff]`` under ``(?s)``), the same set on both runtimes.
* An alternation that does not fit is split: the rule becomes several patterns, one per chunk of
  the alternatives, each with the same context (``a(?:x|y|...)b`` -> ``a(?:x|y)b``, ``a(?:...)b``).

Not translated (the rule is left out of the micro table, and the report says why): lookaround,
backreferences, ``\\B``, atomic groups, a ``\\b`` whose sides are ambiguous, NUL bytes, and rules
that need more than MAX_PATTERNS patterns.
"""

try:  # Python >= 3.11
    from re import _constants as C
    from re import _parser as P
except ImportError:  # Python 3.9, 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

MAX_OFFSET = 127       # re1.5 stores jump offsets in a signed byte
MAX_PATTERNS = 48      # patterns one rule may become after splitting
MAX_NESTED = 3        # ``x{m,n}``: up to this many optional copies nest, more become ``x*``
MAX_COPIES = 64        # ``x{m,n}``: at most this many mandatory copies
WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
NOT_WORD = "[^a-z0-9_]"
_META = frozenset(b"\\.^$*+?()[]{}|")
_CLASS_META = frozenset(b"]\\-^")


class Untranslatable(Exception):
    """The pattern uses something MicroPython's ``re`` cannot express."""


# -- a small tree: ("atom", bytes, size, first, last) | ("seq", [..]) | ("alt", [..]) | ("rep", node, op)
# ``first``/``last`` are sets over {"w", "n", "e"}: a word byte, a non-word byte, or nothing
# (an empty match / a zero-width assertion) at that end.

def _atom(text, size, chars):
    return ("atom", text, size, chars, chars)


def _chars_kind(byte_set):
    kinds = set()
    for b in byte_set:
        kinds.add("w" if b in WORD else "n")
        if len(kinds) == 2:
            break
    return frozenset(kinds)


ANY_W_N = frozenset("wn")
EMPTY = frozenset("e")


def size(node):
    """Bytes of re1.5 code the node compiles to (Char 2, NamedClass 2, Class 2+2/pair, Any 1,
    Bol/Eol 1, ``?``/``+`` 2, ``*`` 4, ``|`` 4 per alternative after the first)."""
    tag = node[0]
    if tag == "atom":
        return node[2]
    if tag == "bnd":
        return 15  # at most what _boundary puts there
    if tag == "seq":
        return sum(size(n) for n in node[1])
    if tag == "alt":
        return sum(size(n) for n in node[1]) + 4 * (len(node[1]) - 1)
    op = node[2]
    return size(node[1]) + (4 if op[0] == "*" else 2)


def fits(node):
    """No jump in the node's code spans more than MAX_OFFSET bytes."""
    tag = node[0]
    if tag in ("atom", "bnd"):
        return True
    if tag == "seq":
        return all(fits(n) for n in node[1])
    if tag == "alt":
        return size(node) + 2 <= MAX_OFFSET and all(fits(n) for n in node[1])
    return size(node[1]) + 4 <= MAX_OFFSET and fits(node[1])


def _edge(node, at_end):
    """Characters (w/n) the node may put at its start (or end), with "e" if it may match empty."""
    tag = node[0]
    if tag == "bnd":
        return EMPTY
    if tag == "atom":
        return node[4] if at_end else node[3]
    if tag == "alt":
        out = set()
        for n in node[1]:
            out |= _edge(n, at_end)
        return frozenset(out)
    if tag == "rep":
        f = _edge(node[1], at_end)
        return f | EMPTY if node[2][0] in "*?" else f
    return _side(node[1][::-1] if at_end else node[1], at_end, EMPTY)


def emit(node):
    tag = node[0]
    if tag == "atom":
        return node[1]
    if tag == "seq":
        return b"".join(emit(n) for n in node[1])
    if tag == "alt":
        return b"(?:" + b"|".join(emit(n) for n in node[1]) + b")"
    inner = node[1]
    body = emit(inner)
    if not _single(inner):
        body = b"(?:" + body + b")"
    return body + node[2].encode()


def _single(node):
    """One re1.5 instruction, which a quantifier may follow without a group."""
    if node[0] != "atom":
        return False
    t = node[1]
    return len(t) == 1 or (len(t) == 2 and t[:1] == b"\\") or (t[:1] == b"[" and t.find(b"]", 2) == len(t) - 1)


# -- sre parse tree -> our tree

def _lit_byte(b):
    if b == 0:
        b = 1  # the micro views hold NUL as 0x01: a NUL ends a re1.5 pattern
    return (b"\\" + bytes((b,))) if b in _META else bytes((b,))


def _literal(code, fold=True):
    ch = chr(code).lower() if fold else chr(code)
    raw = ch.encode("utf-8")
    text = b"".join(_lit_byte(b) for b in raw)
    return ("atom", text, 2 * len(raw), _chars_kind(raw[:1]), _chars_kind(raw[-1:]))


_CATS = {
    C.CATEGORY_DIGIT: (b"\\d", frozenset("w")), C.CATEGORY_NOT_DIGIT: (b"\\D", ANY_W_N),
    C.CATEGORY_WORD: (b"\\w", frozenset("w")), C.CATEGORY_NOT_WORD: (b"\\W", frozenset("n")),
    C.CATEGORY_SPACE: (b"\\s", frozenset("n")), C.CATEGORY_NOT_SPACE: (b"\\S", ANY_W_N),
}


def _class_byte(b):
    if b == 0:
        b = 1  # NUL is 0x01 in the micro views
    return (b"\\" + bytes((b,))) if b in _CLASS_META else bytes((b,))


def _ranges_lower(lo, hi, fold=True):
    """[(lo, hi)] over bytes for a code point range, lower-cased, never crossing 0x7f/0x80."""
    if hi > 0x7F:
        if lo > 0x7F:
            raise Untranslatable("non-ASCII class range")
        hi = 0x7F  # the micro views are UTF-8: bytes >= 0x80 are handled by the caller
    lo = max(lo, 1)
    out = []
    if fold and lo <= ord("Z") and hi >= ord("A"):  # fold the upper-case part onto lower case
        a, z = max(lo, ord("A")), min(hi, ord("Z"))
        out.append((a + 32, z + 32))
        if lo < a:
            out.append((lo, a - 1))
        if hi > z:
            out.append((z + 1, hi))
    else:
        out.append((lo, hi))
    return out


def _class(items, negate_outer=False, fold=True):
    """A class node from sre IN items."""
    negate = negate_outer
    pairs = []
    kinds = set()
    high = False  # the class takes bytes >= 0x80 (a non-ASCII member or range)
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            raw = (chr(av).lower() if fold else chr(av)).encode("utf-8")
            if len(raw) > 1:
                high = True
                continue
            pairs.append(_class_byte(raw[0]))
            kinds |= _chars_kind(raw)
        elif op is C.RANGE:
            lo, hi = av
            if hi > 0x7F:
                high = True
            if lo > 0x7F:
                continue
            for a, z in _ranges_lower(lo, hi, fold):
                if a == z:
                    pairs.append(_class_byte(a))
                elif z in _CLASS_META or z == ord("]"):
                    if z - a > 8:
                        raise Untranslatable("class range ending in a metacharacter")
                    pairs.extend(_class_byte(c) for c in range(a, z + 1))
                else:
                    pairs.append(_class_byte(a) + b"-" + bytes((z,)))
                kinds |= _chars_kind(range(a, z + 1))
        elif op is C.CATEGORY:
            text, k = _CATS[av]
            pairs.append(text)
            kinds |= k
        else:
            raise Untranslatable("class item %s" % op)
    if high and not negate:
        pairs.append(b"\x80-\xff")
        kinds.add("n")
    if negate:  # (a negated class then also takes every byte >= 0x80)
        kinds = set(ANY_W_N)
    pairs = list(dict.fromkeys(pairs))
    if len(pairs) == 1 and not negate and len(pairs[0]) == 2 and pairs[0][:1] == b"\\":
        return ("atom", pairs[0], 2, frozenset(kinds), frozenset(kinds))  # [\s] -> \s
    if not pairs or len(pairs) > 120:
        raise Untranslatable("empty or oversized class")
    text = (b"[^" if negate else b"[") + b"".join(pairs) + b"]"
    return ("atom", text, 2 + 2 * len(pairs), frozenset(kinds), frozenset(kinds))


def _nested_optional(x, count):
    node = ("rep", x, "?")
    for _ in range(count - 1):
        node = ("rep", ("seq", [x, node]), "?")
    return node


def _unstar(x):
    """The body for ``x*`` with the inner quantifiers that only repeat or skip a part removed:
    ``(?:y*|z)*`` and ``(?:y|z)*`` match the same strings, ``(?:y+)*`` and ``y*`` too, but the
    first forms backtrack exponentially on a failed match (``{m,n}`` approximated as ``*`` inside
    a repeated group makes them)."""
    tag = x[0]
    if tag == "rep" and x[2][0] in "*?+":
        return _unstar(x[1])
    if tag == "alt":
        return ("alt", [_unstar(n) for n in x[1]])
    if tag == "seq" and len(x[1]) == 1:
        return _unstar(x[1][0])
    return x


def _star(x, lazy):
    x = _unstar(x)
    if "e" in _edge(x, False):  # still nullable (e.g. a sequence of optional parts): no bounded backtracking
        raise Untranslatable("unbounded repeat of a group that can match nothing")
    return ("rep", x, "*?" if lazy else "*")


def _repeat(lo, hi, x, lazy):
    if x[0] == "atom" and x[1] in (b"^", b"$"):
        raise Untranslatable("repeated anchor")
    if lo > MAX_COPIES:
        raise Untranslatable("repeat with a minimum above %d" % MAX_COPIES)
    parts = [x] * lo
    approx = False
    if hi == C.MAXREPEAT:
        parts.append(_star(x, lazy))
    elif hi > lo:
        extra = hi - lo
        if lazy:
            approx = extra > 1
            parts.append(("rep", x, "??") if extra == 1 else _star(x, True))
        elif extra <= MAX_NESTED:
            parts.append(_nested_optional(x, extra))
        else:
            parts.append(_star(x, False))
            approx = True
    return ("seq", parts), approx


class _Ctx:
    __slots__ = ("approx", "dotall", "fold")

    def __init__(self, dotall, fold):
        self.approx = False
        self.dotall = dotall
        self.fold = fold


BOUNDARY = ("bnd",)  # a \\b, resolved by _resolve once the whole tree is known
START, END = "S", "E"  # in neighbour sets: the start / end of the searched text is possible there


def _seq(items, ctx):
    nodes = []
    for op, av in items:
        if op is C.AT and av is C.AT_BOUNDARY:
            nodes.append(BOUNDARY)
            continue
        x = _node(op, av, ctx)
        if x[0] == "seq":
            nodes.extend(x[1])
        else:
            nodes.append(x)
    return ("seq", nodes)


def _resolve(node, before, after, ctx):
    """Replace every BOUNDARY by what it means between ``before`` and ``after`` (sets over w/n/S/E)."""
    tag = node[0]
    if tag == "atom":
        return node
    if tag == "alt":
        return ("alt", [_resolve(n, before, after, ctx) for n in node[1]])
    if tag == "rep":
        body = node[1]
        return ("rep", _resolve(body, before | (_edge(body, True) - EMPTY), after | (_edge(body, False) - EMPTY), ctx), node[2])
    items = node[1]
    out = []
    for i, x in enumerate(items):
        b = _side(items[:i][::-1], True, before)
        a = _side(items[i + 1:], False, after)
        out.append(_boundary(b, a, ctx) if x is BOUNDARY else _resolve(x, b, a, ctx))
    return ("seq", [x for x in out if x is not None])


def _side(nodes, at_end, outer):
    acc = set()
    for x in nodes:
        s = _edge(x, at_end)
        acc |= s - EMPTY
        if "e" not in s:
            return frozenset(acc)
    return frozenset(acc) | outer


_LEAD_B = ("atom", b"(?:^|" + NOT_WORD.encode() + b")", 15, EMPTY | frozenset("n"), EMPTY | frozenset("n"))
_TRAIL_B = ("atom", b"(?:" + NOT_WORD.encode() + b"|$)", 15, EMPTY | frozenset("n"), EMPTY | frozenset("n"))


def _boundary(before, after, ctx):
    word_b = before <= {"w"}
    word_a = after <= {"w"}
    plain_b = before <= {"n"}  # START is not plain: in a search anything may precede the match
    plain_a = after <= {"n"}
    if (word_b and plain_a) or (plain_b and word_a):
        return None  # the neighbours already make a word boundary
    if word_a:  # a word starts here: the byte before is a non-word one, or there is none
        if before != {START}:
            ctx.approx = True  # consuming it may take a byte the preceding item needed
        return _LEAD_B
    if word_b:
        if after != {END}:
            ctx.approx = True
        return _TRAIL_B
    raise Untranslatable("word boundary with ambiguous sides")


def _node(op, av, ctx):
    if op is C.LITERAL:
        return _literal(av, ctx.fold)
    if op is C.NOT_LITERAL:
        return _class([(C.LITERAL, av)], True, ctx.fold)
    if op is C.ANY:
        if ctx.dotall:
            return ("atom", b"[\x01-\x7f\x80-\xff]", 6, ANY_W_N, ANY_W_N)
        return ("atom", b"[^\n]", 4, ANY_W_N, ANY_W_N)
    if op is C.IN:
        return _class(av, False, ctx.fold)
    if op is C.CATEGORY:
        text, k = _CATS[av]
        return _atom(text, 2, k)
    if op is C.AT:
        if av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
            return ("atom", b"^", 1, EMPTY, EMPTY)
        if av in (C.AT_END, C.AT_END_STRING):
            return ("atom", b"$", 1, EMPTY, EMPTY)
        raise Untranslatable("assertion %s" % av)
    if op is C.BRANCH:
        return ("alt", [_seq(b, ctx) for b in av[1]])
    if op is C.SUBPATTERN:
        group, add_flags, del_flags, sub = av
        if group is not None:
            raise Untranslatable("capturing group")
        saved = ctx.dotall
        if add_flags & C.SRE_FLAG_DOTALL:
            ctx.dotall = True
        if del_flags & C.SRE_FLAG_DOTALL:
            ctx.dotall = False
        node = _seq(sub, ctx)
        ctx.dotall = saved
        return node
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        lo, hi, sub = av
        x = _seq(sub, ctx)
        if len(x[1]) == 1:
            x = x[1][0]
        node, approx = _repeat(lo, hi, x, op is C.MIN_REPEAT)
        ctx.approx = ctx.approx or approx
        return node
    raise Untranslatable(str(op).lower())


def _split(node):
    """Patterns (nodes) equivalent, together, to ``node`` whose alternations all fit."""
    if fits(node):
        return [node]
    path = _oversize_alt(node, ())
    if path is None:
        raise Untranslatable("a repeated group too large for MicroPython's re")
    alt = _get(node, path)
    chunks, cur = [], []
    for branch in alt[1]:
        trial = ("alt", cur + [branch])
        if cur and not fits(trial):
            chunks.append(cur)
            cur = [branch]
        else:
            cur.append(branch)
    chunks.append(cur)
    if len(chunks) == 1:  # one branch alone is too big
        raise Untranslatable("an alternative too large for MicroPython's re")
    variants = [_replace(node, path, ("alt", c) if len(c) > 1 else c[0]) for c in chunks]
    if all(fits(v) for v in variants):
        # one template: the context is stored once, the device builds each chunk's pattern
        prefix, suffix = emit(_replace(node, path, ("atom", b"\x00", 0, EMPTY, EMPTY))).split(b"\x00")
        bodies = [emit(("alt", c)) if len(c) > 1 else emit(c[0]) for c in chunks]
        return [("tmpl", prefix, suffix, bodies)]
    out = []
    for chunk in chunks:
        out.extend(_split(_replace(node, path, ("alt", chunk) if len(chunk) > 1 else chunk[0])))
        if len(out) > MAX_PATTERNS:
            raise Untranslatable("more than %d patterns after splitting" % MAX_PATTERNS)
    return out


def _oversize_alt(node, path):
    """Path to the outermost alternation that does not fit, unless it sits under a repeat."""
    tag = node[0]
    if tag == "alt":
        if not fits(node) and size(node) + 2 > MAX_OFFSET:
            return path
        for i, n in enumerate(node[1]):
            p = _oversize_alt(n, path + (i,))
            if p is not None:
                return p
    elif tag == "seq":
        for i, n in enumerate(node[1]):
            p = _oversize_alt(n, path + (i,))
            if p is not None:
                return p
    return None


def _get(node, path):
    for i in path:
        node = node[1][i]
    return node


def _replace(node, path, new):
    if not path:
        return new
    kids = list(node[1])
    kids[path[0]] = _replace(kids[path[0]], path[1:], new)
    return (node[0], kids) + tuple(node[2:])


def translate(pattern, fold=True):
    """``(entries, approximate)``: patterns for MicroPython's re that, any of them found, match
    what ``pattern`` matches on lower-cased text. An entry is a bytes pattern, or a template
    ``(prefix, suffix, bodies)`` standing for the patterns ``prefix + body + suffix`` (a split
    alternation whose context is stored once). ``fold=False`` keeps letter case (schema
    patterns, matched against the value itself). Raises ``Untranslatable``."""
    parsed = P.parse(pattern)
    flags = parsed.state.flags
    if flags & (C.SRE_FLAG_MULTILINE | C.SRE_FLAG_VERBOSE):
        raise Untranslatable("multiline/verbose flags")
    if flags & C.SRE_FLAG_IGNORECASE and not fold:
        raise Untranslatable("case-insensitive flag")
    ctx = _Ctx(bool(flags & C.SRE_FLAG_DOTALL), fold)
    root = _resolve(_seq(list(parsed), ctx), frozenset(START), frozenset(END), ctx)
    # top-level alternatives are independent searches: each becomes a pattern of its own unless
    # several fit together
    tops = root[1][0][1] if len(root[1]) == 1 and root[1][0][0] == "alt" else [root]
    nodes = []
    for t in tops:
        nodes.extend(_split(t))
    merged, cur = [n for n in nodes if n[0] == "tmpl"], []
    for n in nodes:
        if n[0] == "tmpl":
            continue
        trial = ("alt", cur + [n])
        if cur and not fits(trial):
            merged.append(("alt", cur) if len(cur) > 1 else cur[0])
            cur = [n]
        else:
            cur.append(n)
    if cur:
        merged.append(("alt", cur) if len(cur) > 1 else cur[0])
    if sum(len(n[3]) if n[0] == "tmpl" else 1 for n in merged) > MAX_PATTERNS:
        raise Untranslatable("more than %d patterns after splitting" % MAX_PATTERNS)
    out = []
    for n in merged:
        if n[0] == "tmpl":
            out.append((n[1], n[2], tuple(n[3])))
            continue
        text = emit(n)
        if text.startswith(b"(?:") and n[0] == "alt":
            text = text[3:-1]
        out.append(text)
    return out, ctx.approx
