"""Per-topic payload checks compiled into plain tuples. MicroPython-clean at match time.

A field check is (path, type, min, max, enum, max_length, pattern, required); ``path`` is a
tuple of keys (``"a.b"`` in the policy). Types: number, integer, string, boolean, object, array.
Patterns are compiled by the host with the same linear-time rules as signature rules.
"""

TYPES = ("number", "integer", "string", "boolean", "object", "array", "any")


def _type_ok(t, v):
    if t == "any":
        return True
    if t == "number":
        return (isinstance(v, (int, float))) and not isinstance(v, bool)
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
    cur = doc
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return False, None
        cur = cur[k]
    return True, cur


class Schema:
    __slots__ = ("fields", "unknown", "known_top")

    def __init__(self, fields, unknown="allow"):
        self.fields = tuple(fields)
        self.unknown = unknown
        self.known_top = frozenset(f[0][0] for f in self.fields)

    def check(self, doc):
        """A list of (kind, field, detail) violations; kind is 'schema' or 'unknown_field'."""
        out = []
        if not isinstance(doc, dict):
            if self.fields:
                out.append(("schema", "", "payload is not an object"))
            return out
        for path, t, lo, hi, enum, max_len, pattern, required in self.fields:
            present, v = _get(doc, path)
            name = ".".join(path)
            if not present:
                if required:
                    out.append(("schema", name, "required field missing"))
                continue
            if not _type_ok(t, v):
                out.append(("schema", name, "expected %s, got %s" % (t, type(v).__name__)))
                continue
            if lo is not None and isinstance(v, (int, float)) and v < lo:
                out.append(("schema", name, "%r below minimum %r" % (v, lo)))
            elif hi is not None and isinstance(v, (int, float)) and v > hi:
                out.append(("schema", name, "%r above maximum %r" % (v, hi)))
            if enum is not None and v not in enum:
                out.append(("schema", name, "%r not one of the allowed values" % (v if not isinstance(v, str) else v[:32],)))
            if max_len is not None and isinstance(v, (str, list)) and len(v) > max_len:
                out.append(("schema", name, "length %d over %d" % (len(v), max_len)))
            if pattern is not None and isinstance(v, str) and pattern.match(v) is None:
                out.append(("schema", name, "does not match the field's pattern"))
        if self.unknown != "allow":
            for k in doc:
                if k not in self.known_top:
                    out.append(("unknown_field", str(k)[:64], "field not in the schema"))
        return out
