"""Verdict and Finding: what ``Guard.inspect`` returns. MicroPython-clean.

A ``Finding`` is immutable and compares by value. ``severity`` is one of
``"low" | "medium" | "high" | "critical"``; ``action`` is what the policy decided
for this finding (``"alert"`` or ``"block"``). A checker may create a finding with an
explicit action (telemetry and behaviour rules carry their own); ``None`` lets the
policy decide from the family.
"""

ALLOW = "allow"
ALERT = "alert"
BLOCK = "block"
OFF = "off"
_ACTION_RANK = {OFF: 0, ALLOW: 0, ALERT: 1, BLOCK: 2}

MAX_EXCERPT = 96  # characters of the offending value kept in a finding


def excerpt_of(text, start=0, end=None):
    """A short, single-line excerpt of ``text`` around ``[start, end)``."""
    if end is None:
        end = len(text)
    lo = max(0, start - 16)
    hi = min(len(text), max(end, lo + 1))
    if hi - lo > MAX_EXCERPT:
        hi = lo + MAX_EXCERPT
    piece = text[lo:hi]
    out = []
    for ch in piece:
        o = ord(ch)
        out.append(ch if 32 <= o < 127 or o > 159 else "\\x%02x" % (o & 0xFF))
    return "".join(out)


class Finding:
    __slots__ = ("rule_id", "family", "path", "excerpt", "severity", "action")

    def __init__(self, rule_id, family, path, excerpt, severity="high", action=None):
        self.rule_id = rule_id
        self.family = family
        self.path = path
        self.excerpt = excerpt
        self.severity = severity
        self.action = action

    def _key(self):
        return (self.rule_id, self.family, self.path, self.excerpt, self.severity, self.action)

    def __eq__(self, other):
        return isinstance(other, Finding) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __iter__(self):
        return iter((self.rule_id, self.family, self.path, self.excerpt, self.severity))

    def __repr__(self):
        return "Finding(%r, %r, %r, %r, %r, action=%r)" % self._key()

    def with_action(self, action):
        return Finding(self.rule_id, self.family, self.path, self.excerpt, self.severity, action)

    def to_dict(self):
        return {
            "rule_id": self.rule_id,
            "family": self.family,
            "path": self.path,
            "excerpt": self.excerpt,
            "severity": self.severity,
            "action": self.action,
        }


class Verdict:
    """The outcome of one inspection.

    ``action`` is the strongest action among the findings (``allow`` when none);
    ``source`` is the event source that was detected; ``timed_out`` is true when
    the per-call deadline stopped inspection early (a ``limits`` finding says so).
    """

    __slots__ = ("action", "findings", "source", "leaves", "timed_out", "elapsed_us")

    def __init__(self, action, findings=(), source="raw", leaves=0, timed_out=False, elapsed_us=0):
        self.action = action
        self.findings = tuple(findings)
        self.source = source
        self.leaves = leaves
        self.timed_out = timed_out
        self.elapsed_us = elapsed_us

    @property
    def blocked(self):
        return self.action == BLOCK

    @property
    def allowed(self):
        return self.action == ALLOW

    def __repr__(self):
        return "Verdict(%r, findings=%r, source=%r)" % (self.action, self.findings, self.source)

    def to_dict(self):
        return {
            "action": self.action,
            "source": self.source,
            "leaves": self.leaves,
            "timed_out": self.timed_out,
            "elapsed_us": self.elapsed_us,
            "findings": [f.to_dict() for f in self.findings],
        }


def strongest(actions):
    """The strongest of ``actions`` (``allow`` for none)."""
    best = ALLOW
    for a in actions:
        if _ACTION_RANK.get(a, 0) > _ACTION_RANK[best]:
            best = a
    return best
