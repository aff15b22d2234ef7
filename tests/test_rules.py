"""The rule set as a specification: every rule's attack examples fire it, every benign twin
fires nothing; rule files are validated with errors naming the rule; tokenizers and the address
matcher are checked on tables."""

import json
import os

import pytest

from edge_ssre.errors import RuleError
from edge_ssre.rules import default_ruleset, net_address, ruleset, sql_tokens, transform
from edge_ssre.rules.matchers import MATCHERS
from edge_ssre.rules.spec import parse_rules

DATA = os.path.join(os.path.dirname(__file__), "data", "detection")
RULESET = default_ruleset()
SPECS = RULESET.specs
VALUE = 0


def _alone(spec):
    return ruleset.Ruleset([spec], MATCHERS)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_rule_fires_on_its_attack_examples(spec):
    assert spec.attack, "every rule documents at least one attack it catches"
    alone = _alone(spec)
    for example in spec.attack:
        kind = spec.kinds[0]
        hits = alone.scan(example, kind)
        assert [h[0] for h in hits] == [spec.id], (spec.id, example)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_rule_benign_twins_fire_nothing(spec):
    assert spec.benign, "every rule keeps a benign twin"
    for example in spec.benign:
        assert RULESET.scan(example, VALUE) == [], (spec.id, example)


def _benign_lines():
    with open(os.path.join(DATA, "benign_text.txt"), encoding="utf-8") as fh:
        return [ln.rstrip("\n") for ln in fh if ln.strip() and not ln.startswith("#")]


@pytest.mark.parametrize("text", _benign_lines())
def test_real_world_benign_text_is_clean(text):
    assert RULESET.scan(text, VALUE) == []


def _attacks():
    with open(os.path.join(DATA, "attacks.jsonl"), encoding="utf-8") as fh:
        return [json.loads(ln) for ln in fh if ln.strip()]


@pytest.mark.parametrize("row", _attacks(), ids=lambda r: r["family"] + ":" + r["payload"][:24])
def test_attacks_are_caught_in_their_family(row):
    fams = {h[1] for h in RULESET.scan(row["payload"], VALUE)}
    assert row["family"] in fams, fams


def test_compiled_table_matches_sources():
    from edge_ssre.profiles import compile_profile_crcs, compile_profiles
    specs = ruleset.load_specs()
    table = ruleset.compiled_table(specs, compile_profiles(), compile_profile_crcs())
    with open(ruleset.COMPILED) as fh:
        shipped = json.load(fh)
    assert shipped == json.loads(json.dumps(table)), "run: python tools/build_rules.py"


def test_a_fresh_checkout_uses_the_compiled_table_whatever_the_file_times(tmp_path, monkeypatch):
    """git sets file times in checkout order, so the compiled table can look older than the rule
    sources it was built from; their CRC-32 then decides (parsing the TOML instead cost ~100 ms
    of every cold start)."""
    import shutil
    old = tmp_path / "compiled_rules.json"
    shutil.copy(ruleset.COMPILED, old)
    os.utime(old, (1, 1))  # older than every source
    monkeypatch.setattr(ruleset, "COMPILED", str(old))
    table = ruleset.compiled()
    assert ruleset._fresh(table)
    assert not ruleset._fresh(dict(table, crc=table["crc"] ^ 1))  # a source edited after the build
    assert not ruleset._fresh({})
    # the same for a shipped device profile: compiled data, not a TOML parse, when the file is unchanged
    from edge_ssre import profiles
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    src = profiles.find_profile("raspberry-pi-4")
    shutil.copy(src, profiles_dir / "raspberry-pi-4.toml")  # newer than the (old) compiled table
    monkeypatch.setattr(profiles, "PROFILE_DIRS", [str(profiles_dir)])
    from edge_ssre import tomlload
    parsed = []
    real = tomlload.load_toml
    monkeypatch.setattr(tomlload, "load_toml", lambda *a, **k: parsed.append(a[0]) or real(*a, **k))
    assert profiles.load_profile("raspberry-pi-4").name == "raspberry-pi-4" and parsed == []
    with open(profiles_dir / "raspberry-pi-4.toml", "a") as fh:
        fh.write("\n# edited after the build\n")
    assert profiles.load_profile("raspberry-pi-4").name == "raspberry-pi-4" and len(parsed) == 1


def test_compiled_and_source_rules_agree():
    assert [s.id for s in ruleset.build().specs] == [s.id for s in SPECS]


