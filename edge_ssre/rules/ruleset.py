"""Compile rule specs into an immutable ``Ruleset`` and match leaves against it.

Compilation groups the pattern rules by (family, view, leaf kinds) into one alternation each
(named groups map a match back to its rule), separately for the "plain" table (text made only
of letters, digits, spaces and ``. , : / @ + - _``: only rules marked ``plain`` can fire there,
so ordinary values cost one prefilter search and a few small searches) and the full table.
Named matchers (tokenisers) sit beside the regex groups. The whole structure is tuples of
compiled objects, built once; a reload builds a new ``Ruleset`` and swaps one reference.

``scan(text, kind, budget)`` returns ``[(rule_id, family, severity, excerpt), ...]``: at most
one hit per family per leaf (the highest-severity rule of the family that matches).
"""

import os
import re

from ..verdict import excerpt_of
from .lazy_re import LazyRe
from .spec import SEVERITIES, VIEWS, RuleSpec, parse_rules
from .transform import compact, normalize
from .trie import factor, literal_trie

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
_SPECIAL = LazyRe(r"[^a-zA-Z0-9 _.,:/@+\-\t\n]")
_WS_CTRL = LazyRe(r"[\s\x00-\x1f]+")
_RAW, _NORM, _COMPACT, _NOSPACE = range(4)


COLLAPSE_ABOVE = 512   # characters; shorter values are matched as they are
LONG_VALUE = 2048      # characters above which the deadline is checked between table rows
CHUNK = 8192           # characters: a long text is collapsed, its tokens found and each row searched this
                       # many at a time, with the deadline read between (one row over 64 KB takes up to ~16 ms)
_STOPPED = object()    # a chunked search that the deadline stopped
CLOCK_CHARS = 4096     # characters of leaves scanned between clock reads (besides every 32 leaves)
MAX_REPEAT = 8         # repetitions of a 1-16 character unit kept by collapse_repeats
_REPEAT = LazyRe(r"(.{1,16}?)\1{8,}", re.S)


def collapse_repeats(text, budget=None):
    """Cap runs of a repeated 1-16 character unit at MAX_REPEAT repetitions.

    Eight ``../`` are as much a traversal as eight thousand, but a 64 KB run of quotes or
    parentheses would make every matcher walk it. Only low-diversity text is rewritten (a cheap
    test), so ordinary long values pay one set() of their characters. With a ``budget``, text is
    rewritten CHUNK characters at a time (a run across two chunks keeps up to twice the cap) and
    the rest is left as it is once the deadline has passed: on 64 KB of low-diversity text that
    repeats nothing, the rewrite alone takes ~30 ms."""
    if len(set(text[:4096])) > 24:
        return text
    def cap(m):
        return m.group(1) * MAX_REPEAT
    if budget is None or len(text) <= CHUNK:
        return _REPEAT.sub(cap, text)
    out = []
    for pos in range(0, len(text), CHUNK):
        if budget.expired():
            out.append(text[pos:])
            break
        out.append(_REPEAT.sub(cap, text[pos:pos + CHUNK]))
    return "".join(out)


def _tokens(findall, text, budget):
    """The finder's tokens in a long text, CHUNK positions at a time (the finder matches a
    lookahead at every position, so positions are independent: each chunk reads FINDER_PREFIX - 1
    characters past its end); None once the deadline has passed."""
    n = len(text)
    found = set()
    for pos in range(0, n, CHUNK):
        if budget.expired():
            return None
        found.update(findall(text, pos, min(n, pos + CHUNK + FINDER_PREFIX - 1)))
    return found


def _search_long(rx, text, budget):
    """``rx.search(text)`` over a long text, CHUNK start positions at a time, the deadline read
    between (``_STOPPED`` once it has passed). Each search ends ``reach + 1`` characters past its
    chunk (the pattern's longest match and lookahead, and one character for ``$`` and ``\\b``), and only a
    match starting inside the chunk counts: whatever starts there the search sees as the whole
    search would, so the result is the same match. A pattern of unbounded reach is searched whole."""
    n = len(text)
    reach = rx.reach()
    if reach is None or n <= CHUNK + reach + 1:
        return rx.search(text)
    for pos in range(0, n, CHUNK):
        if pos and budget.expired():
            return _STOPPED
        end = pos + CHUNK
        m = rx.search(text, pos, min(n, end + reach + 1))
        if m is not None and (m.start() < end or end >= n):
            return m
    return None


