"""Trusted keys and signature checks.

A key is ``(keyid, alg, public)``: ``alg`` is ``ed25519`` (the default), ``ecdsa-p256-sha256`` (what
AWS Signer produces for IoT OTA) or ``hmac-sha256`` (a secret shared with one device, for boards
that cannot verify public-key signatures); ``public`` is the DER SubjectPublicKeyInfo of the public
key (the HMAC secret for ``hmac-sha256``). ``keyid`` is the first 16 hex digits of the SHA-256 of
``public`` (of ``b"hmac:" + secret`` for HMAC keys, so the id does not reveal the secret).

Public-key checks use the ``cryptography`` package (the ``bundle`` extra), imported on first use.

A trust store is read from a file: PEM public keys (``bundle.pub`` from ``edge-ssre bundle keygen``,
several may be concatenated), or JSON ``{"threshold": 1, "keys": [{"keyid", "alg", "public"}]}``.
"""

import hashlib
import hmac
import json

from .format import BundleError, PUBLIC_ALGORITHMS, b64, unb64


def keyid_of(alg, public):
    raw = b"hmac:" + public if alg == "hmac-sha256" else public
    return hashlib.sha256(raw).hexdigest()[:16]


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    except ImportError:
        raise ImportError("checking public-key signatures needs the cryptography package "
                          "(pip install 'edge-ssre[bundle]')") from None
    return InvalidSignature, hashes, serialization, ec, ed25519


class Key:
    __slots__ = ("keyid", "alg", "public", "_verifier")

    def __init__(self, alg, public, keyid=None):
        if alg not in PUBLIC_ALGORITHMS + ("hmac-sha256",):
            raise BundleError("malformed", "unknown key algorithm %r" % (alg,))
        self.alg = alg
        self.public = bytes(public)
        self.keyid = keyid_of(alg, self.public)
        if keyid is not None and keyid != self.keyid:
            raise BundleError("malformed", "key id %s does not match its key (%s)" % (keyid, self.keyid))
        self._verifier = None

    def to_dict(self):
        return {"keyid": self.keyid, "alg": self.alg, "public": b64(self.public)}

    def verify(self, signature, message):
        """True when ``signature`` is this key's signature of ``message``."""
        if self.alg == "hmac-sha256":
            return hmac.compare_digest(hmac.new(self.public, message, hashlib.sha256).digest(), signature)
        InvalidSignature, hashes, serialization, ec, ed25519 = _crypto()
        if self._verifier is None:
            try:
                key = serialization.load_der_public_key(self.public)
            except ValueError:
                raise BundleError("malformed", "key %s is not a DER public key" % self.keyid) from None
            want = ed25519.Ed25519PublicKey if self.alg == "ed25519" else ec.EllipticCurvePublicKey
            if not isinstance(key, want) or (self.alg != "ed25519" and key.curve.name != "secp256r1"):
                raise BundleError("malformed", "key %s is not an %s key" % (self.keyid, self.alg))
            self._verifier = key
        try:
            if self.alg == "ed25519":
                self._verifier.verify(signature, message)
            else:
                self._verifier.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def key_from_dict(d):
    if not isinstance(d, dict) or set(d) - {"keyid", "alg", "public"} or "alg" not in d or "public" not in d:
        raise BundleError("malformed", "a key is {keyid, alg, public}")
    return Key(d["alg"], unb64(d["public"], "public key"), d.get("keyid"))


def key_from_public_pem(pem):
    """A ``Key`` from one PEM ``PUBLIC KEY`` block (Ed25519 or ECDSA P-256)."""
    _, _, serialization, ec, ed25519 = _crypto()
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise BundleError("malformed", "not a PEM public key: %s" % exc) from None
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Key("ed25519", der)
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return Key("ecdsa-p256-sha256", der)
    raise BundleError("malformed", "only Ed25519 and ECDSA P-256 public keys are supported")


class TrustStore:
    """The root keys provisioned out of band and the number of them a bundle needs."""

    __slots__ = ("keys", "threshold", "origin")

    def __init__(self, keys, threshold=1, origin="<trust>"):
        self.keys = {k.keyid: k for k in keys}
        if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= max(1, len(keys)):
            raise BundleError("malformed", "%s: threshold must be 1..%d" % (origin, max(1, len(keys))))
        self.threshold = threshold
        self.origin = origin

    @classmethod
    def from_bytes(cls, data, origin="<trust>"):
        text = bytes(data).strip()
        if text.startswith(b"-----BEGIN"):
            keys = []
            marker = b"-----END PUBLIC KEY-----"
            for block in text.split(marker):
                if block.strip():
                    keys.append(key_from_public_pem(block.strip() + b"\n" + marker + b"\n"))
            return cls(keys, 1, origin)
        try:
            doc = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BundleError("malformed", "%s: neither PEM public keys nor a JSON trust store" % origin) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or not doc["keys"]:
            raise BundleError("malformed", "%s: a trust store is {\"threshold\": N, \"keys\": [...]}" % origin)
        return cls([key_from_dict(k) for k in doc["keys"]], doc.get("threshold", 1), origin)

    @classmethod
    def load(cls, path):
        try:
            with open(path, "rb") as fh:
                data = fh.read(1 << 20)
        except OSError as exc:
            raise OSError("%s: cannot read the trust store: %s" % (path, exc.strerror or exc)) from None
        return cls.from_bytes(data, str(path))


def check_signatures(bundle, trusted, revoked, threshold):
    """Raise unless at least ``threshold`` distinct trusted keys signed the manifest.

    ``trusted``: keyid -> Key (root keys plus keys introduced by earlier bundles, less revoked ones);
    ``revoked``: key ids withdrawn by an earlier bundle. A signature by a trusted key that does not
    verify refuses the bundle outright: the manifest was changed after it was signed."""
    good = set()
    seen_revoked = False
    for keyid, sig in bundle.signatures:
        if keyid in revoked:
            seen_revoked = True
            continue
        key = trusted.get(keyid)
        if key is None:
            continue
        if not key.verify(sig, bundle.manifest_bytes):
            raise BundleError("signature", "the signature by key %s does not match the manifest" % keyid)
        good.add(keyid)
    if len(good) >= threshold:
        return sorted(good)
    if not bundle.signatures:
        raise BundleError("signature", "the bundle is not signed")
    if good:
        raise BundleError("threshold", "signed by %d trusted key(s); %d needed" % (len(good), threshold))
    if seen_revoked:
        raise BundleError("revoked-key", "signed only by revoked key(s) %s"
                          % ", ".join(k for k, _ in bundle.signatures if k in revoked))
    raise BundleError("unknown-key", "signed by key(s) %s, none of them trusted"
                      % ", ".join(k for k, _ in bundle.signatures))
