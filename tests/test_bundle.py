"""Signed bundles (edge_ssre/bundle): tampering, trust, rollback, expiry, targets, crash safety, apply.

Real keys (the cryptography package), real files and real processes (SIGKILL while installing);
nothing is faked.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from edge_ssre import Guard
from edge_ssre.bundle.build import build, keygen, sign, sign_hmac
from edge_ssre.bundle.format import BundleError, parse
from edge_ssre.bundle.install import Identity, Installer, Verifier, apply
from edge_ssre.bundle.state import load as load_state
from edge_ssre.bundle.trust import Key, TrustStore
from edge_ssre.store import EventStore
from edge_ssre.store.record import decode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICY = b'mode = "alert-only"\n[families]\nssrf = "off"\n'
SQLI = {"q": "1' OR '1'='1' --"}


def make_keys(base):
    """name -> (private PEM, Key, path of bundle.pub) for four new key pairs under ``base``."""
    out = {}
    for name, alg in (("root", "ed25519"), ("next", "ed25519"), ("p256", "ecdsa-p256-sha256"),
                      ("stranger", "ed25519")):
        d = os.path.join(str(base), name)
        key = keygen(d, alg)
        with open(os.path.join(d, "bundle.key"), "rb") as fh:
            pem = fh.read()
        out[name] = (pem, key, os.path.join(d, "bundle.pub"))
    return out


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("keys"))


def make(keys, version=1, signer="root", files=None, **kw):
    data = build("site", version, files or {"policy.toml": POLICY}, **kw)
    for s in ([signer] if isinstance(signer, str) else signer):
        data = sign(data, keys[s][0])
    return data


def trust(keys, *names, threshold=1):
    return TrustStore([keys[n][1] for n in names or ("root",)], threshold)


def reason(fn, *a, **kw):
    with pytest.raises(BundleError) as info:
        fn(*a, **kw)
    return info.value.reason


def test_round_trip_applies_policy_to_a_running_guard(keys):
    guard = Guard()
    assert guard.inspect(SQLI).action == "block"
    accepted = Verifier(trust(keys)).verify(make(keys))
    apply(accepted, guard)
    assert guard.inspect(SQLI).action == "alert"  # the bundle's alert-only policy is in force


def test_every_byte_changed_is_refused(keys):
    data = make(keys, files={"policy.toml": b'mode = "enforce"\n'})
    v = Verifier(trust(keys))
    v.verify(data)
    refused = 0
    for i in range(len(data)):
        for flip in (0x01, 0x20, 0x80):
            bad = bytearray(data)
            bad[i] ^= flip
            with pytest.raises(BundleError):
                v.verify(bytes(bad))
            refused += 1
    assert refused == 3 * len(data)
    for cut in range(0, len(data), 7):  # truncation anywhere
        with pytest.raises(BundleError):
            v.verify(data[:cut])


@pytest.mark.parametrize("case,expected", [
    ("unsigned", "signature"),
    ("stranger", "unknown-key"),
    ("expired", "expired"),
    ("requires", "requires"),
    ("target", "target"),
    ("member", "member-invalid"),
])
def test_refusals(keys, case, expected):
    v = Verifier(trust(keys), identity=Identity("gw-1", ["gateways"], "raspberry-pi-4"))
    if case == "unsigned":
        data = build("site", 1, {"policy.toml": POLICY})
    elif case == "stranger":
        data = make(keys, signer="stranger")
    elif case == "expired":
        data = make(keys, created=time.time() - 10 * 86400, expires=time.time() - 86400)
    elif case == "requires":
        data = make(keys, requires="99.0")
    elif case == "target":
        data = make(keys, targets={"devices": ["gw-2"], "groups": ["cameras"]})
    else:
        data = make(keys, files={"policy.toml": b'mode = "enforce"\nblok = 1\n'})
    assert reason(v.verify, data) == expected


def test_targets_by_device_group_and_profile(keys):
    me = Identity("gw-1", ["gateways"], "raspberry-pi-4")
    v = Verifier(trust(keys), identity=me)
    v.verify(make(keys, targets={"devices": ["gw-1"]}))
    v.verify(make(keys, targets={"groups": ["gateways"], "profiles": ["raspberry-pi-4"]}))
    assert reason(v.verify, make(keys, targets={"groups": ["gateways"], "profiles": ["raspberry-pi-5"]})) == "target"
    assert reason(Verifier(trust(keys)).verify, make(keys, targets={"devices": ["gw-1"]})) == "target"


def test_ecdsa_p256_threshold_and_hmac(keys):
    assert Verifier(trust(keys, "p256")).verify(make(keys, signer="p256"))
    two = trust(keys, "root", "p256", threshold=2)
    assert reason(TrustStore, [keys["root"][1]], 2) == "malformed"  # a threshold over the number of keys
    assert reason(Verifier(two).verify, make(keys)) == "threshold"
    Verifier(two).verify(make(keys, signer=["root", "p256"]))
    secret = os.urandom(32)
    data = sign_hmac(build("site", 1, {"policy.toml": POLICY}), secret)
    Verifier(TrustStore([Key("hmac-sha256", secret)])).verify(data)
    assert reason(Verifier(TrustStore([Key("hmac-sha256", os.urandom(32))])).verify, data) == "unknown-key"


def test_rollback_rotation_and_revocation(keys, tmp_path):
    state = str(tmp_path / "state" / "bundle.state")
    inst = Installer(trust(keys), state)
    inst.install(make(keys, 2))
    assert reason(inst.install, make(keys, 2)) == "rollback"
    assert reason(inst.install, make(keys, 1)) == "rollback"
    assert reason(inst.install, make(keys, 3, signer="next")) == "unknown-key"
    inst.install(make(keys, 3, add_keys=[keys["next"][1]]))          # root introduces "next"
    inst.install(make(keys, 4, signer="next"))                          # now trusted
    inst.install(make(keys, 5, signer="next", revoke=[keys["root"][1].keyid]))
    assert reason(inst.install, make(keys, 6)) == "revoked-key"         # root is withdrawn
    assert load_state(state).versions == {"site": 5}
    # a fresh installer on the same state keeps what earlier bundles said about keys
    assert reason(Installer(trust(keys), state).install, make(keys, 7)) == "revoked-key"
    assert Installer(trust(keys), state).installed()[0].bundle.version == 5


def test_clock_set_back_still_refuses_expired(keys, tmp_path):
    state = str(tmp_path / "bundle.state")
    now = time.time()
    Installer(trust(keys), state).install(make(keys, 1, created=now, expires=now + 3600))
    old = make(keys, 2, created=now - 7200, expires=now - 3600)
    # the device's clock says two hours ago, but the state has seen a bundle created now
    assert reason(Installer(trust(keys), state, clock=lambda: now - 7000).install, old) == "expired"


def test_refusal_keeps_running_config_and_is_a_security_event(keys, tmp_path):
    store = EventStore(str(tmp_path / "events.ring"), capacity_bytes=1 << 16)
    inst = Installer(trust(keys), str(tmp_path / "bundle.state"), identity=Identity("gw-9"), events=store)
    guard = Guard()
    with pytest.raises(BundleError):
        inst.install(make(keys, 1, signer="stranger"))
    assert guard.inspect(SQLI).action == "block"
    recs = [decode(r) for _, r in store.iter_from(0)]
    store.close()
    assert [r["rule"] for r in recs] == ["policy.rejected"]
    assert recs[0]["device"] == "gw-9" and recs[0]["path"] == "bundle:site@1"
    assert recs[0]["excerpt"].startswith("unknown-key")


def test_damaged_state_refuses_instead_of_forgetting(keys, tmp_path):
    state = str(tmp_path / "bundle.state")
    inst = Installer(trust(keys), state)
    inst.install(make(keys, 3))
    raw = open(state, "rb").read()
    for damaged in (raw[: len(raw) // 2], raw.replace(b'"site":3', b'"site":1'), b""):
        with open(state, "wb") as fh:
            fh.write(damaged)
        assert reason(inst.install, make(keys, 2)) == "state"


def test_default_rules_bundle_and_rule_sources(keys):
    from edge_ssre.rules.ruleset import COMPILED
    with open(COMPILED, "rb") as fh:
        table = fh.read()
    acc = Verifier(trust(keys)).verify(make(keys, files={"rules.json": table}))
    g = Guard()
    apply(acc, g)
    assert g.ruleset is acc.ruleset and g.inspect(SQLI).action == "block"
    src = os.path.join(ROOT, "edge_ssre", "rules", "data", "sqli.toml")
    acc = Verifier(trust(keys)).verify(make(keys, files={"rules/sqli.toml": open(src, "rb").read()}))
    apply(acc, g)
    assert g.inspect(SQLI).action == "block"
    assert g.inspect({"x": "<script>alert(1)</script>"}).action == "allow"  # only the bundle's rules run


KILLER = r"""
import sys, time
from edge_ssre.bundle.install import Installer
from edge_ssre.bundle.trust import TrustStore
inst = Installer(TrustStore.load(sys.argv[1]), sys.argv[2])
print("ready", flush=True)
for path in sys.argv[3:]:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        acc = inst.install(data)
    except Exception as exc:
        print("refused", type(exc).__name__, exc, flush=True)
        continue
    print("accepted", acc.bundle.version, flush=True)
