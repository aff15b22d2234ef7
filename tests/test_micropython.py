"""The MicroPython-clean core on the real MicroPython runtime (the 1.27 WebAssembly port under
Node.js): the same vector script runs on CPython and on MicroPython, and every line must match."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.join(os.path.dirname(__file__), "micropython")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CORE = {
    "ring_buffer.py": "edge_ssre/store/ring_buffer.py", "topic_filter.py": "edge_ssre/telemetry/topic_filter.py",
    "rate_table.py": "edge_ssre/telemetry/rate_table.py", "schema.py": "edge_ssre/telemetry/schema.py",
    "budget.py": "edge_ssre/decode/budget.py", "verdict.py": "edge_ssre/verdict.py",
    "envelope.py": "edge_ssre/envelope.py",
}
RUNTIME = os.path.join(HERE, "node_modules", "@micropython", "micropython-webassembly-pyscript")


def cpython_output(tmp):
    pkg = os.path.join(tmp, "core")
    os.makedirs(pkg)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    for name, src in CORE.items():
        shutil.copy(os.path.join(ROOT, src), os.path.join(pkg, name))
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    code = "RUNTIME = 'cpython'\nDATA = %r\n" % data + open(os.path.join(HERE, "core_vectors.py")).read()
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.skipif(shutil.which("node") is None or not os.path.isdir(RUNTIME),
                    reason="node or the MicroPython WebAssembly port is missing (bash tools/dev.sh test installs it)")
def test_core_vectors_identical_on_micropython_and_cpython(tmp_path):
    expected = cpython_output(str(tmp_path))
    res = subprocess.run(["node", os.path.join(HERE, "run_core.mjs"), ROOT, os.path.join(HERE, "core_vectors.py")],
                         cwd=HERE, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines() == expected.strip().splitlines()
    assert len(expected.strip().splitlines()) >= 15
