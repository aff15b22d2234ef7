"""Drain the event store to an upstream broker (AWS IoT Core, or any MQTT broker) at QoS 1.

    up = MqttUplink(store, host="xxxx-ats.iot.eu-west-1.amazonaws.com", port=8883,
                    topic="edge-ssre/gw-17/events", client_id="gw-17",
                    ca="AmazonRootCA1.pem", cert="device.pem.crt", key="private.pem.key")
    up.start()          # background thread: connect, drain, reconnect with backoff
    up.metrics()        # connected, backlog, delivered, batches, retries, last_delivery
    up.stop()

Batches (a CBOR array of [seq, record] per message, <= 128 KB) are pipelined up to
``max_inflight``; the store's durable cursor moves only over a contiguous prefix of batches
whose PUBACK arrived, so a link lost mid-drain resends from the first unacknowledged record
(at-least-once; consumers deduplicate by device, boot and seq). The publish rate is capped
(AWS IoT Core allows 100 publishes per second per connection). paho-mqtt is imported here only.
"""

import threading
import time

from .backoff import Backoff, RateCap
from .batcher import MAX_MESSAGE_BYTES, MAX_RECORDS, next_batch


class MqttUplink:
    def __init__(self, store, host, port=8883, topic="edge-ssre/events", client_id=None, qos=1,
                 ca=None, cert=None, key=None, username=None, password=None, keepalive=30,
                 max_inflight=16, rate_limit=100.0, max_message_bytes=MAX_MESSAGE_BYTES,
                 max_records=MAX_RECORDS, backoff=None, protocol="3.1.1"):
        import paho.mqtt.client as mqtt
        self._mqtt = mqtt
        self.store = store
        self.host, self.port, self.topic, self.qos = host, port, topic, qos
        self.max_inflight = max_inflight
        self.max_message_bytes = max_message_bytes
        self.max_records = max_records
        self.rate = RateCap(rate_limit) if rate_limit else None
        self.backoff = backoff or Backoff()
        proto = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or "", protocol=proto)
        self.client.max_inflight_messages_set(max_inflight)
        if ca or cert:
            self.client.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.keepalive = keepalive
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._inflight = {}        # mid -> (first_seq, last_seq, n)
        self._order = []           # mids in send order
        self._acked = set()
        self._early = set()        # PUBACKs that arrived before their mid was registered
        self._sent_upto = store.committed_seq
        self._generation = 0       # bumps on every (re)connect: acks of older links are ignored
        self.delivered = 0
        self.batches = 0
        self.retries = 0
        self.disconnects = 0
        self.last_delivery = None
        self.last_error = None

    # ---- paho callbacks (network thread) ------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if getattr(reason_code, "is_failure", False):
            self.last_error = "connect refused: %s" % reason_code
            return
        with self._lock:
            self._generation += 1
            self._inflight.clear()
            self._order = []
            self._acked.clear()
            self._early.clear()
            self._sent_upto = self.store.committed_seq  # resend everything not acknowledged
        self.backoff.reset()
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        if self._connected.is_set():
            self.disconnects += 1
        self._connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code=None, properties=None):
        with self._lock:
            if mid not in self._inflight:
                self._early.add(mid)
                return
            self._ack(mid)

    def _ack(self, mid):
        """Mark ``mid`` acknowledged and commit the contiguous acknowledged prefix (lock held)."""
        if True:
            self._acked.add(mid)
            upto = None
            while self._order and self._order[0] in self._acked:
                m = self._order.pop(0)
                self._acked.discard(m)
                first, last, n = self._inflight.pop(m)
                upto = last
                self.delivered += n
            if upto is not None:
                self.store.commit(upto)
                self.last_delivery = time.time()

    # ---- driving ------------------------------------------------------------------------
    def _connect(self):
        while not self._stop.is_set():
            try:
                self.client.connect(self.host, self.port, self.keepalive)
                return True
            except OSError as exc:
                self.last_error = "connect failed: %s" % exc
                self.retries += 1
                if self._stop.wait(self.backoff.next_delay()):
                    return False
        return False

    def _pump(self):
        """Send batches while connected and under the in-flight cap; returns when idle."""
        sent = False
        while self._connected.is_set() and not self._stop.is_set():
            with self._lock:
                if len(self._inflight) >= self.max_inflight:
                    break
                after = self._sent_upto
                gen = self._generation
            items, msg = next_batch(self.store, after, self.max_message_bytes, self.max_records)
            if not items:
                break
            if self.rate is not None:
                wait = self.rate.wait_time()
                if wait > 0 and self._stop.wait(wait):
                    break
            # publish outside our lock: paho may run callbacks on its own thread meanwhile
            info = self.client.publish(self.topic, msg, qos=self.qos)
            with self._lock:
                if info.rc != self._mqtt.MQTT_ERR_SUCCESS:
                    self.last_error = "publish failed: rc=%s" % info.rc
                    self._early.discard(info.mid)
                    break
                if gen != self._generation:
                    continue  # the link changed meanwhile: everything unacknowledged is resent
                self._inflight[info.mid] = (items[0][0], items[-1][0], len(items))
                self._order.append(info.mid)
                self._sent_upto = items[-1][0]
                self.batches += 1
                sent = True
                if info.mid in self._early:
                    self._early.discard(info.mid)
                    self._ack(info.mid)
        return sent

    def _run(self):
        self.client.loop_start()
        try:
            while not self._stop.is_set():
                if not self._connected.is_set():
                    self.client.disconnect()
                    if not self._connect():
                        break
                    if not self._connected.wait(5.0):
                        self.retries += 1
                        self._stop.wait(self.backoff.next_delay())
                        continue
                if not self._pump():
                    self._stop.wait(0.01)
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def start(self):
        self._thread = threading.Thread(target=self._run, name="edge-ssre-uplink", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=5.0):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def drain(self, timeout=30.0):
        """Wait until everything stored so far is delivered (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.store.stats()
            if st["backlog"] == 0:
                return True
            time.sleep(0.01)
        return False

    def metrics(self):
        st = self.store.stats()
        return {"connected": self._connected.is_set(), "backlog": st["backlog"], "delivered": self.delivered,
                "batches": self.batches, "retries": self.retries, "disconnects": self.disconnects,
                "inflight": len(self._inflight), "last_delivery": self.last_delivery,
                "last_error": self.last_error}
