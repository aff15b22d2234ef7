"""Event -> leaves (path, text, kind) within budgets. MicroPython-clean apart from optional layers.

The walker takes whatever the adapter hands it (bytes, str, dict, list), decodes the layers it
recognises (JSON, CBOR, gzip/zlib, base64, JSON-in-string), recognises AWS envelopes, and emits
one leaf per string worth inspecting. Numbers, booleans and nulls make no leaves. Every budget
(bytes, depth, leaves, layers, inflate ratio, deadline) stops the walk at a boundary and is
recorded in the budget, never raised.
"""

from . import budget as _b
from . import json_layer, sniff as _sniff
try:
    from . import cbor_layer
except ImportError:  # pragma: no cover
    cbor_layer = None
from .aws_envelopes import detect_trigger, extract

VALUE, KEY, URI, HEADER, RAW, KEYS = 0, 1, 2, 3, 4, 5


_NESTED = frozenset((dict, list, tuple, bytes, bytearray))

try:
    from .base64_layer import decode as _b64decode
except ImportError:  # pragma: no cover - MicroPython without binascii
    def _b64decode(s, force=False):
        return None


# Strings recently found not to be a meaningful base64 encoding. Telemetry repeats the same
# tokens (serials, firmware ids, locations) in every message; the answer depends on the string
# alone, so it is remembered. Bounded: strings of <= 256 characters, emptied when full.
_PLAIN = {}
MAX_PLAIN = 512


class Decoded:
    __slots__ = ("source", "trigger", "document", "leaves")

    def __init__(self, source, trigger=None, document=None, leaves=None):
        self.source = source
        self.trigger = trigger
        self.document = document
        self.leaves = leaves if leaves is not None else []

    def __repr__(self):
        return "Decoded(%r, trigger=%r, leaves=%d)" % (self.source, self.trigger, len(self.leaves))


def child(path, key):
    """Path of ``key`` under ``path``: ``a.b``; keys with . [ ] " or spaces as ``a["x.y"]``."""
    if "." in key or "[" in key or "]" in key or " " in key or '"' in key or not key:
        return '%s["%s"]' % (path, key.replace("\\", "\\\\").replace('"', '\\"'))
    return path + "." + key if path else key


