"""The bundle file: one canonical JSON document holding a signed manifest and its members.

    {"bundle": 1,
     "manifest": {"name": "site-rules", "version": 7, "created": "2026-12-03T20:00:00Z",
                  "expires": "2027-03-03T20:00:00Z", "requires": "0.1.0",
                  "targets": {"devices": [], "groups": ["gateways"], "profiles": []},
                  "members": {"policy.toml": {"sha256": "...", "size": 812, "encoding": "zlib"}},
                  "keys": {"add": [], "revoke": []}},
     "members": {"policy.toml": "<base64 of the stored bytes>"},
     "signatures": [{"keyid": "3f2a...", "sig": "<base64>"}]}

The file is the canonical encoding of that document (keys sorted, no spaces, ASCII only, one
newline at the end) and nothing else: a reader re-encodes what it parsed and refuses any file whose
bytes differ, so no byte of a bundle can change without changing what it says. Signatures cover
the canonical bytes of ``manifest``; the manifest holds the SHA-256 of every member's stored
bytes (after compression), so the signature covers the members too.

Integers only (no floats), times as UTC ``YYYY-MM-DDTHH:MM:SSZ``.
"""

import base64
import binascii
import hashlib
import json
import re
import zlib

from ..errors import SsreError

FORMAT = 1
MAX_BUNDLE_BYTES = 8 << 20   # a bundle file larger than this is refused before it is parsed
MAX_MEMBER_BYTES = 16 << 20  # decompressed size of one member

# member name -> what it configures
MEMBER_TYPES = {
    "policy.toml": "policy",          # inspection policy (edge_ssre/policy.py)
    "telemetry.toml": "telemetry",    # telemetry policy (edge_ssre/telemetry/policy.py)
    "behavior.toml": "behavior",      # behaviour policy (edge_ssre/behavior/policy.py)
    "profile.toml": "profile",        # device-profile overrides, merged over the running profile
    "rules.json": "rules-table",      # a host-compiled rule table (tools/build_rules.py's format)
}
RULE_SOURCE = re.compile(r"^rules/[a-z0-9][a-z0-9_-]{0,31}\.toml$")  # rule source files, compiled on apply
ENCODINGS = ("identity", "zlib")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_KEYID = re.compile(r"^[0-9a-f]{16}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^\d{1,4}(\.\d{1,4}){0,3}$")
_MANIFEST_KEYS = {"name", "version", "created", "expires", "requires", "targets", "members", "keys"}
_TARGET_KEYS = ("devices", "groups", "profiles")
PUBLIC_ALGORITHMS = ("ed25519", "ecdsa-p256-sha256")
ALGORITHMS = PUBLIC_ALGORITHMS + ("hmac-sha256",)  # HMAC keys are provisioned, never sent in a bundle

# Why a bundle was refused; the CLI prints it and the security event carries it.
REASONS = ("malformed", "signature", "unknown-key", "revoked-key", "threshold", "rollback", "expired",
           "target", "requires", "member-hash", "member-invalid", "state")


class BundleError(SsreError, ValueError):
    """A bundle was refused; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason, message):
        SsreError.__init__(self, "%s: %s" % (reason, message))
        self.reason = reason
        self.detail = message


def canonical(obj):
    """The canonical bytes of a JSON document: sorted keys, no spaces, ASCII, no floats."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text, what):
    if not isinstance(text, str):
        raise BundleError("malformed", "%s must be base64 text" % what)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BundleError("malformed", "%s is not base64" % what) from None


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def parse_time(text, what):
    """Seconds since the epoch of a ``YYYY-MM-DDTHH:MM:SSZ`` time."""
    import calendar
    import time
    if not isinstance(text, str) or not _TIME.match(text):
        raise BundleError("malformed", "%s must be a UTC time YYYY-MM-DDTHH:MM:SSZ" % what)
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise BundleError("malformed", "%s is not a valid time: %s" % (what, text)) from None


def format_time(seconds):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def version_tuple(text):
    return tuple(int(x) for x in text.split("."))


