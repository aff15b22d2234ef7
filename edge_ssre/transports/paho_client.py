"""paho-mqtt behind the interface of ``mqtt_wire.Client``, for brokers or set-ups the built-in
client does not cover (websockets, proxies, paho's own TLS and auth handling).

    [broker]
    client = "paho"        # default "builtin" (transports/mqtt_wire.py)

It costs what paho costs: ~11 MB more RSS (its imports: ssl, logging, urllib.request, email) and a
properties object per MQTT 5 message; the sidecar behaves the same otherwise (manual, in-order
acknowledgement of the devices' QoS 1 messages once the broker holds the republished copy), and
the sidecar's tests run on both clients. What this wrapper adds to paho to keep to the built-in
client's standard:

* a QoS 1 publication's ``done`` and PUBACK ``reason`` come from paho's ``on_publish``, never from
  ``MQTTMessageInfo.is_published()`` (which raises for a publication made while disconnected,
  although paho keeps it and sends it after the reconnect);
* no exception from the sidecar's callbacks reaches paho's network thread (paho would stop);
* paho is given 3/4 of the keepalive less 0.75 s: it pings after one keepalive of silence and drops
  the connection after a second one, so a broker that stopped answering is dropped within
  1.5 x the configured keepalive (plus paho's 1 s loop), as with the built-in client;
* ``stop`` returns within its timeout: paho's network thread does not end while publications are
  unacknowledged on a live socket, so after a grace period the socket is shut under it;
* one log line per failure streak, with the MQTT 5 reason code and reason string.

Reconnect waits follow the built-in client's (``uplink/backoff.py``, reset once a connection has
stayed up STABLE_SECONDS): each failure sets paho's next reconnect delay. paho is imported here only.
"""

import socket
import threading
import time

from ..uplink.backoff import Backoff
from .mqtt_wire import MAX_BACKOFF, STABLE_SECONDS, read_varint, reason_name, varint


class PahoSent:
    """A QoS 1 publication until the broker acknowledges it (``reason`` >= 0x80 is a refusal)."""

    __slots__ = ("mid", "done", "reason")

    def __init__(self, mid):
        self.mid = mid
        self.done = False
        self.reason = 0


def paho_keepalive(keepalive):
    """The keepalive handed to paho so that it drops a silent broker within 1.5 x ``keepalive``."""
    return max(1, int((1.5 * keepalive - 1.5) / 2)) if keepalive else 0


