"""The micro core on the real MicroPython runtime (the 1.27 WebAssembly port under Node.js).

One bundle (``edge_ssre.micro.bundle``: the same source files CPython imports, plus the rule
table compiled on the host) and one vector file built from the shared test data (the rules' own
examples, tests/data/detection, the project's corpus, telemetry and CBOR cases) run
through the same scripts on CPython and on MicroPython; every printed line must be identical.
The bundle is also run as mpy-cross output (.mpy files), and type-checked against the
MicroPython stubs.
"""

import binascii
import json
import os
import shutil
import subprocess
import sys

import cbor2
import pytest

from edge_ssre.micro.build import build_table
from edge_ssre.micro.bundle import MODULES, source_paths, write_bundle
from edge_ssre.profiles import load_profile
from edge_ssre.rules.ruleset import load_specs
from edge_ssre.telemetry.policy import TelemetryPolicy

HERE = os.path.join(os.path.dirname(__file__), "micropython")
DATA = os.path.join(os.path.dirname(__file__), "data")
CORPUS = os.path.join(os.path.dirname(__file__), "..", "corpus")
RUNTIME = os.path.join(HERE, "node_modules", "@micropython", "micropython-webassembly-pyscript")
needs_runtime = pytest.mark.skipif(
    shutil.which("node") is None or not os.path.isdir(RUNTIME),
    reason="node or the MicroPython WebAssembly port is missing (bash tools/dev.sh test installs it)")


def _hex(b):
    return binascii.hexlify(b).decode()


def shared_texts():
    """Every labeled text the CPython detection tests use, as bytes: the rules' own attack and
    benign examples, tests/data/detection, and a stride of the project's
    corpus."""
    texts = []
    for s in load_specs():
        texts.extend(t.encode("utf-8") for t in s.attack + s.benign)
    with open(os.path.join(DATA, "detection", "attacks.jsonl"), encoding="utf-8") as fh:
        texts.extend(json.loads(line)["payload"].encode("utf-8") for line in fh if line.strip())
    with open(os.path.join(DATA, "detection", "benign_text.txt"), encoding="utf-8") as fh:
        texts.extend(line.rstrip("\n").encode("utf-8") for line in fh if line.strip())
    for name, stride in (("crs_attacks.jsonl", 5), ("crs_benign.jsonl", 3)):
        with open(os.path.join(CORPUS, name), encoding="utf-8") as fh:
            rows = fh.readlines()[::stride]
        texts.extend(json.loads(r)["payload"].encode("utf-8", "surrogatepass") for r in rows)
    return texts


def messages():
    """(topic, payload, client) for the guard: schema, ranges, rates, topics, decode errors,
    attacks in CBOR and JSON and in JSON nested in a CBOR string."""
    c = cbor2.dumps
    m = [
        ("sensors/dev-1/telemetry", c({"temp": 21.5, "status": "ok", "dev": "dev-1"}), "dev-1"),
        ("sensors/dev-2/telemetry", c({"temp": 900, "status": "ok"}), "dev-2"),
        ("sensors/dev-3/telemetry", c({"cmd": "; cat /etc/passwd", "temp": 1}), "dev-3"),
        ("sensors/dev-4/telemetry", b'{"temp": 3, "cmd": "1 union select password from users"}', "dev-4"),
        ("$SYS/broker/x", b"{}", "dev-5"),
        ("other/topic", b"{}", "dev-6"),
        ("sensors/dev-7/telemetry", b"\xa1\x61", "dev-7"),
        ("sensors/dev-8/telemetry", c({"q": '{"x": "<script>alert(1)</script>"}'}), "dev-8"),
        ("sensors/dev-9/telemetry", c({"status": "bad", "dev": "DEV 9!"}), "dev-9"),
        ("sensors/dev-a/telemetry", b'{"temp": "hot", "extra": 1}', "dev-a"),
        ("sensors/dev-b/telemetry", c({"q": "../../../../etc/shadow"}), "dev-b"),
        ("sensors/dev-c/telemetry", c({"q": "${jndi:ldap://x.example/a}"}), "dev-c"),
        ("sensors/dev-d/telemetry", c({"__proto__": {"admin": True}}), "dev-d"),
        ("sensors/dev-e/telemetry", b"x" * 600, "dev-e"),
        ("sensors/dev-f/telemetry", b"plain text telemetry 21.5C", "dev-f"),
        ("sensors/dev-g/telemetry", b"\x81" * 40 + b"\x01", "dev-g"),
        ("sensors/dev-h/telemetry", b'{"q": "eyJhIjogIjsgcm0gLXJmIC8ifQ=="}', "dev-h"),
        ("sensors/dev-i/telemetry", c({"dev": "dev-i\n", "q": "plain words\n"}), "dev-i"),  # $ before a final newline
    ]
    m += [("sensors/dev-r/telemetry", c({"temp": i}), "dev-r") for i in range(8)]  # over the client rate
    return [(t, _hex(p), cl) for t, p, cl in m]


