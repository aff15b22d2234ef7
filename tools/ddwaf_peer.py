"""The libddwaf peer (Datadog's WAF core, shipped in PyPI ``ddtrace``) for tools/evaluate.py and tools/bench_inspect.py.

    peer = DdwafPeer.load()            # never raises; peer.reason says why it is missing
    if peer.available:
        rule_ids = peer.scan(payload)  # ids of the rules that triggered (empty tuple: clean)

The WAF is called directly, with no web framework and no tracer: one fresh request
context per payload, fed the address set a real request carrying the payload in one
parameter would give (``server.request.query``, ``server.request.body``,
``server.request.path_params``), with ddtrace's own default ``rules.json``.

ddtrace's binding (``ddtrace.appsec._ddwaf``) is private API; this adapter is written
against ddtrace 4.x (libddwaf 2.x). When the import or the call shape fails, the peer
reports the reason instead of crashing the tool.
"""

import json
import os

# The tracer must stay inert: no agent, no telemetry, no remote configuration (no network).
_QUIET_ENV = {
    "DD_TRACE_ENABLED": "false",
    "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
    "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    "DD_APPSEC_ENABLED": "false",
    "DD_TRACE_STARTUP_LOGS": "false",
}

# Generous per-call WAF budget (ddtrace's default is 5 ms) so that timeouts do not
# cost the peer detections; timeouts are still counted.
PEER_TIMEOUT_MS = 50.0


def request_addresses(payload, name="q"):
    """The libddwaf addresses of a request carrying ``payload`` in parameter ``name``
    of its query string, its JSON/form body and its path parameters."""
    return {
        "server.request.query": {name: [payload]},
        "server.request.body": {name: payload},
        "server.request.path_params": {name: payload},
    }


class DdwafPeer:
    """libddwaf with ddtrace's default rules; ``available`` False with a ``reason`` when not loadable."""

    name = "libddwaf"

    def __init__(self):
        self.available = False
        self.reason = None
        self.versions = {}
        self.rule_types = {}   # rule id -> tags.type from rules.json (sql_injection, xss, ...)
        self.timeouts = 0
        self.last_waf_us = 0.0  # libddwaf's own run time of the last scan (excludes the ctypes binding)
        self._waf = None

    @classmethod
    def load(cls):
        peer = cls()
        try:
            peer._load()
        except Exception as exc:  # any failure leaves a peer that explains itself
            peer.available = False
            peer.reason = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return peer

    def _load(self):
        for key, value in _QUIET_ENV.items():
            os.environ.setdefault(key, value)
        try:
            import ddtrace
        except ImportError:
            self.reason = ("ddtrace is not installed: pip install -e '.[bench]' "
                           "(PyPI ddtrace ships libddwaf and its default rules.json)")
            return
        self.versions["ddtrace"] = getattr(ddtrace, "__version__", "?")
        try:
            from ddtrace.appsec._ddwaf import DDWaf
            import ddtrace.appsec as appsec
        except Exception as exc:
            self.reason = "ddtrace %s is installed but libddwaf did not load (%s: %s)" % (
                self.versions["ddtrace"], type(exc).__name__, exc)
            return
        try:
            from ddtrace.appsec._ddwaf.ddwaf_types import ddwaf_get_version
            self.versions["libddwaf"] = ddwaf_get_version().decode()
        except Exception:
            self.versions["libddwaf"] = "?"
        rules_path = os.path.join(os.path.dirname(appsec.__file__), "rules.json")
        with open(rules_path, "rb") as fh:
            raw = fh.read()
        doc = json.loads(raw)
        self.versions["rules"] = (doc.get("metadata") or {}).get("rules_version", "?")
        self.rule_types = {r.get("id"): (r.get("tags") or {}).get("type", "?") for r in doc.get("rules", ())}
        waf = DDWaf(raw, b"", b"")
        if not waf.initialized:
            self.reason = "libddwaf rejected ddtrace's rules.json: %s" % (waf.info,)
            return
        self.versions["rules_loaded"] = waf.info.loaded
        self.versions["rules_failed"] = waf.info.failed
        self._waf = waf
        self.scan("warm-up")  # fail here, not inside the tool's loop, when the call shape changed
        self.available = True

    def scan(self, payload, name="q"):
        """Ids of the rules that triggered on a request carrying ``payload`` (one fresh context)."""
        return self.scan_addresses(request_addresses(payload, name))

    def scan_addresses(self, addresses):
        """Ids of the rules that triggered on one request given as libddwaf addresses (one fresh context)."""
        waf = self._waf
        ctx = waf._at_request_start()
        result = waf.run(ctx, addresses, timeout_ms=PEER_TIMEOUT_MS)
        self.last_waf_us = result.runtime
        if result.timeout:
            self.timeouts += 1
        if result.return_code < 0:
            raise RuntimeError("libddwaf returned error %d" % result.return_code)
        return tuple(event["rule"]["id"] for event in (result.data or ()))

    def describe(self):
        """One line naming what was measured (or why nothing was)."""
        if not self.available:
            return "libddwaf peer missing: %s" % self.reason
        v = self.versions
        return "libddwaf %s (ddtrace %s, rules.json %s, %s rules)" % (
            v.get("libddwaf"), v.get("ddtrace"), v.get("rules"), v.get("rules_loaded"))