def _no_float(text):
    raise BundleError("malformed", "numbers in a bundle are integers (found %s)" % text)


class Bundle:
    """A parsed bundle: structure checked, nothing verified yet."""

    __slots__ = ("manifest", "manifest_bytes", "stored", "signatures", "digest")

    def __init__(self, manifest, stored, signatures):
        self.manifest = manifest
        self.manifest_bytes = canonical(manifest)
        self.stored = stored            # member name -> stored bytes (maybe compressed)
        self.signatures = signatures    # [(keyid, signature bytes)]
        self.digest = sha256_hex(self.manifest_bytes)

    @property
    def name(self):
        return self.manifest["name"]

    @property
    def version(self):
        return self.manifest["version"]

    def to_bytes(self):
        return encode(self.manifest, self.stored, self.signatures)

    def member(self, name):
        """The member's bytes after its hash is checked and it is decompressed."""
        entry = self.manifest["members"][name]
        data = self.stored[name]
        if sha256_hex(data) != entry["sha256"]:
            raise BundleError("member-hash", "member %s does not match its SHA-256 in the manifest" % name)
        if entry["encoding"] == "zlib":
            d = zlib.decompressobj()
            try:
                out = d.decompress(data, MAX_MEMBER_BYTES + 1)
            except zlib.error as exc:
                raise BundleError("member-invalid", "member %s: %s" % (name, exc)) from None
            if d.unconsumed_tail or not d.eof or d.unused_data:
                raise BundleError("member-invalid", "member %s: not one whole zlib stream of at most %d bytes"
                                  % (name, MAX_MEMBER_BYTES))
            data = out
        if len(data) != entry["size"]:
            raise BundleError("member-hash", "member %s has %d bytes, the manifest says %d"
                              % (name, len(data), entry["size"]))
        return data


def encode(manifest, stored, signatures):
    doc = {"bundle": FORMAT, "manifest": manifest,
           "members": {n: b64(d) for n, d in stored.items()},
           "signatures": [{"keyid": k, "sig": b64(s)} for k, s in signatures]}
    return canonical(doc) + b"\n"


