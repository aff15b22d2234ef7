"""Drain the event store through Greengrass IPC ``publish_to_iot_core`` (when running as a component).

    up = GreengrassUplink(store, topic="edge-ssre/gw-17/events")   # awsiotsdk imported here only
    up.drain_once()   # send what is stored; the cursor moves after each acknowledged publish

``format`` is "cbor" (arrays of [seq, record], docs/EVENTS.md) or "ocsf" (JSON arrays of OCSF
Detection Findings, uplink/ocsf.py); ``set_format`` switches it between batches.

awsiotsdk's ``GreengrassCoreIPCClientV2.publish_to_iot_core`` returns once the nucleus has
accepted the message at the requested QoS (and raises when it has not); only then does the
durable cursor move. The nucleus spools to IoT Core while the device is offline when its
spooler is configured; edge_ssre's own store keeps the events either way.
"""

import time

from .batcher import reader

# AWS IoT Core's message limit; IPC adds no envelope of its own around the payload
MAX_MESSAGE_BYTES = 120 * 1024


def _qos_at_least_once():
    try:
        from awsiot.greengrasscoreipc.model import QOS
        return QOS.AT_LEAST_ONCE
    except ImportError:  # the SDK is what defines the constant; "1" is its wire value
        return "1"


class GreengrassUplink:
    def __init__(self, store, topic, client=None, max_records=1000, max_message_bytes=MAX_MESSAGE_BYTES,
                 format="cbor"):
        if client is None:
            from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2
            client = GreengrassCoreIPCClientV2()
        self.client = client
        self.store = store
        self.topic = topic
        self.max_records = max_records
        self.max_message_bytes = max_message_bytes
        self.qos = _qos_at_least_once()
        self.set_format(format)
        self.delivered = 0
        self.failures = 0
        self.last_error = None
        self.last_delivery = None

    def set_format(self, fmt):
        self._next_batch = reader(fmt)
        self.format = fmt

    def drain_once(self, max_batches=100):
        """Send up to ``max_batches`` batches; returns the number of records delivered."""
        sent = 0
        for _ in range(max_batches):
            items, msg = self._next_batch(self.store, self.store.committed_seq, self.max_message_bytes, self.max_records)
            if not items:
                break
            try:
                self.client.publish_to_iot_core(topic_name=self.topic, qos=self.qos, payload=msg)
            except Exception as exc:  # the SDK raises its own error types; all mean "not delivered"
                self.failures += 1
                self.last_error = "%s: %s" % (type(exc).__name__, exc)
                break
            self.store.commit(items[-1][0])
            self.delivered += len(items)
            sent += len(items)
            self.last_delivery = time.time()
        return sent
