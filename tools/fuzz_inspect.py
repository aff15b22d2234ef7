#!/usr/bin/env python3
"""Random large and layered events through Guard.inspect, for a while: nothing may raise, no
"limits.internal" finding (a fault of the guard's own) may appear, and the slowest inspection is
reported against the deadline (the deadline is the bound; how far past it the slowest call ends
shows which step does not read the clock).

    python tools/fuzz_inspect.py [--seconds S] [--seed N]

Shapes: 64 KB token mixes (quotes, brackets, traversal, %25, keywords, non-ASCII), raw bytes, many
keys, deep nesting, JSON inside JSON strings, base64 and URL-encoding layers, gzip bodies, CBOR.
tests/test_guard.py runs a few of these as a short version.
"""

import base64
import gzip
import json
import os
import random
import sys
import time
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

TOKENS = ["'", '"', "(", ")", "<", ">", "../", "%25", "%", "\\", "${", "}", "select ", " or ", "1=1", "<script>", "\n",
          "\x00", "a", "b", "\u00e9", "\u2028", "\U0001f600", "&#x3c;", "&amp;", "eval(", "$(", "`", ";", "|", "{{",
          "jndi:", "http://169.254.169.254/", "__proto__", "/etc/passwd", " ", "\t", "=", "%0d%0a", "\\x41", "\\u0041",
          "\uff53", "\u2460"]


def text(rnd, size):
    parts, n = [], 0
    while n < size:
        t = rnd.choice(TOKENS) * rnd.choice((1, 1, 1, 2, 9, 50))
        parts.append(t)
        n += len(t)
    return "".join(parts)[:size]


def event(rnd):
    """One random event (see the module docstring for the shapes)."""
    size = rnd.choice((100, 3000, 20000, 65536))
    k = rnd.randrange(10)
    if k == 0:
        return {"q": text(rnd, size)}
    if k == 1:
        return text(rnd, size).encode("utf-8", "surrogatepass")
    if k == 2:
        return {"k%d" % i: text(rnd, rnd.randrange(1, 30)) for i in range(rnd.choice((100, 1000, 5000)))}
    if k == 3:
        v = text(rnd, 10)
        for _ in range(rnd.choice((10, 40, 200))):
            v = {"a": v}
        return v
    if k == 4:
        v = text(rnd, size // 2)
        for _ in range(rnd.randrange(1, 5)):
            v = json.dumps({"Message": v})
        return {"Records": [{"Sns": {"Message": v}}]}
    if k == 5:
        v = text(rnd, size // 2).encode("utf-8", "surrogatepass")
        for _ in range(rnd.randrange(1, 6)):
            v = base64.b64encode(v)
        return {"Records": [{"kinesis": {"data": v.decode()}}]}
    if k == 6:
        v = text(rnd, size // 3)
        for _ in range(rnd.randrange(1, 4)):
            v = quote(v)
        return {"q": v}
    if k == 7:
        body = gzip.compress(text(rnd, size).encode("utf-8", "surrogatepass"))
        return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    if k == 8:
        import cbor2
        return cbor2.dumps({"t": [rnd.random() for _ in range(rnd.choice((10, 1000)))], "s": text(rnd, 1000)})
    return [text(rnd, rnd.randrange(1, 50)) for _ in range(rnd.choice((100, 4000)))]


def run(seconds, seed, guard=None, max_events=None):
    """(cases, problems, slowest ms, deadline ms): ``problems`` lists what raised or was internal."""
    from edge_ssre import Guard
    guard = guard or Guard()
    rnd = random.Random(seed)
    cases, problems, slowest = 0, [], 0.0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and (max_events is None or cases + len(problems) < max_events):
        ev = event(rnd)
        t = time.perf_counter()
        try:
            v = guard.inspect(ev)
        except Exception as exc:  # the guard's promise is that it never raises
            problems.append("raised %s: %s" % (type(exc).__name__, exc))
            continue
        slowest = max(slowest, (time.perf_counter() - t) * 1e3)
        cases += 1
        for f in v.findings:
            if f.rule_id == "limits.internal":
                problems.append("internal: %s" % f.excerpt)
    return cases, problems, slowest, guard.limits.deadline_us / 1000.0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 60.0
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    cases, problems, slowest, deadline = run(seconds, seed)
    print("%d events in %.0f s (seed %d): %d problems; slowest inspection %.1f ms (deadline %.0f ms)"
          % (cases, seconds, seed, len(problems), slowest, deadline))
    for p in problems[:20]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
