"""``edge-ssre bundle keygen|build|sign|verify|install|status``: JSON on stdout.

Exit codes: 0 accepted / done, 1 refused (the reason is in the JSON and on stderr), 2 usage or input
error, 3 runtime error (the cryptography package missing, a state file that cannot be written).
"""

import json
import os
import sys

from .format import MAX_BUNDLE_BYTES, BundleError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3

EPILOG = """exit codes: 0 accepted or done, 1 bundle refused (reason in the JSON), 2 usage or input error,
3 runtime error (cryptography missing, state file not writable)

examples:
  edge-ssre bundle keygen --out keys/
  edge-ssre bundle build --name site --version 3 --policy policy.toml --out site.bundle
  edge-ssre bundle sign site.bundle --key keys/bundle.key
  edge-ssre bundle verify site.bundle --trust keys/bundle.pub --state /var/lib/edge-ssre/bundle.state
  edge-ssre bundle install site.bundle --trust keys/bundle.pub --state /var/lib/edge-ssre/bundle.state"""


def register(sub, lazy):
    from ..cli import _Help
    b = sub.add_parser("bundle", help="signed rule and policy bundles: keygen | build | sign | verify | install | "
                       "status", description="Signed rule and policy bundles (docs/BUNDLES.md).", epilog=EPILOG,
                       formatter_class=_Help)
    verbs = b.add_subparsers(dest="bundle_verb", metavar="ACTION", parser_class=sub._parser_class)
    kw = dict(epilog=EPILOG, formatter_class=_Help)

    k = verbs.add_parser("keygen", help="make a signing key pair", **kw)
    k.add_argument("--out", required=True, metavar="DIR", help="directory for bundle.key (private, 0600) and "
                   "bundle.pub (required, no default)")
    k.add_argument("--alg", default="ed25519", choices=("ed25519", "ecdsa-p256-sha256"),
                   help="signature algorithm (default: ed25519)")

    bd = verbs.add_parser("build", help="build an unsigned bundle", **kw)
    bd.add_argument("--name", required=True, help="bundle name (a-z 0-9 . _ -); versions go forward per name "
                    "(required, no default)")
    bd.add_argument("--version", required=True, type=int, help="bundle version, a positive integer (required, no default)")
    bd.add_argument("--policy", metavar="FILE", help="inspection policy TOML (default: none)")
    bd.add_argument("--telemetry", metavar="FILE", help="telemetry policy TOML (default: none)")
    bd.add_argument("--behavior", metavar="FILE", help="behaviour policy TOML (default: none)")
    bd.add_argument("--profile-overrides", metavar="FILE", help="device-profile sections to merge over the "
                    "running profile ([limits], [store], ...) (default: none)")
    rules = bd.add_mutually_exclusive_group()
    rules.add_argument("--rules", metavar="DIR", help="rule source directory (*.toml), compiled on the device "
                       "(default: no rules in the bundle)")
    rules.add_argument("--rules-table", metavar="FILE", help="a compiled rule table (compiled_rules.json) (default: none)")
    rules.add_argument("--default-rules", action="store_true", help="the built-in rules as a compiled table")
    bd.add_argument("--for-device", action="append", default=[], metavar="NAME", help="target device (repeatable; "
                    "default: every device)")
    bd.add_argument("--for-group", action="append", default=[], metavar="NAME", help="target group (repeatable)")
    bd.add_argument("--for-profile", action="append", default=[], metavar="NAME",
                    help="only devices running this profile (repeatable)")
    bd.add_argument("--expires-days", type=float, default=90.0, help="lifetime in days (default: 90)")
    bd.add_argument("--requires", default=None, help="minimum edge_ssre version (default: this one)")
    bd.add_argument("--add-key", action="append", default=[], metavar="PUBFILE",
                    help="introduce a new trusted key (rotation; repeatable)")
    bd.add_argument("--revoke-key", action="append", default=[], metavar="KEYID", help="revoke a key id (repeatable)")
    bd.add_argument("--out", required=True, metavar="FILE", help="where to write the bundle (required, no default)")

    s = verbs.add_parser("sign", help="sign a bundle in place", **kw)
    s.add_argument("file", metavar="FILE", help="the bundle")
    s.add_argument("--key", required=True, metavar="KEYFILE", help="PEM private key (bundle.key) (required, no default)")

    for name, text in (("verify", "check a bundle without installing it"),
                       ("install", "check a bundle, keep it and record its version")):
        v = verbs.add_parser(name, help=text, **kw)
        v.add_argument("file", metavar="FILE", help="the bundle")
        v.add_argument("--trust", required=True, metavar="PUBFILE", help="trusted public key(s): PEM or JSON "
                       "trust store (required, no default)")
        v.add_argument("--state", required=(name == "install"), default=None, metavar="STATEFILE",
                       help="anti-rollback state file" + (" (verify: checked, never written; default: none)" if name == "verify"
                                                          else " (required, no default)"))
        v.add_argument("--device", default=None, help="this device's name, for the bundle's targets (default: unnamed)")
        v.add_argument("--group", action="append", default=[], help="a group this device is in (repeatable)")
        v.add_argument("--profile", default=None, help="this device's profile name, for targets and overrides "
                       "(default: none)")
        v.add_argument("--store", default=None, metavar="STORE", help="event store: a refusal becomes a "
                       "policy.rejected event (default: none)")

    st = verbs.add_parser("status", help="show the state file: installed versions, added and revoked keys", **kw)
    st.add_argument("--state", required=True, metavar="STATEFILE", help="anti-rollback state file (required, no default)")
    st.add_argument("--trust", default=None, metavar="PUBFILE", help="also list the keys trusted now (default: none)")
    b.set_defaults(run=lazy(".bundle.cli", "main"))
    return b


