"""``MicroGuard``: the guard's core for a microcontroller. MicroPython-clean.

One message in (topic, payload bytes, client id), one ``Verdict`` out, with the same stages as
``Guard`` at a smaller scale: size limit -> telemetry tables (topic filters, rates, schema) ->
decode (CBOR with ``cbor_lite``, JSON with the runtime's ``json``; one layer down, a JSON document
inside a string and a base64 value that encodes JSON, CBOR or text) -> signature scan of every string value and key (``scan.py``, the host-compiled
table) -> findings, written to the event ring on flash when a store path is given. Budgets come
from the table (the device profile): bytes, depth, leaves, layers, string size and a deadline.
Nothing raises out of ``inspect``: an internal error becomes a ``guard.error`` finding (alert),
so a bug in the guard never takes the device's MQTT loop down.

On a board (see README, "MicroPython")::

    from ssre.guard import MicroGuard
    guard = MicroGuard(store="/ssre.ring")
    client.set_callback(guard.wrap(on_message))   # umqtt.simple: blocked messages never reach on_message
"""

import json
import time

try:
    from ..decode import budget as _budget
    from ..decode import base64_layer, cbor_lite, sniff
    from ..envelope import Envelope
    from ..store import ring_buffer
    from ..telemetry.guard import TelemetryGuard
    from ..telemetry.tables import TelemetryPolicy
    from ..verdict import Finding, Verdict, excerpt_of, strongest
    from . import scan as _scan
except (ImportError, ValueError):  # a board bundle: the core modules side by side in one package
    from . import budget as _budget  # type: ignore[no-redef]
    from . import base64_layer, cbor_lite, sniff  # type: ignore[no-redef]
    from .envelope import Envelope  # type: ignore[no-redef]
    from . import ring_buffer  # type: ignore[no-redef]
    from .telemetry_guard import TelemetryGuard  # type: ignore[no-redef]
    from .tables import TelemetryPolicy  # type: ignore[no-redef]
    from .verdict import Finding, Verdict, excerpt_of, strongest  # type: ignore[no-redef]
    from . import scan as _scan  # type: ignore[no-redef]

VALUE, KEY = 0, 1
_ALLOW = None  # the shared verdict for a clean message (built on first use)


def _default_table():
    try:
        from . import rules_table  # type: ignore[attr-defined]
    except ImportError:
        rules_table = None
    if rules_table is None:
        raise ValueError("no micro rule table: build one with tools/build_micro.py")
    return rules_table


