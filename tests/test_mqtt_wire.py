"""The sidecar's own MQTT client (edge_ssre/transports/mqtt_wire.py).

Against a real mosquitto for what a broker does in normal operation (MQTT 5 properties both ways,
an MQTT 3.1.1 message larger than the client takes), and against a scripted peer on a real socket
for what mosquitto cannot be made to do on cue: announce a small Receive Maximum, drop the
connection with publications unacknowledged, refuse a login, send garbage. paho-mqtt serves as the
independent encoder and decoder of MQTT 5 properties.
"""

import socket
import struct
import time

import paho.mqtt.client as mqtt
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_ssre.transports import mqtt_wire
from edge_ssre.transports.mqtt_wire import Client, ProtocolError, forwardable, properties, user_property, varint


def paho_block(**fields):
    """A PUBLISH property block packed by paho (without its length prefix)."""
    p = Properties(PacketTypes.PUBLISH)
    for k, v in fields.items():
        setattr(p, k, v)
    packed = p.pack()
    _, i = mqtt_wire.read_varint(packed, 0)
    return packed[i:]


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False


# ---- codecs --------------------------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=268435455))
def test_variable_byte_integers_round_trip(n):
    data = varint(n)
    assert len(data) <= 4
    assert mqtt_wire.read_varint(data + b"\x99", 0) == (n, len(data))
    assert mqtt_wire.read_varint(data[:-1], 0) == (None, 0)  # incomplete: wait for more bytes


def test_a_fifth_length_byte_is_a_protocol_error():
    try:
        mqtt_wire.read_varint(b"\xff\xff\xff\xff\x01", 0)
    except ProtocolError:
        return
    raise AssertionError("five-byte length accepted")


def test_properties_are_read_and_forwarded_as_paho_packs_them():
    keep = dict(UserProperty=[("client_id", "sensor-7"), ("trace", "ab")], ContentType="application/cbor",
                MessageExpiryInterval=30, PayloadFormatIndicator=0, CorrelationData=b"\x00\x01")
    block = paho_block(**keep)
    assert user_property(block, "client_id") == "sensor-7"
    assert user_property(block, "trace") == "ab"
    assert user_property(block, "nope") is None
    assert forwardable(block) == block  # nothing of the connection's own: passed on as it is
    seen = dict(properties(block))
    assert seen[0x03] == b"application/cbor" and seen[0x02] == 30 and seen[0x09] == b"\x00\x01"
    # topic alias and subscription identifier belong to the connection the message came in on
    with_conn = paho_block(TopicAlias=4, SubscriptionIdentifier=[200], **keep)
    assert with_conn != block
    fwd = forwardable(with_conn)
    back = Properties(PacketTypes.PUBLISH)
    back.unpack(varint(len(fwd)) + fwd)
    assert not hasattr(back, "TopicAlias") and not hasattr(back, "SubscriptionIdentifier")
    assert back.UserProperty == keep["UserProperty"] and back.ContentType == keep["ContentType"]
    assert back.MessageExpiryInterval == 30 and back.CorrelationData == b"\x00\x01"
    assert forwardable(b"") == b"" and forwardable(b"\x7f\x00") == b""  # unknown property: dropped, not raised


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.booleans(), st.booleans())
def test_any_bytes_from_a_broker_give_packets_or_a_protocol_error(data, v5, first):
    """Whatever arrives, parsing either handles whole packets or says ProtocolError (the connection
    is then dropped and made again); nothing else escapes and the buffer never grows beyond input."""
    got = []
    c = Client("127.0.0.1", 1, v5=v5, max_packet=256,
               on_message=lambda *a: got.append(a), on_oversize=lambda *a: got.append(a))
    buf = bytearray(data)
    try:
        c._parse(buf, first)
    except (ProtocolError, mqtt_wire._Refused):  # _Refused: a CONNACK saying no
        return
    assert len(buf) <= len(data)


