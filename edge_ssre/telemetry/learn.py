"""Learn a telemetry baseline from traffic and write it as a reviewable policy (TOML).

    edge-ssre learn --broker 127.0.0.1:1883 --input 'sensors/#' --duration 300 --out baseline.toml
    edge-ssre learn --capture capture.jsonl --out baseline.toml

Capture format: one JSON object per line, ``{"topic": ..., "payload_b64": ..., "client_id": ...,
"ts": <seconds>}``. Topic levels that carry ids (a digit in them) become ``+``; per topic filter
the baseline holds the payload format, a size limit, each field's type, numeric range (widened
by ``margin`` of the range), string length, small enums, and a rate limit (the 99th percentile of
messages per second, times ``rate_factor``). Memory is bounded: at most MAX_TOPICS filters,
MAX_FIELDS fields each and MAX_ENUM distinct strings per field are tracked.
"""

import base64
import json
import sys
import time

MAX_TOPICS = 256
MAX_FIELDS = 64
MAX_ENUM = 8


def generalize(topic):
    return "/".join("+" if any(c.isdigit() for c in lv) else lv for lv in topic.split("/"))


class FieldStats:
    __slots__ = ("types", "lo", "hi", "maxlen", "values", "count")

    def __init__(self):
        self.types, self.lo, self.hi, self.maxlen, self.values, self.count = set(), None, None, 0, set(), 0

    def add(self, v):
        self.count += 1
        if isinstance(v, bool):
            self.types.add("boolean")
        elif isinstance(v, (int, float)):
            self.types.add("integer" if isinstance(v, int) else "number")
            self.lo = v if self.lo is None else min(self.lo, v)
            self.hi = v if self.hi is None else max(self.hi, v)
        elif isinstance(v, str):
            self.types.add("string")
            self.maxlen = max(self.maxlen, len(v))
            if self.values is not None:
                self.values.add(v)
                if len(self.values) > MAX_ENUM:
                    self.values = None
        elif isinstance(v, dict):
            self.types.add("object")
        elif isinstance(v, list):
            self.types.add("array")


class TopicStats:
    __slots__ = ("count", "formats", "max_bytes", "fields", "per_second", "clients")

    def __init__(self):
        self.count, self.formats, self.max_bytes, self.fields = 0, set(), 0, {}
        self.per_second = {}

    def add(self, payload, ts):
        from ..decode import decode_event
        from ..decode.budget import Budget
        from ..decode.sniff import sniff
        self.count += 1
        self.max_bytes = max(self.max_bytes, len(payload))
        fmt = sniff(payload)
        self.formats.add({"json": "json", "cbor": "cbor"}.get(fmt, "raw"))
        sec = int(ts)
        self.per_second[sec] = self.per_second.get(sec, 0) + 1
        if len(self.per_second) > 3600:  # keep the last hour of per-second counts
            del self.per_second[min(self.per_second)]
        doc = decode_event(payload, "mqtt", Budget(), "t").document
        if isinstance(doc, dict):
            for k, v in doc.items():
                if not isinstance(k, str):
                    continue
                fs = self.fields.get(k)
                if fs is None:
                    if len(self.fields) >= MAX_FIELDS:
                        continue
                    fs = self.fields[k] = FieldStats()
                fs.add(v)


