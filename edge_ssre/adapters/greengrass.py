"""edge_ssre as an AWS IoT Greengrass v2 component: the Run step inside the nucleus.

    edge-ssre greengrass run [--log-level info]          # the recipe's Run script

The component reads its whole configuration over IPC (``GetConfiguration``), validates it, subscribes
to its input topics, republishes what passes under ``outputPrefix`` (blocked messages under
``quarantine``, or nowhere), stores security events and forwards them to AWS IoT Core with
``PublishToIoTCore`` (CBOR batches, or OCSF JSON with ``uplink.format: ocsf``). It follows
``SubscribeToValidateConfigurationUpdates`` (a deployment with a bad configuration is reported
REJECTED before the nucleus applies it) and ``SubscribeToConfigurationUpdate`` (an applied update
is read, validated and swapped in whole; a bad one is logged and the running configuration stays).

The recipe template (``recipe.yaml`` at the project root) is the source of the default
configuration and of the access control; ``DEFAULTS`` below mirrors its DefaultConfiguration
(tests/test_greengrass.py holds them equal) and fills keys a configuration lacks. Packaging is
host-side (``tools/build_greengrass.py``) and never imported here. awsiotsdk is imported only
inside the nucleus; its messages become Envelopes at this edge and go no further.
"""

import json
import os
import signal
import sys
import threading
import time

from ..errors import PolicyError, SsreError

COMPONENT = "com.edgessre.Guard"
THING_VARIABLE = "{iot:thingName}"
WORK_VARIABLE = "{work:path}"
LOG_LEVELS = ("debug", "info", "warn", "error")
UPLINK_FORMATS = ("cbor", "ocsf")
# AWS IoT Core: a topic is at most 256 bytes with at most 7 slashes (8 levels) for rules to route it
MAX_IOT_TOPIC_BYTES = 256
MAX_IOT_TOPIC_LEVELS = 8
PUBSUB = "aws.greengrass.ipc.pubsub"
MQTTPROXY = "aws.greengrass.ipc.mqttproxy"
SUBSCRIBE = "aws.greengrass#SubscribeToTopic"
PUBLISH = "aws.greengrass#PublishToTopic"
PUBLISH_IOT = "aws.greengrass#PublishToIoTCore"
# configuration updates arrive one per changed key; wait this long for the rest of a deployment's keys
UPDATE_SETTLE_S = 0.02

DEFAULTS = {
    "profile": "greengrass-core",
    "logLevel": "info",
    "inputs": ["sensors/#"],
    "outputPrefix": "guarded",
    "quarantine": "quarantine",
    "storePath": WORK_VARIABLE + "/events.ring",
    "uplink": {"topic": "edge-ssre/" + THING_VARIABLE + "/events", "format": "cbor"},
    "policy": {"mode": "enforce"},
    "telemetry": {"unknown_topics": "alert"},
}
KNOWN_KEYS = tuple(DEFAULTS) + ("accessControl", "bundle")
BUNDLE_KEYS = ("path", "trust", "groups")  # docs/BUNDLES.md; the state lives in the work folder


# ---- configuration ------------------------------------------------------------------------------
class Settings:
    """One validated component configuration; built whole, then swapped in whole."""

    __slots__ = ("raw", "profile_name", "profile", "log_level", "inputs", "output_prefix", "quarantine",
                 "store_path", "uplink_topic", "uplink_format", "policy", "telemetry", "access_control", "bundle")

    def same_guard(self, other):
        """Whether ``other`` inspects exactly as this one does (same profile, policy and telemetry)."""
        return all(self.raw.get(k) == other.raw.get(k) for k in ("profile", "policy", "telemetry"))


def _fail(key, text):
    return PolicyError("component configuration %r: %s" % (key, text))


def _text(conf, key, allow_empty=False):
    value = conf.get(key, DEFAULTS.get(key))
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str) or (not value and not allow_empty):
        raise _fail(key, "must be a%s string, got %r" % ("" if allow_empty else " non-empty", value))
    return value


def _prefix(conf, key, allow_empty=False):
    value = _text(conf, key, allow_empty).strip("/")
    if any(c in value for c in "#+*\0"):
        raise _fail(key, "is a topic prefix: no MQTT wildcards (# +), '*' or NUL, got %r" % value)
    return value


