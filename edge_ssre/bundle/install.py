"""Verify, record and apply bundles on a device.

    trust = TrustStore.load("/etc/edge-ssre/bundle.pub")          # provisioned out of band
    inst = Installer(trust, "/var/lib/edge-ssre/bundle.state", identity=Identity("gw-17", ["gateways"]))
    accepted = inst.install(open("site.bundle", "rb").read())     # BundleError when refused
    apply(accepted, guard)                                        # one swap of the guard's configuration

``verify`` has no side effects. ``install`` takes the state file's lock, verifies against the state
(versions only go forward), keeps the accepted bundle as ``<state dir>/<name>.bundle`` (replaced
atomically) and then raises the recorded version, so a crash at any point leaves the state at or
above every version reported accepted, and the kept copy old or new, never a mix. A refused bundle
changes nothing and, when an event store is given, becomes a ``policy.rejected`` security event.
"""

import os
import time

from .format import BundleError, MEMBER_TYPES, RULE_SOURCE, parse, parse_time, version_tuple
from .state import Locked, State, load as load_state, replace_file
from .trust import key_from_dict

SUFFIX = ".bundle"


class Identity:
    """Who this device is, for a bundle's ``targets``: its name, its groups and its profile."""

    __slots__ = ("device", "groups", "profile")

    def __init__(self, device=None, groups=(), profile=None):
        self.device = device
        self.groups = tuple(groups)
        self.profile = profile


def targets_match(targets, identity):
    """A bundle with no targets is for every device. ``devices`` and ``groups`` name who it is for
    (this device by name, or a group it is in); ``profiles``, when given, must hold its profile."""
    devices, groups, profiles = (targets.get(k, []) for k in ("devices", "groups", "profiles"))
    identity = identity or Identity()
    if (devices or groups) and identity.device not in devices and not set(identity.groups) & set(groups):
        return False
    return not profiles or identity.profile in profiles


class Accepted:
    """A verified bundle and the configuration objects built from its members."""

    __slots__ = ("bundle", "signers", "policy", "telemetry", "behavior", "profile", "ruleset")

    def __init__(self, bundle, signers):
        self.bundle = bundle
        self.signers = signers
        self.policy = self.telemetry = self.behavior = self.profile = self.ruleset = None

    def to_dict(self):
        m = self.bundle.manifest
        return {"name": m["name"], "version": m["version"], "created": m["created"], "expires": m["expires"],
                "digest": self.bundle.digest, "signers": self.signers, "members": sorted(m["members"])}


def _edge_ssre_version():
    from .. import __version__
    return __version__


class Verifier:
    """Checks bundles against a trust store, a state and this device's identity."""

    def __init__(self, trust, identity=None, clock=time.time, base_profile=None):
        self.trust = trust
        self.identity = identity
        self.clock = clock
        self.base_profile = base_profile

    def trusted_keys(self, state):
        keys = dict(self.trust.keys)
        for keyid, d in state.keys_added.items():
            keys[keyid] = key_from_dict(d)
        for keyid in state.keys_revoked:
            keys.pop(keyid, None)
        return keys

    def verify(self, data, state=None, allow_current=False):
        """An ``Accepted`` for bundle bytes, or ``BundleError`` saying why not. ``allow_current``
        accepts the very bundle the state recorded last (a restart re-applying it)."""
        from .trust import check_signatures
        state = state or State()
        bundle = parse(data)
        m = bundle.manifest
        signers = check_signatures(bundle, self.trusted_keys(state), state.keys_revoked, self.trust.threshold)
        if version_tuple(m["requires"]) > version_tuple(_edge_ssre_version()):
            raise BundleError("requires", "needs edge_ssre %s or newer (this is %s)"
                              % (m["requires"], _edge_ssre_version()))
        now = max(int(self.clock()), state.time_floor)
        if parse_time(m["expires"], "expires") <= now:
            raise BundleError("expired", "expired at %s" % m["expires"])
        if not targets_match(m.get("targets", {}), self.identity):
            raise BundleError("target", "the bundle targets %s; this device is %s"
                              % (_describe(m.get("targets", {})), _describe_identity(self.identity)))
        have = state.versions.get(m["name"], 0)
        current = allow_current and m["version"] == have and state.digests.get(m["name"]) == bundle.digest
        if m["version"] <= have and not current:
            raise BundleError("rollback", "version %d of %s is not newer than the installed version %d"
                              % (m["version"], m["name"], have))
        accepted = Accepted(bundle, signers)
        build_config(accepted, self.base_profile)
        return accepted


