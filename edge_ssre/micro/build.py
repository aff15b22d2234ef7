"""Host side: rule data, policy and a device profile -> the micro core's table module.

The table is a plain ``.py`` data module (tuples of str/bytes/numbers; ``mpy-cross`` compiles it
like any other module), so a board loads it without parsing TOML or JSON::

    PROFILE, DIGEST     where it came from
    LIMITS              (max_bytes, max_depth, max_leaves, max_layers, max_string, deadline_us, clock_every)
    STORE               (capacity_bytes, durability, when_full)
    MICRO               (regex_cache, max_scan, clean_cache)
    TELEMETRY           telemetry tables as plain data (telemetry/tables.py) or None
    RULES               (id, family, severity, view, kind mask, plain, action, spans) rows
    BLOB                every pattern's text, one bytes object
    PREFILTER           per view: the prefilter literals, grouped by key byte (``_prefilter``)

Every small object costs a header on a board, so pattern text sits in one ``BLOB`` and a rule's
``spans`` are small ints into it: ``0, start, end`` for a pattern, or ``k, prefix start, prefix
end, suffix start, suffix end`` and ``k`` body spans for an alternation split into ``k``
patterns. The prefilter literals likewise sit in one bytes object per view (``_prefilter``). A
needle with a space at an end also counts at that end of the text, so it is listed twice.

``spans`` are the rule's patterns translated for MicroPython's ``re`` (``translate.py``). A
rule whose pattern cannot be translated, or that is a code matcher (the SQL tokenizer, the HTML
tag tokenizer, the internal-address matcher), is left out; ``build_table`` reports which and why,
per family. Only value and key leaves exist on a board, so the kind mask keeps those two bits.
"""

from ..rules.spec import KINDS, VIEWS
from .translate import Untranslatable, translate

import os

TABLE_FORMAT = 2
MAX_RULES = 255  # owners are bytes
# the packaged table (packaged rules, esp32-micropython profile): MicroGuard's default on CPython,
# written by tools/build_rules.py
DEFAULT_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules_table.py")


class TableReport:
    __slots__ = ("included", "omitted", "approximate", "patterns", "source_bytes", "families", "fields_dropped")

    def __init__(self):
        self.included = []        # rule ids in the table
        self.omitted = {}         # rule id -> why it is not
        self.approximate = []     # rule ids whose translation may match more than the original
        self.patterns = 0         # compiled patterns the rows stand for
        self.source_bytes = 0     # bytes of the generated module
        self.families = {}        # family -> [in the table, rules]
        self.fields_dropped = []  # telemetry field patterns a board cannot run

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}


def _kind_mask(spec):
    mask = 0
    if KINDS["value"] in spec.kinds:
        mask |= 1
    if KINDS["key"] in spec.kinds:
        mask |= 2
    return mask


def _entries_count(entries):
    return sum(1 if isinstance(e, bytes) else len(e[2]) for e in entries)


