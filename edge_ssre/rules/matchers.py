"""Named matchers a rule can use instead of a pattern: ``fn(view_text, budget) -> (start, end) | None``;
and the contexts (``context.py``) a rule can judge its matches by."""

from . import context, html_tokens, net_address, sql_tokens

MATCHERS = {
    "sqli-tokens": sql_tokens.detect,
    "xss-html": html_tokens.detect,
    "ssrf-address": net_address.detect_internal_url,
}

CONTEXTS = context.CONTEXTS


def with_context(name, rx=None, matcher=None):
    """``fn(view, budget) -> (start, end) | None``: the rule's pattern ``rx`` (a LazyRe) or named
    ``matcher`` finds candidates, context ``name`` keeps or drops each."""
    if rx is not None:
        def find(view, budget):
            n = 0
            for m in rx.finditer(view):
                yield m.start(), m.end()
                n += 1
                if n >= context.MAX_CANDIDATES:
                    return
    else:
        fn = MATCHERS[matcher]

        def find(view, budget):
            span = fn(view, budget)
            if span is not None:
                yield span
    return CONTEXTS[name](find)
