#!/usr/bin/env python3
"""Fault injection for the MQTT transport (transports/mqtt_wire.py, transports/paho_client.py and
the sidecar around them): peers that misbehave on purpose, on loopback only, every loop bounded.

    python tools/fault_mqtt.py [--quick] [--markdown] [--json]

Scenarios (each runs the built-in client and the paho one where both apply):

* frozen peer: a TCP proxy in front of a real mosquitto stops reading and forwarding (both ways)
  while a client publishes a flood: how long until the client drops the connection (target:
  1.5 x keepalive), and how long ``stop()`` takes with a write blocked on it; the same through the
  sidecar process with its output connection frozen: until the drop, and SIGTERM to exit (target 5 s);
* accept-then-close: a peer that accepts and closes at once: attempts in 8 s (target <= 8, one per
  backoff step) and log lines (one per failure streak);
* refused and disconnected: MQTT 5 CONNACK 0x87 and DISCONNECT 0x8b with reason strings: attempts,
  and the reason string in the log;
* slow trickle and stall mid-packet: a PUBLISH that never completes (10 bytes/s, or half a packet
  and then silence): time to drop;
* hostile packets: malformed packets after a CONNACK: each answered with a protocol error and a
  reconnect, the reader thread alive; odd but harmless ones (an unknown PUBACK, QoS 2, an unknown
  property in a PUBLISH, which is passed on raw and dropped when forwarded) keep the connection;
* recovery after an outage: a real mosquitto down for 5 s: the time from its return to the
  client's next accepted CONNACK (median of the trials), with plain paho-mqtt (its own reconnect,
  0.2 s doubling) as the baseline ("paho-native").

tests/test_mqtt_faults.py runs the short versions of these scenarios with their targets.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from mqtt_broker import Broker  # noqa: E402

from edge_ssre.transports import mqtt_wire  # noqa: E402
from edge_ssre.transports.mqtt_wire import Client, varint  # noqa: E402

HOST = "127.0.0.1"


def _listener(rcvbuf=None):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:  # inherited by accepted sockets: a frozen proxy's window closes after a few KB
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    srv.bind((HOST, 0))
    srv.listen(64)
    srv.settimeout(0.2)
    return srv


def read_packet(conn, buf=b"", timeout=10.0):
    """(first byte, body, rest of the buffer) of the next MQTT packet on ``conn``."""
    conn.settimeout(timeout)
    while True:
        if len(buf) >= 2:
            n, i = mqtt_wire.read_varint(buf, 1)
            if n is not None and len(buf) >= i + n:
                return buf[0], buf[i:i + n], buf[i + n:]
        data = conn.recv(65536)
        if not data:
            raise EOFError("peer closed")
        buf += data


def client_id_of(body):
    """The client id in a CONNECT packet's body."""
    nlen = struct.unpack("!H", body[:2])[0]
    i = 2 + nlen
    level = body[i]
    i += 4  # level, flags, keepalive
    if level == 5:
        plen, i = mqtt_wire.read_varint(body, i)
        i += plen
    clen = struct.unpack("!H", body[i:i + 2])[0]
    return body[i + 2:i + 2 + clen].decode("utf-8", "replace")


def pkt(head, body):
    return bytes((head,)) + varint(len(body)) + body


def connack(v5=True, code=0, reason_string=None):
    if not v5:
        return pkt(0x20, bytes((0, code)))
    props = b""
    if reason_string:
        s = reason_string.encode()
        props = b"\x1f" + struct.pack("!H", len(s)) + s
    return pkt(0x20, bytes((0, code)) + varint(len(props)) + props)


def disconnect(code, reason_string=None):
    props = b""
    if reason_string:
        s = reason_string.encode()
        props = b"\x1f" + struct.pack("!H", len(s)) + s
    return pkt(0xE0, bytes((code,)) + varint(len(props)) + props)


