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
    for name in ("report.json", "report.txt", "report.html", "report.png", "events.ring"):
        assert (out / name).exists()
    png = (out / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20000  # a drawn figure, not an empty canvas
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "CPU pinning" in html
    start, end = report["outage_s"]
    assert 0 < start < end
    full = json.loads((out / "report.json").read_text())
    assert list(full["timeline"]) == [str(s) for s in range(len(full["timeline"]))]  # every second, in order
    assert full["samples"]["rss_mb"] and any("interval_p99_us" in f for _, f in full["samples"]["stats"])
    assert any(f.get("events_backlog", 0) > 0 for _, f in full["samples"]["stats"])  # buffered in the outage
    assert report["cpu_mapping"] and report["cpus_profile"] == [2, 3]


def test_rig_report_without_matplotlib_is_text_only(tmp_path, monkeypatch):
    """The figure is optional: with matplotlib missing the text report and a page without the figure
    are still written (the report's data from a small made-up run)."""
    from edge_ssre.rig import runner
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.delitem(sys.modules, "edge_ssre.rig.figure", raising=False)
    report = _small_report(tmp_path)
    assert report["figure"] is None and not (tmp_path / "report.png").exists()
    assert "matplotlib is not installed" in (tmp_path / "report.txt").read_text()
    assert "pip install" in (tmp_path / "report.html").read_text()


def test_rig_figure_from_a_report(tmp_path):
    report = _small_report(tmp_path)
    assert report["figure"] and (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")


def test_timeline_is_ordered_and_complete():
    from edge_ssre.rig.runner import ordered_timeline
    tl = ordered_timeline({2: {"benign": 3}, 0: {"attack": 1}, 10: {"delivered": 5}})
    assert list(tl) == [str(s) for s in range(11)]
    assert tl["1"] == {"benign": 0, "attack": 0, "passed": 0, "blocked": 0, "delivered": 0}
    assert tl["10"]["delivered"] == 5


def test_cpu_mapping_is_explained():
    import os
    from edge_ssre.rig.runner import _pin
    have = sorted(os.sched_getaffinity(0))
    _, want, how = _pin([max(have) + 5])
    assert want == have[-1:] and "not here" in how and str(max(have) + 5) in how
    _, want, how = _pin(have[:1])
    assert want == have[:1] and "exist here" in how
    assert "pins no CPUs" in _pin(None)[2]


def _small_report(work):
    from edge_ssre.profiles import load_profile
    from edge_ssre.rig import runner
    (work / "sidecar.log").write_text('edge-ssre final: {"messages": 10, "store": {"newest_seq": 2, "dropped": 0}}\n')
    counters = runner.Counters()
    counters.sent.update(benign=8, attack=2)
    counters.timeline = {0: {"benign": 4, "attack": 1}, 1: {"benign": 4, "attack": 1, "delivered": 2}}
    sampler = runner._Sampler(0, str(work / "sidecar.log"))
    sampler.rss = [[0.0, 20.0], [1.0, 21.0]]
    sampler.stats = [[1.0, {"interval_p50_us": 300, "interval_p99_us": 2000, "events_backlog": 2}]]
    run = {"duration": 2.0, "outage_wall": [None, None], "outage_s": [0.5, 1.5], "rss_max": 21000, "cpus": [1],
           "cpu_mapping": "test", "exit_code": 0, "sampler": sampler}
    return runner._report(str(work), load_profile("raspberry-pi-4"), counters, run)
