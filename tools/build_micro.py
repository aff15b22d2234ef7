#!/usr/bin/env python3
"""Build the MicroPython bundle for a board: the micro core plus a rule table compiled on the host.

    python tools/build_micro.py                              # dist/micro/ssre/*.py, esp32-micropython profile
    python tools/build_micro.py --mpy                        # the same, cross-compiled with mpy-cross (.mpy)
    python tools/build_micro.py --telemetry telemetry.toml   # with topic rules, schemas and rates
    python tools/build_micro.py --policy policy.toml --profile esp32-micropython --out build/board --json

The table is a plain Python data module (no TOML or JSON parsing on the board); its size is
checked against the profile's ``[micro] table_bytes``. The report says, per family, how many
rules the board runs and why the others are left out (code matchers, patterns MicroPython's
``re`` cannot express). Copy to a board with ``mpremote`` (README, "MicroPython").
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from edge_ssre.errors import SsreError  # noqa: E402


def build(args):
    from edge_ssre.micro.build import build_table
    from edge_ssre.micro.bundle import PACKAGE, write_bundle
    from edge_ssre.policy import Policy
    from edge_ssre.profiles import load_profile
    from edge_ssre.rules.ruleset import load_specs, source_digest
    from edge_ssre.telemetry.policy import TelemetryPolicy

    profile = load_profile(args.profile)
    policy = Policy.load(args.policy) if args.policy else None
    tele = TelemetryPolicy.load(args.telemetry, profile=profile) if args.telemetry else None
    text, report = build_table(load_specs(), profile, policy=policy, telemetry=tele, digest=source_digest())
    files = write_bundle(args.out, text, package=args.package or PACKAGE, mpy=args.mpy)
    return profile, report, files


def show(profile, report, files, out, package):
    fams = report.families
    print("micro bundle for %s -> %s/" % (profile.name, os.path.join(out, package)))
    print("  %-8s %s" % ("family", "rules on the board / rules"))
    for fam in sorted(fams):
        have, total = fams[fam]
        print("  %-8s %d/%d" % (fam, have, total))
    print("  %d of %d rules, %d patterns for MicroPython's re, %d approximate (may match more than on CPython)"
          % (len(report.included), len(report.included) + len(report.omitted), report.patterns,
             len(report.approximate)))
    for rid in sorted(report.omitted):
        print("  left out %-26s %s" % (rid, report.omitted[rid]))
    for rx in report.fields_dropped:
        print("  telemetry field pattern not checked on the board: %s" % rx)
    budget = profile.micro.get("table_bytes")
    print("  table %d bytes (budget %s)" % (report.source_bytes, budget if budget is not None else "none"))
    for name in sorted(files):
        print("  %-22s %7d" % (name, files[name]))
    print("  total %d bytes" % sum(files.values()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="esp32-micropython", help="device profile name or TOML path")
    ap.add_argument("--policy", help="policy TOML (actions per family/rule)")
    ap.add_argument("--telemetry", help="telemetry policy TOML (topics, schemas, rates)")
    ap.add_argument("--out", default=os.path.join("dist", "micro"), help="output directory")
    ap.add_argument("--package", help="package name on the board (default ssre)")
    ap.add_argument("--mpy", action="store_true", help="cross-compile with mpy-cross, ship .mpy only")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    try:
        profile, report, files = build(args)
    except (SsreError, OSError, RuntimeError) as exc:
        print("build_micro: %s" % exc, file=sys.stderr)
        return 2
    if args.json:
        doc = report.to_dict()
        doc["profile"] = profile.name
        doc["files"] = files
        print(json.dumps(doc, indent=1, sort_keys=True))
    else:
        from edge_ssre.micro.bundle import PACKAGE
        show(profile, report, files, args.out, args.package or PACKAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