def publish_packet(topic, payload, qos=0, mid=1, v5=True):
    t = topic.encode()
    body = struct.pack("!H", len(t)) + t + (struct.pack("!H", mid) if qos else b"") + (b"\x00" if v5 else b"")
    return pkt(0x30 | qos << 1, body + payload)


# ---- peers ------------------------------------------------------------------------------------------
class FaultProxy:
    """A TCP proxy on loopback in front of a real broker. ``freeze(match)`` makes the connections
    whose client id ``match`` accepts (and new ones) stop reading and forwarding both ways: a peer
    that neither reads nor answers (a frozen broker, or a dead path to it). Its sockets have small
    buffers, so a client's writes block soon after."""

    def __init__(self, upstream_port, rcvbuf=4096):
        self.upstream = upstream_port
        self.srv = _listener(rcvbuf)
        self.port = self.srv.getsockname()[1]
        self.match = None
        self.frozen_at = None
        self.conns = []  # [client id or None, accepted at, client socket, upstream socket]
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def freeze(self, match=lambda cid: True):
        self.match = match
        self.frozen_at = time.monotonic()

    def thaw(self):
        self.match = None

    def _frozen(self, c):
        m = self.match
        return m is not None and c[0] is not None and m(c[0])

    def _accept(self):
        while not self.stop_event.is_set():
            try:
                a, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c = [None, time.monotonic(), a, None]
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._pump, args=(c,), daemon=True).start()

    def _pump(self, c):
        a = c[2]
        try:
            head, body, rest = read_packet(a)
            c[0] = client_id_of(body)
            b = socket.create_connection((HOST, self.upstream), timeout=5)
            c[3] = b
            b.sendall(pkt(head, body) + rest)
            a.settimeout(None)
            b.settimeout(None)
            import select
            while not self.stop_event.is_set():
                if self._frozen(c):
                    time.sleep(0.05)  # read nothing, forward nothing
                    continue
                ready = select.select((a, b), (), (), 0.1)[0]
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, EOFError, ValueError):
            return
        finally:
            if not self.stop_event.is_set() and not self._frozen(c):
                for s in (a, c[3]):
                    if s is not None:
                        s.close()

    def clients(self, match=lambda cid: True):
        with self.lock:
            return [c for c in self.conns if c[0] is not None and match(c[0])]

    def close(self):
        self.stop_event.set()
        self.srv.close()
        with self.lock:
            for c in self.conns:
                for s in (c[2], c[3]):
                    if s is not None:
                        try:
                            s.close()
                        except OSError:
                            pass
        self.thread.join(2)