"""


def kill_while_installing(keys, tmp_path, kills, versions=40):
    """Install versions 1..N in a child, SIGKILL it at random moments, restart where it left off.
    Returns the number of kills that landed while the child was installing."""
    paths = []
    for v in range(1, versions + 1):
        p = tmp_path / ("v%d.bundle" % v)
        p.write_bytes(make(keys, v, files={"policy.toml": POLICY + b"# v%d\n" % v + b"#" * (v * 97)}))
        paths.append(str(p))
    state = str(tmp_path / "dev" / "bundle.state")
    rng = random.Random(7)
    reported = 0
    landed = 0
    env = dict(os.environ, PYTHONPATH=ROOT)
    while landed < kills:
        todo = [p for v, p in enumerate(paths, 1) if v > reported]
        if not todo:
            reported = 0
            import shutil
            shutil.rmtree(str(tmp_path / "dev"))
            continue
        child = subprocess.Popen([sys.executable, "-c", KILLER, keys["root"][2], state] + todo,
                                 stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline() == b"ready\n"   # imports done: the kill lands while installing
        time.sleep(rng.uniform(0.0, 0.03))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        landed += 1
        for line in out.decode().splitlines():
            assert line.startswith("accepted"), line
            reported = max(reported, int(line.split()[1]))
        st = load_state(state) if os.path.exists(state) else None
        have = st.versions.get("site", 0) if st else 0
        assert have >= reported, "state %d below the reported %d" % (have, reported)
        kept = str(tmp_path / "dev" / "site.bundle")
        if os.path.exists(kept):
            b = parse(open(kept, "rb").read())  # whole: old or new, never torn
            assert b.version in (have, have + 1)
        reported = have  # a restart resumes after what the state holds
    return landed


def test_sigkill_while_installing_never_lowers_the_state(keys, tmp_path):
    assert kill_while_installing(keys, tmp_path, kills=12) == 12


def test_watched_file_installs_new_versions_and_refuses_old_ones(keys, tmp_path):
    from edge_ssre.bundle.delivery import BundleWatcher, Delivery
    guard = Guard()
    lines = []
    inst = Installer(trust(keys), str(tmp_path / "var" / "bundle.state"), log=lines.append)
    delivery = Delivery(inst, guard).start()
    path = tmp_path / "site.bundle"
    watcher = BundleWatcher(str(path), delivery, interval=0.05)
    assert watcher.poll() is None                       # no file yet
    path.write_bytes(make(keys, 2))
    assert watcher.poll().bundle.version == 2
    assert guard.inspect(SQLI).action == "alert"
    assert watcher.poll() is None                       # unchanged
    path.write_bytes(make(keys, 1, files={"policy.toml": b'mode = "enforce"\n'}))  # an older, stricter one
    assert watcher.poll() is None and delivery.refused == 1
    assert guard.inspect(SQLI).action == "alert"        # the running configuration stays
    assert any("refused: rollback" in line for line in lines)
    # a restart applies what was accepted before, from the kept copy
    guard2 = Guard()
    Delivery(Installer(trust(keys), str(tmp_path / "var" / "bundle.state")), guard2).start()
    assert guard2.inspect(SQLI).action == "alert"
    # the thread form picks up a new version by itself
    watcher.start()
    try:
        path.write_bytes(make(keys, 3, files={"policy.toml": b'mode = "enforce"\n'}))
        deadline = time.time() + 5
        while guard.inspect(SQLI).action != "block" and time.time() < deadline:
            time.sleep(0.02)
        assert guard.inspect(SQLI).action == "block"
    finally:
        watcher.stop()


def test_lambda_edge_zip_carries_a_verified_bundle(keys, tmp_path):
    """package_lambda_edge.py --bundle verifies the bundle (refusing a tampered one) and the
    handler applies it at cold start from the unpacked zip alone."""
    import zipfile
    tool = os.path.join(ROOT, "tools", "package_lambda_edge.py")
    handler = os.path.join(ROOT, "tools", "examples", "lambda_edge_handler.py")
    good = tmp_path / "site.bundle"
    good.write_bytes(make(keys, 4))
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(good.read_bytes().replace(b'"version":4', b'"version":5'))
    base = [sys.executable, tool, "--handler", handler, "--trust", keys["root"][2], "--json"]
    r = subprocess.run(base + ["--bundle", str(bad), "--out", str(tmp_path / "bad.zip")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "bundle refused: signature" in r.stderr
    state = str(tmp_path / "pipeline.state")
    out = tmp_path / "edge.zip"
    r = subprocess.run(base + ["--bundle", str(good), "--state", state, "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(base + ["--bundle", str(good), "--state", state, "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "rollback" in r.stderr      # the pipeline never packages an older one
    unpacked = tmp_path / "fn"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(unpacked)
        assert "edge-ssre.bundle" in zf.namelist()
        assert not any(n.endswith("bundle/build.py") for n in zf.namelist())
    code = ("import sys, json; sys.path.insert(0, %r); import lambda_edge_handler as m; "
            "print(json.dumps(m.handler(json.load(open(%r)), None)))")
    attack = os.path.join(ROOT, "tests", "data", "samples", "cloudfront-viewer-request-attack.json")
    r = subprocess.run([sys.executable, "-I", "-c", code % (str(unpacked), attack)],
                       capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.strip().splitlines()]
    assert lines[-1].get("status") != "403"                   # the bundle's alert-only policy is in force
    assert any(x.get("action") == "alert" for x in lines[:-1])


def test_sidecar_takes_bundles_from_its_topic_and_refuses_old_ones(keys, tmp_path, broker, topic_prefix):
    """The sidecar's [bundle] section on a real mosquitto: a signed bundle published (retained) on
    edge-ssre/{device}/bundle switches the running guard to its policy; an older one is refused,
    leaves the configuration as it was and is stored as a policy.rejected event."""
    import paho.mqtt.client as mqtt
    from test_sidecar import Probe, publisher, stop, wait_ready
    p = topic_prefix
    device = "gw-" + p.replace("/", "-")
    store = tmp_path / "events.ring"
    cfg = tmp_path / "sidecar.toml"
    cfg.write_text("""broker = "{h}:{port}"
