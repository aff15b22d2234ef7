"""Host side: make keys, build and sign bundles. The device-side modules never import this one.

    keygen(out_dir)                    -> out_dir/bundle.key (PKCS#8 PEM, mode 0600), bundle.pub
    build(name, version, files, ...)   -> unsigned bundle bytes
    sign(bundle_bytes, key_pem)        -> the same bundle with one more signature
"""

import os
import time
import zlib

from .format import (BundleError, MAX_MEMBER_BYTES, MEMBER_TYPES, RULE_SOURCE, check_manifest, format_time,
                     parse, sha256_hex)
from .trust import Key, _crypto

DEFAULT_LIFETIME_DAYS = 90


def keygen(out_dir, alg="ed25519"):
    """Write a new private key (``bundle.key``, 0600) and its public key (``bundle.pub``)."""
    _, _, serialization, ec, ed25519 = _crypto()
    if alg == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif alg == "ecdsa-p256-sha256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError("--alg must be ed25519 or ecdsa-p256-sha256")
    os.makedirs(out_dir, exist_ok=True)
    key_path = os.path.join(out_dir, "bundle.key")
    pub_path = os.path.join(out_dir, "bundle.pub")
    if os.path.exists(key_path):
        raise FileExistsError("%s exists; keygen never overwrites a key" % key_path)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = private.public_key()
    with open(pub_path, "wb") as fh:
        fh.write(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Key(alg, der)


def load_private(pem):
    """(sign function, Key) from a PKCS#8 PEM private key."""
    _, hashes, serialization, ec, ed25519 = _crypto()
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise BundleError("malformed", "not an unencrypted PEM private key: %s" % exc) from None
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign, Key("ed25519", der)
    if isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1":
        return (lambda msg: private.sign(msg, ec.ECDSA(hashes.SHA256()))), Key("ecdsa-p256-sha256", der)
    raise BundleError("malformed", "only Ed25519 and ECDSA P-256 private keys are supported")


def build(name, version, files, created=None, expires=None, requires=None, targets=None, add_keys=(),
          revoke=(), compress=True):
    """Unsigned bundle bytes. ``files``: member name -> bytes (see ``format.MEMBER_TYPES``)."""
    from .. import __version__
    created = int(time.time()) if created is None else int(created)
    expires = created + DEFAULT_LIFETIME_DAYS * 86400 if expires is None else int(expires)
    members, stored = {}, {}
    for mname in sorted(files):
        data = bytes(files[mname])
        if mname not in MEMBER_TYPES and not RULE_SOURCE.match(mname):
            raise ValueError("member %r: expected one of %s or rules/NAME.toml" % (mname, ", ".join(MEMBER_TYPES)))
        if len(data) > MAX_MEMBER_BYTES:
            raise ValueError("member %s is over %d bytes" % (mname, MAX_MEMBER_BYTES))
        body = zlib.compress(data, 9) if compress else data
        stored[mname] = body
        members[mname] = {"sha256": sha256_hex(body), "size": len(data),
                          "encoding": "zlib" if compress else "identity"}
    manifest = {"name": name, "version": version, "created": format_time(created),
                "expires": format_time(expires), "requires": requires or __version__,
                "targets": {k: list(v) for k, v in (targets or {}).items() if v}, "members": members}
    if add_keys or revoke:
        manifest["keys"] = {"add": [k.to_dict() for k in add_keys], "revoke": list(revoke)}
    try:
        check_manifest(manifest)
    except BundleError as exc:
        raise ValueError(exc.detail) from None
    from .format import encode
    out = encode(manifest, stored, [])
    parse(out)  # what we write must read back
    return out


def sign(data, key_pem):
    """The bundle with a signature by ``key_pem`` added (a key that already signed is replaced)."""
    from .format import encode
    bundle = parse(data)
    signer, key = load_private(key_pem)
    sigs = [(k, s) for k, s in bundle.signatures if k != key.keyid]
    sigs.append((key.keyid, signer(bundle.manifest_bytes)))
    return encode(bundle.manifest, bundle.stored, sigs)


def sign_hmac(data, secret):
    """The bundle with an HMAC-SHA256 tag by a provisioned device secret (for boards; see docs/BUNDLES.md)."""
    import hashlib
    import hmac
    from .format import encode
    bundle = parse(data)
    key = Key("hmac-sha256", secret)
    sigs = [(k, s) for k, s in bundle.signatures if k != key.keyid]
    sigs.append((key.keyid, hmac.new(secret, bundle.manifest_bytes, hashlib.sha256).digest()))
    return encode(bundle.manifest, bundle.stored, sigs)
