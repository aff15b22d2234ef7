#!/usr/bin/env python3
"""Lambda@Edge wrapper cost, one run: cold `import` + first call and warm time per invocation on
the CloudFront viewer-request sample, each as a difference to the bare handler measured in the
same run. The cold starts run the example handler from its deployment zip
(tools/package_lambda_edge.py), unpacked, with bytecode compiled as the docs advise shipping it,
in fresh isolated interpreters: once as packaged, once with the zip's regex table removed
(every pattern the first event uses then compiles from source).

    python tools/bench_lambda_edge.py [--markdown]
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_common as rc  # noqa: E402
SAMPLE = os.path.join(ROOT, "tests", "data", "samples", "cloudfront-viewer-request.json")


def cold(code, env, cwd, n=15):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", code], cwd=cwd, check=True, env=env, stdout=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def unpacked_zips(tmp, env):
    """The example handler's zip, unpacked twice: as packaged, and without its regex table."""
    import package_lambda_edge
    out = os.path.join(tmp, "fn.zip")
    package_lambda_edge.build(os.path.join(ROOT, "tools", "examples", "lambda_edge_handler.py"), out, "viewer")
    dirs = []
    for name in ("with-table", "without-table"):
        d = os.path.join(tmp, name)
        with zipfile.ZipFile(out) as zf:
            zf.extractall(d)
        if name == "without-table":
            os.remove(os.path.join(d, "edge_ssre", "rules", "compiled_sre.bin"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", d], check=True, env=env)
        dirs.append(d)
    return dirs


def main(argv=None):
    md = "--markdown" in (argv or sys.argv[1:])
    env = rc.pyc_env()  # a deployment zip ships .pyc (see BENCHMARKS.md): unpacked_zips compiles what it times
    tmp = tempfile.mkdtemp()
    try:
        with_table, without_table = unpacked_zips(tmp, env)
        run = ("import sys, json; sys.path.insert(0, '.'); ev=json.load(open(%r)); import lambda_edge_handler as m; "
               "m.handler(ev, None)" % SAMPLE)
        bare_cold = cold("import sys, json; sys.path.insert(0, '.'); ev=json.load(open(%r)); (lambda e,c: e)(ev, None)"
                         % SAMPLE, env, with_table)
        ours_cold, plain_cold = [], []
        for _ in range(3):  # interleaved, so load elsewhere lands on both alike
            ours_cold.append(cold(run, env, with_table, 7))
            plain_cold.append(cold(run, env, without_table, 7))
        ours_cold, plain_cold = statistics.median(ours_cold), statistics.median(plain_cold)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.path.insert(0, ROOT)
    from edge_ssre.lambda_edge import protect
    with open(SAMPLE) as fh:
        ev = json.load(fh)
    bare = (lambda e, c: e["Records"][0]["cf"]["request"])
    wrapped = protect(bare)
    wrapped(ev, None)
    n = 20000
    b = min(timeit.repeat(lambda: bare(ev, None), number=n, repeat=5)) / n * 1e6
    w = min(timeit.repeat(lambda: wrapped(ev, None), number=n, repeat=5)) / n * 1e6
    rows = [("cold import + first call from the deployment zip, over the bare handler", "%.1f ms" % (ours_cold - bare_cold),
             "bare %.1f ms, wrapped %.1f ms" % (bare_cold, ours_cold), "<= 30 ms", ours_cold - bare_cold <= 30),
            ("the same without the zip's regex table", "%.1f ms" % (plain_cold - bare_cold),
             "wrapped %.1f ms" % plain_cold, "-", None),
            ("warm invocation, added per call", "%.2f us" % (w - b), "bare %.2f us, wrapped %.2f us" % (b, w),
             "<= 50 us", w - b <= 50)]
    if md:
        print("## Lambda@Edge wrapper (tools/bench_lambda_edge.py)\n")
        print("Command: `python tools/bench_lambda_edge.py --markdown` · %s · CloudFront viewer-request sample, "
              "bare handler measured in the same run\n" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        print("| case | added | detail | target |  |\n| --- | ---: | --- | --- | --- |")
        for r in rows:
            print("| %s | %s | %s | %s | %s |" % (r[0], r[1], r[2], r[3], {True: "PASS", False: "FAIL"}.get(r[4], "-")))
    else:
        for r in rows:
            print("%-50s %10s  (%s)  %s %s" % (r[0], r[1], r[2], r[3], {True: "PASS", False: "FAIL"}.get(r[4], "")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