def build_config(accepted, base_profile=None):
    """Parse every member into the object it configures; ``member-invalid`` names the member and line."""
    from ..errors import SsreError
    bundle = accepted.bundle
    label = "bundle %s v%d" % (bundle.name, bundle.version)
    texts = {}
    try:
        for name in sorted(bundle.manifest["members"]):
            data = bundle.member(name)
            if name == "rules.json":
                accepted.ruleset = _ruleset_from_table(data, label)
                continue
            try:
                texts[name] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise BundleError("member-invalid", "%s: %s is not UTF-8 text" % (label, name)) from None
        where = lambda n: "%s: %s" % (label, n)  # noqa: E731
        if "profile.toml" in texts:
            accepted.profile = _profile(texts["profile.toml"], where("profile.toml"), base_profile)
        profile = accepted.profile or base_profile
        if "policy.toml" in texts:
            from ..policy import Policy
            accepted.policy = Policy.load(where("policy.toml"), texts["policy.toml"])
        if "telemetry.toml" in texts:
            from ..telemetry.policy import TelemetryPolicy
            accepted.telemetry = TelemetryPolicy.load(where("telemetry.toml"), texts["telemetry.toml"], profile)
        if "behavior.toml" in texts:
            from ..behavior.policy import BehaviorPolicy
            accepted.behavior = BehaviorPolicy.load(where("behavior.toml"), texts["behavior.toml"])
        sources = sorted(n for n in texts if RULE_SOURCE.match(n))
        if sources:
            accepted.ruleset = _ruleset_from_sources([(where(n), texts[n]) for n in sources])
    except BundleError:
        raise
    except (SsreError, ValueError, KeyError, TypeError) as exc:
        raise BundleError("member-invalid", str(exc)[:400]) from None
    return accepted


def _ruleset_from_table(data, label):
    import json
    from ..rules.matchers import MATCHERS
    from ..rules.ruleset import Ruleset, _specs_from_table
    try:
        table = json.loads(data.decode("utf-8"))
        if table.get("format") != 3:
            raise ValueError("rule table format %r; this edge_ssre reads 3" % (table.get("format"),))
        return Ruleset(_specs_from_table(table), MATCHERS, table["prepared"])
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise BundleError("member-invalid", "%s: rules.json: %s" % (label, str(exc)[:200])) from None


def _ruleset_from_sources(files):
    from ..errors import RuleError
    from ..rules.matchers import MATCHERS
    from ..rules.ruleset import Ruleset
    from ..rules.spec import parse_rules
    from ..tomlload import load_toml
    specs = []
    for label, text in files:
        data, _, _ = load_toml(label, text, error=RuleError)
        specs.extend(parse_rules(data, label, MATCHERS))
    return Ruleset(specs, MATCHERS)


def _profile(text, label, base):
    """The running profile with the bundle's sections merged over it (a key in the bundle wins)."""
    from ..errors import ProfileError
    from ..profiles import _build
    from ..tomlload import load_toml
    over, _, _ = load_toml(label, text, error=ProfileError)
    merged = dict(base.raw) if base is not None else {"name": "bundle"}
    for key, val in over.items():
        if isinstance(val, dict) and isinstance(merged.get(key), dict):
            merged[key] = dict(merged[key], **val)
        else:
            merged[key] = val
    return _build(merged, text, label, getattr(base, "path", None))


def _describe(targets):
    parts = ["%s %s" % (k, ",".join(targets[k])) for k in ("devices", "groups", "profiles") if targets.get(k)]
    return "; ".join(parts) or "every device"


def _describe_identity(identity):
    if identity is None or (identity.device is None and not identity.groups and identity.profile is None):
        return "unnamed (give --device/--group/--profile)"
    return "device %s, groups %s, profile %s" % (identity.device, ",".join(identity.groups) or "-", identity.profile)


def load_packaged(data, trust=None, clock=time.time, base_profile=None):
    """A bundle packaged with the function (Lambda@Edge, where nothing outlives a call): it was
    verified against the trust store and the pipeline's state when the zip was built
    (``tools/package_lambda_edge.py --bundle``); at cold start its structure, member hashes, expiry
    and members are checked again, and its signatures too when ``trust`` is given (that needs the
    cryptography package in the zip, which a viewer function's 1 MB limit does not allow)."""
    bundle = parse(data)
    if trust is not None:
        from .trust import check_signatures
        check_signatures(bundle, dict(trust.keys), set(), trust.threshold)
    if parse_time(bundle.manifest["expires"], "expires") <= clock():
        raise BundleError("expired", "expired at %s" % bundle.manifest["expires"])
    return build_config(Accepted(bundle, []), base_profile)


