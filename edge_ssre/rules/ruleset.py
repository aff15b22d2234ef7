"""Placeholder ruleset (replaced by the compiled engine)."""

import re


class Ruleset:
    def __init__(self, rules):
        self.rules = rules

    def scan(self, text, kind, budget):
        out = []
        for rid, fam, sev, rx in self.rules:
            m = rx.search(text)
            if m:
                out.append((rid, fam, sev, m.start(), m.end()))
        return out


def build_default():
    return Ruleset([
        ("sqli.tautology", "sqli", "high", re.compile(r"'\s*or\s+'?\d+'?\s*=\s*'?\d", re.I)),
        ("xss.script", "xss", "high", re.compile(r"<script\b", re.I)),
        ("path.traversal", "path", "high", re.compile(r"\.\./\.\./")),
    ])