inputs = ["{p}/raw/#"]
output_prefix = "{p}-guarded"
quarantine = "{p}-quarantine"
device = "{d}"
sink = "store:{store}"
[bundle]
trust = "{trust}"
state = "{state}"
""".format(h=broker.host, port=broker.port, p=p, d=device, store=store, trust=keys["root"][2],
           state=tmp_path / "var" / "bundle.state"))
    probe = Probe(broker, [p + "-guarded/#", p + "-quarantine/#"])
    pub = publisher(broker)
    proc = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    attack = json.dumps(SQLI).encode()
    topic = "edge-ssre/%s/bundle" % device
    try:
        assert wait_ready(pub, probe, p + "/raw/ready", p + "-guarded"), "sidecar not ready"
        pub.publish(p + "/raw/a", attack, qos=1)
        assert probe.wait(lambda m: m.topic == p + "-quarantine/" + p + "/raw/a")   # blocked by default
        pub.publish(topic, make(keys, 5), qos=1, retain=True)                      # alert-only from now on
        deadline = time.time() + 10
        passed = []
        while not passed and time.time() < deadline:
            pub.publish(p + "/raw/b", attack, qos=1)
            passed = probe.wait(lambda m: m.topic == p + "-guarded/" + p + "/raw/b", 0.3)
        assert passed, "the bundle's policy did not reach the running guard"
        pub.publish(topic, make(keys, 4, files={"policy.toml": b'mode = "enforce"\n'}), qos=1, retain=True)
        time.sleep(1.0)
        pub.publish(p + "/raw/c", attack, qos=1)
        assert probe.wait(lambda m: m.topic == p + "-guarded/" + p + "/raw/c")      # still alert-only
        assert not [m for m in probe.msgs if m.topic.endswith(topic)]               # bundles are not data
    finally:
        pub.publish(topic, b"", qos=1, retain=True)  # clear the retained bundle
        code, err = stop(proc)
        pub.loop_stop()
        probe.close()
    assert code == 0, err
    assert "bundle site version 5 accepted" in err and "refused: rollback" in err
    from edge_ssre.store.cli_events import open_existing
    ev = open_existing(str(store))
    rules = [decode(r)["rule"] for _, r in ev.iter_from(0)]
    ev.close()
    assert "policy.rejected" in rules


def test_a_kept_copy_newer_than_the_state_is_recorded_at_restart(keys, tmp_path):
    """A crash between keeping a bundle and recording its version: the restart installs the kept copy
    (and says so); a kept copy the keys do not vouch for is refused, never applied."""
    lines = []
    state = str(tmp_path / "bundle.state")
    inst = Installer(trust(keys), state, log=lines.append)
    inst.install(make(keys, 1))
    with open(inst.kept_path("site"), "wb") as fh:
        fh.write(make(keys, 2))
    assert [a.bundle.version for a in Installer(trust(keys), state, log=lines.append).installed()] == [2]
    assert load_state(state).versions == {"site": 2} and "bundle site version 2 accepted" in lines
    with open(inst.kept_path("site"), "wb") as fh:
        fh.write(make(keys, 3, signer="stranger"))
    assert Installer(trust(keys), state, log=lines.append).installed() == []
    assert load_state(state).versions == {"site": 2} and any("refused: unknown-key" in x for x in lines)
