"""``TelemetryGuard``: topic, size, format, schema and rate checks for MQTT telemetry.

Plugs into the inspection engine: ``Guard(telemetry=TelemetryGuard(policy))`` calls
``check(envelope, decoded, budget)`` for every message with a topic; findings have family
``telemetry`` and carry the rule's own action (the inspection policy may still override per
rule id or family, and alert-only mode applies). Rate tables have a fixed number of slots.
MicroPython-clean: the micro core's ``MicroGuard`` runs the same checks on a board.
"""

import time

try:
    from ..decode import sniff as _sniff
    from ..verdict import Finding
except (ImportError, ValueError):  # a board bundle: the core modules side by side in one package
    from . import sniff as _sniff  # type: ignore[no-redef]
    from .verdict import Finding  # type: ignore[no-redef]


def _monotonic():
    return time.ticks_ms() / 1000.0  # type: ignore[attr-defined]  # MicroPython


_CLOCK = getattr(time, "monotonic", None) or _monotonic

_FMT = {"json": (_sniff.JSON,), "cbor": (_sniff.CBOR,), "raw": (_sniff.TEXT, _sniff.BINARY)}


_BUFFERS = (bytes, bytearray, str)
_NONE = ()
TOPIC_CACHE = 8  # topics remembered with their levels and table lookups


def _add(out, finding):
    if out is _NONE:
        return [finding]
    out.append(finding)
    return out


class TelemetryGuard:
    def __init__(self, policy, clock=None):
        self.policy = policy
        self.clock = clock or _CLOCK
        self.clients, self.topics = policy.rate_tables()
        # topic -> (levels, denied, rule index): a device publishes to a few topics over and
        # over; remembering them spares a split and two filter-table walks per message
        self.known = {}

    def client_of(self, envelope, levels):
        if envelope.client_id is not None:
            return str(envelope.client_id)
        lvl = self.policy.client_id_level
        if lvl is not None and 0 <= lvl < len(levels):
            return levels[lvl]
        return None

    def _topic(self, topic):
        hit = self.known.get(topic)
        if hit is None:
            p = self.policy
            levels = topic.split("/")
            if len(topic) > p.max_topic_length or len(levels) > p.max_topic_levels:
                return levels, None, -1
            hit = (levels, p.deny.first(levels) >= 0, p.rule_table.first(levels))
            if len(self.known) >= TOPIC_CACHE:
                self.known.clear()
            self.known[topic] = hit
        return hit

    def check(self, envelope, decoded, budget):
        """Findings for one message (an empty tuple when there are none)."""
        topic = envelope.topic
        if topic is None:
            return _NONE
        p = self.policy
        levels, denied, idx = self._topic(topic)
        if denied is None:
            return [Finding("telemetry.topic_limits", "telemetry", "topic", topic[:96], "high", "block")]
        if denied:
            return [Finding("telemetry.topic_denied", "telemetry", "topic", topic[:96], "high", "block")]
        out = _NONE
        now = self.clock()
        client = self.client_of(envelope, levels)
        if client is not None and p.client_rate is not None and not self.clients.allow(client, now):
            out = _add(out, Finding("telemetry.rate_client", "telemetry", "client", client[:96], "medium", "block"))
        if idx < 0:
            if p.unknown_topics != "allow":
                out = _add(out, Finding("telemetry.topic_unknown", "telemetry", "topic", topic[:96], "medium",
                                        p.unknown_topics))
            return out
        rule = p.rules[idx]
        payload = envelope.payload
        size = len(payload) if isinstance(payload, _BUFFERS) else None
        if rule.max_bytes is not None and size is not None and size > rule.max_bytes:
            out = _add(out, Finding("telemetry.oversize", "telemetry", "payload",
                                    "%d bytes > %d" % (size, rule.max_bytes), "medium", rule.action))
        if rule.format != "any" and (isinstance(payload, bytes) or isinstance(payload, bytearray)):
            got = _sniff.sniff(bytes(payload[:4096]) if len(payload) > 4096 else bytes(payload))
            if got not in _FMT[rule.format]:
                out = _add(out, Finding("telemetry.format", "telemetry", "payload",
                                        "expected %s, got %s" % (rule.format, got), "medium", rule.action))
        rate = rule.rate or p.topic_rate
        if rate is not None and not self.topics.allow(topic, now, 1.0, rate[0], rate[1]):
            out = _add(out, Finding("telemetry.rate_topic", "telemetry", "topic", topic[:96], "medium", rule.action))
        if rule.schema.fields or rule.unknown_fields != "allow":
            doc = decoded.document if decoded is not None else None
            for kind, field, detail in rule.schema.check(doc):
                if kind == "unknown_field":
                    out = _add(out, Finding("telemetry.unknown_field", "telemetry", field, detail, "low",
                                            rule.unknown_fields))
                else:
                    out = _add(out, Finding("telemetry.schema", "telemetry", field, detail[:96], "medium",
                                            rule.action))
        return out
