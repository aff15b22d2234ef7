"""Policy and device-profile files: valid ones load, invalid ones name file, line and key."""

import pytest

from edge_ssre import Guard
from edge_ssre.errors import PolicyError, ProfileError
from edge_ssre.policy import Policy, path_matches, topic_matches
from edge_ssre.profiles import available_profiles, load_profile

BAD_POLICIES = [
    ('mode = "loud"\n', 1, "mode"),
    ('\n\ndefault_action = "nuke"\n', 3, "default_action"),
    ('[families]\nsqli = "maybe"\n', 2, "sqli"),
    ('[families]\nsqlx = "block"\n', 2, "families.sqlx"),
    ('colour = "blue"\n', 1, "colour"),
    ('[[allow]]\nwhatever = 1\n', 2, "allow.whatever"),
    ('[[allow]]\nfamilies = "xss"\n', 2, "allow.families"),
    ('[families]\nxss = "block"\n[[allow]]\nfamilies = "xss"\n', 4, "allow.families"),
]


@pytest.mark.parametrize("text,line,key", BAD_POLICIES)
def test_policy_errors_name_file_line_and_key(tmp_path, text, line, key):
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(PolicyError) as err:
        Policy.load(str(p))
    msg = str(err.value)
    assert "%s:%d" % (p, line) in msg and repr(key) in msg


def test_policy_syntax_error_names_file(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("mode = \n")
    with pytest.raises(PolicyError, match=str(p)):
        Policy.load(str(p))


def test_missing_policy_file_is_a_clear_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(str(tmp_path / "nope.toml"))


@pytest.mark.parametrize("filt,topic,ok", [
    ("a/+/c", "a/b/c", True), ("a/#", "a/b/c", True), ("a/+", "a/b/c", False), ("#", "x", True),
    ("a/b", "a/b", True), ("a/b", "a/b/c", False), ("+/+", "a/b", True),
])
def test_topic_filters(filt, topic, ok):
    assert topic_matches(filt, topic) == ok


@pytest.mark.parametrize("pat,path,ok", [
    ("a.*.c", "a.b.c", True), ("a.*.c", "a.b.x.c", False), ("a.**", "a.b.x.c", True),
    ("Records[*].body", "Records[3].body", True), ("q", "q", True), ("q", "qq", False),
])
def test_path_globs(pat, path, ok):
    assert path_matches(pat, path) == ok


def test_every_shipped_profile_loads_and_sizes_a_guard():
    names = available_profiles()
    for required in ("raspberry-pi-zero-2w", "raspberry-pi-3b", "raspberry-pi-4", "raspberry-pi-5",
                     "greengrass-core", "lambda-edge-viewer", "lambda-edge-origin", "esp32-micropython"):
        assert required in names
    for name in names:
        prof = load_profile(name)
        g = Guard.from_profile(name)
        assert g.limits.to_dict() == prof.limits.to_dict() and g.limits.deadline_us > 0


BAD_PROFILES = [
    ('description = "no name"\n', "name"),
    ('name = "x"\n[limits]\nmax_depth = -1\n', "max_depth"),
    ('name = "x"\n[limits]\nmax_dept = 3\n', "max_dept"),
    ('name = "x"\n[store]\ndurability = "sometimes"\n', "durability"),
    ('name = "x"\n[runtime]\nmemory_mb = "lots"\n', "memory_mb"),
    ('name = "x"\n[wifi]\nssid = "x"\n', "wifi"),
]


@pytest.mark.parametrize("text,key", BAD_PROFILES)
def test_profile_errors_name_key(tmp_path, text, key):
    p = tmp_path / "prof.toml"
    p.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(str(p))
    assert str(p) in str(err.value) and key in str(err.value)


def test_unknown_profile_lists_known_ones():
    with pytest.raises(ProfileError, match="raspberry-pi-4"):
        load_profile("raspberry-pi-99")


def test_policy_and_telemetry_share_one_topic_filter():
    """A policy's [[allow]] topic filter answers as the telemetry filters do (MQTT 3.1.1 4.7.2: a
    wildcard at the first level never matches a '$' topic); a bad filter names the key."""
    from edge_ssre.policy import topic_matches as policy_match
    from edge_ssre.telemetry.topic_filter import topic_matches as telemetry_match
    from edge_ssre.verdict import Finding
    cases = [("#", "$aws/things/x/shadow/update"), ("+/things/#", "$aws/things/x"), ("#", "a/b"),
             ("a/#", "a"), ("a/+", "a/b/c"), ("$aws/#", "$aws/things/x"), ("+", "$SYS")]
    for filt, topic in cases:
        assert policy_match(filt, topic) == telemetry_match(filt, topic), (filt, topic)
    policy = Policy.from_dict({"allow": [{"topic": "#"}]})
    finding = Finding("sqli.union-select", "sqli", "q", "", "high")
    assert policy.decide(finding, "$aws/things/x/shadow/update") == "block"
    assert policy.decide(finding, "plant/line1") == "off"
    with pytest.raises(PolicyError, match="topic"):
        Policy.from_dict({"allow": [{"topic": "a/#/b"}]})
