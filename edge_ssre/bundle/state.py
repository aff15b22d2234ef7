"""The anti-rollback state: the highest accepted version of each bundle name, kept crash-safe.

One small JSON file, replaced whole: written to a temporary file beside it, fsync'd, renamed over
the old one and the directory fsync'd, so after a power loss the file holds either the old state or
the new one, never a mix and never a lower version. A checksum inside the file catches damage; a
damaged state file refuses every bundle (reason ``state``) rather than forgetting versions, since
forgetting them would let an old bundle back in. Writers hold an ``flock`` on ``PATH.lock``.

It also keeps the keys that accepted bundles introduced or revoked, and a time floor (the newest
``created`` time accepted), so a device whose clock was set back still refuses expired bundles.
"""

import json
import os

from .format import BundleError, canonical, sha256_hex

FORMAT = 1
MAX_STATE_BYTES = 1 << 20


class State:
    __slots__ = ("versions", "digests", "time_floor", "keys_added", "keys_revoked")

    def __init__(self, versions=None, digests=None, time_floor=0, keys_added=None, keys_revoked=()):
        self.versions = dict(versions or {})
        self.digests = dict(digests or {})
        self.time_floor = time_floor
        self.keys_added = dict(keys_added or {})   # keyid -> key dict
        self.keys_revoked = set(keys_revoked)

    def body(self):
        return {"state": FORMAT, "versions": self.versions, "digests": self.digests,
                "time_floor": self.time_floor,
                "keys_added": [self.keys_added[k] for k in sorted(self.keys_added)],
                "keys_revoked": sorted(self.keys_revoked)}

    def to_bytes(self):
        body = self.body()
        body["check"] = sha256_hex(canonical(body))
        return canonical(body) + b"\n"

    @classmethod
    def from_bytes(cls, data, origin="<state>"):
        try:
            doc = json.loads(bytes(data).decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise BundleError("state", "%s is damaged (not JSON); refusing bundles until it is restored" % origin) \
                from None
        if not isinstance(doc, dict) or "check" not in doc:
            raise BundleError("state", "%s is damaged (no checksum)" % origin)
        check = doc.pop("check")
        if check != sha256_hex(canonical(doc)) or doc.get("state") != FORMAT:
            raise BundleError("state", "%s is damaged (checksum mismatch); refusing bundles until it is restored"
                              % origin)
        try:
            st = cls(doc["versions"], doc["digests"], doc["time_floor"],
                     {k["keyid"]: k for k in doc["keys_added"]}, doc["keys_revoked"])
            ok = all(isinstance(v, int) and not isinstance(v, bool) for v in st.versions.values()) \
                and isinstance(st.time_floor, int)
        except (KeyError, TypeError, AttributeError, ValueError):
            ok = False
        if not ok:
            raise BundleError("state", "%s has fields of the wrong type" % origin)
        return st


def load(path):
    """The state in ``path``; an empty state when the file does not exist yet."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return State()
    except OSError as exc:
        raise BundleError("state", "%s: cannot read: %s" % (path, exc.strerror or exc)) from None
    if len(data) > MAX_STATE_BYTES:
        raise BundleError("state", "%s is larger than %d bytes" % (path, MAX_STATE_BYTES))
    return State.from_bytes(data, str(path))


def replace_file(path, data):
    """Write ``data`` to ``path`` atomically and durably (temporary file, fsync, rename, fsync dir)."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class Locked:
    """``with Locked(state_path):`` holds an exclusive flock on ``state_path + '.lock'``."""

    def __init__(self, path):
        self.path = path + ".lock"
        self.fd = None

    def __enter__(self):
        import fcntl
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing drops the lock
        self.fd = None
