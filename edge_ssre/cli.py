"""``edge-ssre`` command line: argument parsing and output formatting only.

Exit codes (every verb; each verb's ``--help`` says what they mean for it):
    0  allow / success
    1  findings (inspect: the verdict is alert or block; rig: a target failed)
    2  usage, configuration or input error (one line on stderr naming what and where, never a traceback)
    3  runtime error (a broker, file or store could not be used)

Each verb's work lives in its stage's package and is imported only when that verb runs,
so ``edge-ssre inspect`` never imports paho or awsiotsdk. Option values are checked here
(argparse types: ports 1-65535, topic names without wildcards, positive durations), so a bad
value is a usage error before anything starts.
"""

import argparse
import json
import os
import sys

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3
EXIT_PIPE = 141  # stdout's reader went away (`| head`): what a shell reports for a tool stopped by SIGPIPE

_SOURCES = ("auto", "mqtt", "lambda-edge", "lambda", "raw")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        raise SystemExit(EXIT_USAGE)


class _Help(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default: the value, "off" for a flag, or the help's own
    words for one whose default is not a plain value (it then says "default" itself). The
    description is wrapped to the terminal; the epilog (exit codes, examples) is kept as laid out."""

    def add_text(self, text):
        if text and not text.startswith("exit codes:") and "%(prog)" not in text:
            import textwrap
            text = textwrap.fill(" ".join(text.split()), max(40, self._width), break_on_hyphens=False)
        super().add_text(text)

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        if isinstance(action, (argparse._StoreTrueAction, argparse._CountAction)):
            return text + " (default: off)"
        if action.default is None:
            return text
        return text + " (default: %(default)s)"


def _epilog(codes, *examples):
    lines = ["exit codes:"] + ["  %s  %s" % (code, text) for code, text in codes]
    lines += ["", "example%s:" % ("s" if len(examples) > 1 else "")] + ["  " + e for e in examples]
    return "\n".join(lines)


_USAGE_2 = (2, "usage, configuration or input error: one line on stderr naming what and where")


# ---- option types: a bad value is a usage error naming the option --------------------------
def _broker(text):
    from .adapters.sidecar_config import broker_address
    from .errors import PolicyError
    from .tomlload import Where
    try:
        broker_address(text, Where("", "", PolicyError, {"broker": "HOST:PORT"}))
    except PolicyError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None
    return text


def _topic_name(text):
    from .telemetry.topic_filter import check_topic_name
    try:
        check_topic_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not text.strip("/"):
        raise argparse.ArgumentTypeError("%r names no topic level" % text)
    return text


def _topic_filter(text):
    from .telemetry.topic_filter import compile_filter
    try:
        compile_filter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _number(low, high=None, integer=False, above=False):
    def check(text):
        try:
            value = int(text, 10) if integer else float(text)
        except ValueError:
            value = None
        if value is None or value != value or (value <= low if above else value < low) or \
                (high is not None and value > high):
            if above:
                span = "above %s" % low + (" and at most %s" % high if high is not None else "")
            else:
                span = "from %s" % low + (" to %s" % high if high is not None else " up")
            raise argparse.ArgumentTypeError("must be %s %s, got %r"
                                             % ("an integer" if integer else "a number", span, text))
        return value
    check.__name__ = "integer" if integer else "number"
    return check


_SECONDS = _number(0, 10 ** 7, above=True)


def _json_object(text):
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("not JSON: %s" % exc) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object {...}")
    return text


def _json_file(path):
    try:
        with open(path, "rb") as fh:
            _json_object(fh.read().decode("utf-8"))
    except OSError as exc:
        raise argparse.ArgumentTypeError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError("%s: not UTF-8 text" % path) from None
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError("%s: %s" % (path, exc)) from None
    return path


def _semver(text):
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError("must be a semantic version MAJOR.MINOR.PATCH (e.g. 1.2.0), got %r" % text)
    return text


# ---- inspect ------------------------------------------------------------------------------
def _read_input(name):
    if name in (None, "-"):
        return sys.stdin.buffer.read()
    with open(name, "rb") as fh:
        return fh.read()


def cmd_inspect(args):
    from .guard import Guard
    try:
        data = _read_input(args.file)
    except OSError as exc:
        return _fail("cannot read %s: %s" % (args.file, exc.strerror or exc), EXIT_USAGE)
    guard = Guard.from_profile(args.profile) if args.profile else Guard()
    if args.policy:
        guard.reload(policy=args.policy)
    if args.topic is not None or args.source == "mqtt":
        # the sidecar's telemetry checks for a message with a topic: the policy file's [telemetry]
        # table, else the defaults ($SYS/# and $aws/# denied, topic length and level limits)
        from .telemetry.guard import TelemetryGuard
        from .telemetry.policy import for_topics
        guard.telemetry = TelemetryGuard(for_topics(args.policy, guard.profile))
    verdict = guard.inspect(data, source=args.source, topic=args.topic, client_id=args.client_id)
    out = verdict.to_dict()
    print(json.dumps(out, indent=2 if args.pretty else None, sort_keys=False))
    return EXIT_OK if verdict.action == "allow" else EXIT_FINDINGS


def _fail(message, code):
    sys.stderr.write("edge-ssre: %s\n" % message)
    return code


def _lazy(module, func):
    """A verb implemented in another package, imported only when it runs."""
    def run(args):
        import importlib
        return getattr(importlib.import_module(module, __package__), func)(args)
    return run


def _verb(sub, name, summary, description, codes, *examples):
    return sub.add_parser(name, help=summary, description=description, epilog=_epilog(codes, *examples),
                          formatter_class=_Help)


def build_parser():
    from . import __version__
    p = _Parser(prog="edge-ssre", formatter_class=_Help,
                description="Serverless Security Runtime Environment for the edge: inspect events, run the "
                            "MQTT sidecar, read the event store, learn a telemetry baseline, run the test rig, "
                            "build the Greengrass component. `edge-ssre VERB --help` explains each verb.",
                epilog=_epilog(((0, "success; inspect: allow"), (1, "inspect: findings (alert or block); rig: a "
                                "target failed"), _USAGE_2, (3, "runtime error: a broker, file or store could not "
                                "be used")), "edge-ssre inspect event.json", "edge-ssre run --config sidecar.toml"))
    p.add_argument("--version", action="version", version="edge-ssre " + __version__,
                   help="print the version and exit")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    for register in _REGISTRARS:
        register(sub)
    return p


def _register_inspect(sub):
    ins = _verb(sub, "inspect", "inspect one event (file or stdin) and print the verdict as JSON",
                "Inspect one event (JSON, CBOR, base64, URL-encoded, a CloudFront or AWS event, raw bytes) "
                "and print the verdict as JSON: action, source, findings (rule, family, path, excerpt as "
                "written). With --topic (or --source mqtt) the sidecar's telemetry checks apply too: the "
                "--policy file's [telemetry] table, else the defaults ($SYS/# and $aws/# denied).",
                ((0, "allow: no findings"), (1, "findings: the verdict is alert or block"), _USAGE_2,
                 (3, "runtime error")),
                "edge-ssre inspect --pretty tests/data/samples/cloudfront-viewer-request-attack.json",
                "echo '{\"temp\": 21}' | edge-ssre inspect --source mqtt --topic sensors/1/telemetry -")
    ins.add_argument("file", nargs="?", default="-", metavar="FILE|-",
                     help="the event to inspect; - reads stdin (default: -)")
    ins.add_argument("--source", default="auto", choices=_SOURCES,
                     help="where the event comes from: auto detects AWS envelopes (CloudFront, API Gateway, "
                          "SNS, SQS, ...) and otherwise inspects the document as it is; mqtt is a device "
                          "message; raw inspects the bytes as text")
    ins.add_argument("--topic", default=None, type=_topic_name,
                     help="the MQTT topic the message was published to (turns on the telemetry checks; "
                          "default: none)")
    ins.add_argument("--client-id", default=None,
                     help="the publisher's MQTT client id, for per-client rate checks (default: none)")
    ins.add_argument("--profile", default=None,
                     help="device profile name (see device_profiles/) or path to a .toml: sizes the budgets "
                          "(default: the built-in limits)")
    ins.add_argument("--policy", default=None,
                     help="policy TOML file: actions per family and rule, allowlists, [telemetry] "
                          "(default: block every finding)")
    ins.add_argument("--pretty", action="store_true", help="indent the JSON output")
    ins.set_defaults(run=cmd_inspect)


def _register_events(sub):
    from .store.cli_events import DEFAULT_STORE
    ev = _verb(sub, "events", "read the persistent event store: stat | tail | export",
               "Read the event store the sidecar writes (sink = \"store:PATH\").",
               ((0, "success"), (2, "no store at the path, or a bad option"),
                (3, "the store could not be read (damaged, or locked by another process)")),
               "edge-ssre events stat --store /var/lib/edge-ssre/events.ring",
               "edge-ssre events export --store events.ring | head")
    actions = ev.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    store_help = "event store file (default: $EDGE_SSRE_STORE, else %s)" % DEFAULT_STORE
    for name, help, example in (
            ("stat", "print the store's figures: records, dropped, oldest/newest seq, backlog",
             "edge-ssre events stat --json --store events.ring"),
            ("tail", "print the newest records, one line each", "edge-ssre events tail -n 5 --store events.ring"),
            ("export", "print every record as a JSON line, oldest first",
             "edge-ssre events export --store events.ring > events.jsonl")):
        a = actions.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", formatter_class=_Help,
                               epilog=_epilog(((0, "success"), (2, "no store at the path, or a bad option"),
                                               (3, "the store could not be read")), example))
        a.add_argument("--store", default=None, help=store_help)
        a.add_argument("--json", action="store_true",
                       help="print JSON instead of text" if name != "export" else "accepted for symmetry: export "
                       "always prints JSON lines")
        if name == "tail":
            a.add_argument("-n", type=_number(0, integer=True), default=20, metavar="N",
                           help="how many records to show")
        a.set_defaults(action=name, json=False, n=20)
    ev.set_defaults(run=_events)


def _register_run(sub):
    run = _verb(sub, "run", "run the MQTT sidecar",
                "Run the MQTT sidecar: subscribe to the input topics, inspect every message, republish what "
                "passes under the output prefix and quarantine (or drop) what is blocked. Options override the "
                "config file's keys; every key and option is checked before anything connects.",
                ((0, "stopped cleanly (--duration elapsed, SIGTERM or SIGINT)"),
                 (2, "configuration error: one line naming the file, line and key, or the option"),
                 (3, "the broker could not be reached or refused the connection within --connect-timeout "
                     "(once running, a lost broker is retried for ever), or the store could not be used")),
                "edge-ssre run --broker 127.0.0.1:1883 --input 'sensors/#' --output-prefix guarded",
                "edge-ssre run --config sidecar.toml --check")
    run.add_argument("--config", default=None,
                     help="sidecar TOML: broker, inputs, output_prefix, quarantine, profile, sink, policy, "
                          "telemetry, uplink (see edge_ssre/adapters/sidecar_config.py; default: none, "
                          "options only)")
    run.add_argument("--check", action="store_true",
                     help="check the configuration and exit (0: valid, 2: not); connects to nothing")
    run.add_argument("--broker", default=None, type=_broker, metavar="HOST:PORT",
                     help="the gateway's MQTT broker (default: the config's broker)")
    run.add_argument("--input", action="append", default=None, type=_topic_filter, metavar="FILTER",
                     help="a topic filter to guard; repeat for more (default: the config's inputs)")
    run.add_argument("--output-prefix", default=None, type=_topic_name, metavar="TOPIC",
                     help="topic prefix allowed messages are republished under (default: the config's, else "
                          "guarded)")
    run.add_argument("--quarantine", default=None, type=_topic_name, metavar="TOPIC",
                     help="topic prefix blocked messages are published under (default: the config's, else "
                          "blocked messages are dropped)")
    run.add_argument("--sink", default=None, metavar="SINK",
                     help="where findings go: FILE.jsonl, - (stderr) or store:PATH (default: the config's, "
                          "else stderr)")
    run.add_argument("--profile", default=None,
                     help="device profile name or path: budgets, table sizes, queue depth (default: the "
                          "config's, else built-in limits)")
    run.add_argument("--duration", type=_SECONDS, default=None, metavar="SECONDS",
                     help="stop after this many seconds (default: run until SIGTERM or SIGINT)")
    run.add_argument("--stats-interval", type=_SECONDS, default=None, metavar="SECONDS",
                     help="seconds between stats lines on stderr (default: the config's, else 10)")
    run.add_argument("--connect-timeout", type=_number(0, 3600), default=None, metavar="SECONDS",
                     help="give up (exit 3) when the broker is not reachable within this many seconds at "
                          "start; 0 retries for ever (default: the config's [broker] connect_timeout, else 10)")
    run.set_defaults(run=_lazy(".adapters.mqtt_sidecar", "main"))


def _register_learn(sub):
    ln = _verb(sub, "learn", "learn a telemetry baseline policy from live traffic or a capture file",
               "Observe telemetry (a broker, or a JSON-lines capture) and write a reviewable [telemetry] "
               "baseline: topics, formats, field types and ranges, rates.",
               ((0, "baseline written"), (2, "bad option, or a capture line that is not JSON"),
                (3, "the broker could not be reached, or a file could not be read or written")),
               "edge-ssre learn --broker 127.0.0.1:1883 --input 'sensors/#' --duration 600 --out baseline.toml",
               "edge-ssre learn --capture capture.jsonl")
    src = ln.add_mutually_exclusive_group()
    src.add_argument("--broker", default=None, type=_broker, metavar="HOST:PORT",
                     help="broker to observe (default: none; give this or --capture)")
    src.add_argument("--capture", default=None, metavar="FILE",
                     help="JSON-lines capture file instead of a broker: {\"topic\", \"payload\", ...} per line "
                          "(default: none)")
    ln.add_argument("--input", action="append", default=None, type=_topic_filter, metavar="FILTER",
                    help="topic filter to observe; repeat for more (default: #)")
    ln.add_argument("--duration", type=_SECONDS, default=60.0, metavar="SECONDS",
                    help="seconds to observe a broker")
    ln.add_argument("--out", default="-", metavar="FILE", help="where to write the baseline TOML; - is stdout")
    ln.add_argument("--margin", type=_number(0, 100), default=0.1,
                    help="widen learned numeric ranges by this share of the range")
    ln.add_argument("--rate-factor", type=_number(1, 1000), default=2.0,
                    help="rate limit = p99 observed rate x this factor")
    ln.set_defaults(run=_lazy(".telemetry.learn", "main"))


def _register_rig(sub):
    rig = _verb(sub, "rig", "run the Raspberry Pi test rig (gateway + upstream brokers, devices, attacker, outage)",
                "Run the test rig on this machine under a device profile: a gateway and an upstream mosquitto, "
                "the sidecar with its event store and uplink, simulated devices, an attacker, and an outage of "
                "the upstream link for the middle third. Writes report.txt, report.json, report.html and "
                "report.png (the figure needs matplotlib: pip install 'edge-ssre[rig]').",
                ((0, "every target met (0 lost events, 0 false positives, >= 99 % of attacks blocked)"),
                 (1, "a target failed (the report says which)"), (2, "bad option or unknown profile"),
                 (3, "mosquitto is missing, or the rig could not run")),
                "edge-ssre rig --profile raspberry-pi-4 --duration 45 --out rig-report")
    rig.add_argument("--profile", default="raspberry-pi-4",
                     help="device profile to run the sidecar under (name or path)")
    rig.add_argument("--duration", type=_number(5, 86400), default=60.0, metavar="SECONDS",
                     help="seconds of traffic")
    rig.add_argument("--devices", type=_number(1, 1000, integer=True), default=8, metavar="N",
                     help="simulated devices (each publishes 5 messages/s)")
    rig.add_argument("--out", default=None, metavar="DIR",
                     help="directory for the report (default: a new temporary directory)")
    rig.add_argument("--seed", type=_number(0, integer=True), default=1,
                     help="random seed for the devices' readings (same seed, same traffic)")
    rig.add_argument("--json", action="store_true", help="also print the report as one JSON line")
    rig.set_defaults(run=_lazy(".rig.runner", "main"))


def _register_greengrass(sub):
    gg = _verb(sub, "greengrass", "build or run the AWS IoT Greengrass v2 component",
               "The AWS IoT Greengrass v2 component: `build` writes the recipe and artifacts the GDK expects, "
               "`run` is the component's Run step inside a nucleus. `edge-ssre greengrass ACTION --help` "
               "explains each.",
               ((0, "success"), _USAGE_2, (3, "the build or the component could not run")),
               "edge-ssre greengrass build --out greengrass-build --bucket my-bucket")
    actions = gg.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    b = actions.add_parser("build", help="write greengrass-build/recipes/ and artifacts/ (the wheel)",
                           description="Write the component's recipe and artifacts (the project's wheel) the "
                                       "way the GDK lays them out.",
                           formatter_class=_Help,
                           epilog=_epilog(((0, "recipe and artifacts written"), _USAGE_2,
                                           (3, "the wheel could not be built or written")),
                                          "edge-ssre greengrass build --out greengrass-build --version 0.1.0 "
                                          "--bucket my-bucket"))
    b.add_argument("--out", default="greengrass-build", metavar="DIR",
                   help="output directory (GDK's layout: DIR/recipes/recipe.yaml, DIR/artifacts/...)")
    b.add_argument("--version", default=None, type=_semver, metavar="X.Y.Z",
                   help="component version (default: gdk-config.json's)")
    b.add_argument("--bucket", default=None,
                   help="S3 bucket for the artifact URI (default: BUCKET_NAME, which gdk component publish fills in)")
    b.add_argument("--project", default=None, metavar="DIR", help="the edge_ssre checkout (default: here)")
    b.set_defaults(action="build", run=_lazy(".adapters.greengrass_build", "main"))
    r = actions.add_parser("run", help="the component's Run step (inside a Greengrass nucleus)",
                           description="Run the component inside a Greengrass nucleus (IPC): subscribe to the "
                                       "configured local topics, republish what passes, forward security "
                                       "events to AWS IoT Core.",
                           formatter_class=_Help,
                           epilog=_epilog(((0, "stopped cleanly"), (2, "bad configuration, or not inside a "
                                           "Greengrass nucleus"), (3, "the component could not run")),
                                          "edge-ssre greengrass run --log-level info"))
    r.add_argument("--log-level", default=None, type=str.lower, choices=("debug", "info", "warn", "error"),
                   help="log level (default: info; the recipe passes {configuration:/logLevel}); the rest of the "
                        "configuration comes over IPC (GetConfiguration)")
    r.set_defaults(action="run", run=_lazy(".adapters.greengrass", "main"))


def _register_bundle(sub):
    from .bundle.cli import register
    register(sub, _lazy)


_REGISTRARS = [_register_inspect, _register_events, _register_run, _register_learn, _register_rig,
               _register_greengrass, _register_bundle]


def _subparser_names(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _events(args):
    """``events``: a store that cannot be read is named in the error."""
    from .store.cli_events import DEFAULT_STORE, main
    path = args.store or DEFAULT_STORE
    try:
        return main(args)
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:
        if path in str(exc):
            raise
        raise type(exc)("%s: %s" % (path, exc)) if isinstance(exc, ValueError) else \
            OSError("%s: cannot read the event store: %s" % (path, exc)) from None


def _quiet_stdout():
    """stdout's reader is gone: point stdout at /dev/null so the interpreter's last flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except BrokenPipeError:  # --help piped into head
        _quiet_stdout()
        return EXIT_PIPE
    if not getattr(args, "run", None):
        parser.print_usage(sys.stderr)
        return _fail("give a VERB: %s (edge-ssre --help explains each)" % ", ".join(_subparser_names(parser)),
                     EXIT_USAGE)
    try:
        code = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # `edge-ssre events export | head`: the reader has what it wanted
        _quiet_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        return 130
    except ImportError as exc:  # an optional extra that is not installed
        return _fail("%s (install the matching extra, e.g. pip install 'edge-ssre[mqtt]')" % exc, EXIT_RUNTIME)
    except (ValueError, LookupError) as exc:  # SsreError stage errors inherit these
        return _fail(str(exc), EXIT_USAGE)
    except OSError as exc:  # includes StoreError / StoreLockedError / BrokerError
        return _fail(str(exc), EXIT_RUNTIME)
    except Exception as exc:  # a bug: still one line, never a traceback (EDGE_SSRE_DEBUG=1 shows it)
        if os.environ.get("EDGE_SSRE_DEBUG"):
            raise
        return _fail("internal error: %s: %s (please report it with the command line; EDGE_SSRE_DEBUG=1 "
                     "shows the traceback)" % (type(exc).__name__, exc), EXIT_RUNTIME)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