def cbor_vectors():
    good = [1, -5, 2 ** 40, -2 ** 63, 1.5, float("inf"), "\u00e9", b"ab", [1, [2, {"a": None}]], {"k": True},
            {1: "int key", "s": [1.0e300, -0.0]}]
    # hand-written: indefinite lengths, tags, half floats, truncation, bad initial bytes, deep nesting
    raw = ["1f", "a1", "ff", "5f41614162ff", "9fff", "c24101", "f93c00", "f97c00", "7f6161ff", "c0", "1b",
           "7a000000ff", "bf6161f5ff", "d82070687474703a2f2f782e6578616d706c65", "d82076687474703a2f2f782e6578616d706c65", "1c", "f8", "5f01ff",
           "81" * 12 + "01", "a26161016161 02".replace(" ", "")]
    return [_hex(cbor2.dumps(x)) for x in good] + raw


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """{"py": dir of the source bundle, "mpy": dir of the mpy-cross bundle, "data": vectors.json}"""
    root = tmp_path_factory.mktemp("micro")
    tele = TelemetryPolicy.load(os.path.join(DATA, "micro", "telemetry.toml"))
    text, report = build_table(load_specs(), load_profile("esp32-micropython"), telemetry=tele)
    write_bundle(str(root / "py"), text)
    write_bundle(str(root / "mpy"), text, mpy=True)
    vectors = {
        "scan": [[_hex(t), 0] for t in shared_texts() + [b"plain words\n", b"1 or 1=1\n", b"x\n\n"]] + [[_hex(b"__proto__"), 1], [_hex(b"constructor"), 1]],
        "views": [_hex(b"A%2527%20OR%201=1--"), _hex(b"SeLeCt/**/1"), _hex(b"a\tb\x00c"),
                  _hex(b"&lt;script&gt;&#x61;&#108;"), _hex(b"\\x3cimg\\x20src")],
        "cbor": cbor_vectors(),
        "messages": messages(),
    }
    path = root / "vectors.json"
    path.write_text(json.dumps(vectors))
    return {"py": str(root / "py" / "ssre"), "mpy": str(root / "mpy" / "ssre"), "data": str(path),
            "report": report, "root": root}


