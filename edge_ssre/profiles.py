"""Device profiles: one TOML per target in ``device_profiles/`` (or any path).

Sections (all optional except ``name``)::

    name = "raspberry-pi-4"
    description = "..."
    [limits]      # per-inspection budgets -> decode.budget.Limits
    [store]       # event store: capacity_bytes, durability, group_commit_ms, when_full
    [telemetry]   # fixed table sizes: client_slots, topic_slots
    [runtime]     # memory_mb, cpus (pinning), threads
    [policy]      # an inline inspection policy (same keys as a policy file)
    [micro]       # the MicroPython core's table (tools/build_micro.py): regex_cache slots,
                  # max_scan bytes per leaf, clean_cache slots (strings known clean),
                  # table_bytes budget, families to include

Each section's owner validates its keys; errors name the file, line and key.
"""

import os

from .decode.budget import Limits
from .errors import ProfileError

PROFILE_DIRS = (
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "device_profiles"),
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "device_profiles"),
)
SECTIONS = ("name", "description", "limits", "store", "telemetry", "runtime", "policy", "behavior", "uplink", "micro")

# key -> type, or (int, lowest, highest): every value is checked for type and range, with file,
# line and key in the error. 0 where a section does not apply to the target (no store on Lambda@Edge).
_GIB = 1 << 30
_STORE_KEYS = {"capacity_bytes": (int, 0, 1 << 40), "durability": str, "group_commit_ms": (int, 0, 60000),
               "when_full": str, "path": str}
_TELEMETRY_KEYS = {"client_slots": (int, 1, 1 << 20), "topic_slots": (int, 1, 1 << 20),
                   "max_topic_length": (int, 1, 65535), "max_topic_levels": (int, 1, 32768)}
_RUNTIME_KEYS = {"memory_mb": (int, 1, 1 << 20), "cpus": list, "threads": (int, 1, 1024),
                 "queue_depth": (int, 0, 65536)}
_MICRO_KEYS = {"regex_cache": (int, 0, 4096), "max_scan": (int, 0, 1 << 24), "clean_cache": (int, 0, 1 << 16),
               "table_bytes": (int, 0, _GIB), "families": list}
# per-inspection limits: at least 1, at most a bound past which the "limit" would bound nothing
_LIMIT_MAX = {"max_bytes": _GIB, "max_depth": 512, "max_leaves": 1 << 24, "max_layers": 16, "max_string": _GIB,
              "max_inflate_ratio": 100000, "max_inflated": _GIB, "deadline_us": 60 * 1000 * 1000,
              "clock_every": 1 << 16}


class Profile:
    __slots__ = ("name", "description", "path", "limits", "store", "telemetry", "runtime",
                 "policy", "micro", "raw")

    def __init__(self, name, description, path, limits, store, telemetry, runtime, policy, raw, micro=None):
        self.name = name
        self.description = description
        self.path = path
        self.limits = limits
        self.store = store
        self.telemetry = telemetry
        self.runtime = runtime
        self.policy = policy
        self.micro = micro or {}
        self.raw = raw

    def __repr__(self):
        return "Profile(%r)" % self.name


def available_profiles():
    names = set()
    from .rules.ruleset import compiled
    names.update(compiled().get("profiles", {}))
    for d in PROFILE_DIRS:
        if os.path.isdir(d):
            names.update(f[:-5] for f in os.listdir(d) if f.endswith(".toml"))
    return sorted(names)


def find_profile(name_or_path):
    s = os.fspath(name_or_path)
    if os.sep in s or s.endswith(".toml"):
        if not os.path.exists(s):
            raise ProfileError("%s: no such profile file" % s)
        return s
    for d in PROFILE_DIRS:
        p = os.path.join(d, s + ".toml")
        if os.path.exists(p):
            return p
    raise ProfileError("no device profile %r; known profiles: %s (or give a path to a .toml file)"
                       % (s, ", ".join(available_profiles()) or "none"))


def _compiled(name):
    """The shipped profile ``name`` from the host-compiled table (no TOML parser at start-up)."""
    from .rules.ruleset import COMPILED, compiled
    data = compiled().get("profiles", {}).get(name)
    return (data, COMPILED) if data is not None else (None, None)


def _same(name, path):
    """The shipped profile file is the one compiled (its CRC-32, as for the rule sources): file
    times cannot tell after a git checkout or an unpacked archive."""
    from .rules.ruleset import compiled, source_crc
    return compiled().get("profile_crc", {}).get(name) == source_crc([path])