def _filter_reaches(levels, prefix_levels):
    """Whether the MQTT filter (levels) matches some topic under ``prefix/``."""
    for i, p in enumerate(prefix_levels):
        if i >= len(levels):
            return False
        if levels[i] == "#":
            return True
        if levels[i] != "+" and levels[i] != p:
            return False
    return len(levels) > len(prefix_levels)


def parse_configuration(conf, thing="device", work="."):
    """A ``Settings`` from the component configuration (a dict from GetConfiguration, or a deployment's
    proposed configuration); raises PolicyError (a ValueError) naming the key. ``{iot:thingName}`` and
    ``{work:path}`` left in by a nucleus that does not interpolate configuration are filled in here."""
    from ..policy import Policy
    from ..profiles import load_profile
    from ..telemetry.policy import TelemetryPolicy
    from ..telemetry.topic_filter import compile_filter
    if not isinstance(conf, dict):
        raise _fail("/", "must be a JSON object, got %s" % type(conf).__name__)
    for key in conf:
        if key not in KNOWN_KEYS:
            raise _fail(key, "unknown key; expected one of %s" % ", ".join(KNOWN_KEYS))
    s = Settings()
    s.raw = conf
    s.profile_name = _text(conf, "profile")
    s.profile = load_profile(s.profile_name)
    s.log_level = _text(conf, "logLevel").lower()
    if s.log_level not in LOG_LEVELS:
        raise _fail("logLevel", "must be one of %s, got %r" % (", ".join(LOG_LEVELS), s.log_level))
    inputs = conf.get("inputs", DEFAULTS["inputs"])
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs:
        raise _fail("inputs", "must be a non-empty list of MQTT topic filters")
    s.output_prefix = _prefix(conf, "outputPrefix")
    s.quarantine = _prefix(conf, "quarantine", allow_empty=True) or None
    outputs = [p.split("/") for p in (s.output_prefix, s.quarantine) if p]
    for f in inputs:
        try:
            levels = compile_filter(f)
        except ValueError as exc:
            raise _fail("inputs", str(exc)) from None
        for out in outputs:
            if _filter_reaches(levels, out):
                raise _fail("inputs", "%r matches the guard's own output under %s/: it would read "
                                      "what it republishes" % (f, "/".join(out)))
    s.inputs = tuple(dict.fromkeys(inputs))
    store = _text(conf, "storePath")
    s.store_path = store.replace(WORK_VARIABLE, work)
    up = conf.get("uplink", DEFAULTS["uplink"])
    if not isinstance(up, dict):
        raise _fail("uplink", "must be an object { topic, format }")
    for key in up:
        if key not in ("topic", "format"):
            raise _fail("uplink." + key, "unknown key; expected topic or format")
    topic = up.get("topic", DEFAULTS["uplink"]["topic"])
    if not isinstance(topic, str) or not topic:
        raise _fail("uplink.topic", "must be a non-empty string")
    s.uplink_topic = topic.replace(THING_VARIABLE, thing)
    if any(c in s.uplink_topic for c in "#+\0") or s.uplink_topic.startswith("$"):
        raise _fail("uplink.topic", "must be a plain topic (no wildcards, not a reserved $ topic), got %r" % topic)
    if len(s.uplink_topic.encode()) > MAX_IOT_TOPIC_BYTES or s.uplink_topic.count("/") >= MAX_IOT_TOPIC_LEVELS:
        raise _fail("uplink.topic", "AWS IoT Core takes at most %d bytes and %d levels, got %r"
                    % (MAX_IOT_TOPIC_BYTES, MAX_IOT_TOPIC_LEVELS, s.uplink_topic))
    s.uplink_format = up.get("format", DEFAULTS["uplink"]["format"])
    if s.uplink_format not in UPLINK_FORMATS:
        raise _fail("uplink.format", "must be one of %s, got %r" % (", ".join(UPLINK_FORMATS), s.uplink_format))
    s.policy = Policy.from_dict(conf.get("policy", DEFAULTS["policy"]))
    tel = conf.get("telemetry", DEFAULTS["telemetry"])
    s.telemetry = TelemetryPolicy.from_dict(tel, profile=s.profile) if tel else None
    acl = conf.get("accessControl")
    if acl is not None and not isinstance(acl, dict):
        raise _fail("accessControl", "must be an object of IPC services")
    s.access_control = acl
    s.bundle = _bundle_settings(conf.get("bundle"), work)
    return s


