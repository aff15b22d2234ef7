"""Named matchers a rule can use instead of a pattern: ``fn(view_text, budget) -> (start, end) | None``."""

from . import html_tokens, net_address, sql_tokens

MATCHERS = {
    "sqli-tokens": sql_tokens.detect,
    "xss-html": html_tokens.detect,
    "ssrf-address": net_address.detect_internal_url,
}