def compile_profile_crcs():
    """name -> CRC-32 of every shipped profile file, stored beside the compiled profiles."""
    from .rules.ruleset import source_crc
    d = PROFILE_DIRS[0]
    if not os.path.isdir(d):
        return {}
    return {f[:-5]: source_crc([os.path.join(d, f)]) for f in sorted(os.listdir(d)) if f.endswith(".toml")}


def compile_profiles():
    """name -> parsed data of every shipped profile (validated), for tools/build_rules.py."""
    from .tomlload import load_toml
    out = {}
    d = PROFILE_DIRS[0]
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else ():
        if f.endswith(".toml"):
            load_profile(os.path.join(d, f))  # validates
            out[f[:-5]] = load_toml(os.path.join(d, f), error=ProfileError)[0]
    return out


def load_profile(name_or_path):
    """Load and validate a device profile by name or path."""
    s = os.fspath(name_or_path)
    is_name = not (os.sep in s or s.endswith(".toml"))
    if is_name:
        data, origin = _compiled(s)
        if data is not None:
            try:
                path = find_profile(s)
            except ProfileError:
                path = None
            if path is None or os.stat(path).st_mtime <= os.stat(origin).st_mtime or _same(s, path):
                return _build(data, "", "%s (compiled)" % s, path or origin)
    from .tomlload import load_toml
    path = find_profile(name_or_path)
    data, text, label = load_toml(path, error=ProfileError)
    return _build(data, text, label, path)


def _build(data, text, label, path):
    from .policy import Policy
    from .tomlload import Where
    where = Where(text, label, ProfileError)
    for key in data:
        if key not in SECTIONS:
            raise where.fail(key, "unknown section; expected one of %s" % ", ".join(SECTIONS))
    name = data.get("name")
    if not isinstance(name, str) or not name or "\x00" in name:
        raise where.fail("name", "every profile needs a non-empty name")
    if not isinstance(data.get("description", ""), str):
        raise where.fail("description", "must be a string")
    limits = _limits(data.get("limits", {}), where)
    store = _typed(data.get("store", {}), _STORE_KEYS, "store", where)
    telemetry = _typed(data.get("telemetry", {}), _TELEMETRY_KEYS, "telemetry", where)
    runtime = _typed(data.get("runtime", {}), _RUNTIME_KEYS, "runtime", where)
    micro = _typed(data.get("micro", {}), _MICRO_KEYS, "micro", where)
    from .rules.families import FAMILIES
    for fam in micro.get("families", ()):
        if fam not in FAMILIES:
            raise where.fail("micro.families", "unknown family %r; known: %s" % (fam, ", ".join(FAMILIES)))
    if "durability" in store and store["durability"] not in ("always", "group", "none"):
        raise where.fail("store.durability", "must be always, group or none")
    if "when_full" in store and store["when_full"] not in ("overwrite", "reject"):
        raise where.fail("store.when_full", "must be overwrite or reject")
    policy = None
    if "policy" in data:
        from .errors import PolicyError
        try:
            policy = Policy.from_dict(data["policy"], Where(text, label))
        except PolicyError as exc:
            raise ProfileError(str(exc)) from None
    return Profile(name, data.get("description", ""), path, limits, store, telemetry, runtime, policy, data, micro)


def _typed(table, spec, section, where):
    from .tomlload import describe, want_int
    if not isinstance(table, dict):
        raise where.fail(section, "must be a table")
    for key, val in table.items():
        want = spec.get(key)
        name = "%s.%s" % (section, key)
        if want is None:
            raise where.fail(name, "unknown key in [%s]; expected one of %s" % (section, ", ".join(sorted(spec))))
        if isinstance(want, tuple):
            want_int(where, name, val, want[1], want[2])
        elif not isinstance(val, want):
            raise where.fail(name, "must be %s, got %s" % ({str: "a string", list: "an array"}.get(want, want.__name__),
                                                         describe(val)))
        elif want is str and "\x00" in val:
            raise where.fail(name, "must not contain a NUL character")
    if section == "runtime":
        for cpu in table.get("cpus", ()):
            want_int(where, "runtime.cpus", cpu, 0, 4095, "CPU numbers")
    if section == "micro":
        for fam in table.get("families", ()):
            if not isinstance(fam, str):
                raise where.fail("micro.families", "must be an array of family names, got %s" % describe(fam))
    return dict(table)


def _limits(table, where):
    from .tomlload import want_int
    if not isinstance(table, dict):
        raise where.fail("limits", "must be a table")
    kw = {}
    for key, val in table.items():
        if key not in Limits.__slots__:
            raise where.fail("limits." + key, "unknown limit; expected one of %s" % ", ".join(Limits.__slots__))
        kw[key] = want_int(where, "limits." + key, val, 1, _LIMIT_MAX[key])
    return Limits(**kw)
