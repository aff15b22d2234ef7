#!/usr/bin/env python3
"""Compile edge_ssre/rules/data/*.toml (and device_profiles/*.toml) into edge_ssre/rules/compiled_rules.json,
the default micro table (esp32-micropython profile) into edge_ssre/micro/rules_table.py, and this
interpreter's code words for the package's regular expressions into edge_ssre/rules/compiled_sre.bin.

The package loads the compiled table at start-up (no TOML parser, no re-validation) when it is
newer than the sources or holds their CRC-32; tests fail when it is stale. Run after editing a rule file:

    python tools/build_rules.py          # write the tables
    python tools/build_rules.py --sre    # only the regex table, for this interpreter
    python tools/build_rules.py --check  # exit 1 when the table is stale (the regex table is
                                         # per interpreter and not checked: a missing or foreign
                                         # one only makes first uses compile the usual way)

The regex table (rules/sre_cache.py) is not kept in git: it belongs to one Python version.
``tools/package_lambda_edge.py`` builds it into the deployment zip with the packaging
interpreter; ``bash tools/dev.sh`` builds it for the development one.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from edge_ssre.rules import ruleset  # noqa: E402


def main(argv):
    if "--sre" in argv:  # only the regex table (tools/dev.sh: the development interpreter's)
        return write_sre_table()
    specs = ruleset.load_specs()  # full validation: errors name file and rule id
    from edge_ssre.profiles import compile_profile_crcs, compile_profiles
    table = ruleset.compiled_table(specs, compile_profiles(), compile_profile_crcs())
    text = json.dumps(table, indent=0, sort_keys=True, ensure_ascii=True) + "\n"
    from edge_ssre.micro.build import DEFAULT_TABLE, default_table
    micro, _ = default_table()
    outputs = ((ruleset.COMPILED, text), (DEFAULT_TABLE, micro))
    if "--check" in argv:
        stale = [path for path, want in outputs if _read(path) != want]
        for path in stale:
            print("stale: %s; run python tools/build_rules.py" % os.path.relpath(path), file=sys.stderr)
        if stale:
            return 1
        print("compiled rules are up to date (%d rules)" % len(specs))
        return 0
    for path, want in outputs:
        with open(path, "w") as fh:
            fh.write(want)
        print("wrote %s: %d bytes" % (os.path.relpath(path), len(want)))
    return write_sre_table()


def write_sre_table():
    n, size = sre_table(SRE_TABLE)
    print("wrote %s: %d patterns, %d bytes (%s)" % (os.path.relpath(SRE_TABLE), n, size, sys.version.split()[0]))
    return 0


ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRE_TABLE = os.path.join(ROOT, "edge_ssre", "rules", "compiled_sre.bin")

# Run in a fresh interpreter (patterns already compiled in this one would go unrecorded): every
# row of the built-in rules, then inspections that reach the decoders' and transforms' patterns:
# each rule's own attack and benign examples in a Lambda event and as raw bytes, the CloudFront
# samples, a JSON and a CBOR MQTT message.
_WORKLOAD = r'''
import glob, json, os, sys
sys.path.insert(0, sys.argv[1])
from edge_ssre.rules import sre_cache
with sre_cache.record() as seen:
    from edge_ssre import Guard
    from edge_ssre.rules import ruleset
    rs = ruleset.build_default().compile_all()
    guard = Guard(ruleset=rs)
    for spec in rs.specs:
        for text in tuple(spec.attack) + tuple(spec.benign):
            guard.inspect({"q": text}, source="lambda")
            guard.inspect(text.encode("utf-8", "surrogatepass"), source="raw")
    for path in glob.glob(os.path.join(sys.argv[1], "tests", "data", "samples", "*.json")):
        with open(path) as fh:
            guard.inspect(json.load(fh), source="auto")
    guard.inspect(b'{"device": "gw-1", "t": 21.5, "note": "ok"}', source="mqtt", topic="site/dev/telemetry")
    guard.inspect(bytes.fromhex("a26164636777316174f94d60"), source="mqtt", topic="site/dev/telemetry")
    guard.inspect({"q": "%u0027 or 1=1 -- " * 200}, source="lambda")  # %u escapes; a long value's chunked scan
    patterns = sorted(seen)
with open(sys.argv[2], "wb") as fh:
    fh.write(sre_cache.build(patterns))
print(len(patterns))
'''


def sre_table(path, python=None):
    """Write the regex table for ``python`` (default: this interpreter) to ``path``; (patterns, bytes)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([python or sys.executable, "-c", _WORKLOAD, os.path.abspath(ROOT), path],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit("build_rules: the regex table was not built:\n" + out.stderr[-2000:])
    return int(out.stdout.split()[-1]), os.path.getsize(path)


def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