BAD_RULES = [
    ({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "a", "bogus": 1}]}, "unknown key"),
    ({"rule": [{"id": "sqli.x", "family": "nope", "pattern": "a"}]}, "unknown family"),
    ({"rule": [{"id": "Bad Id", "family": "sqli", "pattern": "a"}]}, "id must look like"),
    ({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "(a)"}]}, "capturing groups"),
    ({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "(?:a+)+b"}]}, "super-linear"),
    ({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "a["}]}, "does not compile"),
    ({"rule": [{"id": "sqli.x", "family": "sqli", "matcher": "nope"}]}, "unknown matcher"),
    ({"rule": [{"id": "sqli.x", "family": "sqli"}]}, "exactly one of pattern or matcher"),
    ({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "a", "severity": "huge"}]}, "severity"),
    ({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "a", "needs": ["A"]}]}, "lower case"),
    ({"rules": []}, "only [[rule]]"),
]


@pytest.mark.parametrize("data,message", BAD_RULES)
def test_rule_errors_name_file_and_rule(data, message):
    with pytest.raises(RuleError) as err:
        parse_rules(data, "custom.toml", MATCHERS)
    assert message in str(err.value) and "custom.toml" in str(err.value)


def test_duplicate_rule_ids_are_rejected():
    specs = parse_rules({"rule": [{"id": "sqli.x", "family": "sqli", "pattern": "a"}]}, "a.toml", MATCHERS)
    with pytest.raises(RuleError, match="duplicate id"):
        ruleset.Ruleset(list(specs) * 2, MATCHERS)


def test_rule_file_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[[rule]]\nid = 'sqli.x'\nfamily = 'sqli'\npattern = '(a)'\n")
    with pytest.raises(RuleError, match=r"broken.toml: rule sqli.x"):
        ruleset.build([str(bad)])


SQL = [
    ("1' or '1'='1", True), ("admin'--", True), ("1 union select 1,2", True), ("x; drop table t--", True),
    ("1=1", True), ("42 like 42", True), ("1 is not 2", True), ("11=1", False), ("1 is not 1", False),
    ("it's fine", False), ("Select one from the options", False), ("l'or du roi", False), ("123<456", False),
]


@pytest.mark.parametrize("text,expected", SQL)
def test_sql_tokenizer_table(text, expected):
    assert (sql_tokens.detect(transform.normalize(text)) is not None) == expected


HOSTS = [
    ("127.0.0.1", True), ("2130706433", True), ("0x7f.1", True), ("017700000001", True), ("169.254.169.254", True),
    ("[::1]", True), ("[::ffff:a9fe:a9fe]", True), ("localhost", True), ("10.1.2.3", True), ("172.20.0.1", True),
    ("192.168.1.1", True), ("example.com", False), ("8.8.8.8", False), ("172.32.0.1", False), ("0xABCDEF", False),
]


@pytest.mark.parametrize("host,internal", HOSTS)
def test_internal_host_notations(host, internal):
    assert net_address.host_is_internal(host) == internal


NORMALIZE = [
    ("%2527%2520OR", "' or"), ("&#60;script&#62;", "<script>"), ("\\u0061lert", "alert"), ("a%00b", "ab"),
    ("%c0%ae%c0%ae/", "../"), ("①②⑦.⓪.⓪.①", "127.0.0.1"), ("ＳＥＬＥＣＴ", "select"),
]


@pytest.mark.parametrize("raw,norm", NORMALIZE)
def test_normalization_table(raw, norm):
    assert transform.normalize(raw) == norm