def run_cpython(bundle_pkg, script, data_file, tmp):
    data = tmp / "cpython-data"
    data.mkdir()
    shutil.copy(data_file, data)
    code = "import sys\nsys.path.insert(0, %r)\nRUNTIME = 'cpython'\nDATA = %r\n" % (
        os.path.dirname(bundle_pkg), str(data)) + open(os.path.join(HERE, script)).read()
    res = subprocess.run([sys.executable, "-c", code], cwd=str(tmp), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()


def run_micropython(bundle_pkg, script, data_file):
    res = subprocess.run(["node", os.path.join(HERE, "run_core.mjs"), bundle_pkg, os.path.join(HERE, script),
                          data_file], cwd=HERE, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout.strip().splitlines()


def assert_same(expected, got):
    diff = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert not diff, "first differences (line, cpython, micropython): %r" % diff[:5]
    assert len(got) == len(expected)


@needs_runtime
@pytest.mark.parametrize("script", ["core_vectors.py", "micro_vectors.py"])
def test_vectors_identical_on_micropython_and_cpython(bundle, script, tmp_path):
    expected = run_cpython(bundle["py"], script, bundle["data"], tmp_path)
    assert_same(expected, run_micropython(bundle["py"], script, bundle["data"]))
    assert len(expected) >= 15


@needs_runtime
def test_mpy_bundle_gives_the_same_verdicts(bundle, tmp_path):
    """The .mpy files mpy-cross made run on the same runtime with the same output."""
    assert sorted(os.listdir(bundle["mpy"])) == sorted(n[:-3] + ".mpy" for n in
                                                         list(MODULES) + ["__init__.py", "rules_table.py"])
    expected = run_cpython(bundle["py"], "micro_vectors.py", bundle["data"], tmp_path)
    assert_same(expected, run_micropython(bundle["mpy"], "micro_vectors.py", bundle["data"]))


def test_micro_vectors_cover_detection_and_telemetry(bundle, tmp_path):
    """The vectors are not vacuous: on CPython the scan flags the attack texts and passes benign
    ones, and the guard's verdicts include each kind of telemetry check."""
    out = run_cpython(bundle["py"], "micro_vectors.py", bundle["data"], tmp_path)
    scans = [line.split() for line in out if line.startswith("scan ")]
    assert sum(1 for s in scans if s[2] != "-") > 100
    msgs = "\n".join(line for line in out if line.startswith("msg "))
    for rule in ("telemetry.schema", "telemetry.unknown_field", "telemetry.topic_unknown", "telemetry.topic_denied",
                 "telemetry.rate_client", "telemetry.oversize", "limits.malformed", "cmdi.", "sqli.", "xss.",
                 "path.", "jndi.", "code.prototype-pollution"):
        assert rule in msgs, rule
    assert "msg sensors/dev-1/telemetry allow []" in msgs
    assert "guard.error" not in msgs
    assert "msg sensors/dev-h/telemetry block ['cmdi." in msgs  # base64 JSON one layer down
    assert "power-cut True True" in "\n".join(out)
    assert "after-cut True True True" in out


def test_mpy_cross_compiles_every_core_module(tmp_path):
    from edge_ssre.micro.bundle import compile_mpy
    for name, src in source_paths().items():
        dst = tmp_path / name
        shutil.copy(src, dst)
        out = compile_mpy(str(dst))
        with open(out, "rb") as fh:
            assert fh.read(2) == b"M\x06", name  # .mpy magic, format version 6


STUBS = os.path.join(HERE, "typings")


@pytest.mark.skipif(not os.path.isdir(os.path.join(STUBS, "stdlib")),
                    reason="MicroPython stubs missing (bash tools/dev.sh test installs them into tests/micropython/typings)")
def test_core_type_checks_against_micropython_stubs(tmp_path):
    """mypy over the bundle with the ESP32 port's stubs as the whole standard library: a CPython-only
    name (time.perf_counter, str.casefold, re.findall ...) in a core module fails here."""
    pytest.importorskip("mypy")
    text, _ = build_table(load_specs(), load_profile("esp32-micropython"))
    write_bundle(str(tmp_path), text)
    check = tmp_path / "ssre" / "canary.py"
    check.write_text("import time\ntime.perf_counter()\n")

    def mypy():
        return subprocess.run([sys.executable, "-m", "mypy", "--config-file", os.path.join(HERE, "mypy.ini"),
                               "--custom-typeshed-dir", STUBS, "--cache-dir", str(tmp_path / ".mypy"), "ssre"],
                              cwd=str(tmp_path), env=dict(os.environ, MYPYPATH=STUBS), capture_output=True,
                              text=True, timeout=600)
    res = mypy()  # the check can fail: a CPython-only call is caught
    assert res.returncode == 1 and 'canary.py:2: error: Module has no attribute "perf_counter"' in res.stdout, res.stdout
    check.unlink()
    res = mypy()
    assert res.returncode == 0, res.stdout + res.stderr


@needs_runtime
def test_bench_micro_runs_on_both_runtimes(tmp_path):
    """A short run of tools/bench_micro.py: both runtimes report, the message is let through."""
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "..", "tools", "bench_micro.py"),
                          "--messages", "20", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    r = json.loads(out.read_text())
    for rt in ("cpython", "micropython"):
        assert r[rt]["verdicts"] == ["allow", "allow"], r[rt]
        assert r[rt]["table_bytes"] > 0 and r[rt]["alloc_cbor"] > 0 and r[rt]["rate_cbor"] > 0