class Walker:
    __slots__ = ("budget", "limits", "out", "stopped")

    def __init__(self, budget):
        self.budget = budget
        self.limits = budget.limits
        self.out = []
        self.stopped = False

    def leaf(self, path, text, kind=VALUE):
        if self.stopped:
            return
        out = self.out
        if len(out) >= self.limits.max_leaves:
            self.budget.exceed(_b.LEAVES, path, "more than %d strings; the rest was not inspected"
                               % self.limits.max_leaves)
            self.stopped = True
            return
        out.append((path, text, kind))

    def _enter(self, path, depth):
        """Whether a container at ``depth`` may be walked (depth budget, deadline)."""
        if depth >= self.limits.max_depth:
            self.budget.exceed(_b.DEPTH, path, "nesting deeper than %d" % self.limits.max_depth)
            return False
        if not self.budget.tick():
            self.stopped = True
            return False
        return True

    def walk(self, obj, path="", depth=0, layers=0, kind=VALUE):
        if self.stopped:
            return
        if isinstance(obj, str):
            self.string(obj, path, depth, layers, kind)
        elif isinstance(obj, dict):
            if not self._enter(path, depth):
                return
            out = self.out
            room = self.limits.max_leaves - len(out)
            if obj:
                if room <= 0:
                    self.leaf(path, "", KEYS)  # records the exceeded budget and stops
                    return
                out.append((path, tuple(obj), KEYS))
                room -= 1
            # one pass: string values become leaves now, containers are walked after them;
            # the numbers, booleans and nulls that telemetry is mostly made of cost one type test
            nested = None
            for key, value in obj.items():
                t = type(value)
                if t is not str:
                    if t in _NESTED:
                        if nested is None:
                            nested = [(key, value)]
                        else:
                            nested.append((key, value))
                    continue
                if type(key) is str and key.isidentifier():
                    p = path + "." + key if path else key
                else:
                    p = child(path, key if type(key) is str else str(key))
                if len(value) < 16 and value[:1] not in "{[ \t\r\n":
                    if room <= 0:
                        self.leaf(p, value, kind)
                        return
                    out.append((p, value, kind))  # short plain string: no nested layer possible
                    room -= 1
                    continue
                self.string(value, p, depth + 1, layers, kind)
                if self.stopped:
                    return
                room = self.limits.max_leaves - len(out)
            if nested is None:
                return
            for key, value in nested:
                if type(key) is str and key.isidentifier():
                    p = path + "." + key if path else key
                else:
                    p = child(path, key if type(key) is str else str(key))
                self.walk(value, p, depth + 1, layers, kind)
                if self.stopped:
                    return
        elif isinstance(obj, (list, tuple)):
            if not self._enter(path, depth):
                return
            for i, value in enumerate(obj):
                t = type(value)
                if t is int or t is float or value is None or t is bool:
                    continue
                self.walk(value, "%s[%d]" % (path, i), depth + 1, layers, kind)
                if self.stopped:
                    return
        elif isinstance(obj, (bytes, bytearray)):
            self.payload(bytes(obj), path, depth, layers, kind, embedded=True)

    def string(self, s, path, depth, layers, kind=VALUE):
        """A string value: itself, and what it encodes when it is JSON or base64 inside a string."""
        n = len(s)
        if n >= 2 and layers < self.limits.max_layers:
            c = s[0]
            if (c == "{" or c == "[" or c in " \t\r\n") and json_layer.looks_like_json(s):
                doc, _ = json_layer.loads(s)
                if isinstance(doc, (dict, list)):
                    # the decoded document replaces the string: its leaves and keys cover it
                    self.walk(doc, path, depth + 1, layers + 1, kind)
                    return
            elif n >= 16 and kind != URI and " " not in s and s not in _PLAIN:  # base64 has no spaces
                raw = _b64decode(s)
                if (raw is not None and cbor_layer is not None and _sniff.sniff(raw) == _sniff.CBOR
                        and cbor_layer.loads(raw, self.limits.max_depth)[1] is not None):
                    # a quarter of random tokens decode to a first byte that looks like CBOR: only a
                    # whole CBOR item makes the string an encoding (a real one is decoded again
                    # below: rare, and payload() keeps the one account of layers and depth)
                    raw = None
                if raw is None:
                    if n <= 256:  # short tokens only: the memo stays small
                        if len(_PLAIN) >= MAX_PLAIN:
                            _PLAIN.clear()
                        _PLAIN[s] = None
                else:
                    self.leaf(path, s, kind)
                    self.payload(raw, path, depth + 1, layers + 1, kind, embedded=True)
                    return
        self.leaf(path, s, kind)

    def payload(self, data, path, depth, layers, kind=VALUE, embedded=False, force_text=False, walk=True):
        """Bytes of unknown format: sniff, decode, walk; undecodable bytes as text or printable runs.

        Returns the decoded document (JSON/CBOR) or text; with ``walk=False`` a decoded document is
        returned without walking it (the caller walks it with envelope knowledge)."""
        limits = self.limits
        if len(data) > limits.max_bytes:
            self.budget.exceed(_b.BYTES, path, "%d bytes; inspected the first %d" % (len(data), limits.max_bytes))
            data = data[:limits.max_bytes]
        if layers > limits.max_layers:
            self.budget.exceed(_b.LAYERS, path, "more than %d nested encodings" % limits.max_layers)
            return
        if force_text:
            kind_of = _sniff.TEXT
        elif data and 0xA0 <= data[0] <= 0xBF:
            kind_of = _sniff.CBOR  # a CBOR map: the usual telemetry message
        else:
            kind_of = _sniff.sniff(data)
        if kind_of == _sniff.JSON:
            try:
                text = data.decode("utf-8")
            except UnicodeError:
                text = None
            doc, reason = json_layer.loads(text) if text is not None else (None, "JSON that is not UTF-8")
            if reason is None:
                if walk:
                    self.walk(doc, path, depth, layers + (1 if embedded else 0), kind)
                return doc
            self.budget.exceed(_b.MALFORMED, path, reason)
            self.leaf(path, data.decode("utf-8", "replace"), RAW)
            return None
        if kind_of == _sniff.CBOR:
            doc, reason = cbor_layer.loads(data, limits.max_depth)
            if reason is None:
                if walk:
                    self.walk(doc, path, depth, layers + (1 if embedded else 0), kind)
                return doc
            if embedded:  # a byte string inside a document that merely starts like CBOR
                self.binary(data, path)
                return None
            self.budget.exceed(_b.MALFORMED, path, reason)
            self.binary(data, path)
            return None
        if kind_of == _sniff.GZIP or kind_of == _sniff.ZLIB:
            from .gzip_layer import inflate
            out, reason = inflate(data, kind_of, limits)
            if reason is not None:
                self.budget.exceed(_b.INFLATE if out is not None else _b.MALFORMED, path, reason)
            if out:
                return self.payload(out, path, depth, layers + 1, kind, embedded=True, walk=walk)
            return None
        if kind_of == _sniff.TEXT:
            text = data.decode("utf-8", "replace")
            if text:
                self.string(text, path, depth, layers, RAW if not embedded else kind)
            return text
        self.binary(data, path)
        return None

    def binary(self, data, path):
        for i, run in enumerate(_sniff.printable_runs(data)):
            self.leaf("%s<%d>" % (path, i) if path else "<%d>" % i, run, RAW)


