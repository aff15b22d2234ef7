"""Decode any event into leaves (path, text, kind) within budgets.

Interface used by the guard (keep it stable):

    decoded = decode_event(payload, source="auto", budget=Budget(...), topic=None)
    decoded.source    # detected source: "lambda-edge" | "lambda" | "mqtt" | "raw" | "auto" (no envelope found)
    decoded.trigger   # AWS trigger name when recognised ("sns", "sqs", "cloudfront", ...) or None
    decoded.document  # the top-level decoded object (dict/list/scalar) or None for raw bytes
    decoded.leaves    # list of (path, text, kind); kind is one of the constants below

Hitting a budget records it in ``budget.exceeded``; nothing here raises on bad input.
"""

from .budget import Budget, Limits, DEFAULT_LIMITS  # noqa: F401

# Leaf kinds: where in the event a string came from (matchers use it to pick rules).
VALUE = 0    # a value in a document, query string or form
KEY = 1      # an object key / parameter name
URI = 2      # a request path
HEADER = 3   # an HTTP header value (incl. cookies)
RAW = 4      # an undecodable payload inspected as text
KEYS = 5     # the string keys of one object, as a tuple (text is a tuple): the guard checks a key set once

from .walker import decode_event, Decoded, child  # noqa: E402,F401