class ScriptedPeer:
    """A listening socket that runs ``behaviour(conn, n)`` on each connection it accepts (n counts
    from 0) and records when each one came."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.srv = _listener()
        self.port = self.srv.getsockname()[1]
        self.accepted = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted.append(time.monotonic())
            threading.Thread(target=self._run, args=(conn, len(self.accepted) - 1), daemon=True).start()

    def _run(self, conn, n):
        try:
            self.behaviour(self, conn, n)
        except (OSError, EOFError, ValueError):
            pass
        finally:
            conn.close()

    def drain(self, conn, seconds):
        """Read and discard what the client sends for up to ``seconds`` (until it closes)."""
        end = time.monotonic() + seconds
        conn.settimeout(0.2)
        while time.monotonic() < end and not self.stop_event.is_set():
            try:
                if not conn.recv(65536):
                    return
            except socket.timeout:
                continue

    def close(self):
        self.stop_event.set()
        self.srv.close()
        self.thread.join(2)


def close_at_once(peer, conn, n):
    pass  # closed by ScriptedPeer._run


def refuse_with(code, text):
    def behaviour(peer, conn, n):
        read_packet(conn)
        conn.sendall(connack(True, code, text))
    return behaviour


def disconnect_with(code, text):
    def behaviour(peer, conn, n):
        read_packet(conn)
        conn.sendall(connack(True) + disconnect(code, text))
    return behaviour


def trickle(bytes_per_second):
    """CONNACK, then a PUBLISH that declares 100 KB and arrives at ``bytes_per_second`` (never whole)."""
    def behaviour(peer, conn, n):
        read_packet(conn)
        conn.sendall(connack(True))
        data = b"\x30" + varint(100000) + b"\x00\x01t" + b"\x00" + b"x" * 99000
        conn.settimeout(0.05)
        for i in range(len(data)):
            if peer.stop_event.wait(1.0 / bytes_per_second):
                return
            conn.sendall(data[i:i + 1])
    return behaviour


def stall_mid_packet(peer, conn, n):
    """CONNACK, half a PUBLISH, then silence (reading and discarding what the client sends)."""
    read_packet(conn)
    whole = publish_packet("t/stall", b"y" * 400)
    conn.sendall(connack(True) + whole[:len(whole) // 2])
    peer.drain(conn, 120)


# hostile packets sent after an accepted CONNACK (MQTT 5): each must give a protocol error and a
# reconnect, nothing else
HOSTILE = {
    "five-byte length": b"\x30\xff\xff\xff\xff\x01",
    "truncated topic": pkt(0x30, b"\x00\x10ab"),
    "QoS 1 without id": pkt(0x32, b"\x00\x01t"),
    "truncated property block": pkt(0x30, b"\x00\x01t" + b"\x09\x26\x00\x05ab"),
    "length over the maximum": b"\x30\xff\xff\xff\x7f",
    "second CONNACK": pkt(0x20, b"\x00\x00\x00") + pkt(0x20, b"\x00\x00\x00\x00\x00\x00"),
    "DISCONNECT with a malformed property": pkt(0xE0, b"\x8b\x03\x1f\x00\x09"),
    "reserved packet type 0": pkt(0x00, b""),
    "QoS 3 PUBLISH": pkt(0x36, b"\x00\x01t\x00\x01\x00x"),
}


# odd but harmless packets after a CONNACK: the connection stays and the next PUBLISH arrives
HARMLESS = {
    "PUBACK for an unknown message id": pkt(0x40, b"\x12\x34"),
    "unsolicited PINGRESP": pkt(0xD0, b""),
    "unknown property in a PUBLISH (not forwarded, not parsed per message)":
        pkt(0x30, b"\x00\x01t" + b"\x02\x7f\x00" + b"p"),
    "QoS 2 PUBLISH (answered PUBREC, delivered once)": pkt(0x34, b"\x00\x01t\x00\x07\x00q2"),
    "PUBREL for an unknown id (answered PUBCOMP)": pkt(0x62, b"\x00\x09"),
    "empty topic, empty payload": pkt(0x30, b"\x00\x00\x00"),
}


def hostile(data):
    def behaviour(peer, conn, n):
        read_packet(conn)
        conn.sendall(connack(True) + (data if n == 0 else b""))
        peer.drain(conn, 30)
    return behaviour


def one_byte_per_segment(peer, conn, n):
    """A valid CONNACK and PUBLISH, one byte per TCP segment (Nagle off, a pause between)."""
    read_packet(conn)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in connack(True) + publish_packet("t/slow", b"whole"):
        conn.sendall(bytes((b,)))
        time.sleep(0.002)
    peer.drain(conn, 30)


# ---- helpers --------------------------------------------------------------------------------------
def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return False


class NativePaho:
    """paho-mqtt as an application would use it (its own reconnect: 0.2 s doubling to 15 s, no
    jitter): the baseline of the recovery scenario."""

    def __init__(self, port, client_id="", on_connect=None, **_):
        import paho.mqtt.client as mqtt
        self.c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        self.c.reconnect_delay_set(0.2, 15)
        self.c.on_connect = lambda cl, u, f, rc, p=None: on_connect(self) if not rc.is_failure else None
        self.port = port

    def start(self):
        self.c.connect_async(HOST, self.port)
        self.c.loop_start()

    def stop(self, timeout=2.0):
        self.c.disconnect()
        self.c.loop_stop()


def make_client(kind, port, **kw):
    if kind == "paho-native":
        return NativePaho(port, **kw)
    if kind == "paho":
        from edge_ssre.transports.paho_client import PahoClient
        kw.pop("backoff", None)
        return PahoClient(HOST, port, **kw)
    return Client(HOST, port, **kw)


class Lines:
    """A log callback that keeps (time, line)."""

    def __init__(self):
        self.rows = []

    def __call__(self, text):
        self.rows.append((time.monotonic(), text))

    def texts(self):
        return [t for _, t in self.rows]


# ---- scenarios --------------------------------------------------------------------------------------
def _flood(c, stop_event, open_max=400, qos=1):
    """Publish 2 KB messages as fast as the client takes them; QoS 1: at most ``open_max`` open."""
    import collections
    sent = collections.deque()
    payload = b"z" * 2048
    while not stop_event.is_set() and not qos:
        if c.publish("fault/frozen", payload, qos=0) is False:
            time.sleep(0.01)
    while not stop_event.is_set():
        while sent and sent[0].done:
            sent.popleft()
        if len(sent) >= open_max:
            time.sleep(0.01)
            continue
        s = c.publish("fault/frozen", payload, qos=1)
        if s is False:
            time.sleep(0.01)
        else:
            sent.append(s)


def scenario_frozen_client(kind="builtin", keepalive=2):
    """A client publishing a flood through a proxy that then freezes (stops reading and
    answering): seconds from the freeze to the drop. Then, on a fresh connection frozen the same
    way, how long ``stop()`` takes 1 s into the freeze (``write_blocked``: the built-in client's
    writer was blocked on the socket then). The built-in client floods QoS 0 (a write blocks once
    the socket buffers are full); paho QoS 1, at most 400 open (paho queues in memory)."""
    out = {"client": kind, "keepalive_s": keepalive, "target_drop_s": 1.5 * keepalive}
    with tempfile.TemporaryDirectory() as tmp, Broker(os.path.join(tmp, "b")) as broker:
        for phase in ("drop", "stop"):
            proxy = FaultProxy(broker.port)
            lost = []
            c = make_client(kind, proxy.port, client_id="frozen-%s-%s" % (kind, phase), keepalive=keepalive,
                            on_disconnect=lambda cl, reason: lost.append((time.monotonic(), reason)))
            c.start()
            stop_flood = threading.Event()
            try:
                if not wait_for(lambda: c.connected, 10):
                    raise RuntimeError("no connection through the proxy")
                threading.Thread(target=_flood, args=(c, stop_flood, 400, 0 if kind == "builtin" else 1),
                                 daemon=True).start()
                time.sleep(0.3)
                proxy.freeze()
                if phase == "drop":
                    wait_for(lambda: lost, 3 * keepalive + 5)
                    out["drop_s"] = lost[0][0] - proxy.frozen_at if lost else None
                    out["drop_reason"] = lost[0][1] if lost else None
                else:
                    time.sleep(1.0)
                    out["write_blocked"] = c.lock.locked() if kind == "builtin" else None
                    t0 = time.monotonic()
                    c.stop(timeout=5.0)
                    out["stop_s"] = time.monotonic() - t0
            finally:
                stop_flood.set()
                c.stop(timeout=1.0)
                proxy.close()
    return out


SIDECAR_CONFIG = """
inputs = ["{p}/in/#"]
output_prefix = "{p}-out"
sink = "{sink}"
stats_interval = 3600
queue_depth = 256
[broker]
host = "127.0.0.1"
port = {port}
client = "{client}"
keepalive = {keepalive}
"""


def scenario_frozen_sidecar(kind="builtin", keepalive=4, prefix="fz"):
    """The sidecar process with its output connection frozen by a proxy (its input keeps flowing):
    seconds from the freeze to the 'connection lost' line, and from SIGTERM to exit."""
    with tempfile.TemporaryDirectory() as tmp, Broker(os.path.join(tmp, "b")) as broker:
        proxy = FaultProxy(broker.port)
        cfg = os.path.join(tmp, "sc.toml")
        with open(cfg, "w") as fh:
            fh.write(SIDECAR_CONFIG.format(p=prefix, sink=os.path.join(tmp, "f.jsonl"), port=proxy.port, client=kind,
                                           keepalive=keepalive))
        proc = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--config", cfg], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []

        def read_err():
            for line in proc.stderr:
                lines.append((time.monotonic(), line.rstrip("\n")))
        threading.Thread(target=read_err, daemon=True).start()
        got = []
        sub = Client(HOST, broker.port, on_connect=lambda cl: cl.subscribe([prefix + "-out/#"], qos=0),
                     on_message=lambda *a: got.append(1))
        pub = Client(HOST, broker.port)
        sub.start()
        pub.start()
        stop_flood = threading.Event()
        result = {"client": kind, "keepalive_s": keepalive, "target_drop_s": 1.5 * keepalive, "target_exit_s": 5.0}
        try:
            wait_for(lambda: sub.connected and pub.connected, 10)
            if not wait_for(lambda: (pub.publish(prefix + "/in/ready", b"1", qos=0), time.sleep(0.05), got)[2], 20):
                raise RuntimeError("the sidecar passed nothing: " + "\n".join(t for _, t in lines[-5:]))

            def flood():
                payload = b'{"reading": "%s"}' % (b"x" * 3000)
                n = 0
                while not stop_flood.is_set():
                    pub.publish(prefix + "/in/flood", payload, qos=0)
                    n += 1
                    if n % 50 == 0:
                        time.sleep(0.005)
            threading.Thread(target=flood, daemon=True).start()
            time.sleep(0.5)
            proxy.freeze(lambda cid: cid.endswith("-out"))
            frozen_at = proxy.frozen_at
            lost = lambda: [(t, x) for t, x in lines if t > frozen_at and "output:" in x and "lost" in x]  # noqa: E731
            wait_for(lost, 3 * keepalive + 5)
            hits = lost()
            result["drop_s"] = hits[0][0] - frozen_at if hits else None
            result["drop_line"] = hits[0][1] if hits else None
            time.sleep(1.0)  # the flood goes on: the next output connection is frozen too
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            result["exit_s"] = time.monotonic() - t0
            result["exit_code"] = proc.returncode
            result["final_line"] = any("edge-ssre final:" in x for _, x in lines)
        finally:
            stop_flood.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sub.stop(1.0)
            pub.stop(1.0)
            proxy.close()
    return result


def scenario_attempts(behaviour, kind="builtin", seconds=8.0, v5=True):
    """A client against a scripted peer for ``seconds``: connection attempts and log lines."""
    peer = ScriptedPeer(behaviour)
    log = Lines()
    c = make_client(kind, peer.port, keepalive=30, log=log, v5=v5)
    c.start()
    try:
        time.sleep(seconds)
    finally:
        c.stop(timeout=2.0)
        peer.close()
    return {"client": kind, "seconds": seconds, "attempts": len(peer.accepted), "log_lines": len(log.rows),
            "log": log.texts()[:3]}


def scenario_drop_time(behaviour, kind="builtin", keepalive=2):
    """Seconds from a connection's CONNACK to the client dropping it (the peer never completes a packet)."""
    peer = ScriptedPeer(behaviour)
    log = Lines()
    ups, lost = [], []
    c = make_client(kind, peer.port, keepalive=keepalive, log=log, on_connect=lambda cl: ups.append(time.monotonic()),
                    on_disconnect=lambda cl, r: lost.append((time.monotonic(), r)))
    c.start()
    try:
        wait_for(lambda: lost, 3 * keepalive + 15)
    finally:
        c.stop(timeout=2.0)
        peer.close()
    return {"client": kind, "keepalive_s": keepalive, "target_drop_s": 1.5 * keepalive,
            "drop_s": lost[0][0] - ups[0] if lost and ups else None, "reason": lost[0][1] if lost else None}


