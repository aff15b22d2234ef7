"""TOML loading with errors that name the file and line (CPython only)."""

import sys

from .errors import PolicyError


def _parser():
    """tomllib (3.11+) or tomli, imported on first use: start-up never pays for a TOML parser."""
    if sys.version_info >= (3, 11):
        import tomllib
        return tomllib
    import tomli  # pragma: no cover - exercised on 3.9/3.10
    return tomli


def _head(line):
    return line.split("=", 1)[0].strip().strip('"')


def line_of(text, key):
    """1-based line where ``key`` is assigned or opened as a table in ``text`` (0 if not found).
    A dotted key (``broker.port``) is looked for under its table's header (``[broker]``), then in an
    inline table or a dotted assignment, then as the leaf alone."""
    lines = text.splitlines()
    parts = key.split(".")
    leaf = parts[-1].strip('"')
    if len(parts) > 1:
        table = ".".join(parts[:-1])
        inside = False
        for n, line in enumerate(lines, 1):
            s = line.strip()
            if s.startswith("["):
                inside = s.strip("[]").strip() == table
            elif inside and not s.startswith("#") and _head(s) == leaf:
                return n
        for n, line in enumerate(lines, 1):
            s = line.strip()
            if s.startswith("#"):
                continue
            if _head(s) == key or (_head(s) == parts[-2] and "{" in s and leaf in s):
                return n
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if s.startswith("#"):
            continue
        if _head(s) == leaf or s.startswith("[" + key) or s.startswith("[[" + key):
            return n
    return 0


def load_toml(path=None, text=None, error=PolicyError):
    """Parse TOML from ``path`` or ``text``; return ``(data, text, label)``."""
    label = str(path) if path is not None else "<string>"
    if text is None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise error("%s: cannot read: %s" % (label, exc.strerror or exc)) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise error("%s: not UTF-8 text" % label) from None
    _toml = _parser()
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise error("%s: %s" % (label, exc)) from None
    return data, text, label


class Where:
    """Names a place in a loaded TOML file for error messages. ``given`` maps the keys that came
    from command-line options to the option (``{"inputs": "--input"}``): an error about one of those
    names the option, not the file."""

    __slots__ = ("text", "label", "error", "given")

    def __init__(self, text, label, error=PolicyError, given=None):
        self.text = text
        self.label = label
        self.error = error
        self.given = given or {}

    def fail(self, key, message):
        option = self.given.get(key) or self.given.get(key.split(".")[0])
        if option:
            return self.error("%s: %s" % (option, message))
        line = line_of(self.text or "", key)
        at = "%s:%d" % (self.label, line) if line else self.label
        return self.error("%s: key %r: %s" % (at, key, message))


# ---- typed values: each returns the value or raises where.fail(name, ...) -------------------
_TOML_TYPES = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
               (list, "an array"), (dict, "a table"))


def describe(value):
    """What a TOML value is, for an error message: ``the string "big"``, ``the integer 70000``."""
    for kind, name in _TOML_TYPES:
        if isinstance(value, kind):
            if kind in (list, dict):
                return name
            shown = repr(value) if kind is not str else '"%s"' % value[:60]
            return "the %s %s" % (name.split(" ", 1)[1], shown)
    return type(value).__name__


def _span(lo, hi, unit=""):
    if lo is not None and hi is not None:
        text = " from %s to %s" % (lo, hi)
    elif lo is not None:
        text = " of at least %s" % lo
    elif hi is not None:
        text = " of at most %s" % hi
    else:
        text = ""
    return text + (" (%s)" % unit if unit else "")


def want_int(where, name, value, lo=None, hi=None, unit=""):
    if isinstance(value, bool) or not isinstance(value, int) or \
            (lo is not None and value < lo) or (hi is not None and value > hi):
        raise where.fail(name, "must be an integer%s, got %s" % (_span(lo, hi, unit), describe(value)))
    return value


def want_number(where, name, value, lo=None, hi=None, unit="", above=None):
    """An integer or float within [lo, hi] (and > ``above`` when given); ``unit`` names what it counts."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or \
            (lo is not None and value < lo) or (hi is not None and value > hi) or \
            (above is not None and value <= above):
        if above is None:
            span = _span(lo, hi, unit)
        else:
            span = " above %s%s%s" % (above, "" if hi is None else " and at most %s" % hi,
                                       " (%s)" % unit if unit else "")
        raise where.fail(name, "must be a number%s, got %s" % (span, describe(value)))
    return float(value)


def want_str(where, name, value, empty=False):
    if not isinstance(value, str) or (not empty and not value):
        raise where.fail(name, "must be a%s string, got %s" % ("" if empty else " non-empty", describe(value)))
    if "\x00" in value:
        raise where.fail(name, "must not contain a NUL character")
    return value


def want_bool(where, name, value):
    if not isinstance(value, bool):
        raise where.fail(name, "must be true or false, got %s" % describe(value))
    return value


def want_choice(where, name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise where.fail(name, "must be one of %s, got %s" % (", ".join('"%s"' % c for c in choices), describe(value)))
    return value


def want_table(where, name, value, keys=None):
    """A table whose keys are among ``keys`` (when given)."""
    if not isinstance(value, dict):
        raise where.fail(name, "must be a table, got %s" % describe(value))
    for key in value:
        if keys is not None and key not in keys:
            raise where.fail("%s.%s" % (name, key), "unknown key in [%s]; expected one of %s"
                             % (name, ", ".join(keys)))
    return value
