"""The MQTT sidecar's configuration: a TOML file plus command-line options -> one checked ``SidecarConfig``.

Every key is checked for type and range before anything is opened or connected. An error is a
``PolicyError`` (``edge-ssre`` exits 2) naming the file, line and key, or the command-line option
the value came from::

    sidecar.toml:3: key 'queue_depth': must be an integer from 1 to 65536, got the string "big"
    --broker: port must be an integer from 1 to 65535, got 70000

Keys (see ``mqtt_sidecar``'s docstring for what each does)::

    broker = "HOST:PORT"                or a table:
    [broker]  host, port (1-65535), tls (true or { ca, cert, key, insecure }), username, password,
              client_id, protocol ("5" | "3.1.1"), client ("builtin" | "paho"),
              session_expiry (0-4294967295 s), connect_timeout (s; 0: retry for ever),
              keepalive (1-65535 s; a silent broker is dropped after 1.5 x keepalive)
    inputs = ["raw/#"]                  topic filters, required
    output_prefix = "guarded"           a publishable topic (no + or #), outside the inputs
    quarantine = "quarantine"           the same, optional
    profile, device, sink               strings (sink: "-", FILE.jsonl or "store:PATH")
    stats_interval = 10                 seconds, above 0 and at most 86400
    queue_depth = 4096                  1-65536 (default: the profile's, else 1024)
    [policy], [telemetry]               checked by their own parsers
    [uplink]  host, port, topic, client_id, ca, cert, key, rate_limit (msgs/s), max_backoff (s),
              format ("cbor" | "ocsf")
    [bundle]  trust (PEM or JSON trust store, required), state (anti-rollback file, required),
              topic (default "edge-ssre/{device}/bundle"; "" subscribes to none), watch (a bundle file),
              interval (s between looks at watch, default 5), groups (this device's groups)
"""

from ..errors import PolicyError
from ..tomlload import (Where, describe, want_bool, want_choice, want_int, want_number, want_str,
                        want_table)

KEYS = ("broker", "inputs", "output_prefix", "quarantine", "profile", "sink", "device", "stats_interval",
        "queue_depth", "policy", "telemetry", "uplink", "bundle")
BROKER_KEYS = ("host", "port", "tls", "username", "password", "client_id", "protocol", "client",
               "session_expiry", "connect_timeout", "keepalive")
TLS_KEYS = ("ca", "cert", "key", "insecure")
BUNDLE_KEYS = ("trust", "state", "topic", "watch", "interval", "groups")
UPLINK_KEYS = ("host", "port", "topic", "client_id", "ca", "cert", "key", "rate_limit", "max_backoff", "format")
# the command-line option each key comes from when given there (errors then name the option)
OPTIONS = {"broker": "--broker", "inputs": "--input", "output_prefix": "--output-prefix",
           "quarantine": "--quarantine", "sink": "--sink", "profile": "--profile",
           "stats_interval": "--stats-interval"}

SESSION_EXPIRY = 3600      # seconds the broker keeps the input connection's session (0: a clean session)
KEEPALIVE = 30            # seconds between MQTT keepalives
CONNECT_TIMEOUT = 10.0     # seconds to reach the broker at start (then exit 3); 0: retry for ever
MAX_QUEUE_DEPTH = 65536    # MQTT's Receive Maximum is at most 65535; the queue holds whole messages
MAX_PORT = 65535


class SidecarConfig:
    """The checked configuration. ``where`` names the file (or options) for later errors."""

    __slots__ = ("host", "port", "tls", "username", "password", "client_id", "protocol", "client",
                 "session_expiry", "connect_timeout", "keepalive", "inputs", "output_prefix", "quarantine", "profile",
                 "policy", "telemetry", "sink", "device", "stats_interval", "queue_depth", "uplink", "bundle",
                 "where")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