def scenario_hostile(name, data, kind="builtin"):
    """One hostile packet after a CONNACK: the client drops the connection with a reason and
    connects again; its thread stays alive."""
    peer = ScriptedPeer(hostile(data))
    lost = []
    c = make_client(kind, peer.port, keepalive=30, on_disconnect=lambda cl, r: lost.append(r))
    c.start()
    try:
        again = wait_for(lambda: len(peer.accepted) >= 2, 10)
        alive = c._thread.is_alive() if kind == "builtin" else True
    finally:
        c.stop(timeout=2.0)
        peer.close()
    return {"case": name, "client": kind, "reconnected": again, "reason": lost[0] if lost else None,
            "thread_alive": alive}


def scenario_harmless(name, data, kind="builtin"):
    """An odd but valid-enough packet, then a PUBLISH: delivered on the same connection."""
    def behaviour(peer, conn, n):
        read_packet(conn)
        conn.sendall(connack(True) + data + publish_packet("t/after", b"ok"))
        peer.drain(conn, 30)
    peer = ScriptedPeer(behaviour)
    got = []
    c = make_client(kind, peer.port, keepalive=30, on_message=lambda *a: got.append(a[:2]))
    c.start()
    try:
        wait_for(lambda: ("t/after", b"ok") in got, 5)
        time.sleep(0.2)
    finally:
        c.stop(timeout=2.0)
        peer.close()
    return {"case": name, "client": kind, "delivered": ("t/after", b"ok") in got, "connections": len(peer.accepted)}