def parse(data):
    """A ``Bundle`` from file bytes; ``BundleError('malformed', ...)`` for anything not canonical."""
    if not isinstance(data, (bytes, bytearray)):
        raise BundleError("malformed", "a bundle is bytes")
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("malformed", "bundle of %d bytes is over the %d-byte limit" % (len(data), MAX_BUNDLE_BYTES))
    try:
        doc = json.loads(bytes(data).decode("ascii"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError("malformed", "not a bundle file (canonical JSON): %s" % str(exc)[:80]) from None
    if not isinstance(doc, dict) or set(doc) != {"bundle", "manifest", "members", "signatures"}:
        raise BundleError("malformed", "a bundle has exactly the keys bundle, manifest, members, signatures")
    if doc["bundle"] != FORMAT or isinstance(doc["bundle"], bool):
        raise BundleError("malformed", "bundle format %r is not supported (this edge_ssre reads %d)"
                          % (doc["bundle"], FORMAT))
    manifest = check_manifest(doc["manifest"])
    members = doc["members"]
    if not isinstance(members, dict) or set(members) != set(manifest["members"]):
        raise BundleError("malformed", "the members present differ from the manifest's list")
    stored = {n: unb64(v, "member %s" % n) for n, v in members.items()}
    sigs = doc["signatures"]
    if not isinstance(sigs, list) or len(sigs) > 16:
        raise BundleError("malformed", "signatures must be a list of at most 16 entries")
    signatures = []
    for s in sigs:
        if not isinstance(s, dict) or set(s) != {"keyid", "sig"} or not isinstance(s["keyid"], str) \
                or not _KEYID.match(s["keyid"]):
            raise BundleError("malformed", "a signature is {keyid: 16 hex digits, sig: base64}")
        signatures.append((s["keyid"], unb64(s["sig"], "signature")))
    bundle = Bundle(manifest, stored, signatures)
    if bundle.to_bytes() != bytes(data):
        raise BundleError("malformed", "the file is not in canonical form (it was edited after it was built)")
    return bundle


def _strings(value, what, pattern=None):
    if not isinstance(value, list) or len(value) > 1024 or not all(isinstance(x, str) and 0 < len(x) <= 256
                                                                 for x in value):
        raise BundleError("malformed", "%s must be a list of names" % what)
    if pattern is not None and not all(pattern.match(x) for x in value):
        raise BundleError("malformed", "%s has an invalid entry" % what)
    return value


def check_manifest(m):
    """Validate the manifest's shape; returns it (a plain dict)."""
    if not isinstance(m, dict):
        raise BundleError("malformed", "the manifest must be an object")
    missing = {"name", "version", "created", "expires", "requires", "members"} - set(m)
    if missing:
        raise BundleError("malformed", "the manifest lacks %s" % ", ".join(sorted(missing)))
    extra = set(m) - _MANIFEST_KEYS
    if extra:
        raise BundleError("malformed", "unknown manifest keys %s" % ", ".join(sorted(extra)))
    if not isinstance(m["name"], str) or not _NAME.match(m["name"]):
        raise BundleError("malformed", "name must be 1-64 characters of a-z 0-9 . _ -")
    v = m["version"]
    if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v < 1 << 53:
        raise BundleError("malformed", "version must be a positive integer")
    created = parse_time(m["created"], "created")
    expires = parse_time(m["expires"], "expires")
    if expires <= created:
        raise BundleError("malformed", "expires must be after created")
    if not isinstance(m["requires"], str) or not _VERSION.match(m["requires"]):
        raise BundleError("malformed", "requires must be an edge_ssre version such as 0.1.0")
    targets = m.get("targets", {})
    if not isinstance(targets, dict) or set(targets) - set(_TARGET_KEYS):
        raise BundleError("malformed", "targets has the keys devices, groups, profiles")
    for k in _TARGET_KEYS:
        _strings(targets.get(k, []), "targets." + k)
    members = m["members"]
    if not isinstance(members, dict) or not members or len(members) > 64:
        raise BundleError("malformed", "members must list 1 to 64 files")
    for name, entry in members.items():
        if name not in MEMBER_TYPES and not RULE_SOURCE.match(name):
            raise BundleError("malformed", "member %r is not one of %s or rules/NAME.toml"
                              % (name, ", ".join(MEMBER_TYPES)))
        if not isinstance(entry, dict) or set(entry) != {"sha256", "size", "encoding"}:
            raise BundleError("malformed", "member %s needs exactly sha256, size, encoding" % name)
        if not isinstance(entry["sha256"], str) or not _HEX64.match(entry["sha256"]):
            raise BundleError("malformed", "member %s: sha256 must be 64 lower-case hex digits" % name)
        size = entry["size"]
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_MEMBER_BYTES:
            raise BundleError("malformed", "member %s: size must be 0..%d" % (name, MAX_MEMBER_BYTES))
        if entry["encoding"] not in ENCODINGS:
            raise BundleError("malformed", "member %s: encoding must be identity or zlib" % name)
    if "rules.json" in members and any(RULE_SOURCE.match(n) for n in members):
        raise BundleError("malformed", "a bundle holds rules.json or rules/*.toml, not both")
    keys = m.get("keys", {})
    if not isinstance(keys, dict) or set(keys) - {"add", "revoke"}:
        raise BundleError("malformed", "keys has the lists add and revoke")
    add = keys.get("add", [])
    if not isinstance(add, list) or len(add) > 16:
        raise BundleError("malformed", "keys.add must be a list of at most 16 keys")
    for k in add:
        if not isinstance(k, dict) or set(k) != {"keyid", "alg", "public"} or k["alg"] not in PUBLIC_ALGORITHMS \
                or not isinstance(k["keyid"], str) or not _KEYID.match(k["keyid"]):
            raise BundleError("malformed", "keys.add entries are {keyid, alg, public}")
        unb64(k["public"], "keys.add public key")
    _strings(keys.get("revoke", []), "keys.revoke", _KEYID)
    return m
