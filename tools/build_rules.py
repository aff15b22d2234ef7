#!/usr/bin/env python3
"""Compile edge_ssre/rules/data/*.toml (and device_profiles/*.toml) into edge_ssre/rules/compiled_rules.json.

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
    from edge_ssre.profiles import compile_profiles
    table = ruleset.compiled_table(specs, ruleset.source_digest(), compile_profiles())
    text = json.dumps(table, indent=0, sort_keys=True, ensure_ascii=True) + "\n"
    if "--check" in argv:
        try:
            with open(ruleset.COMPILED) as fh:
                current = fh.read()
        except OSError:
            current = ""
        if current != text:
            print("stale: run python tools/build_rules.py", file=sys.stderr)
            return 1
        print("compiled rules are up to date (%d rules)" % len(specs))
        return 0
    with open(ruleset.COMPILED, "w") as fh:
        fh.write(text)
    print("wrote %s: %d rules, %d bytes" % (os.path.relpath(ruleset.COMPILED), len(specs), len(text)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