def scenario_one_byte_segments(kind="builtin"):
    peer = ScriptedPeer(one_byte_per_segment)
    got = []
    c = make_client(kind, peer.port, keepalive=30, on_message=lambda *a: got.append(a[:2]))
    c.start()
    try:
        wait_for(lambda: got, 10)
    finally:
        c.stop(timeout=2.0)
        peer.close()
    return {"client": kind, "delivered": got[:1] == [("t/slow", b"whole")], "connections": len(peer.accepted)}


def scenario_recovery(kind="builtin", outage=5.0, trials=3):
    """A real mosquitto down for ``outage`` seconds: seconds from its return to the next CONNACK."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(os.path.join(tmp, "b")).start()
        try:
            for i in range(trials):
                ups = []
                c = make_client(kind, broker.port, client_id="rec-%s-%d" % (kind, i),
                                on_connect=lambda cl: ups.append(time.monotonic()))
                c.start()
                try:
                    if not wait_for(lambda: ups, 10):
                        raise RuntimeError("no first connection")
                    broker.stop()
                    time.sleep(outage)
                    back = time.monotonic()  # from the start of mosquitto's start-up (it listens ~20 ms later)
                    broker.start()
                    wait_for(lambda: len(ups) >= 2, 30)
                    out.append(ups[1] - back if len(ups) >= 2 else None)
                finally:
                    c.stop(timeout=2.0)
        finally:
            broker.stop()
    done = [x for x in out if x is not None]
    return {"client": kind, "outage_s": outage, "trials": trials, "median_s": statistics.median(done) if done else None,
            "max_s": max(done) if done else None, "runs": [round(x, 3) if x is not None else None for x in out]}


# ---- the run ---------------------------------------------------------------------------------------
def run(quick=False):
    kinds = ["builtin", "paho"]
    res = {"frozen_client": [], "frozen_sidecar": [], "accept_then_close": [], "refused": [], "disconnected": [],
           "trickle": [], "stall": [], "hostile": [], "one_byte_segments": [], "recovery": []}
    for k in kinds:
        res["frozen_client"].append(scenario_frozen_client(k, keepalive=2))
        res["frozen_sidecar"].append(scenario_frozen_sidecar(k, keepalive=4, prefix="fz-" + k))
        res["accept_then_close"].append(scenario_attempts(close_at_once, k, 8.0))
        res["refused"].append(scenario_attempts(refuse_with(0x87, "policy denies client gw-17"), k, 8.0))
        res["disconnected"].append(scenario_attempts(disconnect_with(0x8B, "maintenance window"), k, 8.0))
        res["trickle"].append(scenario_drop_time(trickle(10), k, keepalive=2))
        res["stall"].append(scenario_drop_time(stall_mid_packet, k, keepalive=2))
        res["one_byte_segments"].append(scenario_one_byte_segments(k))
        res["recovery"].append(scenario_recovery(k, 5.0, 3 if quick else 11))
    res["recovery"].append(scenario_recovery("paho-native", 5.0, 3 if quick else 11))
    for name, data in HOSTILE.items():
        res["hostile"].append(scenario_hostile(name, data))
    res["harmless"] = [scenario_harmless(name, data) for name, data in HARMLESS.items()]
    return res


def markdown(res):
    def f(x, unit=" s"):
        return "-" if x is None else ("%.2f%s" % (x, unit))
    rows = ["| scenario | client | figure | target |", "| --- | --- | --- | --- |"]
    for r in res["frozen_client"]:
        rows.append("| frozen peer (proxy stops reading), client flooding QoS 0, keepalive %d s | %s | dropped after %s; "
                    "stop() %s | drop <= %.1f s |" % (r["keepalive_s"], r["client"], f(r["drop_s"]), f(r["stop_s"]),
                                                       r["target_drop_s"]))
    for r in res["frozen_sidecar"]:
        rows.append("| sidecar, output broker frozen under a QoS 0 flood, keepalive %d s | %s | dropped after %s; "
                    "SIGTERM to exit %s (exit code %s) | drop <= %.1f s, exit <= 5 s |"
                    % (r["keepalive_s"], r["client"], f(r.get("drop_s")), f(r.get("exit_s")), r.get("exit_code"),
                       r["target_drop_s"]))
    for key, label in (("accept_then_close", "accept-then-close peer, 8 s"),
                       ("refused", "CONNACK 0x87 with a reason string, 8 s"),
                       ("disconnected", "CONNACK, then DISCONNECT 0x8b with a reason string, 8 s")):
        for r in res[key]:
            rows.append("| %s | %s | %d attempts, %d log lines | <= 8 attempts, 1 line per streak |"
                        % (label, r["client"], r["attempts"], r["log_lines"]))
    for key, label in (("trickle", "PUBLISH trickled at 10 B/s, never whole"),
                       ("stall", "half a PUBLISH, then silence")):
        for r in res[key]:
            rows.append("| %s, keepalive %d s | %s | dropped %s after CONNACK | <= %.1f s |"
                        % (label, r["keepalive_s"], r["client"], f(r["drop_s"]), r["target_drop_s"]))
    ok = sum(1 for r in res["hostile"] if r["reconnected"] and r["thread_alive"] and r["reason"])
    rows.append("| hostile packets after CONNACK (%d kinds) | builtin | %d answered with a reason and a reconnect | all |"
                % (len(res["hostile"]), ok))
    ok = sum(1 for r in res["harmless"] if r["delivered"] and r["connections"] == 1)
    rows.append("| odd but harmless packets after CONNACK (%d kinds) | builtin | %d kept the connection and delivered "
                "the next message | all |" % (len(res["harmless"]), ok))
    for r in res["one_byte_segments"]:
        rows.append("| CONNACK and PUBLISH one byte per TCP segment | %s | delivered: %s | delivered |"
                    % (r["client"], r["delivered"]))
    for r in res["recovery"]:
        rows.append("| mosquitto down %.0f s: its return to the next CONNACK (%d trials) | %s | median %s, max %s | "
                    "not slower than paho-native |" % (r["outage_s"], r["trials"], r["client"], f(r["median_s"]),
                                                 f(r["max_s"])))
    return "\n".join(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 recovery trials instead of 11")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res, indent=1, default=str))
    if args.markdown or not args.json:
        print(markdown(res))
        print("\nhostile packets:")
        for r in res["hostile"]:
            print("  %-40s reconnected=%s reason=%s" % (r["case"], r["reconnected"], r["reason"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
