"""A lean MQTT 3.1.1 / 5 client: standard library only (``ssl`` only for TLS).

Why not paho-mqtt here: importing paho pulls in ssl, hashlib, logging, urllib.request and email
(about 11 MB of RSS before the first message, as much as the sidecar's whole budget on a Pi Zero),
and its per-packet work is several Python calls and a 5.8 KB properties object per MQTT 5 message.
What the sidecar needs is narrow, so this client does just that, in the spirit of micropython-lib's
``umqtt.simple``:

* QoS 0 and 1 in both directions (the sidecar subscribes at QoS 1, so a broker never sends it QoS 2;
  a QoS 2 PUBLISH is answered PUBREC/PUBCOMP anyway rather than stalling the broker);
* manual acknowledgement of received QoS 1 messages (``ack``), so the sidecar acknowledges a
  device's message only once the broker holds the republished copy;
* MQTT 5 properties passed through as the raw property block (bytes), never parsed per message;
* Receive Maximum in both directions, Maximum Packet Size (announced to MQTT 5 brokers; a larger
  PUBLISH from an MQTT 3.1.1 broker is read past and reported through ``on_oversize``, never
  buffered), keepalive pings, reconnects with backoff, and unacknowledged QoS 1 publications
  resent in order after a reconnect;
* a session kept across connections when asked (``session_expiry``: the broker holds the
  subscriptions and the QoS 1 messages meant for a client that is away), and ``cork``/``flush``
  so a batch of packets leaves in one write.

Also used by the uplink (``uplink/mqtt_uplink.py``) and ``edge-ssre learn --broker``.

One reader thread per connection reads the socket in 64 KB chunks, parses packets from a buffer and
calls the callbacks (outside any lock, so ``on_message`` may block to slow the broker down: TCP
backpressure). Writers (``publish``/``ack``/``subscribe``) send under the connection's lock from any
thread. Callbacks: ``on_connect(client)``, ``on_disconnect(client, reason)``,
``on_message(topic, payload, qos, retain, mid, props)``, ``on_oversize(topic, size, qos)``,
``on_acked()`` after a read that brought PUBACKs, and
``log(text)`` for connection trouble (one line per failure streak).
"""

import collections
import os
import select
import socket
import struct
import threading
import time

from .. import guard_threads
from ..uplink.backoff import Backoff

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 12, 13, 14
CHUNK = 65536
MAX_BACKOFF = 15.0      # seconds: the longest wait between two connection attempts
SEND_TIMEOUT = 5.0      # seconds a write may make no progress before the connection is dropped
CONNECT_TIMEOUT = 5.0   # seconds for the TCP (and TLS) connect
CONNACK_TIMEOUT = 10.0  # seconds from connect to an accepted CONNACK
STOP_LOCK_WAIT = 0.5    # seconds stop() waits for a writer before it closes the socket under it
STABLE_SECONDS = 2.0    # a good connection up this long ends a failure streak (the backoff starts over)
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"
# MQTT 5 property ids this client reads or writes (MQTT 5.0 section 2.2.2.2)
P_SESSION_EXPIRY, P_SUBSCRIPTION_ID, P_ASSIGNED_ID, P_SERVER_KEEPALIVE = 0x11, 0x0B, 0x12, 0x13
P_REASON_STRING, P_SERVER_REFERENCE = 0x1F, 0x1C
P_RECEIVE_MAX, P_TOPIC_ALIAS, P_MAX_QOS, P_RETAIN_AVAILABLE, P_USER, P_MAX_PACKET = 0x21, 0x23, 0x24, 0x25, 0x26, 0x27
# how each property's value is laid out: 1/2/4-byte integer, variable byte integer, length-prefixed
# (UTF-8 string or binary data), or a pair of UTF-8 strings
_BYTE, _TWO, _FOUR, _VARINT, _PREFIXED, _PAIR = 1, 2, 4, 0, -1, -2
_LAYOUT = {0x01: _BYTE, 0x02: _FOUR, 0x03: _PREFIXED, 0x08: _PREFIXED, 0x09: _PREFIXED, 0x0B: _VARINT,
           0x11: _FOUR, 0x12: _PREFIXED, 0x13: _TWO, 0x15: _PREFIXED, 0x16: _PREFIXED, 0x17: _BYTE,
           0x18: _FOUR, 0x19: _BYTE, 0x1A: _PREFIXED, 0x1C: _PREFIXED, 0x1F: _PREFIXED, 0x21: _TWO,
           0x22: _TWO, 0x23: _TWO, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _FOUR, 0x28: _BYTE,
           0x29: _BYTE, 0x2A: _BYTE}


