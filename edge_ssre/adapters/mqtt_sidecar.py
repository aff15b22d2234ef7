"""The MQTT sidecar: subscribe to device telemetry, inspect every message, republish what passes.

    edge-ssre run --broker 127.0.0.1:1883 --input 'raw/#' --output-prefix guarded
    edge-ssre run --config sidecar.toml

Each message becomes an ``Envelope(payload, "mqtt", topic, client_id, meta)`` at the edge and
goes through a ``Guard`` (signatures + the telemetry policy). Allowed messages are republished
unchanged (payload, QoS, retain, MQTT 5 user properties) as ``<output_prefix>/<topic>``; blocked
ones are dropped or, with ``quarantine``, published to ``<quarantine>/<topic>``. Every verdict with
findings goes to the sink (a JSON-lines file, stderr, or the event store).

The publisher's client id is not part of an MQTT PUBLISH: the sidecar takes it from the MQTT 5
user property ``client_id`` when present, else from topic level ``client_id_level`` (0-based)
when configured.

Two connections: the input one subscribes (and acknowledges QoS 1/2 messages once the broker has
the republished copy: at least once end to end), the output one publishes. A bounded queue sits
between the input thread and the inspecting worker; a message that finds it full waits for room
(up to ``INTAKE_WAIT``: a burst slows the broker down instead of losing data), and what overflows
after that is counted and reported, never silent. Both connections are ``transports.mqtt_wire``
clients (standard library only: the sidecar runs without paho-mqtt, in about half its memory), which
reconnect with backoff and resend unacknowledged copies. A message larger than the guard's byte limit
is read past, not buffered, and reported as ``limits.bytes``. SIGTERM/SIGINT stop cleanly. A stats
line is written every ``stats_interval`` seconds.

Config file (TOML)::

    broker = "127.0.0.1:1883"          # or [broker] host/port/tls/username/password/client_id/protocol/client
                                       # client = "builtin" (default, standard library) or "paho";
                                       # session_expiry = 3600 (s the broker keeps the input session; 0: clean)
                                       # keepalive = 30 (s; a broker silent for 1.5 x keepalive is dropped)
    inputs = ["raw/#"]
    output_prefix = "guarded"
    quarantine = "quarantine"          # optional
    profile = "raspberry-pi-4"         # sizes the budgets and tables
    sink = "events.jsonl"              # "-" for stderr, "store:/var/lib/edge-ssre/events.ring"
    stats_interval = 10
    queue_depth = 4096
    [policy]                            # inspection policy (mode, families, rules, allow)
    [telemetry]                         # telemetry policy (see edge_ssre/telemetry/policy.py)
"""

import collections
import json
import queue
import signal
import sys
import threading
import time

from .. import guard_threads
from ..envelope import Envelope
from ..errors import BrokerError, PolicyError
from ..transports.mqtt_wire import forwardable, user_property
from ..verdict import Finding, Verdict
from .sidecar_config import CONNECT_TIMEOUT, SESSION_EXPIRY

INTAKE_WAIT = 2.0  # seconds the input thread waits for queue room before a message overflows
STOP_BUDGET = 4.0  # seconds from SIGTERM (or the end of --duration) to the final stats line


def stable_client_id(inputs, output_prefix):
    """The same client id for the same sidecar on the same host across restarts, so the broker
    can keep its session: edge-ssre-<8 hex digits of CRC-32(host name, inputs, output prefix)>."""
    import socket
    import zlib
    key = "%s|%s|%s" % (socket.gethostname(), ",".join(sorted(inputs)), output_prefix)
    return "edge-ssre-%08x" % zlib.crc32(key.encode("utf-8"))


class JsonLinesSink:
    """One JSON line per finding to a file (or stderr for "-")."""

    def __init__(self, target):
        self.target = target
        self.fh = sys.stderr if target == "-" else open(target, "a", buffering=1)
        self.lock = threading.Lock()
        self.written = 0

    def __call__(self, verdict, env):
        with self.lock:
            for f in verdict.findings:
                d = f.to_dict()
                d.update(ts=round(time.time(), 3), topic=env.topic, client=env.client_id, verdict=verdict.action)
                self.fh.write(json.dumps(d) + "\n")
                self.written += 1

    def close(self):
        if self.fh is not sys.stderr:
            self.fh.close()


