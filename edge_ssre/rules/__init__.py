"""Signature rules: data files -> frozen specs -> compiled fixed-size tables -> matchers.

    ruleset = default_ruleset()            # compiled once, cached, immutable
    hits = ruleset.scan(text, kind, budget)  # list of (rule_id, family, severity, start, end)
"""

_DEFAULT = None


def default_ruleset():
    """The built-in ruleset, compiled on first use and shared (it is immutable)."""
    global _DEFAULT
    if _DEFAULT is None:
        from .ruleset import build_default
        _DEFAULT = build_default()
    return _DEFAULT
