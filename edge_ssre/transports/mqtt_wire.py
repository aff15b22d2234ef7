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
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14
CHUNK = 65536
MAX_BACKOFF = 15.0
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"
# MQTT 5 property ids this client reads or writes (MQTT 5.0 section 2.2.2.2)
P_SESSION_EXPIRY, P_SUBSCRIPTION_ID, P_ASSIGNED_ID, P_SERVER_KEEPALIVE = 0x11, 0x0B, 0x12, 0x13
P_RECEIVE_MAX, P_TOPIC_ALIAS, P_MAX_QOS, P_RETAIN_AVAILABLE, P_USER, P_MAX_PACKET = 0x21, 0x23, 0x24, 0x25, 0x26, 0x27
# how each property's value is laid out: 1/2/4-byte integer, variable byte integer, length-prefixed
# (UTF-8 string or binary data), or a pair of UTF-8 strings
_BYTE, _TWO, _FOUR, _VARINT, _PREFIXED, _PAIR = 1, 2, 4, 0, -1, -2
_LAYOUT = {0x01: _BYTE, 0x02: _FOUR, 0x03: _PREFIXED, 0x08: _PREFIXED, 0x09: _PREFIXED, 0x0B: _VARINT,
           0x11: _FOUR, 0x12: _PREFIXED, 0x13: _TWO, 0x15: _PREFIXED, 0x16: _PREFIXED, 0x17: _BYTE,
           0x18: _FOUR, 0x19: _BYTE, 0x1A: _PREFIXED, 0x1C: _PREFIXED, 0x1F: _PREFIXED, 0x21: _TWO,
           0x22: _TWO, 0x23: _TWO, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _FOUR, 0x28: _BYTE,
           0x29: _BYTE, 0x2A: _BYTE}


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
                 on_oversize=None, on_acked=None, log=None, session_expiry=0, backoff=None):
        self.host, self.port = host, int(port)
        # 0: a clean session on every connection. Otherwise the broker keeps the subscriptions and
        # the unacknowledged and queued QoS 1 messages for this client id across reconnects and
        # restarts (MQTT 5: for this many seconds; MQTT 3.1.1: until a clean connect)
        self.session_expiry = max(0, min(0xFFFFFFFF, int(session_expiry)))
        self.session_present = False
        # reconnect delays: an object with next_delay() and reset() (uplink/backoff.py's Backoff, by default
        # from 0.2 s doubling to MAX_BACKOFF, with jitter)
        self.backoff = backoff or Backoff(base=0.2, cap=MAX_BACKOFF)
        self.connect_failures = 0
        self.client_id = client_id or "edge-ssre-" + os.urandom(6).hex()
        self.v5 = v5
        self.keepalive = int(keepalive)
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
        self._last_out = self._last_in = 0.0
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
        """Send DISCONNECT (a clean leave: no will message), close and join the reader thread."""
        self._stopping.set()
        with self.lock:
            if self.connected:
                self._corked = False
                self._flush()
                self._sendall(DISCONNECT_PACKET)
            sock, self.sock = self.sock, None
            self.connected = False
            self.acked.notify_all()
        if sock is not None:  # the reader closes it
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self):
        failing = False
        while not self._stopping.is_set():
            try:
                sock = self._open()
            except (OSError, ProtocolError) as exc:
                self.connect_failures += 1
                if not failing:
                    self.log("cannot connect to %s:%d: %s (retrying with backoff up to %.0f s)"
                             % (self.host, self.port, exc, getattr(self.backoff, "cap", MAX_BACKOFF)))
                    failing = True
                self._stopping.wait(self.backoff.next_delay())
                continue
            failing = False
            self.backoff.reset()
            try:
                reason = self._serve(sock)
            except Exception as exc:  # a failing callback: say so, and keep the connection alive by remaking it
                reason = "internal error: %s: %s" % (type(exc).__name__, exc)
            with self.lock:
                was = self._up
                self.connected = self._up = False
                del self._wbuf[:]  # written for the lost connection: QoS 1 ones are resent from inflight
                self._wlen = 0
                if self.sock is sock:
                    self.sock = None
                self.acked.notify_all()
            _close(sock)
            if was and self.on_disconnect is not None:
                self.on_disconnect(self, reason)
            if not self._stopping.is_set():
                if reason:
                    self.log("connection to %s:%d lost: %s" % (self.host, self.port, reason))
                self._stopping.wait(0.2)

    def _open(self):
        sock = socket.create_connection((self.host, self.port), timeout=10)
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
            sock.sendall(self._connect_packet())
            # plain TCP: blocking (the reader waits in select). TLS: a timeout, so a read that
            # holds the lock for a record still arriving gives up (and lets writers in), and a
            # write to a broker that stopped reading fails (the connection is then made again)
            sock.settimeout(5.0 if self.tls else None)
        except BaseException:
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

    # ---- reading ------------------------------------------------------------------------------
    def _serve(self, sock):
        """Read and handle packets until the connection ends; returns why it ended ("" on stop)."""
        buf = bytearray()
        self._reading, self._up, self._skip = sock, False, 0
        self._last_in = self._last_out = time.monotonic()
        first = True
        pending = getattr(sock, "pending", None)  # TLS: bytes decrypted but not yet read
        # One TLS connection must not be read and written at once (OpenSSL's rule for one SSL
        # object): its reads take the writers' lock. Plain TCP reads and writes run side by side.
        read_lock = self.lock if pending is not None else None
        while not self._stopping.is_set():
            # keepalive: a connection that only receives (QoS 0 input) must still send something
            now = time.monotonic()
            if self.keepalive and now - self._last_out >= self.keepalive / 2.0 and self.connected:
                if not self._write(PINGREQ_PACKET):
                    return "write failed"
            if not (pending and pending()):
                try:
                    ready = select.select((sock,), (), (), 1.0)[0]
                except (OSError, ValueError):
                    return "socket closed"
                if not ready:
                    now = time.monotonic()
                    if first and now - self._last_in > 10:
                        return "no CONNACK within 10 s"
                    if self.keepalive and now - self._last_in > 1.5 * self.keepalive:
                        return "no packet from the broker for %.0f s" % (now - self._last_in)
                    continue
            try:
                if read_lock is None:
                    data = sock.recv(CHUNK)
                else:
                    with read_lock:
                        data = sock.recv(CHUNK)
            except (BlockingIOError, InterruptedError, socket.timeout):
                continue
            except OSError as exc:
                if type(exc).__name__ in ("SSLWantReadError", "SSLWantWriteError"):
                    continue
                return "read failed: %s" % exc
            if not data:
                return "closed by the broker"
            self._last_in = time.monotonic()
            if self._skip:
                cut = min(self._skip, len(data))
                self._skip -= cut
                data = data[cut:]
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
            except _Refused as exc:  # said at once (a starting sidecar gives up after connect_timeout)
                self.log("connection to %s:%d refused: %s" % (self.host, self.port, exc))
                self._stopping.wait(min(MAX_BACKOFF, 5.0))  # refused (bad credentials...): do not hammer
                return ""
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
                elif kind == DISCONNECT:
                    raise ProtocolError("broker sent DISCONNECT (reason 0x%02x)" % (body[0] if body else 0))
                elif kind == SUBACK:
                    j = 2
                    if self.v5:
                        plen, j = read_varint(body, 2)
                        j += plen or 0
                    refused = [c for c in body[j:] if c >= 0x80]
                    if refused:
                        self.log("subscription refused by the broker (reason 0x%02x)" % refused[0])
                # PINGRESP, and anything else a broker may add, needs no answer
        finally:
            del buf[:pos]
        return first

    def _connack(self, body):
        if len(body) < 2:
            raise ProtocolError("short CONNACK")
        if body[1]:
            raise _Refused("broker refused the connection (reason 0x%02x)" % body[1])
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
        if self.on_connect is not None:
            self.on_connect(self)

    def _publish_in(self, head, body):
        qos = (head >> 1) & 3
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
            if plen is None:
                raise ProtocolError("truncated PUBLISH")
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

    def _flush(self):
        if self._wbuf:
            data = b"".join(self._wbuf)
            del self._wbuf[:]
            self._wlen = 0
            self._sendall(data)

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

    def _sendall(self, data):
        """A failed write shuts the socket so the reader reconnects."""
        sock = self.sock
        if sock is None:
            return False
        try:
            sock.sendall(data)
        except OSError:
            self.connected = False
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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


def _close(sock):
    try:
        sock.close()
    except OSError:
        pass
