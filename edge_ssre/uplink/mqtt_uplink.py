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
(AWS IoT Core allows 100 publishes per second per connection).

The connection is the sidecar's own MQTT client (``transports/mqtt_wire.py``: standard library,
``ssl`` for TLS with the device certificate): it reconnects with this uplink's backoff and resends
the batches still open, in order, so the cursor only ever moves over what the broker acknowledged.
A connection counts as good (the backoff starts over) only once the broker acknowledged a batch
on it, or it had nothing to send: a broker that accepts the connection and then drops it at the
first publish (AWS IoT Core does so for a publish its policy denies) gets ever longer waits, not a
reconnect storm. ``stop`` returns within its timeout even when the broker stopped reading.
"""

import collections
import threading
import time

from .. import guard_threads
from .backoff import Backoff, RateCap
from .batcher import MAX_MESSAGE_BYTES, MAX_RECORDS, reader


class MqttUplink:
    def __init__(self, store, host, port=8883, topic="edge-ssre/events", client_id=None, qos=1,
                 ca=None, cert=None, key=None, username=None, password=None, keepalive=30,
                 max_inflight=16, rate_limit=100.0, max_message_bytes=MAX_MESSAGE_BYTES,
                 max_records=MAX_RECORDS, backoff=None, protocol="3.1.1", format="cbor"):
        from ..transports.mqtt_wire import Client
        self.store = store
        self.host, self.port, self.topic, self.qos = host, port, topic, min(1, int(qos))
        self.max_inflight = max_inflight
        self.max_message_bytes = max_message_bytes
        self.max_records = max_records
        self._next_batch = reader(format)  # "cbor" or "ocsf" (JSON OCSF Detection Findings)
        self.rate = RateCap(rate_limit) if rate_limit else None
        self.backoff = backoff or Backoff()
        tls = {"ca": ca, "cert": cert, "key": key} if (ca or cert) else None
        self.client = Client(host, port, client_id or "", v5=protocol == "5", keepalive=keepalive, tls=tls,
                             username=username, password=password, on_connect=self._on_connect,
                             on_disconnect=self._on_disconnect, log=self._log, backoff=self.backoff,
                             auto_good=False)
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._open = collections.deque()  # (Sent or None when already done, first_seq, last_seq, n), send order
        self._sent_upto = store.committed_seq
        self.delivered = 0
        self.batches = 0
        self.disconnects = 0
        self.last_delivery = None
        self.last_error = None

    @property
    def retries(self):
        return self.client.connect_failures

    # ---- the client's reader thread ---------------------------------------------------------
    def _on_connect(self, client):
        self._connected.set()
        if not self._open and self.store.stats()["backlog"] == 0:
            client.mark_good()  # nothing to prove it with: an idle link counts as good

    def _on_disconnect(self, client, reason):
        self.disconnects += 1
        self.last_error = reason
        self._connected.clear()

    def _log(self, text):
        self.last_error = text

    # ---- driving ------------------------------------------------------------------------
    def _settle(self):
        """Commit the contiguous prefix of batches the broker acknowledged."""
        with self._lock:
            upto = None
            while self._open and (self._open[0][0] is None or self._open[0][0].done):
                _, first, last, n = self._open.popleft()
                upto = last
                self.delivered += n
            if upto is not None:
                self.store.commit(upto)
                self.last_delivery = time.time()
                self.client.mark_good()  # an acknowledged batch: this connection is good

    def _pump(self):
        """Send batches while connected and under the in-flight cap; returns whether any went."""
        sent_any = False
        while self._connected.is_set() and not self._stop.is_set() and len(self._open) < self.max_inflight:
            items, msg = self._next_batch(self.store, self._sent_upto, self.max_message_bytes, self.max_records)
            if not items:
                break
            if self.rate is not None:
                wait = self.rate.wait_time()
                if wait > 0 and self._stop.wait(wait):
                    break
            try:
                sent = self.client.publish(self.topic, msg, qos=self.qos)
            except ValueError as exc:  # larger than the broker takes
                self.last_error = "publish failed: %s" % exc
                break
            if sent is False:  # QoS 0 without a connection
                break
            with self._lock:
                # QoS 1: the client keeps the batch (and resends it after a reconnect) until acknowledged
                self._open.append((None if sent is True else sent, items[0][0], items[-1][0], len(items)))
            self._sent_upto = items[-1][0]
            self.batches += 1
            sent_any = True
        return sent_any

    def _run(self):
        self.client.start()
        try:
            while not self._stop.is_set():
                self._settle()
                if not self._connected.is_set():
                    self._stop.wait(0.05)
                    continue
                if not self._pump():
                    self.client.wait_acked(0.01)
            self._settle()
        finally:
            self.client.stop()

    def start(self):
        self._thread = guard_threads.start(self._run, "edge-ssre-uplink")
        return self

    def stop(self, timeout=5.0):
        """Stop within ``timeout`` seconds: a publish blocked on a broker that stopped reading is
        cut short by closing the connection under it."""
        end = time.monotonic() + timeout
        self._stop.set()
        if self._thread is not None:
            self._thread.join(min(1.0, timeout))
            if self._thread.is_alive():
                self.client.stop(max(0.0, end - time.monotonic()))
                self._thread.join(max(0.0, end - time.monotonic()))

    def drain(self, timeout=30.0, while_delivering=False):
        """Wait until everything stored so far is delivered (True) or ``timeout`` passes; with
        ``while_delivering``, give up (False) as soon as the link is down or nothing was delivered
        for 2 s (a stopping sidecar: what is not delivered stays in the store for the next run)."""
        deadline = time.monotonic() + timeout
        moved_at, last = time.monotonic(), None
        while time.monotonic() < deadline:
            st = self.store.stats()
            if st["backlog"] == 0:
                return True
            if while_delivering:
                now = time.monotonic()
                if st["committed_seq"] != last:
                    moved_at, last = now, st["committed_seq"]
                if not self._connected.is_set() or now - moved_at > 2.0:
                    return False
            time.sleep(0.01)
        return False

    def metrics(self):
        st = self.store.stats()
        return {"connected": self._connected.is_set(), "backlog": st["backlog"], "delivered": self.delivered,
                "batches": self.batches, "retries": self.retries, "disconnects": self.disconnects,
                "inflight": len(self._open), "last_delivery": self.last_delivery,
                "last_error": self.last_error}