def _bundle_settings(b, work):
    """``bundle``: {path: the signed bundle (usually an artifact path), trust: the public key file,
    groups: this device's groups}; None when absent."""
    if b is None:
        return None
    if not isinstance(b, dict):
        raise _fail("bundle", "must be an object { path, trust, groups }")
    for key in b:
        if key not in BUNDLE_KEYS:
            raise _fail("bundle." + key, "unknown key; expected one of %s" % ", ".join(BUNDLE_KEYS))
    out = {}
    for key in ("path", "trust"):
        value = b.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise _fail("bundle." + key, "must be a file path")
        out[key] = value.replace(WORK_VARIABLE, work) if value else None
    groups = b.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise _fail("bundle.groups", "must be a list of group names")
    out["groups"] = tuple(groups)
    return out


# ---- least privilege: the topics a configuration uses, as the nucleus authorizes them -------------
def _publish_globs(prefix, filt):
    """Pub/sub resources (the nucleus matches them with '*' globs, MQTT wildcards literal) that cover
    every topic ``prefix/<topic matching filt>``: '+' becomes '*', a trailing '#' the parent and '/*'."""
    levels = ["*" if lv == "+" else lv for lv in filt.split("/")]
    if levels[-1] != "#":
        return ["/".join([prefix] + levels)]
    base = "/".join([prefix] + levels[:-1])
    return ([base] if len(levels) > 1 else []) + [base + "/*"]


def required_grants(settings):
    """{service: {operation: [resources]}}: exactly what this configuration publishes and subscribes to.
    The uplink's thing name is a '+' level (the nucleus matches IoT Core topics MQTT-style), so the
    grant holds whether or not the nucleus interpolates ``{iot:thingName}`` in configuration."""
    publish = []
    for prefix in (settings.output_prefix, settings.quarantine):
        if prefix:
            for f in settings.inputs:
                publish.extend(g for g in _publish_globs(prefix, f) if g not in publish)
    raw_topic = settings.raw.get("uplink", DEFAULTS["uplink"]).get("topic", DEFAULTS["uplink"]["topic"])
    iot_topic = raw_topic.replace(THING_VARIABLE, "+")
    return {PUBSUB: {SUBSCRIBE: list(settings.inputs), PUBLISH: publish},
            MQTTPROXY: {PUBLISH_IOT: [iot_topic]}}


def glob_match(pattern, text):
    """The nucleus's pub/sub resource match: '*' is any run of characters ('/' too); nothing else is special."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == text
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]) or len(text) < len(parts[0]) + len(parts[-1]):
        return False
    pos, end = len(parts[0]), len(text) - len(parts[-1])
    for mid in parts[1:-1]:
        pos = text.find(mid, pos, end)
        if pos < 0:
            return False
        pos += len(mid)
    return True


def mqtt_resource_match(pattern, topic):
    """The nucleus's IoT Core resource match: MQTT wildcards ('+' a level, '#' the rest) and '*' globs."""
    from ..telemetry.topic_filter import compile_filter, matches
    if "*" in pattern:
        return glob_match(pattern, topic)
    try:
        return matches(compile_filter(pattern), topic.split("/"))
    except ValueError:
        return pattern == topic


def granted(acl, service, operation):
    """Resources that ``accessControl`` grants for one service and operation."""
    out = []
    for policy in ((acl or {}).get(service) or {}).values():
        if isinstance(policy, dict) and operation in (policy.get("operations") or ()):
            out.extend(r for r in (policy.get("resources") or ()) if isinstance(r, str))
    return out


def authorized(acl, service, operation, resource):
    match = mqtt_resource_match if service == MQTTPROXY else glob_match
    return any(match(g, resource) for g in granted(acl, service, operation))


def missing_grants(settings, acl=None):
    """'service operation resource' lines the configuration needs and ``accessControl`` does not grant
    (a required resource counts as granted when a granted pattern matches its text)."""
    acl = settings.access_control if acl is None else acl
    out = []
    for service, ops in required_grants(settings).items():
        for op, resources in ops.items():
            out.extend("%s %s %s" % (service, op, r) for r in resources if not authorized(acl, service, op, r))
    return out


# ---- the component ------------------------------------------------------------------------------
class Log:
    """Lines on stderr, which the nucleus writes to /greengrass/v2/logs/com.edgessre.Guard.log."""

    def __init__(self, level="info", stream=None):
        self.level = LOG_LEVELS.index(level) if level in LOG_LEVELS else 1
        self.stream = stream or sys.stderr

    def __call__(self, level, text):
        if LOG_LEVELS.index(level) >= self.level:
            self.stream.write("edge-ssre %s: %s\n" % (level.upper(), text))
            self.stream.flush()


