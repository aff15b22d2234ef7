"""Rule files -> frozen ``RuleSpec`` objects. Errors name the file and the rule id.

A rule file is TOML with an array of tables::

    [[rule]]
    id = "sqli.union-select"         # family.name, unique
    family = "sqli"                   # one of rules.families.FAMILIES
    severity = "critical"             # low | medium | high | critical
    view = "compact"                  # raw | norm | compact | nospace (see transform.py)
    kinds = ["value", "key", "uri"]   # leaf kinds it applies to (default: all)
    plain = true                      # false: needs a character outside letters, digits, space and . , : / @ + - _
    needs = ["union", "select"]      # prefilter: the rule runs only when one of these is in its view, lower-cased
                                      # and padded with a space at each end (so " or" also matches at the start)
    pattern = '''union\\s{0,8}select'''   # a linear-time regex, no capturing groups ...
    matcher = "sqli-tokens"           # ... or a named matcher (see matchers.py)
    context = "not-prose"             # optional: a context that keeps or drops each match (context.py)
    attack = ["1 union select 2"]    # must fire this rule (tests run them)
    benign = ["the union selected"]   # benign twins: must fire no rule at all
"""

import re

from ..errors import RuleError
from .families import FAMILIES
from .lazy_re import LazyRe

SEVERITIES = ("low", "medium", "high", "critical")
VIEWS = ("raw", "norm", "compact", "nospace")
KINDS = {"value": 0, "key": 1, "uri": 2, "header": 3, "raw": 4}
_ID = LazyRe(r"^[a-z0-9]+\.[a-z0-9][a-z0-9_.-]*$")
_KEYS = ("id", "family", "severity", "view", "kinds", "plain", "needs", "pattern", "matcher", "context",
         "attack", "benign", "description")
# Constructs that make a backtracking engine super-linear: nested unbounded quantifiers.
_NESTED = LazyRe(r"\((?:[^()\\]|\\.)*(?:[*+]|,\})\??\)(?:[*+]|\{\d*,\})")


def unbounded_repetition(pattern):
    """Offset of the first ``*``, ``+`` or ``{m,}`` outside a character class, or -1."""
    i = 0
    in_class = False
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif c in "*+":
            if i > 0 and pattern[i - 1] == "(":  # "(?" forms never use * or +; kept for clarity
                pass
            else:
                return i
        elif c == "{":
            j = pattern.find("}", i)
            if j > 0 and pattern[i + 1:j].endswith(",") and pattern[i + 1:j - 1].isdigit():
                return i
        i += 1
    return -1


class RuleSpec:
    __slots__ = ("id", "family", "severity", "view", "kinds", "plain", "needs", "pattern", "matcher",
                 "context", "attack", "benign", "description", "origin")

    def __init__(self, **kw):
        for name in RuleSpec.__slots__:
            object.__setattr__(self, name, kw.get(name))

    def __setattr__(self, name, value):
        raise AttributeError("RuleSpec is frozen")

    def __eq__(self, other):
        return isinstance(other, RuleSpec) and all(getattr(self, k) == getattr(other, k) for k in RuleSpec.__slots__)

    __hash__ = object.__hash__

    def __repr__(self):
        return "RuleSpec(%r)" % self.id


def parse_rules(data, origin="<rules>", matchers=(), contexts=None):
    """Validate parsed TOML data; return a tuple of RuleSpec."""
    if not isinstance(data, dict) or set(data) - {"rule"}:
        raise RuleError("%s: a rule file holds only [[rule]] tables" % origin)
    rules = data.get("rule", [])
    if not isinstance(rules, list):
        raise RuleError("%s: 'rule' must be an array of tables ([[rule]])" % origin)
    out = []
    for n, r in enumerate(rules):
        out.append(_parse_one(r, n, origin, matchers, contexts))
    return tuple(out)


def _parse_one(r, n, origin, matchers, contexts=None):
    rid = r.get("id") if isinstance(r, dict) else None
    where = "%s: rule %s" % (origin, rid if isinstance(rid, str) else "#%d" % n)

    def fail(msg):
        return RuleError("%s: %s" % (where, msg))

    if not isinstance(r, dict):
        raise fail("must be a table")
    for key in r:
        if key not in _KEYS:
            raise fail("unknown key %r; expected one of %s" % (key, ", ".join(_KEYS)))
    if not isinstance(rid, str) or not _ID.match(rid):
        raise fail("id must look like 'family.name' (lower case)")
    fam = r.get("family")
    if fam not in FAMILIES:
        raise fail("unknown family %r" % (fam,))
    sev = r.get("severity", "high")
    if sev not in SEVERITIES:
        raise fail("severity must be one of %s" % ", ".join(SEVERITIES))
    view = r.get("view", "norm")
    if view not in VIEWS:
        raise fail("view must be one of %s" % ", ".join(VIEWS))
    kinds = r.get("kinds", list(KINDS))
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
        raise fail("kinds must be a non-empty list of %s" % ", ".join(KINDS))
    plain = r.get("plain", True)
    if not isinstance(plain, bool):
        raise fail("plain must be true or false")
    needs = r.get("needs", [])
    if not isinstance(needs, list) or any(not isinstance(n, str) or not n for n in needs):
        raise fail("needs must be a list of non-empty strings")
    if any(n != n.lower() for n in needs):
        raise fail("needs must be lower case (they are looked up in the lower-cased view)")
    pattern = r.get("pattern")
    matcher = r.get("matcher")
    if (pattern is None) == (matcher is None):
        raise fail("give exactly one of pattern or matcher")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise fail("pattern must be a non-empty string")
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise fail("pattern does not compile: %s" % exc) from None
        if rx.groups:
            raise fail("pattern has capturing groups; use (?:...)")
        if _NESTED.search(pattern):
            raise fail("pattern nests unbounded quantifiers (super-linear on adversarial input)")
        at = unbounded_repetition(pattern)
        if at >= 0:
            raise fail("pattern repeats without a bound at offset %d (%r); use {m,n}: on a long run of "
                       "one character an unbounded repeat backtracks quadratically" % (at, pattern[max(0, at - 12):at + 1]))
    elif matcher not in matchers:
        raise fail("unknown matcher %r; known: %s" % (matcher, ", ".join(sorted(matchers))))
    ctx = r.get("context")
    if ctx is not None:
        if contexts is None:
            from .context import CONTEXTS as contexts
        if ctx not in contexts:
            raise fail("unknown context %r; known: %s" % (ctx, ", ".join(sorted(contexts))))
    for key in ("attack", "benign"):
        vals = r.get(key, [])
        if not isinstance(vals, list) or any(not isinstance(v, str) for v in vals):
            raise fail("%s must be a list of strings" % key)
    return RuleSpec(id=rid, family=fam, severity=sev, view=view, kinds=tuple(KINDS[k] for k in kinds),
                    plain=plain, needs=tuple(needs), pattern=pattern, matcher=matcher, context=ctx, attack=tuple(r.get("attack", ())),
                    benign=tuple(r.get("benign", ())), description=r.get("description", ""), origin=origin)
