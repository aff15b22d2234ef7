# Vectors for the micro core (MicroGuard, the signature scan, cbor_lite), run unchanged on
# CPython and MicroPython: every printed line must be identical. The harness supplies RUNTIME and
# DATA (a directory holding vectors.json) and a bundle package ``ssre`` on the path
# (tests/test_micropython.py builds both from the same sources and data files).
import json
from binascii import hexlify, unhexlify

from ssre import cbor_lite, rules_table, scan
from ssre.guard import MicroGuard

with open(DATA + "/vectors.json") as fh:
    V = json.load(fh)


def out(*parts):
    print(" ".join(str(p) for p in parts))


# the signature scan: every shared text (rule examples, detection data, corpus rows), value and key
scanner = scan.Scanner(rules_table)
ids = [r[0] for r in rules_table.RULES]
for i, (hx, kind) in enumerate(V["scan"]):
    hits = scanner.scan(unhexlify(hx), kind)
    if hits:
        out("scan", i, ",".join(ids[h] for h in hits))
    else:
        out("scan", i, "-")

# views (each decoder on its own)
for hx in V["views"]:
    s = scanner.views(unhexlify(hx))
    out("views", ",".join(hexlify(scanner.view(s, v)).decode() for v in (0, 1, 2, 3)))


# cbor_lite: decoded value or the error class, for every vector
def show(v):
    if isinstance(v, float):
        if v != v:
            return "nan"
        return "%.6g" % v
    if isinstance(v, dict):
        return "{" + ",".join(show(k) + ":" + show(v[k]) for k in sorted(v, key=repr)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(show(x) for x in v) + "]"
    if isinstance(v, bytes):
        return "h'" + hexlify(v).decode() + "'"
    if isinstance(v, str):  # repr of non-ASCII text differs between the runtimes
        return "s'" + hexlify(v.encode("utf-8")).decode() + "'"
    return repr(v)


for hx in V["cbor"]:
    try:
        out("cbor", hx[:24], show(cbor_lite.loads(unhexlify(hx), 8, 256, 1024)))
    except cbor_lite.CborError:
        out("cbor", hx[:24], "error")
rt = {"a": [1, -2, 3.5, "x\u00e9", b"\x00\x01", None, True, False], "n": {"m": 18446744073709551615}}
out("cbor-roundtrip", show(cbor_lite.loads(cbor_lite.dumps(rt))) == show(rt))

# the guard: whole messages (telemetry tables from the vector table, then decode, then scan)
ticks = [0]


def clock():
    ticks[0] += 1
    return ticks[0]


g = MicroGuard(clock=clock)
for topic, hx, client in V["messages"]:
    v = g.inspect(topic, unhexlify(hx), client)
    out("msg", topic, v.action, sorted(set(f.rule_id for f in v.findings)))

# wrap(): a umqtt-style callback sees only what the guard lets through
seen = []
cb = g.wrap(lambda t, m: seen.append(t))
for topic, hx, client in V["messages"]:
    cb(topic.encode(), unhexlify(hx))
out("wrapped", len(seen), len(V["messages"]), g.stats[0], g.stats[1])

# the event ring on flash: findings stored, a power cut (file truncated mid-record), recovery
path = DATA + "/events.ring"
g2 = MicroGuard(store=path, clock=clock, device="dev-7")
stored = 0
for topic, hx, client in V["messages"]:
    if g2.inspect(topic, unhexlify(hx), client).findings:
        stored += 1
batch = g2.pending(4)
g2.ack(batch[-1][0])  # delivered: acknowledged
acked = batch[-1][0]
left = [s for s, _ in g2.pending(1000)]
rec = cbor_lite.loads(batch[0][1])
out("ring", stored > 0, len(batch), rec["device"], rec["type"], "rule" in rec)
end = g2.ring.head_off
g2.close()
# power cut: the last record is half written (the file ends inside it)
import os

size = os.stat(path)[6]
with open(path, "r+b") as fh:
    data = fh.read()
from ssre import ring_buffer

cut = ring_buffer.DATA_START + end - 9
with open(path, "wb") as fh:  # the file ends 9 bytes before the last record's end
    fh.write(data[:cut])
g3 = MicroGuard(store=path, clock=clock, device="dev-7")
after = [s for s, _ in g3.pending(1000)]
out("power-cut", g3.ring.committed == acked, after == left[:-1], len(after), os.stat(path)[6] == size)
g3.inspect("sensors/dev-1/telemetry", b'{"cmd": "; cat /etc/passwd"}', "dev-1")
new = [s for s, _ in g3.pending(1000)]
# the cut record's head survived: it counts as lost and its seq is not given out again
out("after-cut", new[:len(after)] == after, new[len(after)] == after[-1] + 2, len(new) > len(after))
g3.close()