def _excerpt(text, view, start, end):
    """The excerpt as it was written: a view that only lower-cased the text keeps its positions,
    so the span is cut from the text itself; a view that decoded or folded it is quoted as matched.
    Runs only for a rule that fired."""
    if view is text or (len(view) == len(text) and view == text.lower()):
        return excerpt_of(text, start, end)
    return excerpt_of(view, start, end)


def _view(views, idx, text):
    v = views[idx]
    if v is None:
        if idx == _NORM:
            v = normalize(text)
        elif idx == _COMPACT:
            v = compact(_view(views, _NORM, text))
        else:
            v = _WS_CTRL.sub("", _view(views, _NORM, text))
        views[idx] = v
    return v


# A value this short, printable ASCII with no space and none of % & \\ * < >, has views that are all
# its lower-cased self: one search for any rule's prefilter literal then decides whether any rule can fire.
FAST_MAX = 256
_FAST_SHAPE = LazyRe(r"[!-$'-)+-;=?-\[\]-~]*")


FINDER_PREFIX = 4  # the finder looks for the first 4 characters of each prefilter literal


def _row_masks(plan, tokens):
    """(token -> rows of ``plan`` the token's presence makes sure of, rows that always run,
    token -> [[literal, rows], ...] to confirm first).

    A token is the first FINDER_PREFIX characters of a literal (a literal's prefix must be
    present for the literal to be). The finder reports the longest token starting at each
    position, so the literals no longer than a token that begin it are present wherever it is:
    their rows are sure. A longer literal is confirmed with one ``in`` on the view before its
    rows run (prose holds "inte" far more often than "intersect")."""
    short = {}
    confirm = {}
    always = 0
    for idx, row in enumerate(plan):
        if not row[6]:
            always |= 1 << idx
        for n in row[6]:
            if len(n) <= FINDER_PREFIX:
                short[n] = short.get(n, 0) | (1 << idx)
            else:
                rows = confirm.setdefault(n[:FINDER_PREFIX], {})
                rows[n] = rows.get(n, 0) | (1 << idx)
    sure = {}
    for t in tokens:
        m = 0
        for k in range(1, len(t) + 1):
            m |= short.get(t[:k], 0)
        sure[t] = m
    return sure, always, {t: [[n, bits] for n, bits in sorted(rows.items())] for t, rows in confirm.items()}


def _layout(table):
    """(rows per view, rows per leaf kind, gate per view) over the table's rows (bitmasks).

    A view's gate is a character class that every prefilter literal of the view's rows has one
    character of (the literal's first one that is neither a letter, a digit nor a space): a view
    with none of those characters cannot let any of its rows run, so its prefilter pass is
    skipped (prose without ':' never needs the no-space view). None when a literal of the view
    is only letters, digits and spaces, or a row has no prefilter."""
    view_rows = [0, 0, 0, 0]
    kind_rows = [0] * 8
    gate_chars = [set(), set(), set(), set()]
    for idx, row in enumerate(table):
        view = row[1]
        view_rows[view] |= 1 << idx
        for k in range(8):
            if (row[2] >> k) & 1:
                kind_rows[k] |= 1 << idx
        chars = gate_chars[view]
        if chars is None:
            continue
        for literal in row[6] or (None,):
            special = [c for c in literal or "" if not (c.isalnum() or c == " ")]
            if not special:
                chars = gate_chars[view] = None
                break
            chars.add(special[0])
    gates = [None if c is None else LazyRe("[%s]" % "".join(sorted("\\" + ch if ch in "\\]^-[" else ch for ch in c)))
             for c in gate_chars]
    return view_rows, kind_rows, gates


CLEAN_CACHE_MAX = 512   # short values remembered as clean, per leaf kind; cleared whole when full
CLEAN_CACHE_LEN = 64    # longest value remembered
CLEAN_KEYSETS_MAX = 256  # key sets (tuples of an object's keys) remembered as clean; cleared whole when full
CLEAN_KEYSET_LEN = 64    # most keys in a remembered key set
_KEY, _KEYS = 1, 5       # leaf kinds (edge_ssre.decode.KEY, KEYS)


