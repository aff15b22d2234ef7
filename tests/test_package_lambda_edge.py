"""The Lambda@Edge zip: fits the viewer limit, and the handler runs from the unpacked zip alone."""

import json
import os
import subprocess
import sys
import zipfile

ROOT = os.path.join(os.path.dirname(__file__), "..")
SAMPLES = os.path.join(os.path.dirname(__file__), "data", "samples")


def test_zip_fits_and_runs_in_isolation(tmp_path):
    out = tmp_path / "edge.zip"
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "package_lambda_edge.py"),
                          "--handler", os.path.join(ROOT, "tools", "examples", "lambda_edge_handler.py"),
                          "--out", str(out), "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["fits"] and report["bytes"] < 1024 * 1024
    unpacked = tmp_path / "fn"
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        zf.extractall(unpacked)
    assert "edge_ssre/rules/compiled_rules.json" in names
    assert not any("mqtt_sidecar" in n or "/store/" in n for n in names)
    # -I: isolated mode, so only the unpacked zip is importable (like the Lambda runtime)
    code = ("import sys, json; sys.path.insert(0, %r); import lambda_edge_handler as m; "
            "print(json.dumps(m.handler(json.load(open(%r)), None)))")
    for name, expect in (("cloudfront-viewer-request.json", None), ("cloudfront-viewer-request-attack.json", "403")):
        r = subprocess.run([sys.executable, "-I", "-c", code % (str(unpacked), os.path.join(SAMPLES, name))],
                           capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr
        last = json.loads(r.stdout.strip().splitlines()[-1])
        assert last.get("status") == expect
    # the zip's regex table (built by this interpreter) serves every pattern the first events use
    assert "edge_ssre/rules/compiled_sre.bin" in names and report["regex_table"]["patterns"] > 50
    probe = ("import sys, json; sys.path.insert(0, %r); import lambda_edge_handler as m; "
             "[m.handler(json.load(open(f)), None) for f in %r]; from edge_ssre.rules import sre_cache; "
             "print(sre_cache.hits, sre_cache.misses)")
    events = [os.path.join(SAMPLES, n)
              for n in ("cloudfront-viewer-request.json", "cloudfront-viewer-request-attack.json")]
    r = subprocess.run([sys.executable, "-I", "-c", probe % (str(unpacked), events)],
                       capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    hits, misses = map(int, r.stdout.strip().splitlines()[-1].split())  # after the finding log lines
    assert hits > 5 and misses == 0


def test_out_defaults_to_dist_of_the_current_directory_and_help_is_whole(tmp_path):
    tool = os.path.join(os.path.abspath(ROOT), "tools", "package_lambda_edge.py")
    handler = os.path.join(os.path.abspath(ROOT), "tools", "examples", "lambda_edge_handler.py")
    res = subprocess.run([sys.executable, tool, "--handler", handler, "--json"], capture_output=True, text=True,
                         timeout=120, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "dist" / "lambda-edge.zip").is_file()
    assert os.path.realpath(json.loads(res.stdout)["zip"]) == os.path.realpath(tmp_path / "dist" / "lambda-edge.zip")
    helptext = subprocess.run([sys.executable, tool, "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "origin 50 MB)." in helptext and "exit codes" in helptext  # the description is not cut mid-sentence