def broker_address(text, where=None, key="broker"):
    """``HOST:PORT`` -> (host, port), port 1-65535 (``[::1]:1883`` for IPv6)."""
    where = where or Where("", "<value>")
    want_str(where, key, text)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port:
        raise where.fail(key, "must be HOST:PORT (e.g. 127.0.0.1:1883), got %s" % describe(text))
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host_name(where, key, host)
    try:
        number = int(port, 10)
    except ValueError:
        raise where.fail(key, "port must be a number from 1 to %d, got \"%s\"" % (MAX_PORT, port)) from None
    if not 1 <= number <= MAX_PORT:
        raise where.fail(key, "port must be an integer from 1 to %d, got %d" % (MAX_PORT, number))
    return host, number


def host_name(where, key, value):
    """A host name or address: letters, digits and . - _ : % (IPv6 and zone ids), no spaces."""
    want_str(where, key, value)
    if len(value) > 253 or not all(c.isalnum() or c in ".-_:%" for c in value):
        raise where.fail(key, "must be a host name or address (e.g. 127.0.0.1 or broker.local), got %s"
                         % describe(value))
    return value


def publishable(where, key, value):
    """A topic prefix the sidecar publishes under: a topic name without ``+``/``#`` (trailing ``/`` dropped)."""
    from ..telemetry.topic_filter import check_topic_name
    want_str(where, key, value)
    try:
        check_topic_name(value)
    except ValueError as exc:
        raise where.fail(key, str(exc)) from None
    if not value.strip("/"):
        raise where.fail(key, "must name a topic level, got \"%s\"" % value)
    return value.rstrip("/")


def topic_filters(where, key, value):
    from ..telemetry.topic_filter import compile_filter
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise where.fail(key, "must be a non-empty array of topic filters (e.g. [\"sensors/#\"]), got %s"
                         % describe(value))
    for f in value:
        want_str(where, key, f)
        try:
            compile_filter(f)
        except ValueError as exc:
            raise where.fail(key, str(exc)) from None
    return list(value)


def _opt_str(where, table, key, name):
    return want_str(where, name, table[key]) if key in table else None


def _broker(where, value, given):
    """(host, port, tls, username, password, client_id, protocol, client, session_expiry, connect_timeout,
    keepalive)."""
    out = {"tls": None, "username": None, "password": None, "client_id": None, "protocol": "5",
           "client": "builtin", "session_expiry": SESSION_EXPIRY, "connect_timeout": CONNECT_TIMEOUT,
           "keepalive": KEEPALIVE}
    if isinstance(value, str):
        out["host"], out["port"] = broker_address(value, where)
        return out
    if value is None:
        raise where.fail("broker", "missing: give the broker as broker = \"HOST:PORT\" or a [broker] table "
                                   "(or --broker HOST:PORT)")
    if not isinstance(value, dict):
        raise where.fail("broker", "must be \"HOST:PORT\" or a table, got %s" % describe(value))
    b = want_table(where, "broker", value, BROKER_KEYS)
    out["host"] = host_name(where, "broker.host", b.get("host", "127.0.0.1"))
    out["port"] = want_int(where, "broker.port", b.get("port", 1883), 1, MAX_PORT)
    tls = b.get("tls")
    if tls is True:
        out["tls"] = {}
    elif isinstance(tls, dict):
        want_table(where, "broker.tls", tls, TLS_KEYS)
        out["tls"] = {k: want_str(where, "broker.tls." + k, tls[k]) for k in ("ca", "cert", "key") if k in tls}
        if "insecure" in tls:
            out["tls"]["insecure"] = want_bool(where, "broker.tls.insecure", tls["insecure"])
        if "key" in out["tls"] and "cert" not in out["tls"]:
            raise where.fail("broker.tls.key", "a client key needs its certificate (cert = \"...\")")
    elif tls not in (None, False):
        raise where.fail("broker.tls", "must be true, false or a table { ca, cert, key, insecure }, got %s"
                         % describe(tls))
    for key in ("username", "password", "client_id"):
        out[key] = _opt_str(where, b, key, "broker." + key)
    if "password" in b and "username" not in b:
        raise where.fail("broker.password", "a password needs a username")
    protocol = b.get("protocol", "5")
    if protocol == 5 and not isinstance(protocol, bool):  # written without quotes
        protocol = "5"
    out["protocol"] = want_choice(where, "broker.protocol", protocol, ("5", "3.1.1"))
    out["client"] = want_choice(where, "broker.client", b.get("client", "builtin"), ("builtin", "paho"))
    if out["client"] == "paho":
        try:
            import paho.mqtt.client  # noqa: F401
        except ImportError:
            raise where.fail("broker.client", "needs paho-mqtt: pip install 'edge-ssre[mqtt]'") from None
    out["session_expiry"] = want_int(where, "broker.session_expiry", b.get("session_expiry", SESSION_EXPIRY),
                                     0, 0xFFFFFFFF, "seconds")
    out["connect_timeout"] = want_number(where, "broker.connect_timeout",
                                         b.get("connect_timeout", CONNECT_TIMEOUT), 0, 3600, "seconds; 0: retry for ever")
    out["keepalive"] = want_int(where, "broker.keepalive", b.get("keepalive", KEEPALIVE), 1, 65535,
                                "seconds; a silent broker is dropped after 1.5 x keepalive")
    return out