class Ruleset:
    """Compiled rule tables (immutable) plus a bounded memo of short values known to be clean:
    telemetry repeats its keys and many of its values, and a dict lookup is cheaper than any scan."""

    __slots__ = ("specs", "by_id", "full", "plain", "source_bytes", "trigger", "clean", "clean_keysets",
                 "finder", "full_masks", "plain_masks", "full_layout", "plain_layout", "__weakref__")
    # full_masks / plain_masks: (token -> sure rows, rows that always run, token -> [[literal, rows], ...])

    def __init__(self, specs, matchers, prepared=None):
        by_id = {}
        for s in specs:
            if s.id in by_id:
                raise _dup(s, by_id[s.id])
            by_id[s.id] = s
        self.specs = tuple(specs)
        self.by_id = by_id
        if prepared is None:
            prepared = prepare(specs)
        self.full = _materialize(prepared["full"], by_id, matchers, prepared.get("full_reach"))
        self.plain = _materialize(prepared["plain"], by_id, matchers, prepared.get("plain_reach"))
        self.finder = LazyRe(prepared["finder"]) if prepared["finder"] is not None else None
        # the finder doubles as the whole-value trigger when every row has a prefilter
        self.trigger = self.finder if prepared["trigger"] else None
        # as prepare() made them (from JSON: lists for tuples; used as they are, a cold start
        # spends nothing on them)
        self.full_masks = tuple(prepared["full_masks"])
        self.plain_masks = tuple(prepared["plain_masks"])
        self.full_layout = _layout(self.full)
        self.plain_layout = _layout(self.plain)
        self.clean = ({}, {}, {}, {}, {})
        self.clean_keysets = {}  # tuples of object keys found clean (bounded, see _scan_keys)
        self.source_bytes = sum(len(s.pattern or "") for s in specs)

    def scan(self, text, kind, budget=None):
        n = len(text)
        if n < 2:
            return []
        memo = self.clean[kind] if n <= CLEAN_CACHE_LEN else None
        if memo is not None and text in memo:
            return []
        if n <= FAST_MAX and self.trigger is not None:
            low = text.lower()
            if _FAST_SHAPE.fullmatch(low) is not None and self.trigger.search(" " + low + " ") is None:
                if memo is not None:
                    _remember(memo, text)
                return []
        out = self._scan(text, kind, budget)
        if memo is not None and not out:
            _remember(memo, text)
        return out

    def scan_leaves(self, leaves, budget, max_string, hits):
        """Scan decoded leaves ``(path, text, kind)``; append one ``(path, key, rule_id, family,
        severity, excerpt)`` to ``hits`` per rule that fired (``key`` is the object key for a key-set
        leaf, else None: the caller builds the key's path only then).

        Values longer than ``max_string`` are cut and the budget says so. Memo hits (clean short
        values, clean key sets) cost one lookup here, without a call per leaf. Stops when the
        deadline passes (read every 32 leaves, after CLOCK_CHARS characters of leaves, and after a
        leaf that fired)."""
        clean = self.clean
        clean_keysets = self.clean_keysets
        scan = self.scan
        i = pending = 0
        for path, text, kind in leaves:
            i += 1
            if (i & 31) == 0 or pending > CLOCK_CHARS:
                pending = 0
                if budget.expired():
                    return
            n = len(text)
            pending += n
            if n > max_string:
                budget.exceed("string", path, "value of %d characters; inspected the first %d" % (n, max_string))
                text = text[:max_string]
            if kind == _KEYS:
                if text not in clean_keysets:
                    self._scan_keys(path, text, budget, hits)
                continue
            if n <= CLEAN_CACHE_LEN and (n < 2 or text in clean[kind]):
                continue
            found = scan(text, kind, budget)
            if found:
                for rule_id, family, severity, excerpt in found:
                    hits.append((path, None, rule_id, family, severity, excerpt))
                if budget.timed_out:
                    return

    def _scan_keys(self, path, keys, budget, hits):
        """The keys of one object: a key set already seen clean costs one lookup."""
        memo = self.clean_keysets
        if keys in memo:
            return
        scan = self.scan
        clean = True
        for key in keys:
            if type(key) is not str:
                continue
            found = scan(key, _KEY, budget)
            if found:
                clean = False
                for rule_id, family, severity, excerpt in found:
                    hits.append((path, key, rule_id, family, severity, excerpt))
        if clean and len(keys) <= CLEAN_KEYSET_LEN:
            if len(memo) >= CLEAN_KEYSETS_MAX:
                memo.clear()
            memo[keys] = True

    def _scan(self, text, kind, budget):
        n = len(text)
        timed = budget is not None and n > LONG_VALUE
        if n > COLLAPSE_ABOVE:
            text = collapse_repeats(text, budget if timed else None)
        if _SPECIAL.search(text) is not None:
            table, (sure, always, confirm), layout = self.full, self.full_masks, self.full_layout
        else:
            table, (sure, always, confirm), layout = self.plain, self.plain_masks, self.plain_layout
        view_rows, kind_rows, gates = layout
        views = [text, None, None, None]
        findall = self.finder.findall if self.finder is not None else None
        # rows that may run: their kind, and one of their prefilter literals present in their view
        run = 0
        seen = {}
        for view in range(4):
            rows = view_rows[view] & kind_rows[kind]
            if not rows:
                continue
            if timed and budget.expired():
                return []
            v = views[view] if views[view] is not None else _view(views, view, text)
            if view == _RAW:
                v = v.lower()
            if gates[view] is not None and gates[view].search(v) is None:
                continue
            pv = " " + v + " "
            fm = seen.get(pv)
            if fm is None:
                fm = always
                if findall is not None:
                    tokens = _tokens(findall, pv, budget) if timed and len(pv) > CHUNK else set(findall(pv))
                    if tokens is None:
                        return []
                    for token in tokens:
                        fm |= sure.get(token, 0)
                        for literal, bits in confirm.get(token, ()):
                            if bits & ~fm and literal in pv:
                                fm |= bits
                seen[pv] = fm
            run |= rows & fm
        out = []
        done = None
        # long values read the clock between rows so the deadline holds; short ones never do
        while run:
            low = run & -run
            run ^= low
            family, view, kmask, rx, ids, fn, needs = table[low.bit_length() - 1]
            if done is not None and family in done:
                continue
            if timed and budget.expired():
                break
            v = views[view]
            if rx is not None:
                m = _search_long(rx, v, budget) if timed and len(v) > CHUNK else rx.search(v)
                if m is None:
                    continue
                if m is _STOPPED:
                    break
                spec = ids[m.lastgroup]
                s, e = m.start(), m.end()
            else:
                span = fn(v, budget)
                if span is None:
                    continue
                spec = ids
                s, e = span
            out.append((spec.id, family, spec.severity, _excerpt(text, v, s, e)))
            if done is None:
                done = set()
            done.add(family)
            if budget is not None and not budget.tick():
                break
        return out

    def compile_all(self):
        """Compile every lazy pattern now (servers that prefer a slower start to a slower first event)."""
        for table in (self.full, self.plain):
            for row in table:
                if row[3] is not None:
                    row[3].compile()
        if self.finder is not None:
            self.finder.search(" ")
        return self

    def stats(self):
        """Sizes of the compiled tables (fixed once built) and the bounds of the memos."""
        return {
            "rules": len(self.specs),
            "families": len(set(s.family for s in self.specs)),
            "full_rows": len(self.full),
            "plain_rows": len(self.plain),
            "pattern_source_bytes": self.source_bytes,
            "finder_tokens": len(self.full_masks[0]),
            "memo_max_values": CLEAN_CACHE_MAX * len(self.clean),
            "memo_max_value_chars": CLEAN_CACHE_LEN,
            "memo_max_keysets": CLEAN_KEYSETS_MAX,
        }

    def table_bytes(self):
        """Bytes held by the compiled tables: compiled patterns (their code arrays), rows, prefilter
        masks. Grows only while lazy patterns compile on first use; ``compile_all()`` reaches the
        final, fixed size."""
        import sys
        total = 0
        for table in (self.full, self.plain):
            total += sys.getsizeof(table)
            for row in table:
                total += sys.getsizeof(row) + sum(sys.getsizeof(n) for n in row[6])
                if row[3] is not None:
                    total += row[3].compiled_size()
        for sure, _, confirm in (self.full_masks, self.plain_masks):
            total += sys.getsizeof(sure) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in sure.items())
            total += sys.getsizeof(confirm) + sum(sys.getsizeof(k) + sys.getsizeof(v) + sum(
                sys.getsizeof(p) + sys.getsizeof(p[0]) + sys.getsizeof(p[1]) for p in v) for k, v in confirm.items())
        if self.finder is not None:
            total += self.finder.compiled_size()
        return total