def decode_event(payload, source="auto", budget=None, topic=None):
    """Decode ``payload`` into leaves; see the package docstring. Never raises on bad input."""
    budget = budget or _b.Budget()
    w = Walker(budget)
    doc = payload
    if isinstance(payload, (bytes, bytearray, memoryview)):
        data = payload if type(payload) is bytes else bytes(payload)
        if source == "raw":
            doc = w.payload(data, "", 0, 0, RAW, force_text=True)
            return Decoded("raw", None, None, w.out)
        doc = w.payload(data, "", 0, 0, walk=False)
        if type(doc) is dict and source == "mqtt":  # the usual telemetry message: no envelope to look for
            w.walk(doc)
            return Decoded(source, None, doc, w.out)
        if not isinstance(doc, (dict, list)):
            if doc is not None and not isinstance(doc, str):
                w.walk(doc)  # a CBOR/JSON scalar
            src = source if source != "auto" else ("mqtt" if topic is not None else "raw")
            return Decoded(src, None, doc, w.out)
    elif isinstance(payload, str):
        if source == "raw" or not json_layer.looks_like_json(payload):
            w.string(payload, "", 0, 0, RAW) if source != "raw" else w.leaf("", payload, RAW)
            src = source if source != "auto" else ("mqtt" if topic is not None else "raw")
            return Decoded(src, None, None, w.out)
        doc, reason = json_layer.loads(payload)
        if reason is not None:
            budget.exceed(_b.MALFORMED, "", reason)
            w.leaf("", payload, RAW)
            return Decoded(source if source != "auto" else "raw", None, None, w.out)
    trigger = None
    if isinstance(doc, dict) and source in ("auto", "lambda", "lambda-edge"):
        trigger = detect_trigger(doc)
    if trigger is not None:
        extract(doc, trigger, w)
        src = "lambda-edge" if trigger == "cloudfront" else "lambda"
        if source != "auto":
            src = source
    else:
        w.walk(doc)
        # no envelope found: a document inspected as it is ("auto"), not a Lambda event
        src = source if source != "auto" else ("mqtt" if topic is not None else
                                               ("raw" if not isinstance(doc, (dict, list)) else "auto"))
    return Decoded(src, trigger, doc, w.out)