class IpcAdapter:
    """Telemetry over Greengrass IPC: SDK messages become Envelopes at this edge and go no further.
    ``route`` (guard, output prefix, quarantine) is one tuple, swapped whole on reconfiguration."""

    MAX_LOGGED_DENIALS = 32

    def __init__(self, guard, client, inputs, output_prefix="guarded", quarantine=None, log=None):
        self.client = client
        self.route = (guard, output_prefix.rstrip("/"), quarantine)
        self.inputs = tuple(inputs)
        self.operations = {}
        self.log = log or Log()
        self.counts = {"messages": 0, "allowed": 0, "blocked": 0, "errors": 0, "unauthorized": 0}

    @property
    def guard(self):
        return self.route[0]

    def start(self):
        self.subscribe(self.inputs)

    def subscribe(self, filters):
        """Subscribe to ``filters`` not yet held, then close the streams of the others."""
        for f in filters:
            if f not in self.operations:
                _, op = self.client.subscribe_to_topic(topic=f, on_stream_event=self.on_event,
                                                       on_stream_error=self.on_stream_error)
                self.operations[f] = op
        for f in [f for f in self.operations if f not in filters]:
            op = self.operations.pop(f)
            try:
                op.close()
            except Exception as exc:  # the SDK raises its own types; the stream is gone either way
                self.log("warn", "closing the subscription to %s: %s" % (f, exc))
        self.inputs = tuple(filters)

    def reconfigure(self, guard, inputs, output_prefix, quarantine):
        """Subscribe to the new inputs (raises, the route unchanged, when the nucleus refuses one), then swap
        the route."""
        if tuple(inputs) != self.inputs:
            self.subscribe(inputs)
        self.route = (guard, output_prefix.rstrip("/"), quarantine)

    def on_stream_error(self, exc):
        self.log("warn", "subscription stream error: %s" % exc)
        return False  # keep the stream

    def on_event(self, event):
        try:
            self.handle(event)
        except Exception as exc:  # a malformed IPC message or a refused publish must not end the subscription
            self.counts["errors"] += 1
            if type(exc).__name__ == "UnauthorizedError":
                self.counts["unauthorized"] += 1
                if self.counts["unauthorized"] <= self.MAX_LOGGED_DENIALS:
                    self.log("error", "the nucleus refused a publish (widen accessControl): %s" % exc)

    def handle(self, event):
        from awsiot.greengrasscoreipc.model import BinaryMessage, PublishMessage
        from ..envelope import Envelope
        if event.binary_message is not None:
            msg = event.binary_message
            payload = msg.message
        else:
            msg = event.json_message
            payload = json.dumps(msg.message).encode()
        topic = msg.context.topic if msg.context is not None else None
        guard, output_prefix, quarantine = self.route
        self.counts["messages"] += 1
        verdict = guard.inspect_envelope(Envelope(payload, "mqtt", topic, None))
        if verdict.action == "block":
            self.counts["blocked"] += 1
            if not quarantine:
                return
            out = "%s/%s" % (quarantine, topic)
        else:
            self.counts["allowed"] += 1
            out = "%s/%s" % (output_prefix, topic)
        self.client.publish_to_topic(topic=out, publish_message=PublishMessage(binary_message=BinaryMessage(
            message=payload)))