def _uplink(where, value):
    up = want_table(where, "uplink", value, UPLINK_KEYS)
    out = {"host": host_name(where, "uplink.host", up.get("host", "127.0.0.1")),
           "port": want_int(where, "uplink.port", up.get("port", 8883), 1, MAX_PORT),
           "topic": publishable(where, "uplink.topic", up.get("topic", "edge-ssre/events")),
           "rate_limit": want_number(where, "uplink.rate_limit", up.get("rate_limit", 100), hi=1e6, above=0,
                                     unit="messages/s"),
           "max_backoff": want_number(where, "uplink.max_backoff", up.get("max_backoff", 30), hi=3600, above=0,
                                      unit="seconds"),
           "format": want_choice(where, "uplink.format", up.get("format", "cbor"), ("cbor", "ocsf"))}
    for key in ("client_id", "ca", "cert", "key"):
        out[key] = _opt_str(where, up, key, "uplink." + key)
    return out


def parse(conf, label="<command line>"):
    """Check ``conf`` (a parsed TOML file with command-line values merged in: ``__text__`` holds the
    file's text, ``__given__`` the keys set by options) and return a ``SidecarConfig``."""
    given = {k: OPTIONS.get(k, k) for k in conf.get("__given__", ())}
    where = Where(conf.get("__text__", ""), label, PolicyError, given)
    for key in conf:
        if key not in KEYS and not key.startswith("__"):
            raise where.fail(key, "unknown key; expected one of %s" % ", ".join(KEYS))
    cfg = SidecarConfig(where=where, **_broker(where, conf.get("broker"), given))
    if "inputs" not in conf:
        raise where.fail("inputs", "missing: name the topic filters to guard, e.g. inputs = [\"sensors/#\"] "
                                   "(or --input 'sensors/#')")
    cfg.inputs = topic_filters(where, "inputs", conf["inputs"])
    cfg.output_prefix = publishable(where, "output_prefix", conf.get("output_prefix", "guarded"))
    cfg.quarantine = publishable(where, "quarantine", conf["quarantine"]) if "quarantine" in conf else None
    _outside_inputs(where, cfg)
    for key in ("profile", "sink"):
        setattr(cfg, key, want_str(where, key, conf[key]) if key in conf else None)
    cfg.device = want_str(where, "device", conf.get("device", ""), empty=True)
    if cfg.sink is not None and cfg.sink.startswith("store:") and not cfg.sink[6:]:
        raise where.fail("sink", "store: needs a path, e.g. \"store:/var/lib/edge-ssre/events.ring\"")
    cfg.stats_interval = want_number(where, "stats_interval", conf.get("stats_interval", 10), hi=86400, above=0,
                                     unit="seconds")
    if cfg.profile is not None:
        from ..errors import ProfileError
        from ..profiles import load_profile
        try:
            cfg.profile = load_profile(cfg.profile)
        except ProfileError as exc:
            raise where.fail("profile", str(exc)) from None
    default_depth = (cfg.profile.runtime.get("queue_depth") if cfg.profile else 0) or 1024
    cfg.queue_depth = want_int(where, "queue_depth", conf.get("queue_depth", default_depth), 1, MAX_QUEUE_DEPTH)
    if "policy" in conf:
        from ..policy import Policy
        cfg.policy = Policy.from_dict(want_table(where, "policy", conf["policy"]), where)
    # the telemetry checks: the [telemetry] table, else the defaults every guard with a topic applies
    # (edge-ssre inspect --topic too): $SYS/# and $aws/# denied, topic length and level limits
    from ..telemetry.policy import TelemetryPolicy
    cfg.telemetry = TelemetryPolicy.from_dict(want_table(where, "telemetry", conf.get("telemetry", {})), where,
                                              cfg.profile)
    _inputs_not_denied(where, cfg)
    if "uplink" in conf:
        if cfg.sink is None or not cfg.sink.startswith("store:"):
            raise where.fail("sink" if cfg.sink is not None else "uplink",
                             "[uplink] forwards the event store's records: it needs sink = \"store:PATH\"")
        cfg.uplink = _uplink(where, conf["uplink"])
    if "bundle" in conf:
        cfg.bundle = _bundle(where, conf["bundle"], cfg)
    return cfg


