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
from .spec import SEVERITIES, VIEWS, parse_rules
from .transform import compact, normalize

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
_SPECIAL = re.compile(r"[^a-zA-Z0-9 _.,:/@+\-\t\n]")
_WS_CTRL = re.compile(r"[\s\x00-\x1f]+")
_RAW, _NORM, _COMPACT, _NOSPACE = range(4)


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


class Ruleset:
    __slots__ = ("specs", "by_id", "full", "plain", "source_bytes", "__weakref__")

    def __init__(self, specs, matchers):
        by_id = {}
        for s in specs:
            if s.id in by_id:
                raise _dup(s, by_id[s.id])
            by_id[s.id] = s
        self.specs = tuple(specs)
        self.by_id = by_id
        self.full = _compile(specs, matchers, plain_only=False)
        self.plain = _compile(specs, matchers, plain_only=True)
        self.source_bytes = sum(len(s.pattern or "") for s in specs)

    def scan(self, text, kind, budget=None):
        if len(text) < 2:
            return []
        table = self.full if _SPECIAL.search(text) is not None else self.plain
        views = [text, None, None, None]
        out = []
        done = None
        for family, view, kmask, rx, ids, fn, sev in table:
            if not (kmask >> kind) & 1 or (done is not None and family in done):
                continue
            v = views[view] if views[view] is not None else _view(views, view, text)
            if rx is not None:
                m = rx.search(v)
                if m is None:
                    continue
                spec = ids[m.lastgroup]
                s, e = m.start(), m.end()
            else:
                span = fn(v, budget)
                if span is None:
                    continue
                spec = ids
                s, e = span
            out.append((spec.id, family, spec.severity, excerpt_of(v, s, e)))
            if done is None:
                done = set()
            done.add(family)
            if budget is not None and not budget.tick():
                break
        return out

    def stats(self):
        """Sizes of the compiled tables (fixed once built)."""
        return {
            "rules": len(self.specs),
            "families": len(set(s.family for s in self.specs)),
            "full_groups": len(self.full),
            "plain_groups": len(self.plain),
            "pattern_source_bytes": self.source_bytes,
        }


def _dup(a, b):
    from ..errors import RuleError
    return RuleError("%s: rule %s: duplicate id (also in %s)" % (a.origin, a.id, b.origin))


def _compile(specs, matchers, plain_only):
    """Tuple of (family, view, kind mask, regex|None, {group: spec}|spec, matcher|None, severity rank)."""
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
        if s.matcher is not None:
            rows.append((s.family, view, kmask, None, s, matchers[s.matcher], sev_rank[s.severity]))
            continue
        buckets.setdefault((s.family, view, kmask), []).append(s)
    for (family, view, kmask), group in buckets.items():
        group.sort(key=lambda s: -sev_rank[s.severity])
        names = {}
        parts = []
        for i, s in enumerate(group):
            name = "r%d" % i
            names[name] = s
            parts.append("(?P<%s>%s)" % (name, s.pattern))
        rx = re.compile("|".join(parts))
        rows.append((family, view, kmask, rx, names, None, max(sev_rank[s.severity] for s in group)))
    # families in a stable order; within a family, the most severe group first
    rows.sort(key=lambda r: (r[0], -r[6]))
    return tuple(rows)


def load_specs(paths=None):
    from ..tomlload import load_toml
    from ..errors import RuleError
    from .matchers import MATCHERS
    if paths is None:
        paths = sorted(os.path.join(DATA_DIR, f) for f in os.listdir(DATA_DIR) if f.endswith(".toml"))
    specs = []
    for p in paths:
        data, _, label = load_toml(p, error=RuleError)
        specs.extend(parse_rules(data, os.path.basename(label), MATCHERS))
    return specs


def build(paths=None):
    """Parse and compile rule files (the built-in set when ``paths`` is None)."""
    from .matchers import MATCHERS
    return Ruleset(load_specs(paths), MATCHERS)


def build_default():
    return build(None)
