"""``Guard``: decode -> inspect -> verdict. The one place that applies policy actions.

    guard = Guard()                                # built-in rules, default policy
    guard = Guard.from_profile("raspberry-pi-4")   # a device_profiles/*.toml name, or a path
    v = guard.inspect(event, source="auto", topic=None, client_id=None)

``inspect`` never raises: undecodable input, exhausted budgets and even internal
errors become findings (family ``limits``), so the protected function never
crashes because of the guard.
"""

from . import decode as _decode
from .decode import child as _child
from .decode.budget import Budget, DEFAULT_LIMITS
from .envelope import Envelope, SOURCES
from .policy import DEFAULT_POLICY, Policy
from .verdict import ALLOW, BLOCK, OFF, Finding, Verdict, strongest

MAX_FINDINGS = 32  # findings kept per inspection (the verdict says when more were cut)

_LIMIT_SEVERITY = {"deadline": "medium", "malformed": "medium", "string": "low", "internal": "medium"}
# Budgets that a large but honest event can hit alert by default (a policy may still block them);
# the others (bytes, depth, leaves, layers, inflate, malformed) take the policy's action.
_LIMIT_ACTION = {"deadline": "alert", "string": "alert", "internal": "alert"}


class Guard:
    """Inspects events; immutable parts (ruleset, policy, limits) are swapped whole on reload.

    ``telemetry`` is an optional checker with ``check(envelope, decoded, budget)``
    returning findings (the telemetry guard); ``sink`` is an optional callable
    ``sink(verdict, envelope)`` called for every verdict with findings (the event store).
    """

    __slots__ = ("ruleset", "policy", "limits", "telemetry", "sink", "clock", "profile")

    def __init__(self, policy=None, limits=None, ruleset=None, telemetry=None, sink=None,
                 clock=None, profile=None):
        if ruleset is None:
            from .rules import default_ruleset
            ruleset = default_ruleset()
        if isinstance(policy, (str, bytes)) or hasattr(policy, "__fspath__"):
            policy = Policy.load(policy)
        elif isinstance(policy, dict):
            policy = Policy.from_dict(policy)
        self.policy = policy or DEFAULT_POLICY
        self.limits = limits or (profile.limits if profile is not None else DEFAULT_LIMITS)
        self.ruleset = ruleset
        self.telemetry = telemetry
        self.sink = sink
        self.clock = clock
        self.profile = profile

    @classmethod
    def from_profile(cls, profile, **kw):
        """A guard sized by a device profile (a name in ``device_profiles/`` or a path)."""
        from .profiles import load_profile
        prof = load_profile(profile) if not hasattr(profile, "limits") else profile
        if "policy" not in kw and prof.policy is not None:
            kw["policy"] = prof.policy
        return cls(profile=prof, **kw)

    def reload(self, policy=None, ruleset=None, limits=None, telemetry=None):
        """Swap in a new policy/ruleset/limits/telemetry checker (each built fully before the swap)."""
        if isinstance(policy, dict):
            policy = Policy.from_dict(policy)
        elif policy is not None and not isinstance(policy, Policy):
            policy = Policy.load(policy)
        if policy is not None:
            self.policy = policy
        if ruleset is not None:
            self.ruleset = ruleset
        if limits is not None:
            self.limits = limits
        if telemetry is not None:
            self.telemetry = telemetry

    def inspect(self, event, source="auto", topic=None, client_id=None):
        """Inspect one event; returns a ``Verdict`` and never raises."""
        return self._inspect(event, source, topic, client_id, None)

    def inspect_envelope(self, env):
        return self._inspect(env.payload, env.source, env.topic, env.client_id, env)

    def _inspect(self, payload, source, topic, client_id, env):
        # the Envelope is built only for the telemetry checker and the sink, which take one
        budget = Budget(self.limits, self.clock)
        findings = []
        hits = []
        src = source if source in SOURCES else "raw"
        nleaves = 0
        try:
            if source not in SOURCES:
                budget.exceed("malformed", "", "unknown source %r; expected one of %s"
                              % (source, ", ".join(SOURCES)))
            decoded = _decode.decode_event(payload, src, budget, topic)
            src = decoded.source
            nleaves = len(decoded.leaves)
            self.ruleset.scan_leaves(decoded.leaves, budget, self.limits.max_string, hits)
            if hits:
                pending, hits = hits, None
                self._add_hits(pending, findings, topic)
            if self.telemetry is not None:
                if env is None:
                    env = Envelope(payload, source, topic, client_id)
                for f in self.telemetry.check(env, decoded, budget):
                    self._add(findings, f, topic)
        except Exception as exc:  # the guard must never crash the function it protects
            if hits:  # what fired before the error still counts
                self._add_hits(hits, findings, topic)
            budget.exceed("internal", "", "%s: %s" % (type(exc).__name__, exc))
        for name, path, detail in budget.exceeded:
            sev = _LIMIT_SEVERITY.get(name, "high")
            self._add(findings, Finding("limits." + name, "limits", path, detail[:96], sev,
                                        _LIMIT_ACTION.get(name)), topic)
        if not findings:
            return Verdict(ALLOW, (), src, nleaves, budget.timed_out, budget.clock() - budget.start)
        verdict = Verdict(strongest([f.action for f in findings]), findings, src, nleaves, budget.timed_out,
                          budget.clock() - budget.start)
        if self.sink is not None:
            if env is None:
                env = Envelope(payload, source, topic, client_id)
            try:
                self.sink(verdict, env)
            except Exception:
                pass  # a failing sink must not change the verdict; the store counts its own losses
        return verdict

    def _add_hits(self, hits, findings, topic):
        """Findings for the rule hits of ``Ruleset.scan_leaves``; a key's path is built only here."""
        for path, key, rule_id, family, severity, excerpt in hits:
            if key is not None:
                path = _child(path, key)
            self._add(findings, Finding(rule_id, family, path, excerpt, severity), topic)

    def _add(self, findings, finding, topic):
        act = self.policy.decide(finding, topic)
        if act == OFF:
            return
        for f in findings:
            if f.rule_id == finding.rule_id and f.path == finding.path:
                return
        if len(findings) >= MAX_FINDINGS:
            return
        findings.append(finding.with_action(act))


def inspect(event, source="auto", topic=None, client_id=None):
    """Inspect with a shared default ``Guard`` (built on first use)."""
    global _default_guard
    if _default_guard is None:
        _default_guard = Guard()
    return _default_guard.inspect(event, source, topic, client_id)


_default_guard = None
__all__ = ["Guard", "inspect", "ALLOW", "BLOCK"]
