"""Telemetry policy: TOML (or a dict) -> compiled tables. Host side (uses tomllib and ``re``).

A ``[telemetry]`` table, in a policy file or the sidecar's config::

    [telemetry]
    unknown_topics = "block"          # topics no rule matches: block | alert | allow
    deny = ["$SYS/#", "$aws/#"]       # never accepted from devices (this is the default)
    max_topic_length = 256
    max_topic_levels = 16
    client_rate = { rate = 50, burst = 100 }   # messages/s per client id
    topic_rate = { rate = 200, burst = 400 }   # messages/s per topic
    client_slots = 1024               # fixed table sizes (else from the device profile)
    topic_slots = 1024

    [[telemetry.topic]]
    filter = "sensors/+/telemetry"
    format = "cbor"                   # json | cbor | raw | any
    max_bytes = 1024
    action = "block"                  # what a violation of this rule does: block | alert
    unknown_fields = "alert"          # fields the schema does not name: allow | alert | block
    rate = { rate = 10, burst = 20 }  # per topic, overrides topic_rate
    [telemetry.topic.fields]
    temp = { type = "number", min = -40, max = 85, required = true }
    status = { type = "string", enum = ["ok", "warn", "fault"] }
    dev = { type = "string", max_length = 32, pattern = "^[a-z0-9-]{1,32}$" }

Errors name the file, line and key.
"""

import re

from .schema import TYPES, Schema
from .tables import DEFAULT_DENY, TopicRule
from .tables import TelemetryPolicy as _Tables
from .topic_filter import compile_filter

FORMATS = ("json", "cbor", "raw", "any")
ACTIONS = ("block", "alert")
_TOP = ("unknown_topics", "deny", "max_topic_length", "max_topic_levels", "client_rate", "topic_rate",
        "client_slots", "topic_slots", "topic", "client_id_level")
_RULE = ("filter", "format", "max_bytes", "action", "unknown_fields", "rate", "fields")
_FIELD = ("type", "min", "max", "enum", "max_length", "pattern", "required")


