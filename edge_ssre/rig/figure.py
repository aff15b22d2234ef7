"""The rig report's figure: four panels over the run's time axis, written as a PNG.

1. traffic at the gateway (messages/s, log scale): benign sent, attacks sent, passed on to
   ``guarded/``, blocked (to ``quarantine/``, the flood included);
2. security events: delivered upstream per second, and those held in the event store waiting
   for the uplink (log scale: the backlog built up during the outage and the catch-up after it
   share the panel with the steady trickle);
3. the sidecar's added latency per stats interval (p50, p99, in ms; log scale) against the
   profile's deadline for one inspection;
4. the sidecar's RSS against the profile's memory budget.

The upstream link's outage is shaded in every panel. matplotlib is the ``rig`` extra (Debian:
``python3-matplotlib``); importing this module without it raises ImportError, which the runner
turns into a text-only report. The Agg backend: no display needed, never imported on the guard's
own paths.
"""

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402
import textwrap  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullLocator  # noqa: E402

COLORS = {"benign": "#2f9e44", "attack": "#e03131", "passed": "#1971c2", "blocked": "#f08c00",
          "delivered": "#1971c2", "backlog": "#ae3ec9", "p50": "#1971c2", "p99": "#e03131",
          "rss": "#1971c2", "limit": "#495057", "outage": "#dee2e6"}


def _plain(value, _pos=None):
    """Tick labels as plain numbers (0.1, 1, 10, 100, 1k, 10k), not powers of ten."""
    if value >= 1000:
        return "%gk" % (value / 1000.0)
    return "%g" % value


def _log_axis(ax):
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))


def _count_axis(ax, top):
    """Counts from 0 up: linear from 0 to 1, logarithmic above (so 0 stays on the axis, and 2 and
    2,000 are both readable)."""
    ax.set_yscale("symlog", linthresh=1.0, linscale=0.4)
    ticks = [0, 1]
    while ticks[-1] < top:
        ticks.append(ticks[-1] * 10)
    ax.set_ylim(0, ticks[-1] * 1.3)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))


def _shade(axes, outage):
    start, end = outage or (None, None)
    if start is None or end is None:
        return
    for n, ax in enumerate(axes):
        ax.axvspan(start, end, color=COLORS["outage"], zorder=0, lw=0, label="upstream link down" if n == 0 else None)
        ax.text((start + end) / 2.0, 0.98, "upstream link down", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=8.5, color="#868e96")


def _legend(ax):
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False, borderaxespad=0)


