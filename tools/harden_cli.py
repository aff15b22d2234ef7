#!/usr/bin/env python3
"""Bad configuration and command-line input, many at a time: no traceback, the right exit code,
and an error that names what is wrong and where.

    python tools/harden_cli.py [--quick] [--markdown] [--json OUT]

Classes of input:

* ``sidecar config``, ``device profile``, ``policy``: a valid file (the sidecar's with every
  section: [broker], [uplink], [policy], [telemetry] and its topic rules; a device profile with
  every section; a policy with families, rules, allow entries and [telemetry]) with the value on
  one line replaced by each of ~20 bad TOML values (wrong types, negative, zero, huge, NaN, dates,
  wildcards, empty), an unknown key inserted in each table, each line deleted, and a few TOML
  syntax errors. The sidecar file runs through ``edge-ssre run --config F --check``; the profile
  through ``edge-ssre inspect --profile F``; the policy through ``edge-ssre inspect --policy F
  --topic T``. An accepted file exits 0; a refused one exits 2 with one line naming the file and
  a line (and, for a replaced value or an inserted key, the line that was changed and its key).
* ``command line``: bad option values for every verb (ports 0, -1, 70000, wildcards in topic
  names, negative durations and counts, missing files, unknown options, bad versions, bad JSON):
  exit 2 (3 where the thing named cannot be used), one line naming the option or file.
* ``help``: every verb's and action's ``--help``: exit 0, lists its exit codes and an example,
  every option says its default.
* ``broker``: a port nobody listens on, a listener that never answers, a broker refusing the
  client: ``edge-ssre run`` exits 3 with one line within the connect timeout (needs mosquitto for
  the refusing broker; skipped with a line when it is missing).

Everything but the broker class runs in-process through ``edge_ssre.cli.main`` (one interpreter,
thousands of cases in seconds; an exception escaping ``main`` or its "internal error" line counts
as a traceback); a sample of each class also runs as a real ``edge-ssre`` process to check that
no traceback reaches stderr there either. ``tests/test_harden_cli.py`` runs the ``--quick`` set.
Figures go in docs/HARDENING.md, "Command line and configuration".
"""

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BAD_VALUES = ['"big"', '7', '-1', '0', '70000', '4294967296', '1e300', '-1.5', 'nan', 'inf', 'true', '[]',
              '[1, "a"]', '["a/#", 3]', '{}', '{ x = 1 }', '""', '"a/#"', '"+/x"', '1979-05-27', '"\\u0000"',
              '"' + "x" * 300 + '"']
QUICK_VALUES = ['"big"', '-1', '70000', '[]', '{ x = 1 }', '1979-05-27']

SIDECAR = """\
inputs = ["sensors/#"]
output_prefix = "guarded"
quarantine = "quarantine"
profile = "raspberry-pi-4"
sink = "store:STORE"
device = "gw-1"
stats_interval = 10
queue_depth = 4096
[broker]
host = "127.0.0.1"
port = 1883
protocol = "5"
client = "builtin"
session_expiry = 3600
connect_timeout = 10
username = "gw"
password = "secret"
client_id = "gw-1"
[broker.tls]
ca = "/etc/ssl/certs/ca-certificates.crt"
insecure = false
[uplink]
host = "127.0.0.1"
port = 8883
topic = "edge-ssre/events"
client_id = "gw-1-uplink"
rate_limit = 100
max_backoff = 30
[policy]
mode = "enforce"
default_action = "block"
[policy.families]
ssrf = "alert"
[policy.rules]
"sqli.fragment" = "off"
[[policy.allow]]
path = "note"
families = ["xss"]
[telemetry]
unknown_topics = "block"
deny = ["$SYS/#", "$aws/#"]
max_topic_length = 256
max_topic_levels = 16
client_id_level = 1
client_rate = { rate = 50, burst = 60 }
topic_rate = { rate = 200, burst = 400 }
[[telemetry.topic]]
filter = "sensors/+/telemetry"
format = "json"
max_bytes = 2048
action = "block"
unknown_fields = "alert"
rate = { rate = 10, burst = 20 }
[telemetry.topic.fields]
temp = { type = "number", min = -40, max = 85, required = true }
status = { type = "string", enum = ["ok", "warn"] }
dev = { type = "string", max_length = 32, pattern = "^[a-z0-9-]{1,32}$" }
"""