def _remember(memo, text):
    if len(memo) >= CLEAN_CACHE_MAX:
        memo.clear()
    memo[text] = True


def _dup(a, b):
    from ..errors import RuleError
    return RuleError("%s: rule %s: duplicate id (also in %s)" % (a.origin, a.id, b.origin))


def _plan(specs, plain_only):
    """Rows as plain data: [family, view, kind mask, regex source | None, [rule ids], matcher | None, needs].

    Every shipped rule has a ``needs`` prefilter and gets a row of its own; rules without one
    (user rule files may omit it) share one alternation per (family, view, kinds) and disable the
    whole-value trigger, which is only sound when every row has a prefilter."""
    sev_rank = {s: i for i, s in enumerate(SEVERITIES)}
    buckets = {}
    rows = []
    for s in specs:
        if plain_only and not s.plain:
            continue
        view = VIEWS.index(s.view)
        kmask = 0
        for k in s.kinds:
            kmask |= 1 << k
        rank = sev_rank[s.severity]
        if s.context is not None:
            # judged by a context: a row of its own, materialized as a matcher (see _materialize)
            rows.append([s.family, view, kmask, factor(s.pattern) if s.pattern is not None else None, [s.id],
                         "@%s:%s" % (s.context, s.matcher or ""), list(s.needs), rank])
        elif s.matcher is not None:
            rows.append([s.family, view, kmask, None, [s.id], s.matcher, list(s.needs), rank])
        elif s.needs:
            rows.append([s.family, view, kmask, "(?P<r0>%s)" % factor(s.pattern), [s.id], None, list(s.needs), rank])
        else:
            buckets.setdefault((s.family, view, kmask), []).append(s)
    for (family, view, kmask), group in buckets.items():
        group.sort(key=lambda s: -sev_rank[s.severity])
        source = "|".join("(?P<r%d>%s)" % (i, factor(s.pattern)) for i, s in enumerate(group))
        rows.append([family, view, kmask, source, [s.id for s in group], None, [],
                     max(sev_rank[s.severity] for s in group)])
    # families in a stable order; within a family, the most severe row first
    rows.sort(key=lambda r: (r[0], -r[7]))
    return [r[:7] for r in rows]