def draw(report, path):
    """Write the figure for a rig ``report`` (runner._report's dict) to ``path`` (PNG)."""
    timeline = report["timeline"]
    secs = [int(s) for s in timeline]
    rows = [timeline[s] for s in timeline]
    stats = report["samples"]["stats"]
    rss = report["samples"]["rss_mb"]
    end = max([report["duration_s"]] + secs + [t for t, _ in rss] + [t for t, _ in stats]) or 1.0

    fig, axes = plt.subplots(5, 1, figsize=(13, 13.5), sharex=False, layout="constrained",
                             gridspec_kw={"height_ratios": [0.55, 3, 2.4, 2, 1.5]})
    head, traffic, events, latency, memory = axes
    head.axis("off")
    head.text(0, 1, "edge_ssre rig: profile %s, %.0f s" % (report["profile"], report["duration_s"]),
              fontsize=15, fontweight="bold", va="top", transform=head.transAxes)
    verdicts = "    ".join("%s %s" % ("PASS" if v else "FAIL", k) for k, v in report["targets"].items())
    head.text(0, 0.52, verdicts, fontsize=10, va="top", transform=head.transAxes,
              color="#2b8a3e" if all(report["targets"].values()) else "#c92a2a")
    head.text(0, 0.18, textwrap.fill("CPU pinning: " + report["cpu_mapping"], 150), fontsize=9, va="top",
              color="#495057", transform=head.transAxes)
    plots = (traffic, events, latency, memory)

    # 1. traffic (per second, steps centred on the second they count)
    top = 1
    for key, label in (("benign", "benign sent (%d readings)" % report["benign_sent"]),
                       ("attack", "attacks sent (%d)" % report["attacks_sent"]),
                       ("passed", "passed on to guarded/"),
                       ("blocked", "blocked to quarantine/\n(attacks, and the flood over\nthe per-client rate)")):
        ys = [r[key] for r in rows]
        top = max([top] + ys)
        traffic.plot([s + 0.5 for s in secs], ys, drawstyle="steps-mid", color=COLORS[key], lw=1.6, label=label,
                     ls=(0, (4, 2)) if key == "passed" else "-")
    _count_axis(traffic, top)
    traffic.set_ylabel("messages / s (log scale)")
    traffic.set_title("Traffic at the gateway (%d messages inspected, %d of them a flood from one client)"
                      % (report["messages"] or 0, report["flood_sent"]), loc="left", fontsize=11)

    # 2. security events: delivered per second, and the store's backlog
    delivered = [r["delivered"] for r in rows]
    events.bar([s + 0.5 for s in secs], delivered, width=0.85, color=COLORS["delivered"], alpha=0.8,
               label="delivered upstream\n(events / s)")
    back = [(t, f["events_backlog"]) for t, f in stats if "events_backlog" in f]
    if back:
        events.plot([t for t, _ in back], [b for _, b in back], color=COLORS["backlog"], lw=2.2, marker="o", ms=3.5,
                    label="held in the store,\nnot yet delivered (events)")
    _count_axis(events, max([1] + delivered + [b for _, b in back]))
    events.set_ylabel("events (log scale)")
    events.set_title("Security events: stored at the edge, forwarded when the link is up "
                     "(%d stored, %d delivered, %d lost)" % (report["events_stored"], report["events_delivered"],
                                                            report["events_lost"]), loc="left", fontsize=11)

    # 3. added latency per stats interval
    lat = [(t, f["interval_p50_us"] / 1000.0, f["interval_p99_us"] / 1000.0) for t, f in stats
           if f.get("interval_p99_us")]
    if lat:
        latency.plot([t for t, _, _ in lat], [p for _, _, p in lat], color=COLORS["p99"], lw=1.8, marker="o", ms=3.5,
                     label="p99")
        latency.plot([t for t, _, _ in lat], [p for _, p, _ in lat], color=COLORS["p50"], lw=1.8, marker="o", ms=3.5,
                     label="p50")
    if report.get("deadline_us"):
        latency.axhline(report["deadline_us"] / 1000.0, color=COLORS["limit"], ls="--", lw=1.2,
                        label="profile's deadline for\none inspection (%g ms)" % (report["deadline_us"] / 1000.0))
    _log_axis(latency)
    values = [v for _, a, b in lat for v in (a, b) if v > 0] + ([report["deadline_us"] / 1000.0]
                                                              if report.get("deadline_us") else [])
    if values:  # whole decades, so the axis has at least two labelled ticks
        latency.set_ylim(10 ** math.floor(math.log10(min(values))), 10 ** math.ceil(math.log10(max(values) * 1.5)))
    latency.set_ylabel("milliseconds (log scale)")
    latency.set_title("Added latency: message received to republished, queueing included (per %s interval; "
                      "whole run p50 %.1f ms, p99 %.1f ms)" % (_interval(stats), (report["latency_p50_us"] or 0) / 1000.0,
                                                               (report["latency_p99_us"] or 0) / 1000.0),
                      loc="left", fontsize=11)

    # 4. memory
    if rss:
        memory.plot([t for t, _ in rss], [m for _, m in rss], color=COLORS["rss"], lw=1.8, label="sidecar RSS")
    budget = report.get("memory_budget_mb")
    top = max([m for _, m in rss] + [budget or 0]) or 1.0
    if budget:
        memory.axhline(budget, color=COLORS["limit"], ls="--", lw=1.2, label="profile's budget\n(%s MB)" % budget)
    memory.set_ylim(0, top * 1.2)
    memory.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    memory.set_ylabel("MB")
    memory.set_title("Sidecar memory (max %.1f MB)" % report["sidecar_rss_max_mb"], loc="left", fontsize=11)
    memory.set_xlabel("seconds since the devices started")

    _shade(plots, report.get("outage_s"))
    for ax in plots:
        ax.grid(True, which="major", color="#e9ecef", lw=0.8)
        ax.set_axisbelow(True)
        ax.set_xlim(0, end)
        ax.xaxis.set_major_locator(MaxNLocator(15, integer=True))
        ax.tick_params(labelsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        _legend(ax)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _interval(stats):
    if len(stats) < 2:
        return "stats"
    step = (stats[-1][0] - stats[0][0]) / (len(stats) - 1)
    return "%.0f s" % step
