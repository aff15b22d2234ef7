"""Inspection policy: what to do with each finding.

TOML form (every key optional)::

    mode = "enforce"            # or "alert-only": never block, only alert
    default_action = "block"    # for families not listed below
    [families]
    ssrf = "alert"              # block | alert | off
    [rules]
    "sqli.fragment" = "off"     # per rule id, wins over the family
    [[allow]]                   # allowlist entries: a finding matching all given keys is dropped
    path = "Records[*].Sns.Message.html"   # glob over the leaf path (* matches within a segment, ** any)
    topic = "cms/+/pages"       # MQTT filter over the topic
    families = ["xss"]          # default: every family
    rules = []                  # default: every rule
"""

from .errors import PolicyError
from .telemetry.topic_filter import compile_filter, matches
from .verdict import ALERT, BLOCK, OFF

ACTIONS = (BLOCK, ALERT, OFF)
MODES = ("enforce", "alert-only")


def topic_matches(filt, topic):
    """MQTT filter match (``+`` one level, ``#`` the rest; wildcards at the first level never match a
    ``$`` topic, MQTT 3.1.1 4.7.2): the telemetry filters' one implementation."""
    return topic is not None and matches(compile_filter(filt), topic.split("/"))


def path_matches(pattern, path):
    """Glob over leaf paths: ``*`` any run without ``.``, ``**`` any run, ``[*]`` any index."""
    return _glob(pattern, 0, path, 0)


def _glob(p, i, s, j):
    while i < len(p):
        c = p[i]
        if c == "*":
            if p.startswith("**", i):
                rest = i + 2
                for k in range(j, len(s) + 1):
                    if _glob(p, rest, s, k):
                        return True
                return False
            rest = i + 1
            k = j
            while True:
                if _glob(p, rest, s, k):
                    return True
                if k >= len(s) or s[k] == ".":
                    return False
                k += 1
        if j >= len(s) or s[j] != c:
            return False
        i += 1
        j += 1
    return j == len(s)


class AllowEntry:
    __slots__ = ("path", "topic", "families", "rules", "_levels")

    def __init__(self, path=None, topic=None, families=(), rules=()):
        self.path = path
        self.topic = topic
        self._levels = compile_filter(topic) if topic is not None else None
        self.families = tuple(families)
        self.rules = tuple(rules)

    def covers(self, finding, topic):
        if self.families and finding.family not in self.families:
            return False
        if self.rules and finding.rule_id not in self.rules:
            return False
        if self.path is not None and not path_matches(self.path, finding.path):
            return False
        if self._levels is not None and (topic is None or not matches(self._levels, topic.split("/"))):
            return False
        return True


class Policy:
    """Frozen after construction; a reload builds a new one."""

    __slots__ = ("mode", "default_action", "families", "rules", "allow", "origin")

    def __init__(self, mode="enforce", default_action=BLOCK, families=None, rules=None,
                 allow=(), origin="<default>"):
        self.mode = mode
        self.default_action = default_action
        self.families = dict(families or {})
        self.rules = dict(rules or {})
        self.allow = tuple(allow)
        self.origin = origin

    def action_for(self, rule_id, family, proposed=None):
        """Action before the global mode: rule table, family table, the checker's own, default."""
        act = self.rules.get(rule_id)
        if act is None:
            act = self.families.get(family)
        if act is None:
            act = proposed or self.default_action
        return act

    def decide(self, finding, topic=None):
        """The action for one finding after rules, families, mode and allowlists; OFF drops it."""
        act = self.action_for(finding.rule_id, finding.family, finding.action)
        if act == OFF:
            return OFF
        for entry in self.allow:
            if entry.covers(finding, topic):
                return OFF
        if act == BLOCK and self.mode == "alert-only":
            return ALERT
        return act

    @classmethod
    def from_dict(cls, data, where=None):
        """Build from a parsed dict (``where`` names the file for errors)."""
        from .tomlload import Where
        where = where or Where("", "<dict>")
        if not isinstance(data, dict):
            raise PolicyError("%s: a policy is a table of keys, got %s" % (where.label, type(data).__name__))
        known = ("mode", "default_action", "families", "rules", "allow", "telemetry", "behavior")
        for key in data:
            if key not in known:
                raise where.fail(key, "unknown key; expected one of %s" % ", ".join(known))
        mode = data.get("mode", "enforce")
        if mode not in MODES:
            raise where.fail("mode", "must be one of %s, got %r" % (", ".join(MODES), mode))
        default = data.get("default_action", BLOCK)
        if default not in ACTIONS:
            raise where.fail("default_action", "must be block, alert or off, got %r" % (default,))
        families = _action_table(data.get("families", {}), "families", where)
        rules = _action_table(data.get("rules", {}), "rules", where)
        from .rules.families import FAMILIES
        for fam in families:
            if fam not in FAMILIES:
                raise where.fail("families." + fam, "unknown family; known: %s" % ", ".join(FAMILIES))
        allow = []
        entries = data.get("allow", [])
        if not isinstance(entries, list):
            raise where.fail("allow", "must be an array of tables ([[allow]])")
        for n, ent in enumerate(entries):
            if not isinstance(ent, dict):
                raise where.fail("allow", "entry %d must be a table" % n)
            for key in ent:
                if key not in ("path", "topic", "families", "rules"):
                    raise where.fail("allow." + key, "unknown key in [[allow]] entry %d" % n)
            if "path" not in ent and "topic" not in ent and "families" not in ent and "rules" not in ent:
                raise where.fail("allow", "entry %d allows everything; give path, topic, families or rules" % n)
            for key in ("path", "topic"):
                if key in ent and not isinstance(ent[key], str):
                    raise where.fail("allow." + key, "must be a string")
            if "topic" in ent:
                try:
                    compile_filter(ent["topic"])
                except ValueError as exc:
                    raise where.fail("allow.topic", "not an MQTT topic filter: %s" % exc) from None
            for key in ("families", "rules"):
                if key in ent and not (isinstance(ent[key], list) and all(isinstance(x, str) for x in ent[key])):
                    raise where.fail("allow." + key, "must be an array of strings")
            allow.append(AllowEntry(ent.get("path"), ent.get("topic"), ent.get("families", ()), ent.get("rules", ())))
        return cls(mode, default, families, rules, allow, where.label)

    @classmethod
    def load(cls, path=None, text=None):
        """Load a TOML policy file; errors name the file, line and key."""
        from .tomlload import Where, load_toml
        data, text, label = load_toml(path, text)
        return cls.from_dict(data, Where(text, label))


def _action_table(table, name, where):
    if not isinstance(table, dict):
        raise where.fail(name, "must be a table")
    out = {}
    for key, act in table.items():
        if act not in ACTIONS:
            raise where.fail(key, "action must be block, alert or off, got %r" % (act,))
        out[key] = act
    return out


DEFAULT_POLICY = Policy()