class Learner:
    def __init__(self):
        self.topics = {}
        self.clients_per_second = {}

    def observe(self, topic, payload, ts=None, client_id=None):
        ts = time.time() if ts is None else ts
        filt = generalize(topic)
        st = self.topics.get(filt)
        if st is None:
            if len(self.topics) >= MAX_TOPICS:
                return
            st = self.topics[filt] = TopicStats()
        st.add(payload if isinstance(payload, bytes) else bytes(payload), ts)

    def baseline(self, margin=0.1, rate_factor=2.0):
        """The policy as TOML text a person can review."""
        lines = ["# edge_ssre telemetry baseline, learned %s from %d message(s) on %d topic filter(s)."
                 % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), sum(t.count for t in self.topics.values()),
                    len(self.topics)),
                 "# Review it, then enforce with: edge-ssre run --config <sidecar.toml that includes this>", "",
                 "[telemetry]", 'unknown_topics = "block"', ""]
        for filt in sorted(self.topics):
            t = self.topics[filt]
            fmt = t.formats.pop() if len(t.formats) == 1 else "any"
            rates = sorted(t.per_second.values())
            p99 = rates[min(len(rates) - 1, int(len(rates) * 0.99))] if rates else 1
            rate = max(1.0, round(p99 * rate_factor, 1))
            lines += ["[[telemetry.topic]]", "filter = %s" % json.dumps(filt), "format = %s" % json.dumps(fmt),
                      "max_bytes = %d" % max(64, int(t.max_bytes * 1.5)), 'action = "block"',
                      'unknown_fields = "alert"', "rate = { rate = %s, burst = %s }" % (rate, max(2.0, rate * 2)),
                      "[telemetry.topic.fields]"]
            for name in sorted(t.fields):
                fs = t.fields[name]
                parts = []
                types = fs.types
                if types <= {"integer", "number"} and types:
                    parts.append('type = "number"')
                    span = (fs.hi - fs.lo) if fs.hi is not None else 0
                    pad = span * margin if span else max(1.0, abs(fs.hi or 0) * margin)
                    parts.append("min = %s" % _num(fs.lo - pad))
                    parts.append("max = %s" % _num(fs.hi + pad))
                elif types == {"string"}:
                    parts.append('type = "string"')
                    # ids (values with digits) vary by device: a length limit, not an enum
                    if (fs.values is not None and fs.count >= 20 and len(fs.values) <= MAX_ENUM
                            and not any(c.isdigit() for v in fs.values for c in v)):
                        parts.append("enum = [%s]" % ", ".join(json.dumps(v) for v in sorted(fs.values)))
                    else:
                        parts.append("max_length = %d" % max(8, fs.maxlen * 2))
                elif len(types) == 1:
                    parts.append('type = "%s"' % next(iter(types)))
                else:
                    parts.append('type = "any"')
                if fs.count == t.count:
                    parts.append("required = true")
                lines.append("%s = { %s }" % (_key(name), ", ".join(parts)))
            lines.append("")
        return "\n".join(lines)


def _num(x):
    return repr(round(float(x), 4))


def _key(name):
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def from_capture(path, learner):
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                payload = base64.b64decode(row["payload_b64"])
                learner.observe(row["topic"], payload, row.get("ts"), row.get("client_id"))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError("%s:%d: not a capture line (%s)" % (path, n, exc)) from None


def from_broker(host, port, inputs, duration, learner, connect_timeout=10.0):
    """Observe live traffic for ``duration`` seconds (the sidecar's MQTT client, standard library).
    The publisher's client id is read from the MQTT 5 user property ``client_id`` when present."""
    import threading
    from ..transports.mqtt_wire import Client, user_property
    lock = threading.Lock()
    errors = []

    def on_message(topic, payload, qos, retain, mid, props):
        with lock:
            learner.observe(topic, payload, None, user_property(props, "client_id"))

    c = Client(host, port, on_connect=lambda cl: cl.subscribe(list(inputs), qos=0), on_message=on_message,
               log=errors.append)
    c.start()
    try:
        if not c.wait_connected(connect_timeout):
            from ..errors import BrokerError
            raise BrokerError.not_reached(host, port, connect_timeout, errors[-1] if errors else None)
        time.sleep(duration)
    finally:
        c.stop()


def main(args):
    learner = Learner()
    if args.capture:
        from_capture(args.capture, learner)
    elif args.broker:
        host, _, port = args.broker.rpartition(":")
        from_broker(host, int(port), args.input or ["#"], args.duration, learner)
    else:
        sys.stderr.write("edge-ssre: learn needs --broker HOST:PORT or --capture FILE\n")
        return 2
    text = learner.baseline(args.margin, args.rate_factor)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0