# MQTT 5 reason codes (MQTT 5.0 section 2.4) as logged; MQTT 3.1.1 CONNACK return codes 1-5 apart
REASONS = {0x00: "success", 0x04: "disconnect with will message", 0x80: "unspecified error",
           0x81: "malformed packet", 0x82: "protocol error", 0x83: "implementation specific error",
           0x84: "unsupported protocol version", 0x85: "client identifier not valid",
           0x86: "bad user name or password", 0x87: "not authorized", 0x88: "server unavailable",
           0x89: "server busy", 0x8A: "banned", 0x8B: "server shutting down", 0x8C: "bad authentication method",
           0x8D: "keep alive timeout", 0x8E: "session taken over", 0x8F: "topic filter invalid",
           0x90: "topic name invalid", 0x91: "packet identifier in use", 0x92: "packet identifier not found",
           0x93: "receive maximum exceeded", 0x94: "topic alias invalid", 0x95: "packet too large",
           0x96: "message rate too high", 0x97: "quota exceeded", 0x98: "administrative action",
           0x99: "payload format invalid", 0x9A: "retain not supported", 0x9B: "QoS not supported",
           0x9C: "use another server", 0x9D: "server moved", 0x9E: "shared subscriptions not supported",
           0x9F: "connection rate exceeded", 0xA0: "maximum connect time",
           0xA1: "subscription identifiers not supported", 0xA2: "wildcard subscriptions not supported"}
REASONS_311 = {0x01: "unacceptable protocol version", 0x02: "identifier rejected", 0x03: "server unavailable",
               0x04: "bad user name or password", 0x05: "not authorized"}


def reason_name(code, v5=True):
    """'0x87 not authorized': a reason code as logged. Codes 1-5 below 0x80 are MQTT 3.1.1 CONNACK
    return codes (an MQTT 3.1.1 broker answers an MQTT 5 CONNECT with 1), except 4 from an MQTT 5
    DISCONNECT."""
    if code in REASONS_311 and not (v5 and code == 0x04):
        name = REASONS_311[code]
        if v5 and code == 0x01:
            name += " (an MQTT 3.1.1 broker? set protocol = \"3.1.1\")"
    else:
        name = REASONS.get(code, "unknown reason")
    return "0x%02x %s" % (code, name)


def _printable(value, limit=200):
    """A broker's string for a log line: decoded, control characters replaced, at most ``limit``."""
    text = bytes(value[:limit]).decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "?" for c in text)


class ProtocolError(ValueError):
    """The peer sent something this client cannot follow (the connection is dropped and retried)."""


def varint(n):
    """MQTT's variable byte integer (at most four bytes: < 268,435,456)."""
    if n < 128:
        return bytes((n,))
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def read_varint(buf, i):
    """(value, next index) of the variable byte integer at ``buf[i]``, or (None, i) if incomplete."""
    value = shift = 0
    for j in range(i, min(i + 4, len(buf))):
        b = buf[j]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, j + 1
        shift += 7
    if len(buf) - i >= 4:
        raise ProtocolError("variable byte integer longer than four bytes")
    return None, i


def _utf8(text):
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(data) > 65535:
        raise ValueError("MQTT string longer than 65535 bytes")
    return struct.pack("!H", len(data)) + data


def packet(kind_flags, body):
    return bytes((kind_flags,)) + varint(len(body)) + body


def properties(block):
    """Iterate (id, value) over an MQTT 5 property block (bytes); values are ints, bytes or pairs."""
    i, n = 0, len(block)
    while i < n:
        pid = block[i]
        i += 1
        layout = _LAYOUT.get(pid)
        if layout is None:
            raise ProtocolError("unknown MQTT 5 property 0x%02x" % pid)
        if layout > 0:
            value = int.from_bytes(block[i:i + layout], "big")
            i += layout
        elif layout == _VARINT:
            value, i = read_varint(block, i)
            if value is None:
                raise ProtocolError("truncated property block")
        else:
            k = int.from_bytes(block[i:i + 2], "big")
            value = bytes(block[i + 2:i + 2 + k])
            i += 2 + k
            if layout == _PAIR:
                k2 = int.from_bytes(block[i:i + 2], "big")
                value = (value, bytes(block[i + 2:i + 2 + k2]))
                i += 2 + k2
        if i > n:
            raise ProtocolError("truncated property block")
        yield pid, value


def user_property(block, name):
    """The first MQTT 5 user property ``name`` (str) in a property block, or None."""
    key = name.encode("utf-8")
    if not block or key not in block:  # most messages: one substring test, no parse
        return None
    try:
        for pid, value in properties(block):
            if pid == P_USER and value[0] == key:
                return value[1].decode("utf-8", "replace")
    except ProtocolError:
        return None
    return None


