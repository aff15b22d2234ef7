#!/usr/bin/env python3
"""Compile edge_ssre/rules/data/*.toml (and device_profiles/*.toml) into edge_ssre/rules/compiled_rules.json,
and the default micro table (esp32-micropython profile) into edge_ssre/micro/rules_table.py.

The package loads the compiled table at start-up (no TOML parser, no re-validation) when its
digest matches the sources; tests fail when it is stale. Run after editing a rule file:

    python tools/build_rules.py          # write the table
    python tools/build_rules.py --check  # exit 1 when the table is stale
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from edge_ssre.rules import ruleset  # noqa: E402


def main(argv):
    specs = ruleset.load_specs()  # full validation: errors name file and rule id
    from edge_ssre.profiles import compile_profile_crcs, compile_profiles
    table = ruleset.compiled_table(specs, ruleset.source_digest(), compile_profiles(), compile_profile_crcs())
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
    return 0


def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
