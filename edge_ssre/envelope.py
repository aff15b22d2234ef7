"""The internal message type every adapter produces. MicroPython-clean.

Third-party types (paho messages, awsiotsdk events, Lambda event dicts) become an
``Envelope`` at the left edge of the data path and go no further.
"""

SOURCES = ("auto", "mqtt", "lambda-edge", "lambda", "raw")


class Envelope:
    """One event to inspect.

    ``payload`` is ``bytes``, ``str``, ``dict`` or ``list``; ``source`` one of
    ``SOURCES``; ``topic`` the MQTT topic or HTTP route; ``client_id`` the MQTT
    client id or viewer address; ``meta`` a small dict for adapter details
    (qos, retain, user properties, request id).
    """

    __slots__ = ("payload", "source", "topic", "client_id", "meta")

    def __init__(self, payload, source="auto", topic=None, client_id=None, meta=None):
        self.payload = payload
        self.source = source
        self.topic = topic
        self.client_id = client_id
        self.meta = meta

    def __repr__(self):
        return "Envelope(source=%r, topic=%r, client_id=%r)" % (self.source, self.topic, self.client_id)