def _bundle(where, value, cfg):
    """The signed-bundle delivery (docs/BUNDLES.md): trust, state, topic, watched file."""
    b = want_table(where, "bundle", value, BUNDLE_KEYS)
    for key in ("trust", "state"):
        if key not in b:
            raise where.fail("bundle." + key, "missing: [bundle] needs trust (the public key file) and state "
                                              "(the anti-rollback state file)")
    out = {"trust": want_str(where, "bundle.trust", b["trust"]), "state": want_str(where, "bundle.state", b["state"]),
           "watch": want_str(where, "bundle.watch", b["watch"]) if "watch" in b else None,
           "interval": want_number(where, "bundle.interval", b.get("interval", 5), hi=3600, above=0, unit="seconds"),
           "groups": _names(where, "bundle.groups", b.get("groups", []))}
    topic = want_str(where, "bundle.topic", b.get("topic", "edge-ssre/{device}/bundle"), empty=True)
    if "{device}" in topic and not cfg.device:
        raise where.fail("bundle.topic", "%r names the device: set device = \"...\"" % topic)
    out["topic"] = publishable(where, "bundle.topic", topic.replace("{device}", cfg.device)) if topic else None
    if out["topic"] and _reaches(cfg, out["topic"]):
        raise where.fail("bundle.topic", "%r is under the sidecar's own output or quarantine prefix" % out["topic"])
    return out


def _names(where, key, value):
    if not isinstance(value, list):
        raise where.fail(key, "must be an array of names, got %s" % describe(value))
    return [want_str(where, key, v) for v in value]


def _reaches(cfg, topic):
    return any(topic == p or topic.startswith(p + "/") for p in (cfg.output_prefix, cfg.quarantine) if p)


def _outside_inputs(where, cfg):
    """The sidecar must not receive what it publishes (a loop)."""
    from ..telemetry.topic_filter import topic_matches
    for f in cfg.inputs:
        for what, prefix in (("output prefix", cfg.output_prefix), ("quarantine prefix", cfg.quarantine)):
            if prefix and topic_matches(f, prefix + "/x"):
                raise where.fail("inputs", "filter %r would also receive what the sidecar publishes under the %s "
                                           "%r (a loop): choose inputs and prefixes that do not overlap"
                                 % (f, what, prefix))


def _inputs_not_denied(where, cfg):
    """An input filter whose every topic the telemetry policy denies would only ever block."""
    for f in cfg.inputs:
        sample = ["x" if level in ("+", "#") else level for level in f.split("/")]
        if f.startswith("$") and cfg.telemetry.deny.first(sample) >= 0:
            raise where.fail("inputs", "filter %r is denied by the telemetry policy (deny = [%s]): every message "
                                       "on it would be blocked; set [telemetry] deny without it to guard it"
                             % (f, ", ".join('"%s"' % "/".join(d) for d in cfg.telemetry.deny.filters)))