def make_sink(spec, device="", profile=None):
    if spec is None or spec == "-":
        return JsonLinesSink("-"), None
    if spec.startswith("store:"):
        from ..store import EventStore
        from ..store.sink import StoreSink
        if profile is not None and profile.store.get("capacity_bytes"):
            store = EventStore.from_profile(profile, path=spec[6:], device=device)
        else:
            store = EventStore(spec[6:], capacity_bytes=8 << 20, device=device)
        return StoreSink(store, device=device), store
    return JsonLinesSink(spec), None


class Stats:
    __slots__ = ("messages", "allowed", "blocked", "alerts", "quarantined", "overflow", "errors", "lat",
                 "lat_i", "lat_mark", "started")

    def __init__(self):
        self.messages = self.allowed = self.blocked = self.alerts = self.quarantined = 0
        self.overflow = self.errors = 0
        self.lat = [0.0] * 2048     # ring of recent added latencies (seconds): fixed memory
        self.lat_i = 0
        self.lat_mark = 0           # lat_i at the previous stats line (interval percentiles)
        self.started = time.time()

    def latency(self, seconds):
        self.lat[self.lat_i % len(self.lat)] = seconds
        self.lat_i += 1

    def percentiles(self, last=None):
        """p50 and p99 (seconds) of the ``last`` latencies recorded (default: all the ring holds)."""
        size = len(self.lat)
        n = min(self.lat_i, size) if last is None else min(last, self.lat_i, size)
        if not n:
            return 0.0, 0.0
        end = self.lat_i % size
        xs = sorted(self.lat[end - n:end] if n <= end else self.lat[:end] + self.lat[end - n:])
        return xs[n // 2], xs[min(n - 1, int(n * 0.99))]

    def line(self, depth, extra=""):
        """The periodic stats line; ``interval_p50_us``/``interval_p99_us`` cover the messages since
        the previous line (the recent ring's, at most 2048)."""
        p50, p99 = self.percentiles()
        i50, i99 = self.percentiles(self.lat_i - self.lat_mark)
        self.lat_mark = self.lat_i
        return ("edge-ssre stats: messages=%d allowed=%d blocked=%d alerts=%d quarantined=%d queue=%d overflow=%d "
                "errors=%d latency_p50_us=%d latency_p99_us=%d interval_p50_us=%d interval_p99_us=%d%s" % (
                    self.messages, self.allowed, self.blocked, self.alerts, self.quarantined, depth, self.overflow,
                    self.errors, p50 * 1e6, p99 * 1e6, i50 * 1e6, i99 * 1e6, extra))

    def to_dict(self, depth):
        p50, p99 = self.percentiles()
        return {"messages": self.messages, "allowed": self.allowed, "blocked": self.blocked, "alerts": self.alerts,
                "quarantined": self.quarantined, "queue": depth, "overflow": self.overflow, "errors": self.errors,
                "latency_p50_us": round(p50 * 1e6, 1), "latency_p99_us": round(p99 * 1e6, 1)}


class Sidecar:
    """MQTT 5 by default (user properties, retain-as-published); ``protocol="3.1.1"`` for older brokers."""

    def __init__(self, guard, host, port, inputs, output_prefix, quarantine=None, client_id=None, protocol="5",
                 tls=None, username=None, password=None, queue_depth=1024, stats_interval=10.0, stats_out=None,
                 client="builtin", session_expiry=SESSION_EXPIRY, keepalive=30, connect_timeout=CONNECT_TIMEOUT):
        for f in inputs:
            from ..telemetry.topic_filter import topic_matches
            if topic_matches(f, output_prefix + "/x") or (quarantine and topic_matches(f, quarantine + "/x")):
                raise PolicyError("input filter %r would also receive the sidecar's own output under %r: "
                                  "choose an output prefix outside the inputs" % (f, output_prefix))
        self.guard = guard
        self.inputs = list(inputs)
        self.output_prefix = output_prefix.rstrip("/")
        self.quarantine = quarantine.rstrip("/") if quarantine else None
        self.v5 = protocol == "5"
        self.q = queue.Queue(maxsize=queue_depth)
        self.stats = Stats()
        self.stats_interval = stats_interval
        self.stats_out = stats_out or sys.stderr
        self.stop_event = threading.Event()
        # at start, both connections must be up within connect_timeout seconds (0: wait for ever),
        # else run() raises BrokerError (exit 3); once running, a lost broker is retried for ever.
        # Connection trouble seen before that is kept for the error, not logged line by line.
        self.connect_timeout = connect_timeout
        self.delivery = self.watcher = self.bundle_topic = None  # signed bundles: use_bundles()
        self._starting = True
        self._start_problem = None
        if client == "paho":
            from ..transports.paho_client import PahoClient as Client
        else:
            from ..transports.mqtt_wire import Client
        if not client_id:
            client_id = stable_client_id(self.inputs, self.output_prefix)
        # the largest PUBLISH taken in whole: the guard's byte limit plus room for topic and
        # properties (a larger one is read past and reported, see _on_oversize)
        max_packet = guard.limits.max_bytes + 65536 + 1024
        # Two connections: the input one only subscribes and acknowledges, the output one only
        # publishes. The input thread may then wait for queue room (backpressure on QoS 1) without
        # ever holding up what the worker publishes, and each reads and writes on its own.
        # The input connection keeps its session (session_expiry seconds): QoS 1 messages sent to the
        # sidecar but not yet acknowledged, and those that arrive while it restarts, are delivered
        # again when it is back, instead of being dropped with a clean session. Receive Maximum: a
        # broker that keeps to it holds back the QoS 1 messages beyond this many unacknowledged ones
        # (the input thread's wait bounds the queue for those that don't).
        self.client = Client(host, port, client_id, self.v5, keepalive=keepalive, tls=tls, username=username,
                             password=password,
                             session_expiry=session_expiry, receive_maximum=max(1, queue_depth // 2),
                             max_packet=max_packet, on_connect=self._on_connect, on_message=self._on_message,
                             on_oversize=self._on_oversize, log=lambda text: self._log("input: " + text))
        self.out = Client(host, port, client_id + "-out", self.v5, keepalive=keepalive, tls=tls, username=username,
                          password=password, max_packet=max_packet, on_acked=self._on_acked,
                          log=lambda text: self._log("output: " + text))
        self.settling = threading.Lock()  # the window is settled by the worker and the output's reader
        # Our QoS 1 copies not yet acknowledged by the broker, oldest first: (Sent or None, the
        # input's (connection epoch, message id, QoS) or None). A device's QoS 1 message is
        # acknowledged only once the broker holds our copy (at least once end to end), and the
        # worker waits while ``out_window`` copies are open, so a slow or absent broker holds the
        # worker back instead of growing memory. QoS 0 copies are written at once (or counted).
        self.window = collections.deque()
        self.out_window = max(16, min(1024, queue_depth // 2))

    def _log(self, text):
        if self._starting:
            self._start_problem = text
            return
        self.stats_out.write("edge-ssre: %s\n" % text)
        self.stats_out.flush()

    # ---- input connection's reader thread ------------------------------------------------
    def _on_connect(self, client):
        # retain-as-published (MQTT 5): a retained reading stays retained when republished
        client.subscribe(self.inputs, qos=1, retain_as_published=True)
        if self.bundle_topic:
            client.subscribe([self.bundle_topic], qos=1)

    def _on_oversize(self, topic, size, qos):
        """A PUBLISH too large to take in whole: already acknowledged and read past; blocked."""
        st = self.stats
        st.messages += 1
        st.blocked += 1
        finding = Finding("limits.bytes", "limits", "", "%d bytes; larger than the sidecar takes in (%d)"
                          % (size, self.client.max_packet), "high", "block")
        sink = self.guard.sink
        if sink is not None:
            try:
                sink(Verdict("block", (finding,), "mqtt"), Envelope(b"", "mqtt", topic, None, {"qos": qos}))
            except Exception:
                st.errors += 1

    def _on_message(self, topic, payload, qos, retain, mid, props):
        if topic == self.bundle_topic and self.delivery is not None:
            # a signed bundle (docs/BUNDLES.md), never inspected or republished as data: installed and
            # applied, or refused (logged, a policy.rejected event) with the running configuration kept
            self.delivery.offer(payload, "mqtt " + topic)
            if qos:
                self._ack((self.client.epoch, mid, qos))
            return
        item = (time.perf_counter(), topic, payload, qos, retain, forwardable(props) if props else None,
                (self.client.epoch, mid, qos) if qos else None)
        try:
            self.q.put_nowait(item)
            return
        except queue.Full:
            pass
        # Full: hold this thread (and so the reading of the input connection) until the worker frees
        # a slot. TCP then slows the broker down and it keeps the backlog, under its own limits:
        # pacing, not loss, for a burst the worker can work off. Brokers do not always keep to a
        # client's Receive Maximum (Debian's mosquitto 2.0.11 sends past it once acknowledgements
        # flow), so this wait is also what bounds the queue at QoS 1/2. Only a worker that frees no
        # slot for INTAKE_WAIT seconds makes a message overflow (counted).
        # The wait holds the input connection's reader: it keeps the connection's keepalive itself.
        end = time.monotonic() + INTAKE_WAIT
        while True:
            try:
                self.q.put(item, timeout=min(0.5, max(0.0, end - time.monotonic())))
                return
            except queue.Full:
                if time.monotonic() >= end or self.stop_event.is_set():
                    break
                self.client.heartbeat()
        if item[6] is not None:
            self._ack(item[6])  # dropped after all: do not stall the broker
        self.stats.overflow += 1

    def _on_acked(self):
        """Output reader: the broker acknowledged a copy; acknowledge the devices' messages it
        settles at once. A broker lets only so many QoS 1 messages to us go unacknowledged (20 by
        mosquitto's default), so this round trip, not the inspection, paces a QoS 1 stream."""
        if self.window:
            self._settle()

    def _ack(self, ref):
        epoch, mid, qos = ref
        if epoch == self.client.epoch:  # message ids of an earlier connection mean nothing on this one
            self.client.ack(mid, qos)

    def _settle(self):
        """Acknowledge the devices' QoS 1 messages whose republished copies the broker now holds.
        A broker acknowledges QoS 1 publications in the order it received them (MQTT 3.1.1
        4.6.0-2, MQTT 5 4.6.0-2), so this reads from the oldest and stops at the first still open."""
        window = self.window
        with self.settling:
            corked = False
            while window and (window[0][0] is None or window[0][0].done):
                sent, ref = window.popleft()
                if sent is not None and sent.reason >= 0x80:  # the broker refused our copy (MQTT 5 reason)
                    self.stats.errors += 1
                if ref is not None:
                    if not corked and window:  # more may follow: one write for all the acknowledgements
                        self.client.cork()
                        corked = True
                    self._ack(ref)
            if corked:
                self.client.uncork()

    def _ack_in_order(self, ref):
        """Acknowledge now, or after the older messages still waiting for the broker (in order)."""
        with self.settling:
            if self.window:
                self.window.append((None, ref))
                return
        self._ack(ref)

    def _room(self):
        """Wait while ``out_window`` copies are open (not written, or not acknowledged)."""
        window = self.window
        if len(window) < self.out_window:  # the output's reader settles as PUBACKs arrive
            return
        self._settle()
        if len(window) < self.out_window:
            return
        self.out.flush()  # what waits in the batch's buffer must reach the broker to be acknowledged
        while len(window) >= self.out_window and not self.stop_event.is_set():
            self.out.wait_acked(0.05)
            self._settle()

    # ---- worker -------------------------------------------------------------------------
    def _client_id(self, props):
        return user_property(props, "client_id") if props else None

    def handle(self, received, topic, payload, qos, retain, props, ref=None):
        """Inspect one message and republish or quarantine it. ``ref`` (input connection epoch,
        message id, QoS) is what acknowledges a QoS 1/2 message to the broker: once our copy is
        acknowledged by the broker, or at once when nothing is published."""
        st = self.stats
        st.messages += 1
        env = Envelope(payload, "mqtt", topic, self._client_id(props), {"qos": qos, "retain": retain})
        verdict = self.guard.inspect_envelope(env)
        out_props = props if self.v5 else None
        if verdict.action == "block":
            st.blocked += 1
            if self.quarantine:
                ref = self._publish(self.quarantine + "/" + topic, payload, qos, False, out_props, ref)
                st.quarantined += 1
        else:
            if verdict.action == "alert":
                st.alerts += 1
            st.allowed += 1
            ref = self._publish(self.output_prefix + "/" + topic, payload, qos, retain, out_props, ref)
        if ref is not None:
            self._ack_in_order(ref)
        st.latency(time.perf_counter() - received)

    def _publish(self, topic, payload, qos, retain, props, ref):
        """Publish on the output connection, waiting while ``out_window`` copies are open
        (backpressure, not loss). Returns ``ref`` when the caller must acknowledge the input now,
        else None (the acknowledgement follows the broker's, in ``_settle``)."""
        self._room()
        try:
            sent = self.out.publish(topic, payload, qos, retain, props or b"")
        except ValueError:  # larger than the broker takes
            sent = False
        if sent is True:
            return ref
        if sent:  # QoS 1: kept by the client until acknowledged, across reconnects
            self.window.append((sent, ref))
            return None
        self.stats.errors += 1  # not sent (QoS 0 while the output is disconnected, or too large): counted
        return ref

    def _work(self):
        q = self.q
        while not self.stop_event.is_set() or not q.empty():
            try:
                batch = [q.get(timeout=0.02 if self.window else 0.1)]
            except queue.Empty:
                self._settle()
                continue
            try:  # drain what is already waiting: fewer wake-ups under load
                while len(batch) < 64:
                    batch.append(q.get_nowait())
            except queue.Empty:
                pass
            self.out.cork()  # a batch's copies leave in one write
            try:
                for item in batch:
                    try:
                        self.handle(*item)
                    except Exception as exc:  # one bad message must not stop the sidecar
                        self.stats.errors += 1
                        if item[6] is not None:
                            self._ack_in_order(item[6])
                        self.stats_out.write("edge-ssre: message on %r not handled: %s: %s\n"
                                             % (item[1], type(exc).__name__, exc))
            finally:
                self.out.uncork()
            self._settle()

    uplink = None
    store = None

    def _store_figures(self):
        """The event store's part of the stats line (what is held, what still waits for the uplink)."""
        if self.store is None:
            return ""
        st = self.store.stats()
        return " events_stored=%d events_backlog=%d" % (st["newest_seq"] or 0, st["backlog"])

    def stats_dict(self):
        d = self.stats.to_dict(self.q.qsize())
        if self.store is not None:
            d["store"] = self.store.stats()
        if self.uplink is not None:
            d["uplink"] = self.uplink.metrics()
        return d

    def _wait_connected(self):
        """Both connections up within ``connect_timeout`` seconds, else BrokerError (one line)."""
        self.out.start()
        self.client.start()
        end = time.monotonic() + self.connect_timeout if self.connect_timeout else None
        while not (self.client.connected and self.out.connected):
            if self.stop_event.is_set():
                break
            if end is not None and time.monotonic() >= end:
                self.client.stop(1.0)
                self.out.stop(1.0)
                raise BrokerError.not_reached(self.client.host, self.client.port, self.connect_timeout,
                                              self._start_problem)
            time.sleep(0.02)
        self._starting = False

    def run(self, duration=None):
        if self.delivery is not None:
            self.delivery.start()  # the bundles accepted before, before the first message
        if self.watcher is not None:
            self.watcher.start()
        self._wait_connected()
        if self.uplink is not None:
            self.uplink.start()
        worker = guard_threads.start(self._work, "edge-ssre-worker")
        end = None if duration is None else time.monotonic() + duration
        next_stats = time.monotonic() + self.stats_interval
        try:
            while not self.stop_event.is_set():
                if end is not None and time.monotonic() >= end:
                    break
                self.stop_event.wait(0.1)
                if time.monotonic() >= next_stats:
                    self.stats_out.write(self.stats.line(self.q.qsize(), self._store_figures()) + "\n")
                    self.stats_out.flush()
                    next_stats += self.stats_interval
        finally:
            self._shutdown(worker)
            self.stats_out.write(self.stats.line(self.q.qsize()) + "\n")
            self.stats_out.write("edge-ssre final: " + json.dumps(self.stats_dict(), default=str) + "\n")
            self.stats_out.flush()

    def _shutdown(self, worker):
        """Stop within STOP_BUDGET seconds whatever the brokers do (SIGTERM must end the sidecar
        even when a broker stopped reading): the worker finishes what is queued, the broker gets up
        to 2 s to acknowledge our copies (so the devices' messages are acknowledged), then both
        connections close; a write blocked on a frozen broker is cut short by closing its socket,
        never waited for. The uplink then delivers what is stored for up to 10 s more, while it
        makes progress (a link that is down or stalled leaves it in the store for the next run)."""
        end = time.monotonic() + STOP_BUDGET
        self.stop_event.set()
        worker.join(timeout=1.0)
        if worker.is_alive():  # blocked writing to the output broker: close the connection under it
            self.out.stop(timeout=1.0)
            worker.join(timeout=max(0.1, end - 2.5 - time.monotonic()))
        settle_end = min(end - 2.0, time.monotonic() + 2.0)
        while self.window and self.out.connected and time.monotonic() < settle_end:
            self._settle()
            time.sleep(0.01)
        self.client.stop(timeout=max(0.2, (end - time.monotonic()) / 3))
        self.out.stop(timeout=max(0.2, (end - time.monotonic()) / 2))
        if self.watcher is not None:
            self.watcher.stop()
        if self.uplink is not None:
            self.uplink.drain(timeout=10.0, while_delivering=True)
            self.uplink.stop(timeout=1.0)

    def stop(self, *_):
        self.stop_event.set()

    def use_bundles(self, conf, device="", profile=None, events=None):
        """Signed bundles (``[bundle]``): applied from the kept copies at start, then from the bundle
        topic and the watched file; refusals are logged and stored as policy.rejected events."""
        from ..bundle.delivery import BundleWatcher, Delivery
        from ..bundle.install import Identity, Installer
        from ..bundle.trust import TrustStore
        identity = Identity(device or None, conf["groups"], getattr(profile, "name", None))
        installer = Installer(TrustStore.load(conf["trust"]), conf["state"], identity, events=events,
                              base_profile=profile, log=self._log)
        self.delivery = Delivery(installer, self.guard)
        self.bundle_topic = conf["topic"]
        if conf["watch"]:
            self.watcher = BundleWatcher(conf["watch"], self.delivery, conf["interval"])


def build(conf, label="<command line>"):
    """A ready Sidecar (and the store to close, if any) from a config dict: every key is checked
    first (``sidecar_config.parse``: errors name the file, line and key, or the option)."""
    from ..guard import Guard
    from ..telemetry.guard import TelemetryGuard
    from .sidecar_config import parse
    cfg = parse(conf, label)
    try:
        sink, store = make_sink(cfg.sink, cfg.device, cfg.profile)
    except OSError as exc:
        from ..errors import StoreLockedError
        if isinstance(exc, StoreLockedError):
            raise
        raise cfg.where.fail("sink", "cannot open %s: %s" % (cfg.sink, exc.strerror or exc)) from None
    uplink = None
    if cfg.uplink is not None:
        from ..uplink.backoff import Backoff
        from ..uplink.mqtt_uplink import MqttUplink
        up = cfg.uplink
        uplink = MqttUplink(store, up["host"], up["port"], topic=up["topic"], client_id=up["client_id"],
                            ca=up["ca"], cert=up["cert"], key=up["key"], rate_limit=up["rate_limit"],
                            backoff=Backoff(cap=max(0.2, up["max_backoff"])), format=up["format"])
    guard = Guard(policy=cfg.policy, profile=cfg.profile,
                  telemetry=TelemetryGuard(cfg.telemetry) if cfg.telemetry else None, sink=sink)
    sc = Sidecar(guard, cfg.host, cfg.port, cfg.inputs, cfg.output_prefix, cfg.quarantine,
                 client_id=cfg.client_id, protocol=cfg.protocol, tls=cfg.tls, username=cfg.username,
                 password=cfg.password, queue_depth=cfg.queue_depth, stats_interval=cfg.stats_interval,
                 client=cfg.client, session_expiry=cfg.session_expiry, keepalive=cfg.keepalive,
                 connect_timeout=cfg.connect_timeout)
    sc.uplink = uplink
    sc.store = store
    if cfg.bundle is not None:
        from ..bundle.format import BundleError
        try:
            sc.use_bundles(cfg.bundle, cfg.device, cfg.profile, store)
        except (OSError, BundleError) as exc:
            raise cfg.where.fail("bundle.trust", str(exc)) from None
        except ImportError as exc:
            raise cfg.where.fail("bundle", "%s" % exc) from None
    return sc, store


def main(args):
    conf = {}
    label = "<command line>"
    if args.config:
        from ..tomlload import load_toml
        conf, text, label = load_toml(args.config)
        conf["__text__"] = text
    given = []
    for key, option in (("broker", "broker"), ("inputs", "input"), ("output_prefix", "output_prefix"),
                        ("quarantine", "quarantine"), ("sink", "sink"), ("profile", "profile"),
                        ("stats_interval", "stats_interval")):
        val = getattr(args, option, None)
        if val is not None:
            conf[key] = val
            given.append(key)
    conf["__given__"] = given
    if getattr(args, "check", False):  # every key checked; nothing opened or connected
        from .sidecar_config import parse
        parse(conf, label)
        sys.stdout.write("%s: the configuration is valid\n" % label)
        return 0
    sc, store = build(conf, label)
    if getattr(args, "connect_timeout", None) is not None:
        sc.connect_timeout = args.connect_timeout
    signal.signal(signal.SIGTERM, sc.stop)
    signal.signal(signal.SIGINT, sc.stop)
    try:
        sc.run(getattr(args, "duration", None))
    finally:
        if store is not None:
            store.close()
    return 0
