"""Compiled telemetry tables: topic rules, filter tables and fixed-size rate tables.
MicroPython-clean: a board builds them from the plain data a host compiled (``from_compiled``);
``policy.py`` builds them from TOML on the host. ``TelemetryGuard`` matches against them.
"""

from .rate_table import RateTable  # siblings here and in a board bundle alike
from .schema import Schema
from .topic_filter import FilterTable, compile_filter

DEFAULT_DENY = ("$SYS/#", "$aws/#")


class TopicRule:
    __slots__ = ("filter", "levels", "format", "max_bytes", "action", "unknown_fields", "rate", "schema")

    def __init__(self, filt, fmt, max_bytes, action, unknown_fields, rate, schema):
        self.filter = filt
        self.levels = compile_filter(filt)
        self.format = fmt
        self.max_bytes = max_bytes
        self.action = action
        self.unknown_fields = unknown_fields
        self.rate = rate
        self.schema = schema


class TelemetryPolicy:
    """Compiled telemetry tables (fixed sizes); ``TelemetryGuard`` matches against them."""

    __slots__ = ("rules", "rule_table", "deny", "unknown_topics", "max_topic_length", "max_topic_levels",
                 "client_rate", "topic_rate", "client_slots", "topic_slots", "client_id_level", "origin")

    def __init__(self, rules=(), deny=DEFAULT_DENY, unknown_topics="allow", max_topic_length=256,
                 max_topic_levels=16, client_rate=None, topic_rate=None, client_slots=1024, topic_slots=1024,
                 client_id_level=None, origin="<default>"):
        self.rules = tuple(rules)
        self.rule_table = FilterTable([r.filter for r in self.rules])
        self.deny = FilterTable(deny)
        self.unknown_topics = unknown_topics
        self.max_topic_length = max_topic_length
        self.max_topic_levels = max_topic_levels
        self.client_rate = client_rate
        self.topic_rate = topic_rate
        self.client_slots = client_slots
        self.topic_slots = topic_slots
        self.client_id_level = client_id_level
        self.origin = origin

    def rate_tables(self):
        """Fresh fixed-size tables for this policy (client, topic)."""
        c = RateTable(self.client_slots, *(self.client_rate or (1e9, 1e9)))
        t = RateTable(self.topic_slots, *(self.topic_rate or (1e9, 1e9)))
        return c, t

    def to_compiled(self, pattern=None):
        """Plain data (tuples, numbers, strings) a board rebuilds the tables from; ``pattern``
        turns a field's compiled regex into what the board compiles (None drops the check)."""
        rules = []
        for r in self.rules:
            fields = tuple(f[:6] + ((pattern(f[6]) if pattern else None) if f[6] is not None else None, f[7])
                           for f in r.schema.fields)
            rules.append((r.filter, r.format, r.max_bytes, r.action, r.unknown_fields, r.rate, fields))
        return (tuple(rules), tuple("/".join(f) for f in self.deny.filters), self.unknown_topics, self.max_topic_length,
                self.max_topic_levels, self.client_rate, self.topic_rate, self.client_slots, self.topic_slots,
                self.client_id_level)

    @classmethod
    def from_compiled(cls, data, compile_pattern=None):
        """The tables from ``to_compiled()`` data; ``compile_pattern`` compiles a field pattern."""
        rules, deny, unknown, max_len, max_levels, client_rate, topic_rate, c_slots, t_slots, level = data
        out = []
        for filt, fmt, max_bytes, action, unknown_fields, rate, fields in rules:
            fs = []
            for f in fields:
                rx = f[6]
                if rx is not None:
                    rx = compile_pattern(rx) if compile_pattern else None
                fs.append(tuple(f[:6]) + (rx, f[7]))
            out.append(TopicRule(filt, fmt, max_bytes, action, unknown_fields, rate, Schema(fs, unknown_fields)))
        return cls(out, tuple(deny), unknown, max_len, max_levels, client_rate, topic_rate, c_slots, t_slots,
                   level, "<compiled>")