def _materialize(plan, by_id, matchers, reach=None):
    """Rows of compiled objects: (family, view, kind mask, LazyRe | None, {group: spec} | spec,
    matcher | None, needs). ``reach``: each row pattern's reach as the host worked it out, or None."""
    out = []
    for i, (family, view, kmask, source, ids, matcher, needs) in enumerate(plan):
        if matcher is not None and matcher[:1] == "@":
            out.append((family, view, kmask, None, by_id[ids[0]], _context_row(matcher, source, reach, i),
                        tuple(needs)))
        elif source is None:
            out.append((family, view, kmask, None, by_id[ids[0]], matchers[matcher], tuple(needs)))
        else:
            out.append((family, view, kmask, LazyRe(source, reach=reach[i] if reach is not None else False),
                        {"r%d" % i: by_id[rid] for i, rid in enumerate(ids)}, None, tuple(needs)))
    return tuple(out)


def _context_row(matcher, source, reach, i):
    """The matcher of a rule judged by a context: plan field ``@<context>:<named matcher or empty>``."""
    from .matchers import with_context
    name, _, named = matcher[1:].partition(":")
    if source is not None:
        return with_context(name, rx=LazyRe(source, reach=reach[i] if reach is not None else False))
    return with_context(name, matcher=named)


def prepare(specs, reach=False):
    """Everything derived from the specs that start-up would otherwise recompute (JSON-serialisable).
    With ``reach``, each row pattern's reach too (re's parser: ~0.5 ms a pattern, so the host works
    it out for the compiled table; otherwise a row works out its own on its first long text)."""
    full = _plan(specs, plain_only=False)
    plain = _plan(specs, plain_only=True)
    tokens = set()
    for row in full + plain:
        tokens.update(n[:FINDER_PREFIX] for n in row[6])
    full_masks = _row_masks(full, tokens)
    plain_masks = _row_masks(plain, tokens)
    every_row_filtered = all(row[6] for row in full)
    out = {
        "full": full, "plain": plain,
        "trigger": every_row_filtered,
        "finder": "(?=(%s))" % literal_trie(tokens) if tokens else None,
        "full_masks": list(full_masks),
        "plain_masks": list(plain_masks),
    }
    if reach:
        from .lazy_re import pattern_reach
        for name, plan in (("full_reach", full), ("plain_reach", plain)):
            out[name] = [pattern_reach(row[3]) if row[3] is not None and row[5] is None else None for row in plan]
    return out


