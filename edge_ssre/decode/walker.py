"""Minimal placeholder walker: JSON and dict/list events. Replaced by the full decoder."""

import json

from . import budget as _b


class Decoded:
    __slots__ = ("source", "trigger", "document", "leaves")

    def __init__(self, source, trigger=None, document=None, leaves=None):
        self.source = source
        self.trigger = trigger
        self.document = document
        self.leaves = leaves if leaves is not None else []


def _walk(obj, path, depth, budget, out):
    from . import VALUE, KEY
    if depth > budget.limits.max_depth:
        budget.exceed(_b.DEPTH, path, "nesting deeper than %d" % budget.limits.max_depth)
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = "%s.%s" % (path, k) if path else str(k)
            out.append((p, str(k), KEY))
            _walk(v, p, depth + 1, budget, out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _walk(v, "%s[%d]" % (path, i), depth + 1, budget, out)
    elif isinstance(obj, str):
        out.append((path, obj, VALUE))


def decode_event(payload, source="auto", budget=None, topic=None):
    from . import RAW
    budget = budget or _b.Budget()
    doc = payload
    if isinstance(payload, (bytes, bytearray)):
        try:
            doc = json.loads(bytes(payload).decode("utf-8"))
        except ValueError:
            return Decoded("raw" if source == "auto" else source, None, None,
                           [("", bytes(payload).decode("latin-1"), RAW)])
    elif isinstance(payload, str):
        try:
            doc = json.loads(payload)
        except ValueError:
            return Decoded("raw" if source == "auto" else source, None, None, [("", payload, RAW)])
    out = []
    _walk(doc, "", 0, budget, out)
    return Decoded("lambda" if source == "auto" else source, None, doc, out)