class Component:
    """The Run step: configuration over IPC, the guard, the adapter, the store and the uplink."""

    def __init__(self, client, thing="device", work=".", log=None):
        self.client = client
        self.thing = thing
        self.work = work
        self.log = log or Log()
        self.settings = None
        self.store = self.adapter = self.uplink = None
        self.updates = {"applied": 0, "rejected": 0, "validated": 0, "refused": 0}
        self.last_error = None
        self._pending = threading.Event()
        self._wake = threading.Event()
        self._apply_lock = threading.Lock()
        self.bundles = None  # a Delivery once a trust key is pinned (docs/BUNDLES.md)
        self._bundle_seen = None

    # ---- configuration --------------------------------------------------------------------
    def check(self, conf):
        """Settings for ``conf``, or PolicyError naming what is wrong (including missing grants)."""
        settings = parse_configuration(conf, self.thing, self.work)
        missing = missing_grants(settings)
        if settings.access_control is not None and missing:
            raise PolicyError("component configuration 'accessControl' does not grant what the configuration "
                              "uses: %s" % "; ".join(missing))
        return settings

    def read_configuration(self):
        return self.client.get_configuration(key_path=[]).value or {}

    def guard_for(self, settings, sink):
        from ..guard import Guard
        from ..telemetry.guard import TelemetryGuard
        return Guard(policy=settings.policy, profile=settings.profile,
                     telemetry=TelemetryGuard(settings.telemetry) if settings.telemetry else None, sink=sink)

    # ---- IPC handlers (the SDK's threads) ----------------------------------------------------------
    def on_validate(self, event):
        """A deployment proposes a configuration: report ACCEPTED or REJECTED (with the reason)."""
        from awsiot.greengrasscoreipc.model import ConfigurationValidityReport, ConfigurationValidityStatus
        ev = event.validate_configuration_update_event
        try:
            self.check(ev.configuration)
            status, message = ConfigurationValidityStatus.ACCEPTED, "edge_ssre accepts the configuration"
            self.updates["validated"] += 1
        except (SsreError, ValueError) as exc:
            status, message = ConfigurationValidityStatus.REJECTED, str(exc)
            self.updates["refused"] += 1
            self.log("error", "rejected deployment %s: %s" % (ev.deployment_id, exc))
        self.client.send_configuration_validity_report(configuration_validity_report=ConfigurationValidityReport(
            status=status, deployment_id=ev.deployment_id, message=message[:1000]))

    def on_update(self, event):
        self._pending.set()
        self._wake.set()

    # ---- applying ----------------------------------------------------------------------------
    def apply_update(self):
        """Read the configuration, validate it and swap it in; a bad one is reported and the running
        configuration stays. Returns whether anything changed."""
        with self._apply_lock:
            try:
                new = self.check(self.read_configuration())
            except (SsreError, ValueError) as exc:
                self.updates["rejected"] += 1
                self.last_error = str(exc)
                self.log("error", "configuration update rejected; the running configuration stays: %s" % exc)
                return False
            except Exception as exc:  # IPC failure: try again on the next update
                self.last_error = "%s: %s" % (type(exc).__name__, exc)
                self.log("error", "reading the configuration failed: %s" % self.last_error)
                return False
            old = self.settings
            guard = self.adapter.guard
            if not new.same_guard(old):
                guard = self.guard_for(new, guard.sink)
            rebuilt = guard is not self.adapter.guard
            try:
                self.adapter.reconfigure(guard, new.inputs, new.output_prefix, new.quarantine)
            except Exception as exc:  # e.g. UnauthorizedError on a new input: keep the old route
                self.updates["rejected"] += 1
                self.last_error = "%s: %s" % (type(exc).__name__, exc)
                self.adapter.subscribe(old.inputs)
                self.log("error", "configuration update rejected (subscribing failed); the running "
                                  "configuration stays: %s" % self.last_error)
                return False
            if self.bundles is not None and rebuilt:
                self.bundles.retarget(guard)  # signed bundles stay in force over the configuration's policy
            self._bundle_update(new)
            self.uplink.topic = new.uplink_topic
            self.uplink.set_format(new.uplink_format)
            self.log.level = LOG_LEVELS.index(new.log_level)
            if new.store_path != old.store_path or new.profile_name != old.profile_name:
                self.log("warn", "storePath and the profile's store size take effect when the component restarts")
            self.settings = new
            self.updates["applied"] += 1
            self.log("info", "configuration applied: inputs %s, uplink %s (%s)"
                     % (", ".join(new.inputs), new.uplink_topic, new.uplink_format))
            return True

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self):
        """Read and validate the configuration, open the store, subscribe, report RUNNING."""
        from ..store import EventStore
        from ..store.sink import StoreSink
        from ..uplink.greengrass_uplink import GreengrassUplink
        self.settings = s = self.check(self.read_configuration())
        self.log.level = LOG_LEVELS.index(s.log_level)
        self.store = EventStore.from_profile(s.profile, path=s.store_path, device=self.thing)
        guard = self.guard_for(s, StoreSink(self.store, device=self.thing))
        self._bundle_update(s, guard)
        self.adapter = IpcAdapter(guard, self.client, s.inputs, s.output_prefix, s.quarantine, self.log)
        self.uplink = GreengrassUplink(self.store, s.uplink_topic, client=self.client, format=s.uplink_format)
        self.client.subscribe_to_validate_configuration_updates(on_stream_event=self.on_validate)
        self.client.subscribe_to_configuration_update(key_path=[], on_stream_event=self.on_update)
        self.adapter.start()
        self.client.update_state(state="RUNNING")
        self.log("info", "running on %s: inputs %s -> %s/, events to %s (%s)"
                 % (self.thing, ", ".join(s.inputs), s.output_prefix, s.uplink_topic, s.uplink_format))

    # ---- signed bundles --------------------------------------------------------------------------
    def _bundle_update(self, settings, guard=None):
        """Pin the trust key on first use (a copy in the work folder: a later configuration cannot swap
        it; rotation is a signed bundle's job), apply the kept bundles, then offer ``bundle.path``
        when it changed. Once a key is pinned, bundles stay in force even if the configuration drops
        its ``bundle`` key: a configuration cannot take the device back to an unsigned policy."""
        from ..bundle.delivery import Delivery
        from ..bundle.format import MAX_BUNDLE_BYTES
        from ..bundle.install import Identity, Installer
        from ..bundle.state import replace_file
        from ..bundle.trust import TrustStore
        conf = settings.bundle or {}
        pinned = os.path.join(self.work, "bundle.trust")
        if self.bundles is None:
            if not os.path.exists(pinned):
                if not conf.get("trust"):
                    return
                with open(conf["trust"], "rb") as fh:
                    data = fh.read(1 << 20)
                TrustStore.from_bytes(data, conf["trust"])  # a bad key file is refused before it is pinned
                replace_file(pinned, data)
            installer = Installer(TrustStore.load(pinned), os.path.join(self.work, "bundle.state"),
                                  Identity(self.thing, conf.get("groups", ()), settings.profile_name),
                                  events=self.store, base_profile=settings.profile,
                                  log=lambda text: self.log("info", text))
            self.bundles = Delivery(installer, guard or self.adapter.guard).start()
        elif conf.get("trust"):
            with open(conf["trust"], "rb") as fh, open(pinned, "rb") as pin:
                if fh.read(1 << 20) != pin.read(1 << 20):
                    self.log("warn", "bundle.trust differs from the pinned key; keys change through signed "
                                     "bundles only (docs/BUNDLES.md)")
        path = conf.get("path")
        if path:
            try:
                st = os.stat(path)
                seen = (path, st.st_ino, st.st_size, st.st_mtime_ns)
                if seen != self._bundle_seen:
                    with open(path, "rb") as fh:
                        self.bundles.offer(fh.read(MAX_BUNDLE_BYTES + 1), path)
                    self._bundle_seen = seen
            except OSError as exc:
                self.log("error", "bundle.path %s: %s" % (path, exc.strerror or exc))

    def run(self, stop=None, interval=1.0):
        """Drain the uplink every ``interval`` seconds and apply configuration updates as they come."""
        stop = stop or threading.Event()
        self.stop_event = stop
        try:
            while not stop.is_set():
                if self._pending.is_set():
                    time.sleep(UPDATE_SETTLE_S)
                    self._pending.clear()
                    self.apply_update()
                self.uplink.drain_once()
                self._wake.wait(interval)
                self._wake.clear()
        finally:
            self.uplink.drain_once()
            self.store.close()

    def stop(self, *_):
        getattr(self, "stop_event", threading.Event()).set()
        self._wake.set()


def run_component(client=None, stop=None, interval=1.0, log=None):
    """Start the component and run it until ``stop`` is set (or SIGTERM); returns the Component."""
    if client is None:
        from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2
        client = GreengrassCoreIPCClientV2()
    comp = Component(client, os.environ.get("AWS_IOT_THING_NAME", "device"), os.getcwd(), log)
    comp.start()
    comp.run(stop, interval)
    return comp


def main(args):
    """``edge-ssre greengrass run``: the recipe's Run script."""
    log = Log(args.log_level or "info")
    if not os.environ.get("AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"):
        log("error", "not inside a Greengrass nucleus (no IPC socket); outside one, run the MQTT sidecar: "
                     "edge-ssre run --config sidecar.toml")
        return 2
    from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2
    comp = Component(GreengrassCoreIPCClientV2(), os.environ.get("AWS_IOT_THING_NAME", "device"), os.getcwd(), log)
    try:
        comp.start()
    except (SsreError, ValueError) as exc:
        log("error", "the configuration is invalid; not starting (the deployment fails and, with rollback "
                     "on, the previous configuration returns): %s" % exc)
        return 1
    signal.signal(signal.SIGTERM, comp.stop)
    comp.run()
    return 0