class PahoClient:
    """The subset of ``mqtt_wire.Client`` the sidecar uses, on paho-mqtt (>= 2.0)."""

    def __init__(self, host, port, client_id="", v5=True, keepalive=30, tls=None, username=None, password=None,
                 receive_maximum=65535, max_packet=1 << 20, on_connect=None, on_disconnect=None, on_message=None,
                 on_oversize=None, on_acked=None, log=None, session_expiry=0):
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        self._mqtt, self._types, self._props = mqtt, PacketTypes, Properties
        self.host, self.port, self.v5, self.keepalive = host, int(port), v5, int(keepalive)
        self.max_packet = int(max_packet)
        self.receive_maximum = max(1, min(65535, int(receive_maximum)))
        self.on_connect, self.on_disconnect, self.on_message = on_connect, on_disconnect, on_message
        self.on_oversize, self.on_acked = on_oversize, on_acked
        self.log = log or (lambda text: None)
        self.epoch = 0
        self.connected = False
        self.connect_failures = 0
        self.acked = threading.Condition()
        self.session_expiry = max(0, int(session_expiry))
        self._track = threading.Lock()  # the open publications and the acknowledgements that came first
        self._open = {}                 # mid -> PahoSent
        # on_publish for a mid not (yet) open: a PUBACK handled before publish() returned, or a QoS 0
        # message written. mid -> (reason, the publish() call it came during): a QoS 1 publication
        # takes only the one from its own call (a stale QoS 0 entry must not settle a later mid)
        self._early = {}
        self._calls = 0                 # publish() calls completed
        self.backoff = Backoff(cap=MAX_BACKOFF)
        self._announced = False         # the current failure streak's first line is written
        self._streak = 0                # failed attempts in it
        self._streak_since = 0.0
        self._last_failure = ""
        self._connected_at = None       # the current connection's CONNACK, until it proves stable
        self._stable = False
        self._refused = False           # the last attempt's CONNACK said no (its disconnect is the same failure)
        c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "",
                        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, manual_ack=True,
                        clean_session=None if v5 else not self.session_expiry)
        if tls:
            c.tls_set(ca_certs=tls.get("ca"), certfile=tls.get("cert"), keyfile=tls.get("key"))
            if tls.get("insecure"):
                c.tls_insecure_set(True)
        if username is not None:
            c.username_pw_set(username, password)
        c.reconnect_delay_set(min_delay=0, max_delay=MAX_BACKOFF)  # each wait is set on failure, see _failed
        c.max_queued_messages_set(0)  # the sidecar's window bounds what is open
        c.on_connect = self._connected
        c.on_disconnect = self._disconnected
        c.on_message = self._message
        c.on_publish = self._published
        c.on_connect_fail = self._connect_failed
        self.client = c

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self):
        props = None
        if self.v5:
            props = self._props(self._types.CONNECT)
            props.ReceiveMaximum = self.receive_maximum
            props.MaximumPacketSize = self.max_packet
            if self.session_expiry:
                props.SessionExpiryInterval = self.session_expiry
        clean = self._mqtt.MQTT_CLEAN_START_FIRST_ONLY
        if self.v5 and self.session_expiry:
            clean = False
        self.client.connect_async(self.host, self.port, keepalive=paho_keepalive(self.keepalive), properties=props,
                                  clean_start=clean)
        self.client.loop_start()

    def stop(self, timeout=5.0):
        """DISCONNECT, then end paho's thread within ``timeout`` (shutting its socket if it lingers)."""
        self.client.disconnect()
        stopper = threading.Thread(target=self.client.loop_stop, daemon=True)
        stopper.start()
        stopper.join(min(1.0, timeout / 2))
        if stopper.is_alive():  # open publications on a broker that does not answer: cut it short
            self._abort()
            stopper.join(max(0.1, timeout / 2))
        self.connected = False

    def _abort(self):
        sock = self.client.socket()
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except (OSError, ValueError, TypeError):
                pass

    # ---- paho callbacks (its network thread): nothing may escape into paho ----------------------
    def _guarded(self, what, fn, *args):
        try:
            fn(*args)
            return True
        except Exception as exc:  # a failing callback: say so, and remake the connection (as the built-in client)
            self.log("internal error in %s: %s: %s" % (what, type(exc).__name__, exc))
            self._abort()
            return False

    # Failure streaks as in mqtt_wire.Client: one line when a streak starts, one when a connection
    # has then stayed up STABLE_SECONDS (checked at the next callback), and each failed attempt's
    # wait drawn from our Backoff and handed to paho as its next reconnect delay (paho resets its
    # own on every CONNACK, so a broker that accepts and then drops at once would get a storm).
    def _failed(self, reason, lost=False):
        self.connect_failures += 1
        self._last_failure = reason
        if not self._announced:
            self._announced = True
            self._streak_since = time.monotonic()
            self.log("%s %s:%d: %s (retrying with backoff up to %.0f s)"
                     % ("connection lost to" if lost else "cannot connect to", self.host, self.port, reason,
                        self.backoff.cap))
        self._streak += 1
        self.client.reconnect_delay_set(min_delay=self.backoff.next_delay(), max_delay=self.backoff.cap)

    def _check_stable(self):
        at = self._connected_at
        if at is None or not self.connected:
            return False
        now = time.monotonic()
        if now - at < STABLE_SECONDS:
            return False
        self._connected_at = None
        self.backoff.reset()
        if self._streak:
            self.log("connected to %s:%d after %d failed attempt%s in %.1f s (last: %s)"
                     % (self.host, self.port, self._streak, "" if self._streak == 1 else "s",
                        now - self._streak_since, self._last_failure))
        self._streak, self._announced, self._stable = 0, False, True
        return True

    def _connect_failed(self, client, userdata):
        self._failed("connection failed")

    def _reason(self, reason_code, properties):
        code = getattr(reason_code, "value", reason_code)
        text = reason_name(code, self.v5) if isinstance(code, int) else str(reason_code)
        said = getattr(properties, "ReasonString", None) if properties is not None else None
        return text + (": " + said if said else "")

    def _connected(self, client, userdata, flags, reason_code, properties=None):
        if getattr(reason_code, "is_failure", False):
            self._failed("broker refused the connection: " + self._reason(reason_code, properties))
            self._refused = True
            return
        self._connected_at, self._stable = time.monotonic(), False
        self.epoch += 1
        self.connected = True
        if self.on_connect is not None:
            self._guarded("on_connect", self.on_connect, self)

    def _disconnected(self, client, userdata, flags, reason_code, properties=None):
        self._check_stable()
        was, self.connected = self.connected, False
        reason = self._reason(reason_code, properties)
        if not was:  # closed before an accepted CONNACK: a failed attempt (a refusal was counted already)
            if not self._refused:
                self._failed("closed before CONNACK: " + reason)
            self._refused = False
            return
        if self.on_disconnect is not None:
            self._guarded("on_disconnect", self.on_disconnect, self, reason)
        if self._stable:  # a good connection ended: one line, and the next attempt goes at once
            self._announced, self._streak, self._stable = True, 0, False
            self._streak_since, self._last_failure = time.monotonic(), reason
            self.log("connection to %s:%d lost: %s (reconnecting)" % (self.host, self.port, reason))
            self.client.reconnect_delay_set(min_delay=0, max_delay=self.backoff.cap)
        else:  # up for less than STABLE_SECONDS: flapping, one more failure
            self._failed(reason, lost=True)

    def _message(self, client, userdata, msg):
        if self._connected_at is not None:
            self._check_stable()
        props = b""
        if self.v5 and msg.properties is not None:
            packed = msg.properties.pack()  # a length, then the property block
            _, i = read_varint(packed, 0)
            props = bytes(packed[i:])
        if len(msg.payload) > self.max_packet and self.on_oversize is not None:
            if msg.qos:
                self.ack(msg.mid, msg.qos)
            self._guarded("on_oversize", self.on_oversize, msg.topic, len(msg.payload), msg.qos)
            return
        if self.on_message is not None:
            self._guarded("on_message", self.on_message, msg.topic, msg.payload, msg.qos, msg.retain, msg.mid, props)

    def _published(self, client, userdata, mid, reason_code=None, properties=None):
        if self._connected_at is not None:
            self._check_stable()
        code = getattr(reason_code, "value", 0) or 0
        with self._track:
            s = self._open.pop(mid, None)
            if s is None:
                if len(self._early) > 1024:
                    self._early.clear()
                self._early[mid] = (code, self._calls)
            else:
                s.reason, s.done = code, True
        if s is None:
            return
        with self.acked:
            self.acked.notify_all()
        if self.on_acked is not None:
            self._guarded("on_acked", self.on_acked)

    # ---- what the sidecar calls ---------------------------------------------------------------
    def subscribe(self, filters, qos=1, retain_as_published=True):
        mqtt = self._mqtt
        for f in filters:
            if self.v5:
                self.client.subscribe(f, options=mqtt.SubscribeOptions(qos=qos, retainAsPublished=retain_as_published))
            else:
                self.client.subscribe(f, qos=qos)
        return True

    def ack(self, mid, qos=1):
        return self.client.ack(mid, qos) == self._mqtt.MQTT_ERR_SUCCESS

    def publish(self, topic, payload, qos=0, retain=False, props=b""):
        """QoS 0: True if written. QoS 1: a ``PahoSent`` (paho keeps it across reconnects, also when
        published while disconnected) or False when paho refused it. Raises ValueError as paho does
        for a payload it cannot send."""
        properties = None
        if self.v5 and props:
            properties = self._props(self._types.PUBLISH)
            properties.unpack(varint(len(props)) + bytes(props))
        with self._track:
            call = self._calls
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        mqtt = self._mqtt
        s = None
        if qos and info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            s = PahoSent(info.mid)
        with self._track:
            self._calls += 1
            early = self._early.pop(info.mid, None)
            if s is not None:
                if early is not None and early[1] == call:
                    s.reason, s.done = early[0], True
                else:
                    self._open[info.mid] = s
        if not qos:
            return info.rc == mqtt.MQTT_ERR_SUCCESS
        return s if s is not None else False

    def wait_acked(self, timeout):
        with self.acked:
            self.acked.wait(timeout)

    def heartbeat(self):  # paho pings from its own loop (held while on_message waits, as paho does)
        if self._connected_at is not None:
            self._check_stable()

    def cork(self):  # paho writes from its own loop: nothing to batch here
        pass

    def uncork(self):
        pass

    def flush(self):
        pass
