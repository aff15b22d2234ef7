"""``edge-ssre`` command line: argument parsing and output formatting only.

Exit codes (every verb):
    0  allow / success
    1  findings (inspect: the verdict is alert or block)
    2  usage or input error (one line on stderr, never a traceback)
    3  runtime error (a broker, file or store could not be used)

Each verb's work lives in its stage's package and is imported only when that verb runs,
so ``edge-ssre inspect`` never imports paho or awsiotsdk.
"""

import argparse
import json
import sys

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("edge-ssre: error: %s\n" % message)
        raise SystemExit(EXIT_USAGE)


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


def build_parser():
    p = _Parser(prog="edge-ssre", description="Serverless Security Runtime Environment for the edge")
    p.add_argument("--version", action="version", version="edge-ssre 0.1.0")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    ins = sub.add_parser("inspect", help="inspect one event (file or stdin) and print the verdict as JSON")
    ins.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    ins.add_argument("--source", default="auto", choices=("auto", "mqtt", "lambda-edge", "lambda", "raw"))
    ins.add_argument("--topic", default=None)
    ins.add_argument("--client-id", default=None)
    ins.add_argument("--profile", default=None, help="device profile name or path")
    ins.add_argument("--policy", default=None, help="policy TOML file")
    ins.add_argument("--pretty", action="store_true", help="indent the JSON output")
    ins.set_defaults(run=cmd_inspect)

    for register in _REGISTRARS:
        register(sub)
    return p


def _register_events(sub):
    ev = sub.add_parser("events", help="read the persistent event store: stat | tail | export")
    ev.add_argument("action", choices=("stat", "tail", "export"))
    ev.add_argument("--store", default=None, help="event store file")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("-n", type=int, default=20, help="tail: records to show")
    ev.set_defaults(run=_lazy(".store.cli_events", "main"))


def _register_run(sub):
    run = sub.add_parser("run", help="run the MQTT sidecar")
    run.add_argument("--config", default=None, help="sidecar TOML (broker, inputs, policy, telemetry, sink)")
    run.add_argument("--broker", default=None, help="HOST:PORT")
    run.add_argument("--input", action="append", default=None, help="input topic filter (repeatable)")
    run.add_argument("--output-prefix", default=None)
    run.add_argument("--quarantine", default=None, help="topic prefix for blocked messages (default: drop)")
    run.add_argument("--sink", default=None, help="findings: FILE.jsonl, - (stderr) or store:PATH")
    run.add_argument("--profile", default=None, help="device profile name or path")
    run.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    run.add_argument("--stats-interval", type=float, default=None)
    run.set_defaults(run=_lazy(".adapters.mqtt_sidecar", "main"))


def _register_learn(sub):
    ln = sub.add_parser("learn", help="learn a telemetry baseline policy from live traffic or a capture file")
    ln.add_argument("--broker", default=None, help="HOST:PORT to subscribe to")
    ln.add_argument("--input", action="append", default=None, help="topic filter (repeatable)")
    ln.add_argument("--capture", default=None, help="JSON-lines capture file instead of a broker")
    ln.add_argument("--duration", type=float, default=60.0, help="seconds to observe a broker")
    ln.add_argument("--out", default="-", help="where to write the baseline TOML (default stdout)")
    ln.add_argument("--margin", type=float, default=0.1, help="numeric range margin (share of the range)")
    ln.add_argument("--rate-factor", type=float, default=2.0, help="rate limit = p99 observed rate x factor")
    ln.set_defaults(run=_lazy(".telemetry.learn", "main"))


def _register_rig(sub):
    rig = sub.add_parser("rig", help="run the Raspberry Pi test rig (gateway + upstream brokers, devices, attacker, outage)")
    rig.add_argument("--profile", default="raspberry-pi-4")
    rig.add_argument("--duration", type=float, default=60.0, help="seconds of traffic")
    rig.add_argument("--devices", type=int, default=8)
    rig.add_argument("--out", default=None, help="directory for the report (default: a new temporary one)")
    rig.add_argument("--seed", type=int, default=1)
    rig.add_argument("--json", action="store_true", help="also print the report as JSON")
    rig.set_defaults(run=_lazy(".rig.runner", "main"))


def _register_greengrass(sub):
    gg = sub.add_parser("greengrass", help="build or run the AWS IoT Greengrass v2 component")
    gg.add_argument("action", choices=("build", "run"),
                    help="build: the recipe and artifacts GDK publishes (greengrass-build/); run: the Run step")
    gg.add_argument("--out", default="greengrass-build", help="build: output folder")
    gg.add_argument("--version", default=None, help="build: component version (default: gdk-config.json's)")
    gg.add_argument("--bucket", default=None, help="build: S3 bucket for the artifact URI (default: BUCKET_NAME, "
                                                     "which gdk component publish fills in)")
    gg.add_argument("--project", default=None, help="build: the edge_ssre checkout (default: here)")
    gg.add_argument("--log-level", default=None, type=str.lower, choices=("debug", "info", "warn", "error"),
                    help="run: log level (the recipe passes {configuration:/logLevel})")
    gg.set_defaults(run=_greengrass)


def _greengrass(args):
    # the build is host-side packaging; the component's runtime module never imports it
    module = ".adapters.greengrass_build" if args.action == "build" else ".adapters.greengrass"
    return _lazy(module, "main")(args)


def _register_bundle(sub):
    from .bundle.cli import register
    register(sub, _lazy)


_REGISTRARS = [_register_events, _register_run, _register_learn, _register_rig, _register_greengrass,
               _register_bundle]


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except ImportError as exc:  # an optional extra that is not installed
        return _fail("%s (install the matching extra, e.g. pip install 'edge-ssre[mqtt]')" % exc, EXIT_RUNTIME)
    except (ValueError, LookupError) as exc:  # SsreError stage errors inherit these
        return _fail(str(exc), EXIT_USAGE)
    except OSError as exc:  # includes StoreError / StoreLockedError
        return _fail(str(exc), EXIT_RUNTIME)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
