"""Per-topic payload checks compiled into plain tuples. MicroPython-clean at match time.

A field check is (path, type, min, max, enum, max_length, pattern, required); ``path`` is a
tuple of keys (``"a.b"`` in the policy). Types: number, integer, string, boolean, object, array.
Patterns are compiled by the host with the same linear-time rules as signature rules.
"""

TYPES = ("number", "integer", "string", "boolean", "object", "array", "any")


_NUMBER = (int, float)  # built once: a tuple literal in a call is built on every call on a board
_MISSING = object()


def _type_ok(t, v):
    if t == "any":
        return True
    if t == "number":
        return isinstance(v, _NUMBER) and not isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    return False


def _get(doc, path):
    """The value at ``path`` or ``_MISSING`` (no tuple made: this runs per field per message)."""
    cur = doc
    for k in path:
        if not isinstance(cur, dict):
            return _MISSING
        cur = cur.get(k, _MISSING)
        if cur is _MISSING:
            return _MISSING
    return cur


class Schema:
    __slots__ = ("fields", "unknown", "known_top")

    def __init__(self, fields, unknown="allow"):
        self.fields = tuple(fields)
        self.unknown = unknown
        self.known_top = frozenset(f[0][0] for f in self.fields)

    def check(self, doc):
        """A list of (kind, field, detail) violations; kind is 'schema' or 'unknown_field'. A
        document that passes costs no allocation beyond the regex matches of pattern fields."""
        out = _NONE
        if not isinstance(doc, dict):
            if self.fields:
                out = [("schema", "", "payload is not an object")]
            return out
        for f in self.fields:
            v = _get(doc, f[0])
            if v is _MISSING:
                if f[7]:
                    out = _add(out, f, "required field missing")
                continue
            out = _check_value(out, f, v)
        if self.unknown != "allow":
            for k in doc:
                if k not in self.known_top:
                    if out is _NONE:
                        out = []
                    out.append(("unknown_field", str(k)[:64], "field not in the schema"))
        return out


_NONE = ()


def _add(out, field, detail):
    """``out`` with a schema violation of ``field`` added (the list is made on the first one)."""
    if out is _NONE:
        out = []
    out.append(("schema", ".".join(field[0]), detail))
    return out


def _check_value(out, f, v):
    _, t, lo, hi, enum, max_len, pattern, _ = f
    if not _type_ok(t, v):
        return _add(out, f, "expected %s, got %s" % (t, type(v).__name__))
    number = isinstance(v, _NUMBER)
    if lo is not None and number and v < lo:
        out = _add(out, f, "%r below minimum %r" % (v, lo))
    elif hi is not None and number and v > hi:
        out = _add(out, f, "%r above maximum %r" % (v, hi))
    if enum is not None and v not in enum:
        out = _add(out, f, "%r not one of the allowed values" % (v if not isinstance(v, str) else v[:32],))
    if max_len is not None and (isinstance(v, str) or isinstance(v, list)) and len(v) > max_len:
        out = _add(out, f, "length %d over %d" % (len(v), max_len))
    if pattern is not None and isinstance(v, str) and pattern.match(v) is None:
        out = _add(out, f, "does not match the field's pattern")
    return out
