"""Bad configuration and command-line input (the short version of tools/harden_cli.py): every bad
value in every key of a sidecar config, a device profile and a policy, bad options for every verb,
every help page, and brokers that cannot be reached or refuse. No traceback, the right exit code,
one line naming the file and line (or the option); a refused replaced value names its own line."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))


def test_bad_configuration_and_command_line(capsys):
    import harden_cli
    code = harden_cli.main(["--quick"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 with a problem" in out
    for line in out.splitlines():
        if "refusals naming the changed line" in line and not line.endswith(" -"):
            done, total = line.rsplit(" ", 1)[1].split("/")
            assert done == total and int(total) > 50, line