class Installer(Verifier):
    """Verifies against the state file, keeps the accepted bundle beside it and raises the version."""

    def __init__(self, trust, state_path, identity=None, events=None, clock=time.time, base_profile=None,
                 log=None):
        Verifier.__init__(self, trust, identity, clock, base_profile)
        self.state_path = os.fspath(state_path)
        self.events = events    # an EventStore (or anything with append(bytes)) for policy.rejected
        self.log = log

    def kept_path(self, name):
        return os.path.join(os.path.dirname(os.path.abspath(self.state_path)), name + SUFFIX)

    def state(self):
        return load_state(self.state_path)

    def check(self, data):
        """Verify against the current state without installing."""
        try:
            return self.verify(data, self.state())
        except BundleError as exc:
            self._rejected(exc, data)
            raise

    def install(self, data):
        """Verify, keep and record; returns the ``Accepted`` bundle (``BundleError`` when refused)."""
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.state_path)), exist_ok=True)
            with Locked(self.state_path):
                state = self.state()
                accepted = self.verify(data, state)
                m = accepted.bundle.manifest
                replace_file(self.kept_path(m["name"]), bytes(data))
                state.versions[m["name"]] = m["version"]
                state.digests[m["name"]] = accepted.bundle.digest
                state.time_floor = max(state.time_floor, parse_time(m["created"], "created"))
                keys = m.get("keys", {})
                for k in keys.get("add", []):
                    state.keys_added[k["keyid"]] = k
                    state.keys_revoked.discard(k["keyid"])
                for keyid in keys.get("revoke", []):
                    state.keys_added.pop(keyid, None)
                    state.keys_revoked.add(keyid)
                replace_file(self.state_path, state.to_bytes())
        except BundleError as exc:
            self._rejected(exc, data)
            raise
        if self.log:
            self.log("bundle %s version %d accepted" % (m["name"], m["version"]))
        return accepted

    def installed(self):
        """The kept bundles that the state still vouches for, in name order (what a restart applies).
        A kept copy newer than the state (a crash between keeping it and recording it) is installed
        now; one the state does not vouch for is refused and reported."""
        out = []
        d = os.path.dirname(os.path.abspath(self.state_path))
        try:
            names = sorted(f for f in os.listdir(d) if f.endswith(SUFFIX))
        except OSError:
            return out
        state = self.state()
        for f in names:
            try:
                with open(os.path.join(d, f), "rb") as fh:
                    data = fh.read()
                accepted = self.verify(data, state, allow_current=True)
                m = accepted.bundle.manifest
                if m["version"] > state.versions.get(m["name"], 0):
                    accepted = self.install(data)  # kept but not yet recorded: record it now
                out.append(accepted)
            except BundleError as exc:
                self._rejected(exc, None, f)
            except OSError:
                continue
        return out

    def status(self):
        st = self.state()
        return {"state": self.state_path, "versions": st.versions, "digests": st.digests,
                "time_floor": st.time_floor, "keys_added": sorted(st.keys_added),
                "keys_revoked": sorted(st.keys_revoked), "trusted": sorted(self.trusted_keys(st))}

    def _rejected(self, exc, data, origin=None):
        name = version = None
        try:
            import json
            m = json.loads(bytes(data).decode("ascii"))["manifest"] if data is not None else {}
            name, version = str(m.get("name"))[:64], m.get("version")
        except Exception:
            pass
        if self.log:
            self.log("bundle %s refused: %s" % (origin or name or "?", exc))
        if self.events is not None:
            from ..store.record import encode, policy_record
            try:
                self.events.append(encode(policy_record(exc.reason, exc.detail, name, version,
                                                        getattr(self.identity, "device", None) or "")))
            except Exception:
                pass  # the store counts its own losses


def apply(accepted, guard=None, monitor=None):
    """Swap the accepted configuration into a running guard (and behaviour monitor). A new ruleset's
    patterns are compiled first, so no event pays for them inside its deadline."""
    if guard is not None:
        if accepted.ruleset is not None:
            accepted.ruleset.compile_all()
        limits = accepted.profile.limits if accepted.profile is not None else None
        telemetry = None
        if accepted.telemetry is not None:
            from ..telemetry.guard import TelemetryGuard
            telemetry = TelemetryGuard(accepted.telemetry)
        guard.reload(policy=accepted.policy, ruleset=accepted.ruleset, limits=limits, telemetry=telemetry)
    if monitor is not None and accepted.behavior is not None:
        monitor.reload(accepted.behavior)