PROFILE = """\
name = "harden-pi"
description = "a device profile with every section"
[limits]
max_bytes = 1048576
max_depth = 32
max_leaves = 4096
max_layers = 4
max_string = 65536
max_inflate_ratio = 20
max_inflated = 1048576
deadline_us = 10000
clock_every = 64
[store]
capacity_bytes = 33554432
durability = "group"
group_commit_ms = 50
when_full = "overwrite"
[telemetry]
client_slots = 1024
topic_slots = 1024
max_topic_length = 256
max_topic_levels = 16
[runtime]
memory_mb = 48
cpus = [2, 3]
threads = 2
queue_depth = 4096
[micro]
regex_cache = 8
max_scan = 4096
clean_cache = 64
table_bytes = 65536
families = ["sqli", "xss"]
[policy]
mode = "enforce"
default_action = "block"
[policy.families]
ssrf = "alert"
"""

POLICY = """\
mode = "enforce"
default_action = "block"
[families]
ssrf = "alert"
xss = "block"
[rules]
"sqli.fragment" = "off"
[[allow]]
path = "Records[*].Sns.Message.html"
topic = "cms/+/pages"
families = ["xss"]
rules = ["xss.html"]
[telemetry]
unknown_topics = "alert"
deny = ["$SYS/#"]
max_topic_length = 128
client_rate = { rate = 50, burst = 100 }
[[telemetry.topic]]
filter = "sensors/+/telemetry"
format = "json"
max_bytes = 1024
[telemetry.topic.fields]
temp = { type = "number", min = -40, max = 85 }
"""

SYNTAX_ERRORS = ['inputs = ["a/#"\n', 'broker = \n', '[broker\nport = 1\n', 'a = "unterminated\n',
                 'x = 1\nx = 2\n', '= 5\n', 'inputs = ["a/#"]\n[[inputs]]\n', '\xff\xfe'.encode('latin-1').decode('latin-1')]


class Result:
    __slots__ = ("code", "out", "err", "crashed")

    def __init__(self, code, out, err, crashed):
        self.code, self.out, self.err, self.crashed = code, out, err, crashed


def call(argv, stdin=b"{}"):
    """``edge_ssre.cli.main(argv)`` in this process, its output captured."""
    from edge_ssre import cli
    out, err = io.StringIO(), io.StringIO()
    fake_in = io.TextIOWrapper(io.BytesIO(stdin))
    crashed = None
    old_in = sys.stdin
    sys.stdin = fake_in
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except Exception as exc:  # escaped main: a traceback a user would see
        code, crashed = None, "%s: %s" % (type(exc).__name__, exc)
    finally:
        sys.stdin = old_in
    text = err.getvalue()
    if crashed is None and "internal error" in text:
        crashed = text.strip()
    return Result(code, out.getvalue(), text, crashed)


def run_process(argv, stdin=b"{}", timeout=60):
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli"] + argv, input=stdin, capture_output=True,
                         timeout=timeout, cwd=ROOT)
    err = res.stderr.decode("utf-8", "replace")
    crashed = err.strip() if ("Traceback" in err or "internal error" in err) else None
    return Result(res.returncode, res.stdout.decode("utf-8", "replace"), err, crashed)


class Tally:
    """Counts for one class of input, and the first few problems of each kind."""

    def __init__(self, name):
        self.name = name
        self.cases = self.accepted = self.refused = self.at_line = self.line_cases = 0
        self.problems = {"traceback": [], "exit code": [], "not one line": [], "where missing": [],
                         "changed line not named": []}

    def problem(self, kind, case, res):
        self.problems[kind].append("%s -> exit %s: %s" % (case, res.code, (res.crashed or res.err.strip())[:300]))

    def count(self, kind):
        return len(self.problems[kind])

    def failed(self):
        return sum(len(v) for k, v in self.problems.items() if k != "changed line not named")


def error_line(res):
    lines = [ln for ln in res.err.strip().splitlines() if ln.startswith("edge-ssre")]
    return lines[-1] if lines else ""


def check_file_case(t, case, res, path, line=None, key=None, accepted=(0, 1)):
    """A config-file case: exit 0 (accepted) or 2 with one line naming the file and a line."""
    t.cases += 1
    if res.crashed:
        t.problem("traceback", case, res)
        return
    if res.code in accepted:  # inspect's 0 and 1 are verdicts: the file was taken
        t.accepted += 1
        if os.environ.get("HARDEN_SHOW_ACCEPTED"):
            print("accepted:", case)
        return
    if res.code != 2:
        t.problem("exit code", case, res)
        return
    t.refused += 1
    lines = res.err.strip().splitlines()
    if len(lines) != 1:
        t.problem("not one line", case, res)
    msg = error_line(res)
    if not re.search(re.escape(os.path.basename(path)) + r"(:\d+)?: ", msg):
        t.problem("where missing", case, res)
        return
    if line is not None:
        t.line_cases += 1
        m = re.search(re.escape(os.path.basename(path)) + r":(\d+): key '([^']+)'", msg)
        named = m.group(2) if m else ""
        if m and int(m.group(1)) == line and (key is None or key in (named, named.split(".")[-1])
                                              or named.endswith("." + key) or named.startswith(key + ".")):
            t.at_line += 1
        else:
            t.problem("changed line not named", case, res)