class MicroGuard:
    """Inspect MQTT messages on the device. ``table``: a table module (default ``rules_table``
    beside this one); ``store``: path of the event ring file (None: no store); ``clock``: a
    microsecond clock for the deadline (tests inject one)."""

    def __init__(self, table=None, store=None, clock=None, device="micro"):
        t = table or _default_table()
        self.table = t
        lim = t.LIMITS
        self.limits = _budget.Limits(max_bytes=lim[0], max_depth=lim[1], max_leaves=lim[2], max_layers=lim[3],
                                     max_string=lim[4], deadline_us=lim[5], clock_every=lim[6])
        self.rules = t.RULES
        self.scanner = _scan.Scanner(t)
        self.telemetry = None
        if t.TELEMETRY is not None:
            self.telemetry = TelemetryGuard(TelemetryPolicy.from_compiled(t.TELEMETRY, _scan.compile_pattern))
        self.device = device
        self.overwrite = True
        self.ring = None
        self.ring_file = None
        self.stats = [0, 0, 0]  # inspected, blocked, store errors
        # per-message working objects, reused (one message at a time)
        self._out = []
        self._budget = _budget.Budget(self.limits, clock)
        self._env = Envelope(None, "mqtt")
        self._decoded = _Decoded(None)
        # the walk stops past max_depth (a layer, JSON or base64 in a string, continues at its
        # string's depth), so the path never has more than max_depth + 1 parts
        self._path = [None] * (self.limits.max_depth + 2)
        if store is not None:
            self.open_store(store, t.STORE[0], t.STORE[2] == "overwrite")

    # -- the event ring on flash

    def open_store(self, path, capacity, overwrite=True):
        """Open (or create, preallocated) the ring file and recover it: a torn tail is dropped,
        acknowledged records are kept."""
        try:
            fh = open(path, "r+b")
            fresh = False
        except OSError:
            fh = open(path, "w+b")
            fresh = True
        # preallocate; a file cut short by a power loss gets its length back (zeros read as
        # "no record", so recovery stops at the torn record)
        size = fh.seek(0, 2)
        left = ring_buffer.DATA_START + capacity - size
        while left > 0:
            fh.write(b"\0" * (512 if left >= 512 else left))
            left -= 512
        fh.flush()
        ring = ring_buffer.Ring(fh, capacity, fh.flush)
        self.overwrite = overwrite
        if not fresh:
            try:
                ring.recover()
            except (ring_buffer.RingError, ValueError):
                # not a ring, or one of another size: keep it aside (nothing is destroyed) and
                # start a new one rather than leave the device unguarded
                fh.close()
                import os
                os.rename(path, path + ".bad")
                return self.open_store(path, capacity, overwrite)
        if fresh:
            ring.format()
        self.ring, self.ring_file = ring, fh

    def _record(self, topic, client_id, finding):
        rec = {"v": 1, "type": "finding", "device": self.device, "ts": time.time(), "rule": finding.rule_id,
               "family": finding.family, "action": finding.action, "severity": finding.severity,
               "source": "mqtt", "path": finding.path, "excerpt": finding.excerpt[:96]}
        if topic is not None:
            rec["topic"] = topic[:128]
        if client_id is not None:
            rec["client"] = str(client_id)[:64]
        try:
            seq, _ = self.ring.append(cbor_lite.dumps(rec), overwrite=self.overwrite)
            self.ring_file.flush()
            if seq is None:
                self.stats[2] += 1  # full, and told not to overwrite undelivered records
        except (OSError, ValueError, ring_buffer.RingError):
            self.stats[2] += 1  # a failing flash must not stop inspection

    def pending(self, limit=8):
        """Up to ``limit`` undelivered records as (seq, CBOR bytes), oldest first: publish them,
        then ``ack`` the last seq (records survive power loss until acknowledged)."""
        out = []
        if self.ring is None:
            return out
        for seq, rtype, payload in self.ring.iter_from(self.ring.committed + 1):
            if rtype == ring_buffer.T_DATA:
                out.append((seq, payload))
            if len(out) >= limit:
                break
        return out

    def ack(self, seq):
        """Records up to ``seq`` were delivered: their space may be reused."""
        if self.ring is not None:
            self.ring.commit(seq)
            self.ring_file.flush()

    # -- inspection

    def inspect(self, topic, payload, client_id=None):
        """The ``Verdict`` for one message; never raises."""
        self.stats[0] += 1
        try:
            findings = self._inspect(topic, payload, client_id)
        except Exception as exc:  # noqa: BLE001 - the device's loop must survive a guard bug
            findings = [Finding("guard.error", "limits", "", str(exc)[:96], "low", "alert")]
        if not findings:
            global _ALLOW
            if _ALLOW is None:
                _ALLOW = Verdict("allow", (), "mqtt")
            return _ALLOW
        if self.ring is not None:
            for f in findings:
                self._record(topic, client_id, f)
        v = Verdict(strongest([f.action for f in findings]), tuple(findings), "mqtt")
        if v.blocked:
            self.stats[1] += 1
        return v

    def _inspect(self, topic, payload, client_id):
        # One message at a time: the envelope, the decoded holder and the budget are the
        # guard's own objects, reset per message, so a clean message allocates little more than
        # its decoded document (the 2 KB target in docs/BENCHMARKS.md).
        lim = self.limits
        out = self._out
        del out[:]
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if len(payload) > lim.max_bytes:
            out.append(Finding("limits.bytes", "limits", "", "%d bytes > %d" % (len(payload), lim.max_bytes),
                               "medium", "block"))
            return out
        budget = self._budget
        budget.reset()
        doc = None
        kind = sniff.sniff(payload)
        try:
            doc = self._decode(payload, kind)
        except (ValueError, RuntimeError) as exc:  # malformed CBOR/JSON (json raises ValueError)
            out.append(Finding("limits.malformed", "limits", "", ("%s: %s" % (kind, exc))[:96], "medium", "block"))
        if self.telemetry is not None and topic is not None:
            env = self._env
            env.payload, env.topic, env.client_id = payload, topic, client_id
            self._decoded.document = doc
            found = self.telemetry.check(env, self._decoded, budget)
            env.payload = self._decoded.document = None
            if found:
                out.extend(found)
        if doc is not None:
            self._walk(doc, 0, 0, budget, out)
        elif kind == sniff.BINARY:
            self._leaf(payload, 0, VALUE, budget, out)
        for name, path, detail in budget.exceeded:
            out.append(Finding("limits." + name, "limits", path, detail[:96], "medium",
                               "alert" if name == _budget.DEADLINE else "block"))
        return out

    def _decode(self, data, kind):
        """The document in ``data`` (bytes sniffed as ``kind``): CBOR, JSON or text; None for
        binary. Raises ValueError/RuntimeError when it is malformed."""
        lim = self.limits
        if kind == sniff.CBOR:
            return cbor_lite.loads(data, lim.max_depth, lim.max_leaves * 4, lim.max_string)
        if kind == sniff.JSON:
            return json.loads(data)
        if kind == sniff.TEXT:
            return str(data, "utf-8")
        return None

    def _layer(self, text):
        """What a string value carries one layer down: a JSON document written into it, or what
        its base64 encodes (JSON, CBOR or readable text); None when it is just a string."""
        if text[0] in "{[" and text[-1] in "}]":
            try:
                inner = json.loads(text)
            except ValueError:
                return None
            return inner if type(inner) is dict or type(inner) is list else None
        if len(text) < base64_layer.MIN_LEN:
            return None
        raw = base64_layer.decode(text)
        if raw is None:
            return None
        try:
            return self._decode(raw, sniff.sniff(raw))
        except (ValueError, RuntimeError):
            return None

    def path(self, depth):
        """The dotted path of the leaf being walked (built only for a finding)."""
        out = ""
        for i in range(depth):
            k = self._path[i]
            if isinstance(k, int):
                out += "[%d]" % k
            else:
                out = out + "." + k if out else k
        return out

    def _walk(self, obj, depth, layers, budget, out):
        # the path is kept in a fixed list (self._path[:depth]), not built per leaf
        if depth > self.limits.max_depth:
            budget.exceed(_budget.DEPTH, self.path(depth), "nesting deeper than %d" % self.limits.max_depth)
            return
        t = type(obj)
        if t is dict:
            stack = self._path
            for k in obj:
                if budget.timed_out:
                    return
                if type(k) is str:
                    stack[depth] = k
                    self._leaf(k, depth + 1, KEY, budget, out)
                else:
                    stack[depth] = str(k)
                self._walk(obj[k], depth + 1, layers, budget, out)
        elif t is list:
            stack = self._path
            for i in range(len(obj)):
                if budget.timed_out:
                    return
                stack[depth] = i
                self._walk(obj[i], depth + 1, layers, budget, out)
        elif t is str or t is bytes:
            if t is str and len(obj) > 1 and layers < self.limits.max_layers:
                inner = self._layer(obj)
                if inner is not None:
                    self._walk(inner, depth, layers + 1, budget, out)
                    return
            self._leaf(obj, depth, VALUE, budget, out)

    def _leaf(self, text, depth, kind, budget, out):
        budget.leaves += 1
        if budget.leaves > self.limits.max_leaves:
            budget.exceed(_budget.LEAVES, "", "more than %d strings" % self.limits.max_leaves)
            budget.timed_out = True  # stop walking: the rest is not inspected
            return
        if not budget.tick():
            return
        if len(text) > self.limits.max_string:
            budget.exceed(_budget.STRING, self.path(depth),
                          "%d bytes inspected of %d" % (self.limits.max_string, len(text)))
            text = text[:self.limits.max_string]
        hits = self.scanner.scan(text, kind)
        for idx in hits:
            r = self.rules[idx]
            if isinstance(text, bytes):
                try:
                    text = str(text, "utf-8")
                except UnicodeError:
                    text = repr(text)
            out.append(Finding(r[0], r[1], self.path(depth), excerpt_of(text), r[2], r[6]))

    # -- MQTT callbacks

    def wrap(self, callback):
        """A ``(topic, msg)`` callback (umqtt.simple's ``set_callback``) that hands only
        messages the guard does not block to ``callback``."""
        def guarded(topic, msg):
            t = topic
            if isinstance(t, (bytes, bytearray)):
                try:
                    t = str(t, "utf-8")
                except UnicodeError:
                    t = repr(t)
            if not self.inspect(t, msg).blocked:
                callback(topic, msg)
        return guarded

    def close(self):
        if self.ring_file is not None:
            self.ring_file.close()
            self.ring_file = self.ring = None


class _Decoded:
    __slots__ = ("document",)

    def __init__(self, doc):
        self.document = doc