class TelemetryPolicy(_Tables):
    """``[telemetry]`` TOML or a dict -> the compiled tables of ``tables.py``."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, data, where=None, profile=None):
        from ..tomlload import Where
        where = where or Where("", "<dict>")
        if not isinstance(data, dict):
            raise where.fail("telemetry", "must be a table")
        for k in data:
            if k not in _TOP:
                raise where.fail(k, "unknown key in [telemetry]; expected one of %s" % ", ".join(_TOP))
        sizes = getattr(profile, "telemetry", {}) or {}
        unknown = _choice(data, "unknown_topics", ("block", "alert", "allow"), "allow", where)
        deny = data.get("deny", list(DEFAULT_DENY))
        if not isinstance(deny, list) or not all(isinstance(x, str) for x in deny):
            raise where.fail("deny", "must be an array of topic filters")
        for f in deny:
            _filter(f, "deny", where)
        rules = []
        entries = data.get("topic", [])
        if not isinstance(entries, list):
            raise where.fail("topic", "must be an array of tables ([[telemetry.topic]])")
        for n, ent in enumerate(entries):
            rules.append(_rule(ent, n, where))
        level = data.get("client_id_level")
        if level is not None and (not isinstance(level, int) or isinstance(level, bool) or not 0 <= level < 32768):
            raise where.fail("client_id_level", "must be a topic level number from 0 (the first) to 32767, got %r"
                             % (level,))
        return cls(
            rules, tuple(deny), unknown,
            _int(data, "max_topic_length", sizes.get("max_topic_length", 256), where),
            _int(data, "max_topic_levels", sizes.get("max_topic_levels", 16), where),
            _rate(data.get("client_rate"), "client_rate", where),
            _rate(data.get("topic_rate"), "topic_rate", where),
            _int(data, "client_slots", sizes.get("client_slots", 1024), where),
            _int(data, "topic_slots", sizes.get("topic_slots", 1024), where),
            data.get("client_id_level"), where.label)

    @classmethod
    def load(cls, path=None, text=None, profile=None):
        from ..tomlload import Where, load_toml
        data, text, label = load_toml(path, text)
        if "telemetry" in data:
            data = data["telemetry"]
        return cls.from_dict(data, Where(text, label), profile)


def for_topics(policy_path=None, profile=None):
    """The telemetry checks for messages with a topic, as the sidecar applies them: the
    ``[telemetry]`` table of the policy file at ``policy_path`` when it has one, else the defaults
    (``DEFAULT_DENY``: ``$SYS/#`` and ``$aws/#`` denied; topic length and level limits; no schema,
    no rate limits, unknown topics allowed)."""
    from ..tomlload import Where, load_toml
    if policy_path is not None:
        data, text, label = load_toml(policy_path)
        if "telemetry" in data:
            return TelemetryPolicy.from_dict(data["telemetry"], Where(text, label), profile)
    return TelemetryPolicy.from_dict({}, None, profile)


def _choice(d, key, allowed, default, where):
    v = d.get(key, default)
    if v not in allowed:
        raise where.fail(key, "must be one of %s, got %r" % (", ".join(allowed), v))
    return v


_INT_MAX = {"max_topic_length": 65535, "max_topic_levels": 32768, "client_slots": 1 << 20, "topic_slots": 1 << 20}


def _int(d, key, default, where):
    v = d.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > _INT_MAX.get(key, 1 << 30):
        raise where.fail(key, "must be an integer from 1 to %d, got %r" % (_INT_MAX.get(key, 1 << 30), v))
    return v


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _rate(v, key, where):
    if v is None:
        return None
    if not isinstance(v, dict) or set(v) - {"rate", "burst"} or not _num(v.get("rate")) or v["rate"] <= 0:
        raise where.fail(key, "must be { rate = <msgs/s>, burst = <msgs> } with rate > 0")
    burst = v.get("burst", max(1, v["rate"]))
    if not _num(burst) or burst < 1:
        raise where.fail(key, "burst must be a number >= 1")
    return (float(v["rate"]), float(burst))


def _filter(f, key, where):
    try:
        compile_filter(f)
    except ValueError as exc:
        raise where.fail(key, str(exc)) from None


def _rule(ent, n, where):
    if not isinstance(ent, dict):
        raise where.fail("topic", "entry %d must be a table" % n)
    for k in ent:
        if k not in _RULE:
            raise where.fail(k, "unknown key in [[telemetry.topic]] entry %d; expected one of %s" % (n, ", ".join(_RULE)))
    filt = ent.get("filter")
    if not isinstance(filt, str):
        raise where.fail("filter", "entry %d needs a topic filter" % n)
    _filter(filt, "filter", where)
    fmt = _choice(ent, "format", FORMATS, "any", where)
    max_bytes = ent.get("max_bytes")
    if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1):
        raise where.fail("max_bytes", "must be a positive integer, got %r" % (max_bytes,))
    action = _choice(ent, "action", ACTIONS, "block", where)
    unknown = _choice(ent, "unknown_fields", ("allow", "alert", "block"), "allow", where)
    fields = []
    table = ent.get("fields", {})
    if not isinstance(table, dict):
        raise where.fail("fields", "must be a table of field = { type = ... }")
    for name, spec in table.items():
        fields.append(_field(name, spec, where))
    return TopicRule(filt, fmt, max_bytes, action, unknown, _rate(ent.get("rate"), "rate", where),
                     Schema(fields, unknown))


def _field(name, spec, where):
    if not isinstance(spec, dict):
        raise where.fail(name, "must be an inline table like { type = \"number\", min = 0 }")
    for k in spec:
        if k not in _FIELD:
            raise where.fail(name + "." + k, "unknown key for field %r; expected one of %s" % (name, ", ".join(_FIELD)))
    t = spec.get("type", "any")
    if t not in TYPES:
        raise where.fail(name + ".type", "field %r: type must be one of %s" % (name, ", ".join(TYPES)))
    lo, hi = spec.get("min"), spec.get("max")
    for k, v in (("min", lo), ("max", hi)):
        if v is not None and not _num(v):
            raise where.fail(name + "." + k, "field %r: must be a number" % name)
    enum = spec.get("enum")
    if enum is not None and not isinstance(enum, list):
        raise where.fail(name + ".enum", "field %r: must be an array" % name)
    max_len = spec.get("max_length")
    if max_len is not None and (not isinstance(max_len, int) or max_len < 0):
        raise where.fail(name + ".max_length", "field %r: must be a non-negative integer" % name)
    pattern = spec.get("pattern")
    rx = None
    if pattern is not None:
        from ..rules.spec import unbounded_repetition
        if not isinstance(pattern, str):
            raise where.fail(name + ".pattern", "field %r: must be a string" % name)
        at = unbounded_repetition(pattern)
        if at >= 0:
            raise where.fail(name + ".pattern", "field %r: repeats without a bound at offset %d; use {m,n}" % (name, at))
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise where.fail(name + ".pattern", "field %r: does not compile: %s" % (name, exc)) from None
    req = spec.get("required", False)
    if not isinstance(req, bool):
        raise where.fail(name + ".required", "field %r: must be true or false" % name)
    return (tuple(str(name).split(".")), t, lo, hi, tuple(enum) if enum is not None else None, max_len, rx, req)