COMPILED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compiled_rules.json")


def source_paths():
    return sorted(os.path.join(DATA_DIR, f) for f in os.listdir(DATA_DIR) if f.endswith(".toml"))


def source_digest(paths=None):
    """A digest of the rule sources, written into the MicroPython table (micro/build.py)."""
    import hashlib
    h = hashlib.sha256()
    for p in paths or source_paths():
        with open(p, "rb") as fh:
            h.update(os.path.basename(p).encode() + b"\0" + fh.read())
    return h.hexdigest()


def source_crc(paths=None):
    """CRC-32 of the rule sources: what a process start compares (zlib imports in ~0.3 ms, hashlib
    in ~3 ms) when the files' times cannot tell, as in a fresh git checkout."""
    import zlib
    crc = 0
    for p in paths or source_paths():
        with open(p, "rb") as fh:
            crc = zlib.crc32(os.path.basename(p).encode() + b"\0" + fh.read(), crc)
    return crc


def load_specs(paths=None, validate=True):
    """Parse rule files into specs; errors name the file and rule id."""
    from ..tomlload import load_toml
    from ..errors import RuleError
    from .matchers import MATCHERS
    specs = []
    for p in paths or source_paths():
        data, _, label = load_toml(p, error=RuleError)
        specs.extend(parse_rules(data, os.path.basename(label), MATCHERS))
    return specs


def _fresh(table):
    """Whether the compiled table matches the rule sources: at least as new as every one (stats
    only), else the same CRC-32 of their contents (a checkout or an unpacked archive sets file
    times in any order). A stale or missing table falls back to parsing the TOML sources."""
    if not os.path.isdir(DATA_DIR):
        return True  # a deployment package ships the compiled table only
    built = os.stat(COMPILED).st_mtime
    if all(os.stat(p).st_mtime <= built for p in source_paths()):
        return True
    return table.get("crc") == source_crc()


def compiled_table(specs, profiles=None, profile_crc=None):
    """The host-compiled form of the specs (and the shipped device profiles): plain JSON, loaded
    without a TOML parser, with the derived tables precomputed."""
    rows = []
    for s in specs:
        rows.append({k: getattr(s, k) for k in RuleSpec.__slots__})
    return {"format": 3, "crc": source_crc(), "rules": rows, "prepared": prepare(specs, reach=True),
            "profiles": profiles or {}, "profile_crc": profile_crc or {}}


def _specs_from_table(table):
    return [RuleSpec(**dict(r, kinds=tuple(r["kinds"]), needs=tuple(r["needs"]), attack=tuple(r["attack"]),
                            benign=tuple(r["benign"]))) for r in table["rules"]]


def build(paths=None):
    """Parse and compile rule files (the built-in set when ``paths`` is None)."""
    from .matchers import MATCHERS
    return Ruleset(load_specs(paths), MATCHERS)


_TABLE = None


def compiled():
    """The host-compiled table, read once per process ({} when missing or unreadable)."""
    global _TABLE
    if _TABLE is None:
        import json
        try:
            with open(COMPILED, "r") as fh:
                _TABLE = json.load(fh)
        except (OSError, ValueError):
            _TABLE = {}
    return _TABLE


def build_default():
    """The built-in rules: from the compiled table when it matches the sources, else from TOML."""
    from .matchers import MATCHERS
    table = compiled()
    try:
        if table.get("format") == 3 and _fresh(table):
            rs = Ruleset(_specs_from_table(table), MATCHERS, table["prepared"])
            # the ruleset now holds what it needs; keep only the small profiles part in memory
            table.pop("prepared", None)
            table.pop("rules", None)
            return rs
    except (OSError, KeyError, TypeError):
        pass
    return build(None)
