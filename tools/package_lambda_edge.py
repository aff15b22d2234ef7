#!/usr/bin/env python3
"""Build a Lambda@Edge deployment zip: the handler, the inspection core, the compiled rules and
the edge profiles; report its size against CloudFront's limits (viewer 1 MB, origin 50 MB).

    python tools/package_lambda_edge.py --handler my_handler.py [--policy policy.toml]
        [--trigger viewer|origin] [--out ./dist/lambda-edge.zip] [--python python3.12] [--json]

The zip carries the regex table (edge_ssre/rules/sre_cache.py) built by ``--python``, default
this interpreter: give the runtime's version (python3.11, python3.12, ...) so the function's
first event skips compiling its patterns (cold start +23-26 -> +11-13 ms over a bare handler
here); with another version the table is ignored and nothing else changes.

Only what the Lambda@Edge path imports goes in: no MQTT sidecar, Greengrass adapter, event
store or uplink, and no third-party packages (Lambda@Edge events are JSON; cbor2 is imported
only for CBOR payloads, which CloudFront never sends). Exit 0 when the zip fits, 1 when not,
2 on usage errors.
"""

import argparse
import json
import os
import sys
import tempfile
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LIMITS = {"viewer": 1 * 1024 * 1024, "origin": 50 * 1024 * 1024}
# package parts a Lambda@Edge function never imports
EXCLUDE_DIRS = {"__pycache__", "store", "uplink", "behavior", "rig"}
# host-side code, and the regex table (built per zip)
EXCLUDE_FILES = {"mqtt_sidecar.py", "sidecar_config.py", "greengrass.py", "cli.py", "build.py", "compiled_sre.bin"}
# of telemetry/, only the topic filters (the policy's [[allow]] topics) go in
INCLUDE_ONLY = {"telemetry": {"__init__.py", "topic_filter.py"}}
EXCLUDE_DATA = {"rules/data"}  # TOML sources: the compiled table is what loads


def package_files():
    base = os.path.join(ROOT, "edge_ssre")
    for dirpath, dirnames, filenames in os.walk(base):
        rel_dir = os.path.relpath(dirpath, base)
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDE_DIRS
                             and os.path.join(rel_dir, d).lstrip("./") not in EXCLUDE_DATA)
        for name in sorted(filenames):
            if name in EXCLUDE_FILES or name.endswith((".pyc", ".pyi")):
                continue
            if rel_dir in INCLUDE_ONLY and name not in INCLUDE_ONLY[rel_dir]:
                continue
            if name.endswith((".py", ".json", ".toml")):
                full = os.path.join(dirpath, name)
                yield full, os.path.join("edge_ssre", os.path.relpath(full, base))


def check_bundle(path, trust, state=None):
    """Verify a bundle for packaging: signatures against ``trust``, expiry, members, and (with the
    pipeline's ``state`` file) versions that only go forward. Raises BundleError when refused."""
    sys.path.insert(0, ROOT)
    from edge_ssre.bundle.install import Installer, Verifier
    from edge_ssre.bundle.trust import TrustStore
    with open(path, "rb") as fh:
        data = fh.read()
    store = TrustStore.load(trust)
    accepted = Installer(store, state).install(data) if state else Verifier(store).verify(data)
    return accepted.to_dict()


def build(handler, out, trigger, policy=None, python=None, bundle=None):
    from build_rules import sre_table
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        table = os.path.join(tmp, "compiled_sre.bin")
        patterns, _ = sre_table(table, python)
        with open(table, "rb") as fh:
            table_bytes = fh.read()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for full, arc in package_files():
            zf.write(full, arc)
        zf.writestr("edge_ssre/rules/compiled_sre.bin", table_bytes)
        for name in sorted(os.listdir(os.path.join(ROOT, "device_profiles"))):
            if name.startswith("lambda-edge-"):
                zf.write(os.path.join(ROOT, "device_profiles", name), "edge_ssre/device_profiles/" + name)
        zf.write(handler, os.path.basename(handler))
        if policy:
            zf.write(policy, os.path.basename(policy))
        if bundle:
            zf.write(bundle, "edge-ssre.bundle")  # lambda_edge.protect applies it at cold start
    size = os.path.getsize(out)
    return {"zip": os.path.abspath(out), "bytes": size, "trigger": trigger, "limit_bytes": LIMITS[trigger],
            "fits": size <= LIMITS[trigger], "share_of_limit": round(size / LIMITS[trigger], 4),
            "regex_table": {"python": python or sys.executable, "patterns": patterns}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="exit codes: 0 the zip fits the trigger's limit, 1 it does not, 2 usage error\n"
                                       "example: python tools/package_lambda_edge.py --handler "
                                       "tools/examples/lambda_edge_handler.py --trigger viewer")
    p.add_argument("--handler", required=True, metavar="FILE.py",
                   help="your handler module, wrapped with edge_ssre.lambda_edge.protect (required)")
    p.add_argument("--policy", metavar="FILE.toml", help="a policy file to ship beside the handler (default: none)")
    p.add_argument("--trigger", choices=sorted(LIMITS), default="viewer",
                   help="the CloudFront event the function runs on: its size limit applies (default: viewer, 1 MB)")
    p.add_argument("--out", default=os.path.join("dist", "lambda-edge.zip"), metavar="ZIP",
                   help="where to write the zip, relative to the current directory (default: ./dist/lambda-edge.zip)")
    p.add_argument("--python", help="interpreter of the Lambda runtime's version, for the regex table "
                                     "(default: this one)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (default: one line of text)")
    p.add_argument("--bundle", help="a signed bundle to package (verified now; applied at cold start)")
    p.add_argument("--trust", help="with --bundle: trusted public key(s) to verify it against (required)")
    p.add_argument("--state", help="with --bundle: the pipeline's anti-rollback state file (versions only go "
                                   "forward across builds)")
    args = p.parse_args(argv)
    for f in (args.handler, args.policy, args.bundle, args.trust):
        if f and not os.path.isfile(f):
            sys.stderr.write("package_lambda_edge: no such file: %s\n" % f)
            return 2
    if args.bundle and not args.trust:
        sys.stderr.write("package_lambda_edge: --bundle needs --trust PUBFILE\n")
        return 2
    if args.bundle:
        from edge_ssre.bundle.format import BundleError
        try:
            check_bundle(args.bundle, args.trust, args.state)
        except (BundleError, ImportError) as exc:
            sys.stderr.write("package_lambda_edge: bundle refused: %s\n" % exc)
            return 1
    report = build(args.handler, args.out, args.trigger, args.policy, args.python, args.bundle)
    if args.json:
        print(json.dumps(report))
    else:
        print("%s: %d bytes = %.1f%% of the %s limit (%d bytes): %s" % (
            report["zip"], report["bytes"], 100 * report["share_of_limit"], args.trigger,
            report["limit_bytes"], "fits" if report["fits"] else "TOO LARGE"))
    return 0 if report["fits"] else 1


if __name__ == "__main__":
    sys.exit(main())