# ---- against mosquitto ------------------------------------------------------------------------------
def test_mqtt5_properties_and_retain_survive_a_publish_both_ways(broker, topic_prefix):
    t = topic_prefix + "/a"
    got = []
    ours_in = Client(broker.host, broker.port, on_message=lambda *a: got.append(a),
                     on_connect=lambda c: c.subscribe([topic_prefix + "/#"]))
    ours_in.start()
    paho_got = []
    sub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: paho_got.append(m)
    sub.connect(broker.host, broker.port)
    sub.subscribe(t, qos=1)
    sub.loop_start()
    out = Client(broker.host, broker.port)
    out.start()
    try:
        assert wait_for(lambda: out.connected and ours_in.connected)
        time.sleep(0.3)  # paho's subscription
        block = paho_block(UserProperty=[("client_id", "dev-1")], ContentType="application/cbor")
        sent = out.publish(t, b"\xa1\x61a\x01", qos=1, props=block)
        assert wait_for(lambda: sent.done) and sent.reason == 0
        assert out.publish(t, b"zero", qos=0) is True
        assert wait_for(lambda: len(paho_got) == 2 and len(got) == 2)
        m = paho_got[0]
        assert m.payload == b"\xa1\x61a\x01" and m.qos == 1
        assert m.properties.UserProperty == [("client_id", "dev-1")] and m.properties.ContentType == "application/cbor"
        topic, payload, qos, retain, mid, props = got[0]
        assert (topic, payload, qos, retain) == (t, b"\xa1\x61a\x01", 1, False) and mid > 0
        assert user_property(props, "client_id") == "dev-1"
        assert ours_in.ack(mid)
        assert got[1][1:4] == (b"zero", 0, False)
    finally:
        sub.loop_stop()
        ours_in.stop()
        out.stop()


def test_an_mqtt311_message_larger_than_the_client_takes_is_read_past(broker, topic_prefix):
    """MQTT 3.1.1 has no Maximum Packet Size: the broker sends it, the client reads past it holding
    only its header, acknowledges it (QoS 1) and reports it; the next message arrives whole."""
    t = topic_prefix + "/big"
    got, big = [], []
    c = Client(broker.host, broker.port, v5=False, max_packet=4096,
               on_message=lambda *a: got.append(a), on_oversize=lambda *a: big.append(a),
               on_connect=lambda cl: cl.subscribe([t]))
    c.start()
    pub = Client(broker.host, broker.port, v5=False)
    pub.start()
    try:
        assert wait_for(lambda: c.connected and pub.connected)
        time.sleep(0.2)
        first = pub.publish(t, b"x" * 300000, qos=1)
        pub.publish(t, b"after", qos=1)
        assert wait_for(lambda: got) and first.done
        assert big == [(t, 2 + len(t) + 2 + 300000, 1)]
        assert got[0][1] == b"after" and len(got) == 1
        assert c.connected and c.epoch == 1  # no reconnect
    finally:
        c.stop()
        pub.stop()


