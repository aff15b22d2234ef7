# Test vectors for the MicroPython-clean core, run unchanged on CPython and MicroPython: every
# line printed must be identical on both runtimes. The harness puts the core modules in a package
# named ``ssre`` (the bundle tests/test_micropython.py builds; CPython imports the same files).
import os

from ssre import ring_buffer, topic_filter, rate_table, schema, verdict, budget


def out(*parts):
    print(" ".join(str(p) for p in parts))


# topic filters
for filt, topic in (("a/+/c", "a/b/c"), ("a/#", "a"), ("#", "$SYS/x"), ("+/x", "$SYS/x"), ("$SYS/#", "$SYS/b"),
                    ("a/b", "a/b/c"), ("sensors/+/telemetry", "sensors/dev-1/telemetry")):
    out("topic", filt, topic, topic_filter.topic_matches(filt, topic))
try:
    topic_filter.compile_filter("a/#/b")
    out("bad-filter", "accepted")
except ValueError:
    out("bad-filter", "rejected")

# rate table: fixed slots, refill, collisions
t = rate_table.RateTable(8, 5, 5)
res = [t.allow("client-1", 0.0) for _ in range(7)]
out("rate", res, t.allow("client-1", 1.0), len(t.keys))
for i in range(1000):
    t.allow("c%d" % i, float(i))
out("rate-slots", len(t.keys), t.takeovers > 0)

# schema
fields = [(("temp",), "number", -40, 85, None, None, None, True), (("status",), "string", None, None, ("ok", "warn"), 8, None, False)]
s = schema.Schema(fields, "alert")
for doc in ({"temp": 21.5, "status": "ok"}, {"temp": 900}, {"status": "bad"}, {"temp": "x"}, {"temp": 1, "extra": 2}, [1]):
    out("schema", sorted(v[0] + ":" + v[1] for v in s.check(doc)))

# verdict and finding
f = verdict.Finding("sqli.grammar", "sqli", "note", "1' or 1=1", "critical", "block")
v = verdict.Verdict(verdict.strongest(["alert", "block"]), (f,), "mqtt")
out("verdict", v.action, v.blocked, tuple(f), verdict.excerpt_of("a" * 200, 150, 160)[:20])

# budget with an injected clock
ticks = [0]


def clock():
    ticks[0] += 10
    return ticks[0]


b = budget.Budget(budget.Limits(deadline_us=100, clock_every=2), clock)
n = 0
while b.tick():
    n += 1
out("budget", n, b.timed_out, b.exceeded[0][0])

# ring buffer on a real file: append, wrap, reopen, torn tail
path = DATA + "/ring.bin"
CAP = 1024
with open(path, "wb") as fh:
    fh.write(b"\0" * (ring_buffer.DATA_START + CAP))
fh = open(path, "r+b")
r = ring_buffer.Ring(fh, CAP)
r.format()
acked = []
for i in range(60):
    seq, lost = r.append(b"record-%d" % i + b"x" * (i % 13))
    acked.append(seq)
r.commit(acked[-10])
out("ring", r.records, r.dropped > 0, [s for s, _, _ in r.iter_from(acked[-3])])
last = r.head_off
fh.close()
# a power cut mid-record: the last record's bytes are half written
fh = open(path, "r+b")
r2 = ring_buffer.Ring(fh, CAP)
r2.recover()
out("recovered", r2.next_seq - 1, r2.committed, [p for _, _, p in r2.iter_from(acked[-1])])
prev = (r2.head_off - ring_buffer.frame_size(len(b"record-59" + b"x" * (59 % 13)))) % CAP
fh.seek(ring_buffer.DATA_START + prev + 8)
fh.write(b"\xff\xff\xff")
fh.close()
fh = open(path, "r+b")
r3 = ring_buffer.Ring(fh, CAP)
r3.recover()
out("torn", r3.next_seq - 1, [s for s, _, _ in r3.iter_from(acked[-3])])
seq, _ = r3.append(b"after")
out("after", seq)
fh.close()
