"""Decisions that read a match's context, not more words. MicroPython-clean (``re`` only).

A rule may name a context (``context = "not-prose"`` in its TOML): its pattern (or matcher) finds
candidates, and the context keeps or drops each one by what surrounds it. The same characters mean
different things in different text: a relative link ``[setup](../../guide/setup.md)`` inside a
sentence is not a traversal, an identifier in backticks inside Markdown is not a MySQL quote, a
``$(CONFIGURATION)`` in a build manual is not a command substitution; the bare value
``../../../../etc/passwd`` or ``$(id)`` is.

*Prose* is what most of these decisions turn on: a value is prose when at least five of its
space-separated tokens are words (letters, with an apostrophe or hyphen, maybe in brackets or quotes
or before punctuation) and words are at least half of its tokens. An attack value that must be a path, a URL or an expression stops working when words are
padded around it, which is why the contexts below may drop such matches in prose; attacks that still
work inside prose (a stacked SQL statement, a ``<script>`` tag, a command after ``;``) are judged by
rules without these contexts.

Each context is a factory ``factory(find) -> fn(view, budget) -> (start, end) | None`` where
``find(view, budget)`` yields candidate spans (from a pattern or a named matcher). At most
``MAX_CANDIDATES`` candidates are examined per value, so the cost stays linear.
"""

from .lazy_re import LazyRe

MAX_CANDIDATES = 16

PROSE_WORDS = 4        # natural-language words a value needs to be prose ...
PROSE_SHARE = 3        # ... making at least 1/PROSE_SHARE of its space-separated tokens
PROSE_TOKENS = 48      # tokens examined (the start of a long value decides)
_WORD = LazyRe(r"[(\"'*_\[]?(?:[a-z][a-z'\u2019-]{1,24}|a|i)[,;:.!?)\"'\]]{0,2}")


# SQL's words read as English ("from termine group by tag"): they do not make a value prose
_SQL_WORDS = frozenset(("select", "from", "where", "group", "by", "order", "union", "null", "like", "limit", "having",
                        "into", "insert", "update", "delete", "drop", "exec", "declare", "waitfor", "delay", "sleep",
                        "xor", "distinct"))
_LAST = [None, False]  # the last text judged and its verdict: a value's rules share their view


def is_prose(view):
    """Whether the (lower-cased) text reads as natural language: at least PROSE_WORDS words of
    letters, and words at least 1/PROSE_SHARE of its first PROSE_TOKENS space-separated tokens."""
    last = _LAST
    if last[0] is view:
        return last[1]
    verdict = _is_prose(view)
    last[0] = view
    last[1] = verdict
    return verdict


def _is_prose(view):
    """is_prose without the memo."""
    tokens = view.split(None, PROSE_TOKENS)[:PROSE_TOKENS]
    if len(tokens) < PROSE_WORDS:
        return False
    full = _WORD.fullmatch
    words = 0
    for t in tokens:
        if full(t) is not None and t not in _SQL_WORDS:
            words += 1
    return words >= PROSE_WORDS and words * PROSE_SHARE >= len(tokens)


def _link_target(view, start):
    """Whether ``start`` begins the target of a Markdown link (``](``, ``]: ``) or of an HTML
    ``href``/``src`` attribute."""
    before = view[max(0, start - 6):start]
    return before.endswith(("](", "]: ", "]:")) or before.rstrip("\"'").endswith(("href=", "src="))


def _token_around(view, start, end):
    """The run of non-space characters that holds ``view[start:end]``."""
    a = start
    while a > 0 and not view[a - 1].isspace():
        a -= 1
    b = end
    n = len(view)
    while b < n and not view[b].isspace():
        b += 1
    return view[a:b]


def not_prose(find):
    """Matches count only in text that is not prose (paths, URLs, expressions, commands)."""
    def fn(view, budget):
        if is_prose(view):
            return None
        for span in find(view, budget):
            return span
        return None
    return fn


_SENSITIVE_TARGET = LazyRe(
    r"(?:^|[\\/])(?:etc|proc|sys|root|home|var|usr|boot\.ini|windows|winnt|win\.ini|system32|inetpub|"
    r"\.ssh|\.aws|\.kube|\.docker|\.env|\.git|web\.config|greengrass|run/secrets|opt)(?:[\\/]|$)")
DEEP_TRAVERSAL = 4  # "../" steps in one path that no relative link in documentation needs


def traversal(find):
    """A traversal in prose, or as the target of a Markdown link or an href/src attribute, counts
    when its path climbs DEEP_TRAVERSAL levels or reaches a system location; a relative link in
    documentation (``[guide](../../guide.md)``, ``src="../img/x.png"``) does neither. Elsewhere
    every match counts."""
    def fn(view, budget):
        prose = None
        seen = 0
        for start, end in find(view, budget):
            if prose is None:
                prose = is_prose(view)
            token = None
            if prose or _link_target(view, start + 1 if view[start:start + 1] in "([ \"'=:" else start):
                token = _token_around(view, start, end)
            if token is None or token.count("..") >= DEEP_TRAVERSAL or _SENSITIVE_TARGET.search(token) is not None:
                return start, end
            seen += 1
            if seen >= MAX_CANDIDATES:
                break
        return None
    return fn


def _in_code_span(view, start):
    """Whether ``start`` lies inside a Markdown/reStructuredText code span: an odd number of
    backticks before it on the line and a closing one after it."""
    line_start = view.rfind("\n", 0, start) + 1
    before = view[line_start:start].replace("``", "`")  # reST's double backticks open one span
    if before.count("`") % 2 == 0:
        return False
    return view.find("`", start) >= 0


_MAN_REF = LazyRe(r"\(\d[a-z]{0,4}\)")  # unlink(2), inetd(8), SSL_new(3ssl): a man page, not a call


def _markdown_table_row(view):
    s = view.strip()
    return len(s) > 2 and s[0] == "|" and s[-1] == "|" and s.count("|") >= 3


def shell(find):
    """Shell syntax, judged as a shell would: a Markdown table row (``| a | b |``: a pipe with
    nothing after it does not run) is not a pipeline, and in prose a backtick is a code span, not a
    substitution. Other matches count."""
    def fn(view, budget):
        if _markdown_table_row(view):
            return None
        prose = None
        seen = 0
        for start, end in find(view, budget):
            text = view[start:end]
            if "`" in text:
                if prose is None:
                    prose = is_prose(view)
                if prose:
                    seen += 1
                    if seen >= MAX_CANDIDATES:
                        break
                    continue
            return start, end
        return None
    return fn


def code_mention(find):
    """In prose, a name written as code (inside backticks or quotes, or as ``name()`` with nothing
    between the parentheses) is mentioned, not called, and ``name(2)`` is a man page reference.
    Outside prose every match counts."""
    def fn(view, budget):
        prose = None
        seen = 0
        for start, end in find(view, budget):
            if prose is None:
                prose = is_prose(view)
            if not prose:
                return start, end
            paren = view.find("(", start, end + 1)
            if paren >= 0 and _MAN_REF.match(view, paren) is not None:
                seen += 1
                continue
            before = view[max(0, start - 2):start]
            if not (_in_code_span(view, start) or "\"" in before or "'" in before or "[" in before
                    or view[end - 1:end + 1] in ("()", ")`", ")\"", ")'", ")]")):
                return start, end
            seen += 1
            if seen >= MAX_CANDIDATES:
                break
        return None
    return fn


CONTEXTS = {"not-prose": not_prose, "traversal": traversal, "shell": shell, "code-mention": code_mention}