def build_table(specs, profile, policy=None, telemetry=None, digest=""):
    """``(module source, TableReport)`` for ``specs`` under ``profile`` (a ``Profile``).
    ``policy`` (``Policy``) sets each rule's action; ``telemetry`` (``TelemetryPolicy``) adds the
    telemetry tables."""
    from ..policy import DEFAULT_POLICY
    policy = policy or profile.policy or DEFAULT_POLICY
    micro = profile.micro
    families = set(micro.get("families") or ())
    report = TableReport()
    rows = []
    for s in specs:
        fam = report.families.setdefault(s.family, [0, 0])
        fam[1] += 1
        why = None
        mask = _kind_mask(s)
        if families and s.family not in families:
            why = "family not in the profile's [micro] families"
        elif not mask:
            why = "applies to no value or key leaf"
        elif s.pattern is None:
            why = "code matcher %r (CPython only)" % s.matcher
        else:
            try:
                entries, approx = translate(s.pattern)
            except Untranslatable as exc:
                why = "pattern: %s" % exc
        if why is not None:
            report.omitted[s.id] = why
            continue
        if approx:
            report.approximate.append(s.id)
        fam[0] += 1
        report.included.append(s.id)
        report.patterns += _entries_count(entries)
        rows.append((s.id, s.family, s.severity, VIEWS.index(s.view), mask, 1 if s.plain else 0,
                     policy.action_for(s.id, s.family), entries, tuple(n.encode("utf-8") for n in s.needs)))
    if len(rows) > MAX_RULES:
        from ..errors import ProfileError
        raise ProfileError("%s: %d rules for the micro table, at most %d" % (profile.name, len(rows), MAX_RULES))
    blob, rows = _spans(rows)
    lim = profile.limits
    store = profile.store
    tele = None
    if telemetry is not None:
        def field_pattern(rx):
            try:
                entries, _ = translate(rx.pattern, fold=False)
                if len(entries) == 1 and isinstance(entries[0], bytes):
                    return entries[0].decode("utf-8")
            except (Untranslatable, UnicodeError):
                pass
            report.fields_dropped.append(rx.pattern)
            return None
        tele = telemetry.to_compiled(field_pattern)
    lines = [
        '"""Micro rule table for %s, generated by tools/build_micro.py. Do not edit."""' % profile.name,
        "FORMAT = %d" % TABLE_FORMAT,
        "PROFILE = %r" % profile.name,
        "DIGEST = %r" % digest,
        "LIMITS = %r" % ((lim.max_bytes, lim.max_depth, lim.max_leaves, lim.max_layers, lim.max_string,
                          lim.deadline_us, lim.clock_every),),
        "STORE = %r" % ((store.get("capacity_bytes", 65536), store.get("durability", "always"),
                         store.get("when_full", "overwrite")),),
        "MICRO = %r" % ((micro.get("regex_cache", 16), micro.get("max_scan", 512), micro.get("clean_cache", 32)),),
        "TELEMETRY = %r" % (tele,),
        "RULES = (",
    ]
    for r in rows:
        lines.append("    %r," % (r[:8],))
    lines.append(")")
    lines.append("BLOB = (")
    for i in range(0, len(blob), 96):
        lines.append("    %r" % blob[i:i + 96])
    lines.append(")")
    lines.append("PREFILTER = %r" % (_prefilter(rows),))
    text = "\n".join(lines) + "\n"
    report.source_bytes = len(text.encode("utf-8"))
    budget = micro.get("table_bytes")
    if budget is not None and report.source_bytes > budget:
        from ..errors import ProfileError
        raise ProfileError("%s: the micro table is %d bytes, over its table_bytes budget of %d; list fewer "
                           "[micro] families" % (profile.name, report.source_bytes, budget))
    return text, report


def _spans(rows):
    """Pattern text into one blob (each distinct piece once); rows get their spans."""
    blob = bytearray()
    at = {}

    def span(piece):
        if piece not in at:
            at[piece] = (len(blob), len(blob) + len(piece))
            blob.extend(piece)
        return at[piece]

    out = []
    for r in rows:
        spans = []
        for e in r[7]:
            if isinstance(e, bytes):
                spans.extend((0,) + span(e))
            else:
                prefix, suffix, bodies = e
                spans.extend((len(bodies),) + span(prefix) + span(suffix))
                for b in bodies:
                    spans.extend(span(b))
        out.append(r[:7] + (tuple(spans), r[8]))
    return bytes(blob), out


def _prefilter(rows):
    """Per view: (keys, group starts, needle bytes, needle starts, owners, modes).

    Needles are grouped by their key byte (the first byte; the second for a needle that starts
    with a space); group ``g`` holds needles ``starts[g]`` to ``starts[g + 1]``. Needle ``j`` is
    ``needles[nstart[j]:nstart[j + 1]]``, belongs to rule ``owners[j]`` and has mode
    ``modes[j]``: bits 0-1 where it counts (0 anywhere, 1 at the start, 2 at the end of the
    text), bit 2 set when its key byte is its second. No object per needle: the scanner compares
    bytes in place."""
    views = [{} for _ in VIEWS]
    for idx, r in enumerate(rows):
        for nd in r[8]:
            forms = [(nd, 0)]
            if len(nd) > 1 and nd[:1] == b" ":
                forms.append((nd[1:], 1))
            if len(nd) > 1 and nd[-1:] == b" ":
                forms.append((nd[:-1], 2))
            for form, mode in forms:
                lead = 1 if form[:1] == b" " and len(form) > 1 else 0
                views[r[3]].setdefault(form[lead], []).append((form, idx, mode | (lead << 2)))
    out = []
    for groups in views:
        keys = bytes(sorted(groups))
        gstart, joined, nstart, owners, modes = [], bytearray(), [], bytearray(), bytearray()
        for k in keys:
            gstart.append(len(nstart))
            for form, idx, mode in groups[k]:
                nstart.append(len(joined))
                joined.extend(form)
                owners.append(idx)
                modes.append(mode)
        gstart.append(len(nstart))
        nstart.append(len(joined))
        out.append((keys, tuple(gstart), bytes(joined), tuple(nstart), bytes(owners), bytes(modes)))
    return tuple(out)


def default_table(profile_name="esp32-micropython", telemetry=None):
    """The table for the packaged rules under a named profile."""
    from ..profiles import load_profile
    from ..rules.ruleset import load_specs, source_digest
    return build_table(load_specs(), load_profile(profile_name), telemetry=telemetry, digest=source_digest())
