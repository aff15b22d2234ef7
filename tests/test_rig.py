"""The rig end to end (short run): two real mosquittos, the sidecar process, devices, an attacker
and an upstream outage. The issue's targets hold: 0 lost events, 0 false positives on the benign
stream, >= 99 % of injected attacks blocked."""

import json
import subprocess
import sys


def test_rig_meets_its_targets(tmp_path):
    out = tmp_path / "rig"
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "rig", "--duration", "12", "--devices", "3",
                          "--out", str(out), "--json"], capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["events_lost"] == 0 and report["events_dropped"] == 0
    assert report["false_positives"] == 0 and report["benign_sent"] > 50
    assert report["attacks_blocked_ratio"] >= 0.99 and report["attacks_sent"] >= 20
    assert report["events_delivered"] == report["events_stored"] > 0
    assert report["events_buffered_while_offline"] > 0
    assert report["flood_blocked"] > 0
    assert "DOWN" in res.stderr and "UP" in res.stderr
    for name in ("report.json", "report.txt", "report.html", "events.ring"):
        assert (out / name).exists()
    html = (out / "report.html").read_text()
    assert "<svg" in html and "upstream link down" in html  # the outage shaded on the timeline
    start, end = report["outage_s"]
    assert 0 < start < end
