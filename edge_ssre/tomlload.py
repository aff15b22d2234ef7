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


def line_of(text, key):
    """1-based line where ``key`` is assigned or opened as a table in ``text`` (0 if not found)."""
    leaf = key.split(".")[-1].strip('"')
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("#"):
            continue
        head = s.split("=", 1)[0].strip().strip('"')
        if head == leaf or s.startswith("[" + key) or s.startswith("[[" + key):
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
    """Names a place in a loaded TOML file for error messages."""

    __slots__ = ("text", "label", "error")

    def __init__(self, text, label, error=PolicyError):
        self.text = text
        self.label = label
        self.error = error

    def fail(self, key, message):
        line = line_of(self.text or "", key)
        at = "%s:%d" % (self.label, line) if line else self.label
        return self.error("%s: key %r: %s" % (at, key, message))
