#!/usr/bin/env python3
"""Lambda@Edge wrapper cost, one run: cold `import` + first call (fresh interpreters, compiled
bytecode as in a deployment package) and warm time per invocation on the CloudFront
viewer-request sample, each as a difference to the bare handler measured in the same run.

    python tools/bench_lambda_edge.py [--markdown]
"""

import json
import os
import statistics
import subprocess
import sys
import time
import timeit

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_common as rc  # noqa: E402
SAMPLE = os.path.join(ROOT, "tests", "data", "samples", "cloudfront-viewer-request.json")


def cold(code, env, n=15):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=env)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def main(argv=None):
    md = "--markdown" in (argv or sys.argv[1:])
    env = rc.bytecode_env()  # a deployment zip ships .pyc; so does this measurement
    bare_cold = cold("import json; ev=json.load(open(%r)); (lambda e,c: e)(ev, None)" % SAMPLE, env)
    ours_cold = cold("import json; ev=json.load(open(%r)); from edge_ssre.lambda_edge import protect; "
                     "h=protect(lambda e,c: e); h(ev, None)" % SAMPLE, env)
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
    rows = [("cold import + first call, over the bare handler", "%.1f ms" % (ours_cold - bare_cold),
             "bare %.1f ms, wrapped %.1f ms" % (bare_cold, ours_cold), "<= 30 ms", ours_cold - bare_cold <= 30),
            ("warm invocation, added per call", "%.2f us" % (w - b), "bare %.2f us, wrapped %.2f us" % (b, w),
             "<= 50 us", w - b <= 50)]
    if md:
        print("## Lambda@Edge wrapper (tools/bench_lambda_edge.py)\n")
        print("Command: `python tools/bench_lambda_edge.py --markdown` · %s · CloudFront viewer-request sample, "
              "bare handler measured in the same run\n" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        print("| case | added | detail | target |  |\n| --- | ---: | --- | --- | --- |")
        for r in rows:
            print("| %s | %s | %s | %s | %s |" % (r[0], r[1], r[2], r[3], "PASS" if r[4] else "FAIL"))
    else:
        for r in rows:
            print("%-50s %10s  (%s)  %s %s" % (r[0], r[1], r[2], r[3], "PASS" if r[4] else "FAIL"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