def _assignments(text):
    """(line number, key, table) of every ``key = value`` line."""
    table = ""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            table = s.strip("[]").strip()
        elif "=" in s and not s.startswith("#"):
            out.append((n, s.split("=", 1)[0].strip().strip('"'), table))
    return out


def _tables(text):
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[")]


def mutate_file(t, template, run, values, work, name, deletions=True):
    """Every line's value replaced by each bad value; an unknown key in every table; each line
    deleted; syntax errors."""
    path = os.path.join(work, name)
    lines = template.splitlines()

    def attempt(text, case, line=None, key=None):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        check_file_case(t, case, run(path), path, line, key)

    for n, key, table in _assignments(template):
        for value in values:
            changed = list(lines)
            changed[n - 1] = "%s = %s" % (lines[n - 1].split("=", 1)[0].rstrip(), value)
            attempt("\n".join(changed) + "\n", "%s line %d %s = %s" % (name, n, key, value[:20]), n, key)
        if deletions:
            deleted = lines[:n - 1] + lines[n:]
            attempt("\n".join(deleted) + "\n", "%s line %d (%s) deleted" % (name, n, key))
    for n, head in [(0, "")] + _tables(template):
        changed = list(lines)
        changed.insert(n, "frobnicate = 1")
        attempt("\n".join(changed) + "\n", "%s unknown key after line %d %s" % (name, n, head), n + 1, "frobnicate")
    for bad in SYNTAX_ERRORS:
        attempt(bad, "%s syntax %r" % (name, bad[:20]))


def file_classes(work, values, tallies, deletions=True):
    store = os.path.join(work, "events.ring")
    sidecar = SIDECAR.replace("STORE", store)
    t = tallies.setdefault("sidecar config", Tally("sidecar config"))
    run = lambda p: call(["run", "--config", p, "--check"])  # noqa: E731
    mutate_file(t, sidecar, run, values, work, "sidecar.toml", deletions)
    t = tallies.setdefault("device profile", Tally("device profile"))
    run = lambda p: call(["inspect", "--profile", p, "-"])  # noqa: E731
    mutate_file(t, PROFILE, run, values, work, "profile.toml", deletions)
    t = tallies.setdefault("policy", Tally("policy"))
    run = lambda p: call(["inspect", "--policy", p, "--topic", "sensors/1/telemetry", "-"])  # noqa: E731
    mutate_file(t, POLICY, run, values, work, "policy.toml", deletions)


def command_line_cases(work):
    """(argv, stdin, expected exit, text the one error line must contain)."""
    missing = os.path.join(work, "no-such-dir", "x")
    garbage = os.path.join(work, "garbage.ring")
    with open(garbage, "wb") as fh:
        fh.write(b"not a store" * 100)
    bad_capture = os.path.join(work, "capture.jsonl")
    with open(bad_capture, "w") as fh:
        fh.write("{bad\n")
    cases = []
    for port in ("0", "-1", "70000", "65536", "x", "", "1.5"):
        for verb in (["run", "--input", "a/#"], ["learn"]):
            cases.append((verb + ["--broker", "127.0.0.1:" + port], 2, "--broker"))
    cases += [
        (["run", "--broker", "nohost", "--input", "a/#"], 2, "--broker"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--output-prefix", "guarded/#"], 2, "--output-prefix"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--output-prefix", "g/+/x"], 2, "--output-prefix"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--quarantine", "q/#"], 2, "--quarantine"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--output-prefix", ""], 2, "--output-prefix"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#x"], 2, "--input"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "#", "--check"], 2, "--input"),
        (["run", "--broker", "127.0.0.1:1883", "--check"], 2, "inputs"),
        (["run", "--input", "a/#", "--check"], 2, "broker"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--duration", "-1"], 2, "--duration"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--duration", "nan"], 2, "--duration"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--stats-interval", "0"], 2, "--stats-interval"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--connect-timeout", "-3"], 2, "--connect-timeout"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--profile", "toaster", "--check"], 2, "--profile"),
        (["run", "--broker", "127.0.0.1:1883", "--input", "a/#", "--sink", "store:", "--check"], 2, "--sink"),
        (["run", "--config", missing, "--check"], 2, missing),
        (["run", "--config", garbage, "--check"], 2, garbage),
        (["run", "--frobnicate"], 2, "--frobnicate"),
        (["inspect", missing], 2, missing),
        (["inspect", "--source", "pigeon", "-"], 2, "--source"),
        (["inspect", "--topic", "a/#", "-"], 2, "--topic"),
        (["inspect", "--topic", "", "-"], 2, "--topic"),
        (["inspect", "--profile", "toaster", "-"], 2, "toaster"),
        (["inspect", "--profile", missing + ".toml", "-"], 2, missing),
        (["inspect", "--policy", missing, "-"], 2, missing),
        (["inspect", "--policy", garbage, "-"], 2, garbage),
        (["events", "tail", "-n", "-5", "--store", garbage], 2, "-n"),
        (["events", "tail", "-n", "many", "--store", garbage], 2, "-n"),
        (["events", "stat", "--store", missing], 2, missing),
        (["events", "stat", "--store", garbage], 3, garbage),
        (["events"], 2, "ACTION"),
        (["events", "purge"], 2, "purge"),
        (["learn"], 2, "--broker"),
        (["learn", "--capture", missing], 3, missing),
        (["learn", "--capture", bad_capture], 2, bad_capture),
        (["learn", "--capture", bad_capture, "--margin", "-1"], 2, "--margin"),
        (["learn", "--capture", bad_capture, "--rate-factor", "0"], 2, "--rate-factor"),
        (["learn", "--capture", bad_capture, "--broker", "127.0.0.1:1883"], 2, "--broker"),
        (["learn", "--capture", bad_capture, "--input", "a/#/b"], 2, "--input"),
        (["rig", "--duration", "-1"], 2, "--duration"),
        (["rig", "--devices", "0"], 2, "--devices"),
        (["rig", "--devices", "2.5"], 2, "--devices"),
        (["rig", "--seed", "-1"], 2, "--seed"),
        (["rig", "--profile", "toaster", "--duration", "5"], 2, "toaster"),
        (["greengrass"], 2, "ACTION"),
        (["greengrass", "build", "--version", "x y"], 2, "--version"),
        (["greengrass", "build", "--version", "1.2"], 2, "--version"),
        (["greengrass", "run", "--config-json", "{bad"], 2, "--config-json"),
        (["greengrass", "run", "--config", missing], 2, missing),
        (["nonsense"], 2, "nonsense"),
        ([], 2, "VERB"),
    ]
    return cases


def command_line(t, work, sample_processes):
    cases = command_line_cases(work)
    for argv, want, where in cases:
        res = call(argv)
        _judge_argv(t, argv, res, want, where)
    for argv, want, where in cases[::max(1, len(cases) // sample_processes)]:
        res = run_process(argv)
        _judge_argv(t, ["(process)"] + argv, res, want, where)


def _judge_argv(t, argv, res, want, where):
    t.cases += 1
    case = "edge-ssre " + " ".join(argv)
    if res.crashed:
        t.problem("traceback", case, res)
        return
    if res.code != want:
        t.problem("exit code", case, res)
        return
    t.refused += 1
    msg = res.err.strip().splitlines()
    errors = [ln for ln in msg if ln.startswith("edge-ssre")]
    if len(errors) != 1:
        t.problem("not one line", case, res)
    if where not in (errors[-1] if errors else ""):
        t.problem("where missing", case, res)


def help_pages(t, processes=False):
    from edge_ssre.cli import build_parser
    parser = build_parser()
    pages = [[]]
    for verb, sub in _subparsers(parser).items():
        pages.append([verb])
        for action in _subparsers(sub):
            pages.append([verb, action])
    for argv in pages:
        res = run_process(argv + ["--help"]) if processes else call(argv + ["--help"])
        t.cases += 1
        case = "edge-ssre %s --help" % " ".join(argv)
        if res.crashed:
            t.problem("traceback", case, res)
        elif res.code != 0:
            t.problem("exit code", case, res)
        elif "exit codes:" not in res.out or "example" not in res.out:
            t.problem("where missing", case, Result(0, "", "no exit codes or example in the help", None))
        else:
            t.accepted += 1
    for argv in pages:  # every option has help and says its default
        p = parser
        for word in argv:
            p = _subparsers(p)[word]
        for action in p._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS or action.dest in ("help", "version"):
                continue
            t.cases += 1
            rendered = p._get_formatter()._expand_help(action) if action.help else ""
            if "default" not in rendered:
                t.problems["where missing"].append("edge-ssre %s %s: help %r says no default"
                                                   % (" ".join(argv), action.option_strings[0], rendered))
            else:
                t.accepted += 1
    return pages


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def brokers(t, work):
    """A port nobody listens on, a listener that never answers, a refusing mosquitto."""
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    closed_port = free.getsockname()[1]
    free.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    cases = [("nobody listens", closed_port), ("never answers", silent.getsockname()[1])]
    mosq = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    proc = None
    if mosq:
        free = socket.socket()
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
        free.close()
        conf = os.path.join(work, "refusing.conf")
        with open(conf, "w") as fh:
            fh.write("listener %d 127.0.0.1\nallow_anonymous false\n" % port)
        proc = subprocess.Popen([mosq, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        cases.append(("refuses the client", port))
    else:
        print("broker class: no mosquitto here, the refusing-broker case is skipped", file=sys.stderr)
    slowest = 0.0
    try:
        for name, port in cases:
            start = time.monotonic()
            res = run_process(["run", "--broker", "127.0.0.1:%d" % port, "--input", "a/#", "--connect-timeout", "1",
                               "--duration", "30"], timeout=30)
            took = time.monotonic() - start
            slowest = max(slowest, took)
            t.cases += 1
            case = "broker that %s (%.1f s)" % (name, took)
            if res.crashed:
                t.problem("traceback", case, res)
            elif res.code != 3 or took > 8:
                t.problem("exit code", case, res)
            elif len(res.err.strip().splitlines()) != 1 or ":%d" % port not in res.err:
                t.problem("not one line", case, res)
            else:
                t.refused += 1
    finally:
        silent.close()
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    return slowest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="fewer bad values, no deleted lines, few processes (the test suite's set)")
    ap.add_argument("--markdown", action="store_true", help="print the figures as a markdown table")
    ap.add_argument("--json", default=None, metavar="OUT", help="write the figures as JSON to this file")
    ap.add_argument("--no-broker", action="store_true", help="skip the broker class (it starts processes)")
    args = ap.parse_args(argv)
    os.environ.pop("EDGE_SSRE_DEBUG", None)
    tallies = {}
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="edge-ssre-harden-")
    try:
        file_classes(work, QUICK_VALUES if args.quick else BAD_VALUES, tallies, deletions=not args.quick)
        t = tallies.setdefault("command line", Tally("command line"))
        command_line(t, work, 4 if args.quick else 25)
        t = tallies.setdefault("help pages", Tally("help pages"))
        help_pages(t, processes=not args.quick)
        slowest = None
        if not args.no_broker:
            t = tallies.setdefault("broker at start", Tally("broker at start"))
            slowest = brokers(t, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    report(tallies, args, elapsed, slowest)
    return 1 if any(t.failed() for t in tallies.values()) else 0


def report(tallies, args, elapsed, slowest):
    rows = []
    for t in tallies.values():
        rows.append({"class": t.name, "cases": t.cases, "accepted": t.accepted, "refused": t.refused,
                     "tracebacks": t.count("traceback"), "wrong exit": t.count("exit code"),
                     "not one line": t.count("not one line"), "where missing": t.count("where missing"),
                     "refusals naming the changed line": "%d/%d" % (t.at_line, t.line_cases) if t.line_cases else "-"})
    total = sum(r["cases"] for r in rows)
    bad = sum(r["tracebacks"] + r["wrong exit"] + r["not one line"] + r["where missing"] for r in rows)
    if args.markdown:
        cols = list(rows[0])
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    else:
        for r in rows:
            print("%-18s %5d cases: %5d accepted, %5d refused | tracebacks %d, wrong exit %d, not one line %d, "
                  "where missing %d | refusals naming the changed line %s"
                  % (r["class"], r["cases"], r["accepted"], r["refused"], r["tracebacks"], r["wrong exit"],
                     r["not one line"], r["where missing"], r["refusals naming the changed line"]))
    print("%d cases in %.1f s, %d with a problem%s" % (total, elapsed, bad, "" if slowest is None else
                                                        "; slowest broker refusal %.1f s" % slowest))
    for t in tallies.values():
        for kind, items in t.problems.items():
            for item in items[:5]:
                print("  %s / %s: %s" % (t.name, kind, item))
            if len(items) > 5:
                print("  %s / %s: ... %d more" % (t.name, kind, len(items) - 5))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "cases": total, "problems": bad, "seconds": round(elapsed, 1),
                       "details": {t.name: t.problems for t in tallies.values()}}, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
