"""JSON text -> object, or a reason it is not JSON. MicroPython-clean (``json`` exists there)."""

import json


def loads(text):
    """(object, None) or (None, reason)."""
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, "not valid JSON: %s" % (str(exc)[:60],)
    except RecursionError:
        return None, "JSON nested too deeply"


def looks_like_json(s):
    """A string whose first and last non-space characters are matching brackets."""
    s = s.strip()
    return len(s) >= 2 and ((s[0] == "{" and s[-1] == "}") or (s[0] == "[" and s[-1] == "]"))
