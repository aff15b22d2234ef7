"""Factor literal alternations into tries before compiling. MicroPython-clean.

Python's ``re`` tries the branches of ``(?:sleep|select|session_user|...)`` one after the
other at every position; a rule set with a few hundred keywords then costs hundreds of
nanoseconds per character. ``(?:s(?:e(?:lect|ssion_user)|leep))`` matches the same strings and
fails after one or two character tests. Only groups whose every branch is a plain literal
(letters, digits, ``_``, ``-``, escaped punctuation) are rewritten; anything else is left as written.
"""

import re

from .lazy_re import LazyRe

_GROUP = LazyRe(r"\(\?:((?:[a-z0-9_\-]|\\[.\-/:@ ])+(?:\|(?:[a-z0-9_\-]|\\[.\-/:@ ])+){3,})\)")
_UNIT = LazyRe(r"\\.|.")


def _units(word):
    return _UNIT.findall(word)


def trie_source(words):
    """words: list of lists of regex units (one unit = one escaped character) -> regex source."""
    groups = {}
    order = []
    empty = False
    for w in words:
        if not w:
            empty = True
            continue
        head = w[0]
        if head not in groups:
            groups[head] = []
            order.append(head)
        groups[head].append(w[1:])
    parts = []
    for head in order:
        rest = groups[head]
        if len(rest) == 1:
            parts.append(head + "".join(rest[0]))
        else:
            parts.append(head + trie_source(rest))
    if len(parts) == 1 and not empty:
        body = parts[0]
        return body if len(_units(body)) == 1 else "(?:" + body + ")"
    # longer branches first keeps the leftmost-longest reading stable for excerpts
    src = "(?:" + "|".join(parts) + ")"
    return src + "?" if empty else src


def factor(pattern):
    """``pattern`` with every all-literal alternation group rewritten as a trie."""
    def rewrite(m):
        words = m.group(1).split("|")
        if len(set(words)) != len(words):
            return m.group(0)
        return trie_source([_units(w) for w in words])
    return _GROUP.sub(rewrite, pattern)


def literal_trie(literals):
    """A pattern matching any of ``literals`` (plain strings), factored as a trie."""
    return trie_source([[re.escape(c) for c in w] for w in sorted(set(literals))])