# ---- against a scripted peer --------------------------------------------------------------------------
class Peer:
    """A listening socket that plays the broker's part packet by packet."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.srv.settimeout(10)
        self.port = self.srv.getsockname()[1]
        self.conn = None
        self.buf = b""

    def accept(self):
        if self.conn is not None:
            self.conn.close()
        self.conn, _ = self.srv.accept()
        self.conn.settimeout(10)
        self.buf = b""
        return self.read()  # CONNECT

    def read(self):
        """(first byte, body) of the next packet."""
        while True:
            if len(self.buf) >= 2:
                n, i = mqtt_wire.read_varint(self.buf, 1)
                if n is not None and len(self.buf) >= i + n:
                    head, body, self.buf = self.buf[0], self.buf[i:i + n], self.buf[i + n:]
                    return head, body
            data = self.conn.recv(65536)
            if not data:
                raise EOFError
            self.buf += data

    def send(self, head, body):
        self.conn.sendall(bytes((head,)) + varint(len(body)) + body)

    def connack(self, reason=0, receive_maximum=None):
        props = b"" if receive_maximum is None else b"\x21" + struct.pack("!H", receive_maximum)
        self.send(0x20, bytes((0, reason)) + varint(len(props)) + props)

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.srv.close()


def publish_mid(head, body):
    tlen = struct.unpack("!H", body[:2])[0]
    return struct.unpack("!H", body[2 + tlen:4 + tlen])[0], bool(head & 0x08)


def test_publications_wait_for_the_brokers_receive_maximum_and_are_resent_after_a_drop():
    peer = Peer()
    logs = []
    c = Client("127.0.0.1", peer.port, keepalive=60, log=logs.append)
    c.start()
    try:
        head, body = peer.accept()
        assert head == 0x10 and body[6] == 5  # CONNECT, protocol level 5
        peer.connack(receive_maximum=2)
        assert wait_for(lambda: c.connected)
        sent = [c.publish("t/x", b"m%d" % i, qos=1) for i in range(4)]
        first_two = [publish_mid(*peer.read()) for _ in range(2)]
        assert first_two == [(sent[0].mid, False), (sent[1].mid, False)]
        peer.conn.settimeout(0.3)
        try:
            peer.read()
            raise AssertionError("a third publication went past Receive Maximum 2")
        except socket.timeout:
            pass
        peer.conn.settimeout(10)
        peer.send(0x40, struct.pack("!H", sent[0].mid))  # PUBACK the first: the third goes out
        assert publish_mid(*peer.read()) == (sent[2].mid, False)
        assert wait_for(lambda: sent[0].done) and not sent[1].done
        # the connection drops with 1, 2 unacknowledged and 3 never sent: all resent, in order
        peer.conn.close()
        peer.conn = None
        peer.accept()
        peer.connack(receive_maximum=10)
        again = [publish_mid(*peer.read()) for _ in range(3)]
        assert again == [(sent[1].mid, True), (sent[2].mid, True), (sent[3].mid, False)]
        for s in sent[1:]:
            peer.send(0x40, struct.pack("!H", s.mid) + b"\x87")  # acknowledged, but refused
        assert wait_for(lambda: all(s.done for s in sent)) and sent[3].reason == 0x87
        assert c.epoch == 2 and any("lost" in line for line in logs)
    finally:
        c.stop()
        peer.close()


def test_keepalive_pings_a_quiet_connection():
    peer = Peer()
    c = Client("127.0.0.1", peer.port, keepalive=1)
    c.start()
    try:
        peer.accept()
        peer.connack()
        head, body = peer.read()
        assert head == 0xC0 and body == b""  # PINGREQ within the keepalive
    finally:
        c.stop()
        peer.close()


def test_a_refused_login_and_garbage_are_logged_and_retried_never_raised():
    """A refused login, then a connection that goes wrong at once (a five-byte length): one failure
    streak, so one line when it starts and one when a connection has stayed up (STABLE_SECONDS)."""
    peer = Peer()
    logs, ups = [], []
    c = Client("127.0.0.1", peer.port, v5=False, username="u", password="bad", log=logs.append,
               on_connect=ups.append)
    c.start()
    try:
        head, body = peer.accept()
        assert body[6] == 4 and body[7] & 0xC0 == 0xC0  # MQTT 3.1.1 with username and password
        peer.send(0x20, b"\x00\x05")  # not authorised
        peer.accept()
        peer.send(0x20, b"\x00\x00")
        assert wait_for(lambda: c.connected)
        peer.conn.sendall(b"\xff\xff\xff\xff\xff\x01")  # a five-byte length
        peer.accept()  # dropped and made again
        peer.send(0x20, b"\x00\x00")
        assert wait_for(lambda: len(ups) == 2)
        assert wait_for(lambda: len(logs) == 2, mqtt_wire.STABLE_SECONDS + 3), logs
        assert "refused" in logs[0] and "0x05 not authorized" in logs[0]
        assert "after 2 failed attempts" in logs[1] and "protocol error" in logs[1], logs
        assert c._thread.is_alive() and c.connect_failures == 2
    finally:
        c.stop()
        peer.close()


def test_stop_is_prompt_even_while_no_broker_answers():
    c = Client("127.0.0.1", 1)  # nothing listens: connection refused, retried with backoff
    c.start()
    time.sleep(0.3)
    t = time.monotonic()
    c.stop()
    assert time.monotonic() - t < 2.0 and not c._thread.is_alive()
    assert c.publish("t", b"x", qos=0) is False  # QoS 0 with no connection: not written, said so
    held = c.publish("t", b"x", qos=1)  # QoS 1: kept for the next connection
    assert held.mid in c.inflight and not held.transmitted


def test_an_oversize_qos1_message_is_acknowledged_without_being_held():
    peer = Peer()
    big, got = [], []
    c = Client("127.0.0.1", peer.port, v5=False, max_packet=1000, on_oversize=lambda *a: big.append(a),
               on_message=lambda *a: got.append(a))
    c.start()
    try:
        peer.accept()
        peer.send(0x20, b"\x00\x00")
        assert wait_for(lambda: c.connected)
        body = struct.pack("!H", 3) + b"a/b" + struct.pack("!H", 77) + b"y" * 50000
        peer.send(0x32, body)  # PUBLISH QoS 1, message id 77, 50 kB
        assert peer.read() == (0x40, struct.pack("!H", 77))  # PUBACK 77
        peer.send(0x30, struct.pack("!H", 3) + b"a/b" + b"ok")
        assert wait_for(lambda: got)
        assert big == [("a/b", len(body), 1)] and got[0][:2] == ("a/b", b"ok")
        assert c._skip == 0 and c.epoch == 1
    finally:
        c.stop()
        peer.close()


def _tls_files(d):
    """A throw-away CA and a server certificate for 127.0.0.1, made with the openssl command."""
    import shutil
    import subprocess

    import pytest
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=str(d), check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=edge-ssre test CA")
    run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.crt",
        "-days", "2", "-extfile", "ext")
    return d / "ca.crt", d / "srv.crt", d / "srv.key"


def test_tls_broker_both_ways_at_once(tmp_path, topic_prefix):
    """A mosquitto TLS listener: one client reads while another thread writes on the same TLS
    connection (the sidecar's output reads PUBACKs while its worker publishes)."""
    from mqtt_broker import Broker
    ca, crt, key = _tls_files(tmp_path)
    conf = "cafile %s\ncertfile %s\nkeyfile %s\n" % (ca, crt, key)
    with Broker(tmp_path / "b", extra_conf=conf) as b:
        t = topic_prefix + "/tls"
        got = []
        tls = {"ca": str(ca)}
        sub = Client(b.host, b.port, tls=tls, on_connect=lambda c: c.subscribe([t]),
                     on_message=lambda topic, payload, qos, retain, mid, props: (got.append(payload), sub.ack(mid)))
        pub = Client(b.host, b.port, tls=tls)
        sub.start()
        pub.start()
        try:
            assert wait_for(lambda: sub.connected and pub.connected)
            time.sleep(0.2)
            sent = [pub.publish(t, b"m%04d" % i + b"x" * 200, qos=1) for i in range(2000)]
            assert wait_for(lambda: len(got) == 2000, 30) and wait_for(lambda: all(s.done for s in sent))
            assert got == [b"m%04d" % i + b"x" * 200 for i in range(2000)]
            assert pub.epoch == 1 and sub.epoch == 1  # no reconnect on the way
        finally:
            sub.stop()
            pub.stop()
        wrong = Client(b.host, b.port, tls={"ca": str(crt)})  # not the CA that signed it
        logs = []
        wrong.log = logs.append
        wrong.start()
        try:
            assert wait_for(lambda: logs) and not wrong.connected and "certificate" in logs[0].lower()
        finally:
            wrong.stop()


def test_a_receive_only_connection_still_pings(broker, topic_prefix):
    """QoS 0 traffic in and nothing out: the client must still send within its keepalive, or
    the broker drops it after 1.5 x keepalive."""
    t = topic_prefix + "/q0"
    got = []
    c = Client(broker.host, broker.port, keepalive=1, on_connect=lambda cl: cl.subscribe([t], qos=0),
               on_message=lambda *a: got.append(a))
    pub = Client(broker.host, broker.port)
    c.start()
    pub.start()
    try:
        assert wait_for(lambda: c.connected and pub.connected)
        end = time.monotonic() + 8  # mosquitto checks keepalives every few seconds (it dropped a silent one at ~5 s)
        while time.monotonic() < end:  # a message every 0.2 s: the reader is never idle for 1 s
            pub.publish(t, b"x", qos=0)
            time.sleep(0.2)
        assert len(got) > 30 and c.epoch == 1 and c.connected
    finally:
        c.stop()
        pub.stop()