def forwardable(block):
    """The property block without what belongs to the receiving connection (topic alias,
    subscription identifiers), ready to publish again; most blocks are returned as they are."""
    if not block:
        return b""
    try:
        parts = list(properties(block))
    except ProtocolError:
        return b""
    if not any(pid in (P_TOPIC_ALIAS, P_SUBSCRIPTION_ID) for pid, _ in parts):
        return bytes(block)
    out = bytearray()
    for pid, value in parts:
        if pid in (P_TOPIC_ALIAS, P_SUBSCRIPTION_ID):
            continue
        layout = _LAYOUT[pid]
        out.append(pid)
        if layout > 0:
            out += value.to_bytes(layout, "big")
        elif layout == _VARINT:
            out += varint(value)
        elif layout == _PAIR:
            out += _utf8(value[0]) + _utf8(value[1])
        else:
            out += _utf8(value)
    return bytes(out)


class Sent:
    """A QoS 1 publication until the broker acknowledges it (``done``; ``reason`` >= 0x80 is a refusal)."""

    __slots__ = ("mid", "packet", "transmitted", "done", "reason")

    def __init__(self, mid, data):
        self.mid = mid
        self.packet = data
        self.transmitted = False
        self.done = False
        self.reason = 0


class Client:
    """One MQTT connection with a reader thread; see the module docstring for what it covers."""

    def __init__(self, host, port, client_id="", v5=True, keepalive=30, tls=None, username=None, password=None,
                 receive_maximum=65535, max_packet=1 << 20, on_connect=None, on_disconnect=None, on_message=None,
                 on_oversize=None, on_acked=None, log=None, session_expiry=0, backoff=None, auto_good=True,
                 send_timeout=SEND_TIMEOUT):
        self.host, self.port = host, int(port)
        # 0: a clean session on every connection. Otherwise the broker keeps the subscriptions and
        # the unacknowledged and queued QoS 1 messages for this client id across reconnects and
        # restarts (MQTT 5: for this many seconds; MQTT 3.1.1: until a clean connect)
        self.session_expiry = max(0, min(0xFFFFFFFF, int(session_expiry)))
        self.session_present = False
        # reconnect delays: an object with next_delay() and reset() (uplink/backoff.py's Backoff, by
        # default from 0.7 s growing by 1.4 to MAX_BACKOFF, with jitter). Reset only once a connection
        # proved good: its CONNACK accepted (``auto_good``) or the owner's ``mark_good()`` (the uplink:
        # its first acknowledged batch), and up for STABLE_SECONDS.
        self.backoff = backoff or Backoff(cap=MAX_BACKOFF)
        self.auto_good = auto_good
        self.connect_failures = 0                # failed attempts so far (refused, closed, no CONNACK, flapping)
        self.client_id = client_id or "edge-ssre-" + os.urandom(6).hex()
        self.v5 = v5
        self.keepalive = int(keepalive)
        # a write that makes no progress for this long fails and drops the connection (a peer that
        # stopped reading); the keepalive check in the reader does not depend on it
        self.send_timeout = float(send_timeout)
        self.tls = tls
        self.username, self.password = username, password
        self.receive_maximum = max(1, min(65535, int(receive_maximum)))
        self.max_packet = int(max_packet)
        self.on_connect, self.on_disconnect = on_connect, on_disconnect
        self.on_message, self.on_oversize, self.on_acked = on_message, on_oversize, on_acked
        self.log = log or (lambda text: None)
        self.lock = threading.Lock()             # socket writes and the in-flight tables
        self.acked = threading.Condition(self.lock)  # notified on every PUBACK
        self.sock = None
        self.connected = False
        self.epoch = 0                           # connections made so far (message ids are per connection)
        self.inflight = {}                       # mid -> Sent, oldest first (dicts keep insertion order)
        self.unsent = collections.deque()        # of those, the ones not yet sent on this connection
        self.send_quota = 65535                  # the broker's Receive Maximum
        self.transmitted = 0                     # QoS 1 packets sent on this connection and not acknowledged
        self.max_qos = 1
        self.retain_ok = True
        self.server_max_packet = 1 << 28
        self._next_mid = 0
        self._skip = 0                           # bytes still to read past (an oversize PUBLISH)
        self._acked_any = False                  # a PUBACK in the chunk being parsed (on_acked once per chunk)
        self._waiting = 0                        # threads in wait_acked
        self._corked = False                     # writes collected in _wbuf until flushed (see cork)
        self._wbuf = []
        self._wlen = 0
        self._reading = None                     # the socket being read, and whether it got its CONNACK
        self._up = False
        self._last_out = self._last_in = self._last_ping = 0.0
        self._good_at = None                     # when this connection was counted good (None: not yet)
        self._stable = False                     # ... and it has been up STABLE_SECONDS since
        self._streak = 0                         # failed attempts in the current failure streak
        self._announced = False                  # the streak's first line is written
        self._streak_since = 0.0
        self._last_failure = ""
        self._stopping = threading.Event()
        self._thread = None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self):
        self._thread = guard_threads.start(self._run, "edge-ssre-mqtt-" + self.client_id)

    def wait_connected(self, timeout):
        """True once the connection is up (CONNACK accepted), False after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while not self.connected:
            if time.monotonic() > end:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout=5.0):
        """Leave within ``timeout`` seconds whatever the peer does: send DISCONNECT (a clean leave, no
        will message) if the connection is free within STOP_LOCK_WAIT, then shut the socket (which
        also fails a write blocked on a peer that stopped reading) and join the reader thread."""
        end = time.monotonic() + timeout
        self._stopping.set()
        sock = None
        if self.lock.acquire(timeout=min(STOP_LOCK_WAIT, timeout)):
            try:
                if self.connected and self.sock is not None:
                    deadline = time.monotonic() + min(STOP_LOCK_WAIT, timeout)
                    self._corked = False
                    if self._flush(deadline) is not False:
                        self._sendall(DISCONNECT_PACKET, deadline)
                sock, self.sock = self.sock, None
                self.connected = False
                self.acked.notify_all()
            finally:
                self.lock.release()
        else:  # a write holds the connection (a peer that does not read): no DISCONNECT, just leave
            sock = self.sock
            self.connected = False
        for s in (sock, self._reading):  # the reader closes them
            if s is not None:
                _abort(s)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(max(0.0, end - time.monotonic()))

    def mark_good(self):
        """Count the current connection as good (the owner's proof, e.g. an acknowledged batch):
        the failure streak ends, and the backoff starts over, once it has stayed up STABLE_SECONDS."""
        if self._up and self._good_at is None:
            self._good_at = time.monotonic()

    # A failure streak: the attempts from a first failure (or the loss of a good connection) to the
    # next good connection. It logs one line when it starts and one when it ends.
    def _failed(self, reason, lost=False):
        """One failed attempt: counted, logged if it starts a streak; then wait the backoff."""
        self.connect_failures += 1
        self._last_failure = reason
        if not self._announced:
            self._announced = True
            self._streak_since = time.monotonic()
            self.log("%s %s:%d: %s (retrying with backoff up to %.0f s)"
                     % ("connection lost to" if lost else "cannot connect to", self.host, self.port, reason,
                        getattr(self.backoff, "cap", MAX_BACKOFF)))
        self._streak += 1
        self._stopping.wait(self.backoff.next_delay())

    def _check_stable(self, now):
        """The reader, while connected: a good connection up STABLE_SECONDS ends the streak."""
        if self._stable or self._good_at is None or now - self._good_at < STABLE_SECONDS:
            return
        self._stable = True
        self.backoff.reset()
        if self._streak:
            self.log("connected to %s:%d after %d failed attempt%s in %.1f s (last: %s)"
                     % (self.host, self.port, self._streak, "" if self._streak == 1 else "s",
                        now - self._streak_since, self._last_failure))
        self._streak, self._announced = 0, False

    def _run(self):
        while not self._stopping.is_set():
            try:
                sock = self._open()
            except (OSError, ProtocolError) as exc:
                self._failed(str(exc) or type(exc).__name__)
                continue
            self._good_at, self._stable = None, False
            try:
                reason = self._serve(sock)
            except Exception as exc:  # a failing callback: say so, and keep the connection alive by remaking it
                reason = "internal error: %s: %s" % (type(exc).__name__, exc)
            _abort(sock)  # first: a writer blocked on this socket fails now and frees the lock
            with self.lock:
                was = self._up
                self.connected = self._up = False
                del self._wbuf[:]  # written for the lost connection: QoS 1 ones are resent from inflight
                self._wlen = 0
                if self.sock is sock:
                    self.sock = None
                self._reading = None
                self.acked.notify_all()
            _close(sock)
            if was and self.on_disconnect is not None:
                self.on_disconnect(self, reason)
            if self._stopping.is_set():
                break
            if self._stable:  # a good connection ended: one line, and the next attempt goes at once
                self._announced, self._streak = True, 0
                self._streak_since, self._last_failure = time.monotonic(), reason
                self.log("connection to %s:%d lost: %s (reconnecting)" % (self.host, self.port, reason))
            else:  # never good (refused, closed before CONNACK, no CONNACK) or flapping: one more failure
                self._failed(reason or "closed by the broker", lost=was)

    def _open(self):
        sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                import ssl  # only when asked for: ssl costs ~5 MB of RSS
                ctx = ssl.create_default_context(cafile=self.tls.get("ca"))
                if self.tls.get("cert"):
                    ctx.load_cert_chain(self.tls["cert"], self.tls.get("key"))
                if self.tls.get("insecure"):
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                sock = ctx.wrap_socket(sock, server_hostname=self.host)
            # Every socket has a send deadline (plain TCP and TLS): a write that makes no progress for
            # send_timeout seconds fails (a peer that stopped reading), and with TLS a read that holds
            # the lock for a record still arriving gives up and lets writers in. The reader waits in
            # select, so the timeout never slows reading down.
            sock.settimeout(self.send_timeout)
            self._reading = sock
            _send_bytes(sock, self._connect_packet(), time.monotonic() + self.send_timeout)
        except BaseException:
            self._reading = None
            _close(sock)
            raise
        return sock
    def _connect_packet(self):
        flags = 0 if self.session_expiry else 0x02  # clean start unless a session is kept
        payload = _utf8(self.client_id)
        if self.username is not None:
            flags |= 0x80
            payload += _utf8(self.username)
            if self.password is not None:
                flags |= 0x40
                payload += _utf8(self.password)
        if self.v5:
            props = (bytes((P_RECEIVE_MAX,)) + struct.pack("!H", self.receive_maximum)
                     + bytes((P_MAX_PACKET,)) + struct.pack("!I", self.max_packet))
            if self.session_expiry:
                props += bytes((P_SESSION_EXPIRY,)) + struct.pack("!I", self.session_expiry)
            head = _utf8("MQTT") + bytes((5, flags)) + struct.pack("!H", self.keepalive) + varint(len(props)) + props
        else:
            head = _utf8("MQTT") + bytes((4, flags)) + struct.pack("!H", self.keepalive)
        return packet(CONNECT << 4, head + payload)

    def heartbeat(self):
        """Send a PINGREQ if one is due, from an ``on_message`` callback that holds the reader for
        long (the sidecar's wait for queue room); never waits for a writer."""
        sock = self.sock
        if sock is not None and self._up and self.keepalive:
            self._ping_if_due(sock, time.monotonic())

    def _ping_if_due(self, sock, now):
        """PINGREQ when the connection has been quiet either way for half the keepalive, if the
        lock is free (a busy writer: never wait for it here). False if the write failed."""
        k = self.keepalive
        if not (now - self._last_out >= k / 2.0 or (now - self._last_in >= k / 2.0 and now - self._last_ping >= k / 2.0)):
            return True
        if not self.lock.acquire(blocking=False):
            return True
        try:
            if self.sock is sock:
                if not self._sendall(PINGREQ_PACKET, now + self.send_timeout):
                    return False
                self._last_ping = now
        finally:
            self.lock.release()
        return True

    # ---- reading ------------------------------------------------------------------------------
    def _serve(self, sock):
        """Read and handle packets until the connection ends; returns why it ended ("" on stop).

        Liveness is judged here, without the writers' lock: the connection is dropped when no whole
        packet (or no 1 KB chunk of a large one) has arrived for 1.5 x keepalive, or no CONNACK within
        CONNACK_TIMEOUT, whatever a writer blocked on the socket is doing. A PINGREQ goes out when
        the connection has been quiet either way for half the keepalive, if the lock is free."""
        buf = bytearray()
        self._up, self._skip = False, 0
        opened = self._last_in = self._last_out = self._last_ping = time.monotonic()
        first = True
        pending = getattr(sock, "pending", None)  # TLS: bytes decrypted but not yet read
        # One TLS connection must not be read and written at once (OpenSSL's rule for one SSL
        # object): its reads take the writers' lock. Plain TCP reads and writes run side by side.
        read_lock = self.lock if pending is not None else None
        while not self._stopping.is_set():
            now = time.monotonic()
            k = self.keepalive
            if first:
                if now - opened > CONNACK_TIMEOUT:
                    return "no CONNACK within %.0f s" % CONNACK_TIMEOUT
                wait = opened + CONNACK_TIMEOUT - now
            elif k:
                silent = now - self._last_in
                if silent > 1.5 * k:
                    return "no packet from the broker for %.1f s (keepalive %d s)" % (silent, k)
                if not self._ping_if_due(sock, now):
                    return "write failed"
                wait = min(self._last_in + 1.5 * k, max(self._last_out, self._last_ping) + k / 2.0) - now
                self._check_stable(now)
            else:
                wait = 1.0
                self._check_stable(now)
            wait = min(1.0, max(0.01, wait))
            if not (pending and pending()):
                try:
                    ready = select.select((sock,), (), (), wait)[0]
                except (OSError, ValueError):
                    return "socket closed"
                if not ready:
                    continue
            try:
                if read_lock is None:
                    data = sock.recv(CHUNK)
                elif read_lock.acquire(timeout=wait):
                    try:
                        data = sock.recv(CHUNK)
                    finally:
                        read_lock.release()
                else:
                    continue  # a writer holds the TLS connection: check the deadlines, then try again
            except (BlockingIOError, InterruptedError, socket.timeout):
                continue
            except OSError as exc:
                if type(exc).__name__ in ("SSLWantReadError", "SSLWantWriteError"):
                    continue
                return "read failed: %s" % exc
            if not data:
                return "closed by the broker" + ("" if self._up else " before CONNACK")
            if self._skip:
                cut = min(self._skip, len(data))
                self._skip -= cut
                data = data[cut:]
            held = len(buf)
            buf += data
            try:
                first = self._parse(buf, first)
                if self._acked_any:
                    self._acked_any = False
                    if self.unsent:
                        self._release_held()
                    if self.on_acked is not None:
                        self.on_acked()
            except ProtocolError as exc:
                return "protocol error: %s" % exc
            except _Refused as exc:  # a CONNACK saying no, or the broker's DISCONNECT: its reason
                return str(exc)
            # a whole packet, or a sizeable piece of a large one: the peer is alive. A trickle of
            # a few bytes that never completes a packet is not.
            if len(buf) < held + len(data) or len(data) >= 1024:
                self._last_in = time.monotonic()
        return ""

    def _parse(self, buf, first):
        """Handle every whole packet at the front of ``buf`` (removed from it)."""
        pos, n = 0, len(buf)
        try:
            while n - pos >= 2:
                length, i = read_varint(buf, pos + 1)
                if length is None:
                    break
                head = buf[pos]
                if length > self.max_packet:
                    # read past it: keep only what is needed to acknowledge it, never the whole packet
                    if head >> 4 != PUBLISH or self.v5:
                        raise ProtocolError("a %d-byte packet exceeds the maximum %d" % (length, self.max_packet))
                    if n - i < 2:
                        break
                    tlen = buf[i] << 8 | buf[i + 1]
                    need = 2 + tlen + (2 if head & 0x06 else 0)
                    if n - i < need:
                        break
                    topic = bytes(buf[i + 2:i + 2 + tlen]).decode("utf-8", "replace")
                    qos = (head >> 1) & 3
                    if qos:
                        self._ack_packet(qos, buf[i + need - 2] << 8 | buf[i + need - 1])
                    take = min(n - i, length)
                    self._skip = length - take
                    pos = i + take
                    if self.on_oversize is not None:
                        self.on_oversize(topic, length, qos)
                    continue
                if n - i < length:
                    break
                body = bytes(buf[i:i + length])
                pos = i + length
                kind = head >> 4
                if first:
                    if kind != CONNACK:
                        raise ProtocolError("expected CONNACK, got packet type %d" % kind)
                    self._connack(body)
                    first = False
                elif kind == PUBLISH:
                    self._publish_in(head, body)
                elif kind == PUBACK:
                    self._puback(body)
                elif kind == PUBREL:  # QoS 2 from a broker that ignored our subscription's QoS 1
                    if len(body) < 2:
                        raise ProtocolError("truncated PUBREL")
                    self._write(packet(PUBCOMP << 4, body[:2]))
                elif kind == DISCONNECT:  # MQTT 5: the broker closes, with a reason (3.1.1 brokers never send it)
                    code = body[0] if body else 0
                    raise _Refused("disconnected by the broker: " + self._reason(code, self._props_at(body, 1)[0]))
                elif kind == SUBACK:
                    props, j = self._props_at(body, 2) if self.v5 else (b"", 2)
                    refused = [c for c in body[j:] if c >= 0x80]
                    if refused:
                        self.log("subscription refused by the broker: " + self._reason(refused[0], props))
                elif kind in (0, CONNECT, CONNACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ):
                    raise ProtocolError("packet type %d from a broker" % kind)
                # PINGRESP, UNSUBACK, AUTH and what a broker may add need no answer
        finally:
            del buf[:pos]
        return first

    def _props_at(self, body, i):
        """(MQTT 5 property block starting at ``body[i]``, index after it); (b"", i) when absent."""
        if not self.v5 or len(body) <= i:
            return b"", i
        plen, j = read_varint(body, i)
        if plen is None or j + plen > len(body):
            raise ProtocolError("truncated property block")
        return bytes(body[j:j + plen]), j + plen

    def _reason(self, code, props=b""):
        """'0x8b server shutting down: <the broker's reason string>' from a reason code and, in
        MQTT 5, the packet's properties (Reason String, Server Reference)."""
        text = reason_name(code, self.v5)
        try:
            for pid, value in properties(props):
                if pid == P_REASON_STRING:
                    text += ": " + _printable(value)
                elif pid == P_SERVER_REFERENCE:
                    text += " (use server %s)" % _printable(value)
        except ProtocolError:
            text += " (with a malformed property block)"
        return text

    def _connack(self, body):
        if len(body) < 2:
            raise ProtocolError("short CONNACK")
        if body[1]:
            raise _Refused("broker refused the connection: " + self._reason(body[1], self._props_at(body, 2)[0]))
        self.session_present = bool(body[0] & 1)
        quota, max_qos, retain_ok, max_packet, keepalive = 65535, 1, True, 1 << 28, None
        if self.v5 and len(body) > 2:
            plen, j = read_varint(body, 2)
            for pid, value in properties(body[j:j + (plen or 0)]):
                if pid == P_RECEIVE_MAX:
                    quota = max(1, value)
                elif pid == P_MAX_QOS:
                    max_qos = min(1, value)
                elif pid == P_RETAIN_AVAILABLE:
                    retain_ok = bool(value)
                elif pid == P_MAX_PACKET:
                    max_packet = value
                elif pid == P_SERVER_KEEPALIVE:
                    keepalive = value
                elif pid == P_ASSIGNED_ID:
                    self.client_id = value.decode("utf-8", "replace")
        with self.lock:
            self.send_quota, self.max_qos, self.retain_ok, self.server_max_packet = quota, max_qos, retain_ok, max_packet
            if keepalive is not None:
                self.keepalive = keepalive
            self.sock = self._reading
            self.connected = self._up = True
            self.epoch += 1
            self.transmitted = 0
            self.unsent = collections.deque(self.inflight.values())  # resend what is open, in order
            self._send_unsent()
        if self.auto_good:
            self._good_at = time.monotonic()
        if self.on_connect is not None:
            self.on_connect(self)

    def _publish_in(self, head, body):
        qos = (head >> 1) & 3
        if qos == 3:
            raise ProtocolError("PUBLISH with QoS 3")
        if len(body) < 2 or len(body) < 2 + (body[0] << 8 | body[1]) + (2 if qos else 0):
            raise ProtocolError("truncated PUBLISH")
        tlen = body[0] << 8 | body[1]
        topic = body[2:2 + tlen].decode("utf-8", "replace")
        i = 2 + tlen
        mid = 0
        if qos:
            mid = body[i] << 8 | body[i + 1]
            i += 2
        props = b""
        if self.v5:
            plen, i2 = read_varint(body, i)
            if plen is None or i2 + plen > len(body):
                raise ProtocolError("truncated PUBLISH (properties past its end)")
            props = body[i2:i2 + plen]
            i = i2 + plen
        payload = body[i:]
        if qos == 2:  # answer PUBREC now; the message is delivered once, as QoS 1 would be
            self._ack_packet(2, mid)
            qos, mid = 0, 0
        if self.on_message is not None:
            self.on_message(topic, payload, qos, bool(head & 1), mid, props)
        elif qos:
            self.ack(mid)

    def _puback(self, body):
        if len(body) < 2:
            raise ProtocolError("truncated PUBACK")
        mid = body[0] << 8 | body[1]
        with self.lock:
            s = self.inflight.pop(mid, None)
            if s is None:
                return
            s.done = True
            s.reason = body[2] if len(body) > 2 else 0
            if s.transmitted:
                self.transmitted -= 1
            if self._waiting:
                self.acked.notify_all()
        self._acked_any = True

    # ---- writing ------------------------------------------------------------------------------
    def _write(self, data):
        with self.lock:
            return self._send(data)

    def cork(self):
        """Collect writes in memory (sent at ``flush``/``uncork``, or at 64 KB): one system call
        for a batch of packets instead of one each. Flush before waiting on the broker."""
        with self.lock:
            self._corked = True

    def uncork(self):
        with self.lock:
            self._corked = False
            self._flush()

    def flush(self):
        with self.lock:
            self._flush()

    def _flush(self, deadline=None):
        if self._wbuf:
            data = b"".join(self._wbuf)
            del self._wbuf[:]
            self._wlen = 0
            return self._sendall(data, deadline)
        return None

    def _send(self, data):
        """Send (or collect, when corked) under the lock."""
        if self.sock is None:
            return False
        if self._corked:
            self._wbuf.append(data)
            self._wlen += len(data)
            if self._wlen >= CHUNK:
                return self._flush() or self.connected
            return True
        return self._sendall(data)

    def _sendall(self, data, deadline=None):
        """Write under the lock. A write that fails, makes no progress for ``send_timeout`` or
        passes ``deadline`` shuts the socket, so the reader drops the connection and makes it again."""
        sock = self.sock
        if sock is None:
            return False
        try:
            _send_bytes(sock, data, deadline)
        except OSError:
            self.connected = False
            _abort(sock)
            return False
        self._last_out = time.monotonic()
        return True

    def _release_held(self):
        """After a read that brought PUBACKs: send what the broker's Receive Maximum held back, in
        one write, after what a corked writer has collected (the order of publications holds)."""
        with self.lock:
            if self.transmitted >= self.send_quota:
                return
            corked, self._corked = self._corked, True
            self._send_unsent()
            self._corked = corked
            self._flush()

    def _send_unsent(self):
        unsent = self.unsent
        while unsent and self.transmitted < self.send_quota and self.connected:
            s = unsent.popleft()
            if s.mid in self.inflight:
                self._transmit(s)

    def _transmit(self, s):
        data = s.packet
        if s.transmitted:  # a resend carries the DUP flag
            data = bytes((data[0] | 0x08,)) + data[1:]
        if self._send(data):
            s.transmitted = True
            self.transmitted += 1

    def _ack_packet(self, qos, mid):
        return self._write(packet((PUBACK if qos == 1 else PUBREC) << 4, struct.pack("!H", mid)))

    def ack(self, mid, qos=1):
        """Acknowledge a received QoS 1 message (PUBACK); False if the connection is gone."""
        return self._ack_packet(1, mid)

    def subscribe(self, filters, qos=1, retain_as_published=True):
        """Subscribe to ``filters`` (one SUBSCRIBE); with MQTT 5, retained messages keep their retain flag."""
        body = bytearray(b"\x00\x00\x00" if self.v5 else b"\x00\x00")  # message id, then no properties
        for f in filters:
            body += _utf8(f)
            body.append(qos | (0x08 if self.v5 and retain_as_published else 0))
        with self.lock:
            struct.pack_into("!H", body, 0, self._mid())
            return self._send(packet(SUBSCRIBE << 4 | 0x02, bytes(body)))

    def _mid(self):
        """The next free message id (under the lock)."""
        if len(self.inflight) >= 65535:
            raise ValueError("65535 QoS 1 publications open: no message id left (wait for acknowledgements)")
        mid = self._next_mid % 65535 + 1
        while mid in self.inflight:
            mid = mid % 65535 + 1
        self._next_mid = mid
        return mid

    def publish(self, topic, payload, qos=0, retain=False, props=b""):
        """Publish. QoS 0: True if written, False if not connected. QoS 1: a ``Sent`` that is kept
        (and resent after a reconnect) until the broker acknowledges it. Raises ValueError for a
        packet larger than the broker accepts."""
        topic_b = _utf8(topic)
        with self.lock:
            if qos > self.max_qos:
                qos = self.max_qos
            if retain and not self.retain_ok:
                retain = False
            mid = self._mid() if qos else 0
            head = bytes((PUBLISH << 4 | qos << 1 | (1 if retain else 0),))
            mid_b = struct.pack("!H", mid) if qos else b""
            props_b = (varint(len(props)) + props) if self.v5 else b""
            length = len(topic_b) + len(mid_b) + len(props_b) + len(payload)
            data = b"".join((head, varint(length), topic_b, mid_b, props_b, payload))
            if len(data) > self.server_max_packet:
                raise ValueError("a %d-byte PUBLISH exceeds the broker's maximum packet size %d"
                                 % (len(data), self.server_max_packet))
            if not qos:
                return self.connected and self._send(data)
            s = Sent(mid, data)
            self.inflight[mid] = s
            if self.connected and self.transmitted < self.send_quota and not self.unsent:
                self._transmit(s)
            else:
                self.unsent.append(s)
            return s

    def wait_acked(self, timeout):
        """Wait until a PUBACK arrives (or ``timeout`` seconds pass)."""
        with self.acked:
            self._waiting += 1
            try:
                self.acked.wait(timeout)
            finally:
                self._waiting -= 1




class _Refused(Exception):
    pass


def _send_bytes(sock, data, deadline=None):
    """Write all of ``data`` on a socket with a timeout (its send timeout): each call waits at most
    that long for room (no progress: socket.timeout), and the whole write ends at ``deadline``
    (monotonic seconds) if given. A slow peer that keeps reading is not a dead one."""
    view = memoryview(data)
    while view:
        if deadline is not None and time.monotonic() > deadline:
            raise socket.timeout("write deadline passed with %d bytes unsent" % len(view))
        sent = sock.send(view)
        view = view[sent:]


def _abort(sock):
    """Shut a socket both ways without closing it: a thread blocked writing or reading on it
    returns at once (close from another thread would not wake it), and its owner then closes it."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP socket under TLS as well
    except (OSError, ValueError, TypeError):
        pass


def _close(sock):
    try:
        sock.close()
    except OSError:
        pass
