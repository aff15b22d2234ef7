#!/usr/bin/env python3
"""Signed bundles under attack and under power loss.

    python tools/harden_bundle.py [--kills N] [--markdown]

1. Tampering: every byte of three small bundles (Ed25519, ECDSA P-256, two signatures) changed in
   turn, three ways each (xor 0x01, 0x20, 0x80), plus every truncation: all must be refused.
2. Refusals by kind: wrong key, revoked key, expired, rolled back, wrong target, too-new requirement,
   unsigned, a member that does not parse.
3. SIGKILL while installing (default 200 kills): a child installs versions 1..40 in turn; after each
   kill the state file must be at least the highest version the child reported accepted, and the kept
   bundle whole (old or new).

Exit 0 when everything holds. The short version of each part runs in tests/test_bundle.py.
"""

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Signed bundles: tampering, refusals, SIGKILL while installing.")
    ap.add_argument("--kills", type=int, default=200, help="SIGKILLs while installing (default: 200)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table for docs/HARDENING.md")
    args = ap.parse_args(argv)
    import pathlib
    import test_bundle as tb
    from edge_ssre.bundle.build import build, sign
    from edge_ssre.bundle.format import BundleError
    from edge_ssre.bundle.install import Identity, Installer, Verifier
    from edge_ssre.bundle.trust import TrustStore
    from report_common import run_meta
    rows = []
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        keys = tb.make_keys(os.path.join(tmp, "keys"))
        small = {"policy.toml": b'mode = "enforce"\n'}
        cases = [("Ed25519", tb.make(keys, files=small), TrustStore([keys["root"][1]])),
                 ("ECDSA P-256", tb.make(keys, signer="p256", files=small), TrustStore([keys["p256"][1]])),
                 ("two signatures, threshold 2", tb.make(keys, signer=["root", "p256"], files=small),
                  TrustStore([keys["root"][1], keys["p256"][1]], 2))]
        for label, data, trust in cases:
            v = Verifier(trust)
            v.verify(data)
            tried = refused = 0
            t0 = time.perf_counter()
            for i in range(len(data)):
                for flip in (0x01, 0x20, 0x80):
                    bad = bytearray(data)
                    bad[i] ^= flip
                    tried += 1
                    try:
                        v.verify(bytes(bad))
                    except BundleError:
                        refused += 1
            for cut in range(len(data)):
                tried += 1
                try:
                    v.verify(data[:cut])
                except BundleError:
                    refused += 1
            ok &= tried == refused
            rows.append(("tampered bytes and truncations, %s (%d B)" % (label, len(data)),
                         "%d/%d refused (%.1f s)" % (refused, tried, time.perf_counter() - t0)))
        me = Identity("gw-1", ["gateways"], "raspberry-pi-4")
        state = os.path.join(tmp, "refusals", "bundle.state")
        inst = Installer(TrustStore([keys["root"][1]]), state, identity=me)
        inst.install(tb.make(keys, 5, add_keys=[keys["next"][1]], revoke=[]))
        inst.install(tb.make(keys, 6, signer="next", revoke=[keys["root"][1].keyid]))
        now = time.time()
        kinds = [("wrong key", tb.make(keys, 9, signer="stranger"), "unknown-key"),
                 ("revoked key", tb.make(keys, 9), "revoked-key"),
                 ("expired", tb.make(keys, 9, signer="next", created=now - 9 * 86400, expires=now - 86400),
                  "expired"),
                 ("rolled back", tb.make(keys, 4, signer="next"), "rollback"),
                 ("same version again", tb.make(keys, 6, signer="next"), "rollback"),
                 ("wrong target", tb.make(keys, 9, signer="next", targets={"groups": ["cameras"]}), "target"),
                 ("too-new requirement", tb.make(keys, 9, signer="next", requires="9.0"), "requires"),
                 ("unsigned", build("site", 9, small), "signature"),
                 ("member does not parse", tb.make(keys, 9, signer="next", files={"policy.toml": b"mode = \n"}),
                  "member-invalid")]
        for label, data, want in kinds:
            try:
                inst.install(data)
                got = "accepted"
            except BundleError as exc:
                got = exc.reason
            ok &= got == want
            rows.append((label, "refused: %s" % got if got == want else "WRONG: %s (expected %s)" % (got, want)))
        t0 = time.perf_counter()
        landed = tb.kill_while_installing(keys, pathlib.Path(tempfile.mkdtemp(dir=tmp)), args.kills)
        rows.append(("SIGKILL while installing (state never below a reported version, kept copy whole)",
                     "%d kills, 0 violations (%.0f s)" % (landed, time.perf_counter() - t0)))
    meta = run_meta(sys.argv)
    if args.markdown:
        print("Command: `%s` · %s · %s · commit %s\n" % (meta["command"], meta["date"], meta["machine"],
                                                         meta["commit"]))
        print("| case | result |\n| --- | --- |")
        for a, b in rows:
            print("| %s | %s |" % (a, b))
    else:
        for a, b in rows:
            print("%-90s %s" % (a, b))
    print("all held" if ok else "FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