@pytest.mark.parametrize("char", ["'", "(", "<", "../", "%25", "\"", ";", "$", "`", "{{", "a'", "or 1=", "\\x"])
def test_adversarial_runs_are_handled(char):
    text = (char * (65536 // len(char)))[:65536]
    hits = RULESET.scan(text, VALUE)
    assert isinstance(hits, list)
    assert len({h[1] for h in hits}) == len(hits), "at most one hit per family"


def test_long_texts_scanned_in_chunks_find_what_a_whole_search_finds(monkeypatch):
    """A long text is searched CHUNK start positions at a time (the deadline read between): every
    rule's attack examples, placed across a chunk boundary in random filler, give the same hits,
    excerpts included, as one search of the whole text. (CHUNK is made small here so the texts can
    be; tools/ ran the same check at the real size, 1900 cases of 50 KB.)"""
    import random
    from edge_ssre.decode.budget import Budget, Limits
    rs = ruleset.build_default()
    rnd = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyz      .,;:'\"()<>/=-_0123456789"

    def budget():
        return Budget(Limits(deadline_us=10 ** 9))
    checked = 0
    for spec in rs.specs:
        for attack in spec.attack[:2]:
            for before in (1000 - len(attack) // 2, 1023, 2047 - len(attack)):
                text = "".join(rnd.choice(alphabet) for _ in range(before)) + attack + "".join(
                    rnd.choice(alphabet) for _ in range(3200 - before))
                monkeypatch.setattr(ruleset, "CHUNK", 1024)
                chunked = rs._scan(text, 0, budget())
                monkeypatch.setattr(ruleset, "CHUNK", 10 ** 9)
                whole = rs._scan(text, 0, budget())
                assert chunked == whole, (spec.id, attack, before)
                checked += 1
    assert checked > 400  # every rule with attack examples, three places each


def test_a_chunked_search_stops_at_the_deadline():
    """Between chunks the deadline is read: a match in the third chunk is found with time left,
    not once the deadline has passed (the search returns the 'stopped' marker, not a miss)."""
    from edge_ssre.decode.budget import Budget, Limits
    from edge_ssre.rules.lazy_re import LazyRe
    rx = LazyRe(r"<script\b")
    text = "a" * (2 * ruleset.CHUNK + 100) + "<script>" + "a" * 100
    now = [0]
    live = Budget(Limits(deadline_us=1000), clock=lambda: now[0])
    assert ruleset._search_long(rx, text, live).start() == 2 * ruleset.CHUNK + 100
    late = Budget(Limits(deadline_us=1000), clock=lambda: now[0])
    now[0] = 5000
    assert ruleset._search_long(rx, text, late) is ruleset._STOPPED and late.timed_out
    # a pattern of unbounded reach is searched whole
    assert LazyRe(r"<scr\w+").reach() is None
    assert ruleset._search_long(LazyRe(r"<scr\w+"), text, late).start() == 2 * ruleset.CHUNK + 100


def test_pattern_reach_counts_matches_and_lookaheads():
    from edge_ssre.rules.lazy_re import LazyRe
    assert LazyRe("abc").reach() == 3
    assert LazyRe("a(?=xyz)").reach() == 4
    assert LazyRe(r"(?<=ab)c(?!d{0,5})").reach() == 6  # a lookbehind reads before the start: not counted
    assert LazyRe("a+").reach() is None


def test_unicode_fold_table_agrees_with_the_loop():
    """fold_unicode runs as one str.translate on CPython; the loop it replaced (kept for MicroPython)
    gives the same text for every code point from U+2000 to U+27FF and U+FF00 to U+FF6F."""
    import random
    rnd = random.Random(2)
    points = list(range(0x2000, 0x2800)) + list(range(0xFF00, 0xFF70)) + [0x3001, 0x3002] + list(range(32, 127))
    for _ in range(3000):
        text = "".join(chr(rnd.choice(points)) for _ in range(rnd.randrange(0, 40)))
        assert transform.fold_unicode(text) == transform._fold_loop(text)
    assert transform.fold_unicode("\uff53\uff45\uff4c\uff45\uff43\uff54 \u2460\u24ea \u24b6\u3002") == "select 10 a."


def test_percent_decoding_by_split_agrees_with_the_regex():
    """Without %u escapes, percent-decoding splits on "%" (a dict lookup per piece) instead of a
    regex callback per escape; the result is the same on every short mix of %, hex digits and u."""
    import random
    rnd = random.Random(3)
    alphabet = "%%%uU0123456789abcdefABCDEFxyz "
    for _ in range(20000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 14)))
        assert transform._pct_decode(text) == transform._PCT.sub(transform._pct, text), text
    assert transform.url_decode_repeated("%2527%2520or%25201%253D1") == "' or 1=1"


def test_the_compiled_table_carries_each_rows_reach():
    """Working a pattern's reach out takes re's parser ~0.5 ms: the host does it for the compiled
    table, so a first long value at run time does not pay ~10 ms of parsing for its rows."""
    from edge_ssre.rules.lazy_re import pattern_reach
    with open(ruleset.COMPILED) as fh:
        table = json.load(fh)
    rs = ruleset.Ruleset(ruleset._specs_from_table(table), MATCHERS, table["prepared"])
    rows = [row[3] for t in (rs.full, rs.plain) for row in t if row[3] is not None]
    assert rows and all(rx._reach is not False for rx in rows)
    assert all(rx._reach == pattern_reach(*rx._args) for rx in rows[:20])