def _out(doc):
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _read(path, limit=MAX_BUNDLE_BYTES):
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError("%s: larger than %d bytes" % (path, limit))
    return data


def _usage(msg):
    sys.stderr.write("edge-ssre: %s\n" % msg)
    return EXIT_USAGE


def main(args):
    verb = getattr(args, "bundle_verb", None)
    if verb is None:
        return _usage("bundle: give an action: keygen, build, sign, verify, install or status")
    try:
        return globals()["_" + verb](args)
    except BundleError as exc:
        _out({"accepted": False, "reason": exc.reason, "detail": exc.detail})
        sys.stderr.write("edge-ssre: bundle refused: %s\n" % exc)
        return EXIT_REFUSED
    except ImportError as exc:
        sys.stderr.write("edge-ssre: %s\n" % exc)
        return EXIT_RUNTIME
    except (FileNotFoundError, IsADirectoryError) as exc:
        return _usage("%s: %s" % (exc.filename or "", exc.strerror or exc))
    except ValueError as exc:
        return _usage(str(exc))
    except OSError as exc:
        sys.stderr.write("edge-ssre: %s\n" % exc)
        return EXIT_RUNTIME


def _keygen(args):
    from .build import keygen
    key = keygen(args.out, args.alg)
    _out({"key": os.path.join(args.out, "bundle.key"), "pub": os.path.join(args.out, "bundle.pub"),
          "keyid": key.keyid, "alg": key.alg})
    return EXIT_OK


def _build(args):
    import time
    from .build import build
    from .state import replace_file
    from .trust import TrustStore
    files = {}
    for opt, member in (("policy", "policy.toml"), ("telemetry", "telemetry.toml"), ("behavior", "behavior.toml"),
                        ("profile_overrides", "profile.toml"), ("rules_table", "rules.json")):
        path = getattr(args, opt)
        if path:
            files[member] = _read(path)
    if args.default_rules:
        from ..rules.ruleset import COMPILED
        files["rules.json"] = _read(COMPILED)
    if args.rules:
        names = sorted(f for f in os.listdir(args.rules) if f.endswith(".toml"))
        if not names:
            raise ValueError("%s: no *.toml rule files" % args.rules)
        for f in names:
            files["rules/" + f] = _read(os.path.join(args.rules, f))
    if not files:
        raise ValueError("bundle build: give at least one of --policy, --telemetry, --behavior, "
                         "--profile-overrides, --rules, --rules-table, --default-rules")
    add = []
    for p in args.add_key:
        add.extend(TrustStore.load(p).keys.values())
    now = int(time.time())
    data = build(args.name, args.version, files, created=now, expires=now + int(args.expires_days * 86400),
                 requires=args.requires, targets={"devices": args.for_device, "groups": args.for_group,
                                                  "profiles": args.for_profile},
                 add_keys=add, revoke=args.revoke_key)
    replace_file(args.out, data)
    _out({"bundle": args.out, "name": args.name, "version": args.version, "bytes": len(data),
          "members": sorted(files), "signed": False})
    return EXIT_OK


def _sign(args):
    from .build import sign
    from .format import parse
    from .state import replace_file
    data = sign(_read(args.file), _read(args.key, 1 << 16))
    replace_file(args.file, data)
    b = parse(data)
    _out({"bundle": args.file, "name": b.name, "version": b.version, "signatures": [k for k, _ in b.signatures]})
    return EXIT_OK


def _installer(args):
    from .install import Identity, Installer
    from .trust import TrustStore
    trust = TrustStore.load(args.trust)
    base = None
    if getattr(args, "profile", None):
        from ..profiles import load_profile
        base = load_profile(args.profile)
    identity = Identity(getattr(args, "device", None), getattr(args, "group", ()), getattr(args, "profile", None))
    events = None
    if getattr(args, "store", None):
        from ..store import EventStore
        events = EventStore(args.store)
    return Installer(trust, args.state or os.devnull, identity, events=events, base_profile=base), events


def _verify(args):
    inst, events = _installer(args)
    try:
        data = _read(args.file)
        accepted = inst.check(data) if args.state else inst.verify(data)
    finally:
        if events is not None:
            events.close()
    _out(dict(accepted.to_dict(), accepted=True))
    return EXIT_OK


def _install(args):
    inst, events = _installer(args)
    try:
        accepted = inst.install(_read(args.file))
    finally:
        if events is not None:
            events.close()
    _out(dict(accepted.to_dict(), accepted=True, state=args.state, kept=inst.kept_path(accepted.bundle.name)))
    return EXIT_OK


def _status(args):
    from .install import Installer
    from .state import load
    from .trust import TrustStore
    if args.trust:
        _out(Installer(TrustStore.load(args.trust), args.state).status())
    else:
        st = load(args.state)
        _out({"state": args.state, "versions": st.versions, "digests": st.digests, "time_floor": st.time_floor,
              "keys_added": sorted(st.keys_added), "keys_revoked": sorted(st.keys_revoked)})
    return EXIT_OK
