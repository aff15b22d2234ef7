#!/usr/bin/env python3
"""Detection evaluation over the project's corpus (corpus/): edge_ssre and the libddwaf peer in the same run.

    python tools/evaluate.py [--corpus DIR] [--json OUT] [--markdown] [--peer/--no-peer]
                             [--placement lambda|apigw|both] [--limit N] [--misses N]
                             [--sets crs,text,telemetry,attacks] [--examples N]

What is measured (see the corpus README for the row format and paranoia levels):
- TPR per family on crs_attacks.jsonl and FPR on crs_benign.jsonl, overall and split into
  paranoia 1-2 and 3-4 (the one row with paranoia null is counted with 3-4).
- Each payload is one field value. Placement ``lambda``: ``guard.inspect({"q": payload},
  source="lambda")``. Placement ``apigw``: the payload in an API Gateway v1 event (the corpus
  sample apiGatewayProxyEvent.json) as a query string parameter, a JSON body field and a path
  parameter, inspected with ``source="auto"``; findings the untouched event already gives are
  not counted.
- Any finding counts as a detection; how many detections came only from ``limits`` findings
  (budgets, malformed input) is reported separately.
- All aws_events/*.json inspected whole with ``source="auto"``: every finding is listed.
- The peer: libddwaf with ddtrace's default rules.json, the payload in server.request.query,
  .body and .path_params (tools/ddwaf_peer.py). Missing ddtrace is reported, not fatal.
- The project's own sets (corpus/README.md; tools/build_corpus.py builds them), each split into a
  development part (looked at while writing rules) and a test part (only evaluated):
  benign_text/ (FPR per style, ours/lambda and libddwaf), telemetry/ (every message inspected whole
  as an MQTT payload with its topic, source="mqtt"; the peer gets the decoded document as the
  request body), generated_attacks/ (TPR per family, ours/lambda and libddwaf). For the test split
  only counts are printed, never the rows that were missed or flagged.

Exit codes: 0 done, 2 usage or corpus error (one line on stderr).
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_common as rc  # noqa: E402
from ddwaf_peer import DdwafPeer  # noqa: E402

PLACEMENTS = ("lambda", "apigw")
APIGW_SAMPLE = "apiGatewayProxyEvent.json"
FP_EXAMPLES = 3        # false-positive example payloads per family in --markdown


# ---------------------------------------------------------------- placements

class LambdaPlacement:
    """The payload as one JSON value leaf of a plain Lambda event."""

    name = "lambda"
    describe = '`guard.inspect({"q": payload}, source="lambda")`'

    def __init__(self, guard):
        self.guard = guard
        self.baseline = frozenset()

    def inspect(self, payload):
        return self.guard.inspect({"q": payload}, source="lambda")


class ApigwPlacement:
    """The payload in an API Gateway v1 proxy event: query parameter, JSON body field, path parameter."""

    name = "apigw"
    describe = ("API Gateway v1 event (corpus `%s`) with the payload in `queryStringParameters.q`, "
                "`multiValueQueryStringParameters.q`, the JSON body field `q` and `pathParameters.id`, "
                '`source="auto"`' % APIGW_SAMPLE)

    def __init__(self, guard, corpus):
        self.guard = guard
        path = os.path.join(corpus, "aws_events", APIGW_SAMPLE)
        try:
            with open(path, encoding="utf-8") as fh:
                self.template = json.load(fh)
        except (OSError, ValueError) as exc:
            raise rc.CorpusError("cannot load the API Gateway template %s (%s)" % (path, exc))
        # What the event gives without the payload is not the payload's detection.
        clean = self.guard.inspect(self._event("hello"), source="auto")
        self.baseline = frozenset((f.rule_id, f.path) for f in clean.findings)

    def _event(self, payload):
        ev = dict(self.template)
        ev["httpMethod"] = "POST"
        ev["headers"] = dict(ev.get("headers") or {}, **{"Content-Type": "application/json"})
        ev["queryStringParameters"] = {"parameter1": "value1", "q": payload}
        ev["multiValueQueryStringParameters"] = {"parameter1": ["value1"], "q": [payload]}
        ev["pathParameters"] = {"id": payload}
        ev["body"] = json.dumps({"q": payload})
        ev["isBase64Encoded"] = False
        return ev

    def inspect(self, payload):
        return self.guard.inspect(self._event(payload), source="auto")


# ---------------------------------------------------------------- counting

class Outcome:
    """One row's result under one engine."""

    __slots__ = ("row", "hit", "limits_only", "rule_ids", "us", "engine_us")

    def __init__(self, row, hit, limits_only, rule_ids, us, engine_us=None):
        self.row = row
        self.hit = hit
        self.limits_only = limits_only
        self.rule_ids = rule_ids
        self.us = us                # wall time of the call from Python
        self.engine_us = engine_us  # the peer's own reported run time (None for ours)


def run_rows(rows, call, judge):
    """Time ``call(payload)`` per row; ``judge(result)`` gives (rule_ids, limits_only, engine_us) untimed."""
    out = []
    clock = time.perf_counter_ns
    for row in rows:
        t0 = clock()
        res = call(row["payload"])
        us = (clock() - t0) / 1000.0
        rule_ids, limits_only, engine_us = judge(res)
        out.append(Outcome(row, bool(rule_ids), limits_only, rule_ids, us, engine_us))
    return out


def run_ours(placement, rows):
    def judge(verdict):
        new = [f for f in verdict.findings if (f.rule_id, f.path) not in placement.baseline]
        only_limits = bool(new) and all(f.family == "limits" for f in new)
        return sorted({f.rule_id for f in new}), only_limits, None
    return run_rows(rows, placement.inspect, judge)


def run_peer(peer, rows):
    return run_rows(rows, peer.scan, lambda ids: (sorted(set(ids)), False, peer.last_waf_us))


def _cell(rows, hits):
    return {"rows": rows, "hits": hits, "rate": rc.rate(hits, rows)}


def summarize(outcomes):
    """Counts overall, per paranoia bucket and per family x bucket."""
    fam = {}
    buckets = {b: [0, 0] for b in rc.BUCKETS}
    total = [0, 0]
    limits_only = 0
    for o in outcomes:
        b = rc.bucket_of(o.row.get("paranoia"))
        f = fam.setdefault(o.row["family"], {"all": [0, 0], rc.PL12: [0, 0], rc.PL34: [0, 0]})
        for cell in (total, buckets[b], f["all"], f[b]):
            cell[0] += 1
            cell[1] += o.hit
        limits_only += o.limits_only
    return {
        "rows": total[0], "hits": total[1], "rate": rc.rate(total[1], total[0]),
        "limits_only": limits_only,
        "by_bucket": {b: _cell(*buckets[b]) for b in rc.BUCKETS},
        "by_family": {name: {k: _cell(*v) for k, v in cells.items()}
                      for name, cells in sorted(fam.items(), key=lambda kv: (-kv[1]["all"][0], kv[0]))},
    }


def timing(outcomes):
    """Per-payload wall time from Python; for the peer also libddwaf's own reported run time."""
    us = sorted(o.us for o in outcomes)
    if not us:
        return {"n": 0}
    out = {"n": len(us), "median_us": round(us[len(us) // 2], 1), "mean_us": round(sum(us) / len(us), 1),
           "p99_us": round(us[min(len(us) - 1, int(len(us) * 0.99))], 1), "max_us": round(us[-1], 1)}
    engine = sorted(o.engine_us for o in outcomes if o.engine_us is not None)
    if engine:
        out["engine_median_us"] = round(engine[len(engine) // 2], 1)
    return out


def row_brief(row, extra=None):
    d = {"payload": row["payload"], "family": row["family"], "crs_rule": row.get("crs_rule"),
         "paranoia": row.get("paranoia"), "source": row.get("source")}
    if extra:
        d.update(extra)
    return d


def top_misses(outcomes, per_family, peer_hits=None):
    """Up to ``per_family`` missed rows per family: PL1-2 first, spread round-robin over CRS rules."""
    by_fam = {}
    for i, o in enumerate(outcomes):
        if o.hit:
            continue
        rule_q = by_fam.setdefault(o.row["family"], {})
        rule_q.setdefault((rc.bucket_of(o.row.get("paranoia")) != rc.PL12, o.row.get("crs_rule") or ""), []).append(i)
    result = {}
    for family, queues in sorted(by_fam.items(), key=lambda kv: -sum(len(q) for q in kv[1].values())):
        picked = []
        for pl34 in (False, True):
            lanes = [q for key, q in sorted(queues.items()) if key[0] == pl34]
            depth = 0
            while len(picked) < per_family and any(depth < len(q) for q in lanes):
                for q in lanes:
                    if depth < len(q) and len(picked) < per_family:
                        picked.append(q[depth])
                depth += 1
        result[family] = [row_brief(outcomes[i].row, {"peer_caught": bool(peer_hits and peer_hits[i])})
                          for i in picked]
    return result


def misses_by_rule(outcomes):
    counts = {}
    for o in outcomes:
        if not o.hit:
            fam = counts.setdefault(o.row["family"], {})
            rule = o.row.get("crs_rule") or "?"
            fam[rule] = fam.get(rule, 0) + 1
    return {f: dict(sorted(c.items(), key=lambda kv: -kv[1])) for f, c in counts.items()}


def false_positives(outcomes):
    fps = {}
    for o in outcomes:
        if o.hit:
            fps.setdefault(o.row["family"], []).append(row_brief(o.row, {"rule_ids": o.rule_ids}))
    return fps


def peer_only(ours, peer):
    """Attack rows the peer caught and we missed, per family (count and a few rows)."""
    out = {}
    for a, p in zip(ours, peer):
        if p.hit and not a.hit:
            d = out.setdefault(a.row["family"], {"count": 0, "rows": []})
            d["count"] += 1
            if len(d["rows"]) < 10:
                d["rows"].append(row_brief(a.row, {"peer_rule_ids": p.rule_ids}))
    return out


def inspect_aws(guard, files):
    events = []
    for path in files:
        with open(path, "rb") as fh:
            raw = fh.read()
        entry = {"file": os.path.basename(path)}
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            entry.update(error="not JSON: %s" % exc, findings=[])
            events.append(entry)
            continue
        t0 = time.perf_counter_ns()
        v = guard.inspect(doc, source="auto")
        entry.update(source=v.source, action=v.action, leaves=v.leaves, timed_out=v.timed_out,
                     us=round((time.perf_counter_ns() - t0) / 1000.0, 1),
                     findings=[{"rule_id": f.rule_id, "family": f.family, "path": f.path, "excerpt": f.excerpt,
                                "severity": f.severity} for f in v.findings])
        events.append(entry)
    return {
        "files": len(events),
        "with_findings": sum(1 for e in events if e["findings"]),
        "findings": sum(len(e["findings"]) for e in events),
        "how": 'each file parsed with json.load and inspected whole: guard.inspect(event, source="auto")',
        "events": events,
    }


# ---------------------------------------------------------------- the project's own sets

SPLITS = ("dev", "test")
PROJECT_SETS = {  # name -> (folder, label, what a hit means)
    "text": ("benign_text", "benign", "values flagged"),
    "telemetry": ("telemetry", "benign", "messages with findings"),
    "attacks": ("generated_attacks", "attack", "payloads detected"),
}


def load_split(corpus, folder, split, limit, need=()):
    """Rows of ``<folder>/<split>.jsonl``; a row without a field in ``need`` is a corpus error."""
    path = os.path.join(corpus, folder, split + ".jsonl")
    rows = rc.load_rows(path, limit)
    for i, row in enumerate(rows, 1):
        for key in need:
            if key not in row:
                raise rc.CorpusError("%s:%d: row has no %r field (rebuild with tools/build_corpus.py)" % (path, i, key))
    return rows


def wire_of(row):
    """The bytes and decoded document of a telemetry row (CBOR rows hold base64)."""
    enc = row.get("encoding")
    if enc == "cbor":
        import base64
        import cbor2
        try:
            data = base64.b64decode(row["payload"], validate=True)
            return data, cbor2.loads(data)
        except (ValueError, cbor2.CBORDecodeError) as exc:
            raise rc.CorpusError("telemetry row for topic %r: bad CBOR payload (%s)" % (row.get("topic"), exc))
    data = row["payload"].encode("utf-8")
    if enc == "json":
        try:
            return data, json.loads(data)
        except ValueError as exc:
            raise rc.CorpusError("telemetry row for topic %r: bad JSON payload (%s)" % (row.get("topic"), exc))
    return data, row["payload"]


def _plain(doc):
    """A decoded document with string keys only (CBOR SenML uses integer labels), for the peer."""
    if isinstance(doc, dict):
        return {str(k): _plain(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_plain(v) for v in doc]
    return doc


def _rule_counts(outcomes):
    counts = {}
    for o in outcomes:
        for rid in o.rule_ids:
            counts[rid] = counts.get(rid, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _by_family(outcomes, key="family"):
    fam = {}
    for o in outcomes:
        cell = fam.setdefault(o.row.get(key) or "?", [0, 0])
        cell[0] += 1
        cell[1] += o.hit
    return {f: _cell(*c) for f, c in sorted(fam.items(), key=lambda kv: (-kv[1][0], kv[0]))}


def _set_summary(outcomes, examples, show_rows):
    hits = sum(o.hit for o in outcomes)
    out = {"rows": len(outcomes), "hits": hits, "rate": rc.rate(hits, len(outcomes)),
           "by_family": _by_family(outcomes), "rules": _rule_counts(outcomes)}
    if "technique" in (outcomes[0].row if outcomes else {}):
        out["by_technique"] = _by_family(outcomes, "technique")
    if show_rows and examples:
        wanted = [o for o in outcomes if o.hit != (o.row.get("label", "benign") == "attack")][:examples]
        out["examples"] = [{"payload": o.row["payload"][:300], "family": o.row.get("family"),
                            "topic": o.row.get("topic"), "rule_ids": o.rule_ids} for o in wanted]
    return out


def run_project_sets(guard, peer, args):
    """The project's sets, per split: ours (and the peer when available), side by side."""
    out = {}
    for name in args.sets:
        if name == "crs":
            continue
        folder, label, meaning = PROJECT_SETS[name]
        entry = {"folder": folder, "label": label, "meaning": meaning, "splits": {}}
        for split in SPLITS:
            need = ("topic", "encoding") if name == "telemetry" else ()
            rows = load_split(args.corpus, folder, split, args.limit, need)
            if name == "telemetry":
                wires = [wire_of(r) for r in rows]

                def ours_call(i):
                    return guard.inspect(wires[i][0], source="mqtt", topic=rows[i]["topic"])

                def peer_call(i):
                    return peer.scan_addresses({"server.request.body": _plain(wires[i][1])})
                index_rows = [dict(r, payload=r["payload"], _i=i) for i, r in enumerate(rows)]
                ours = run_rows_indexed(index_rows, ours_call, _judge_ours)
                theirs = run_rows_indexed(index_rows, peer_call, _judge_peer(peer)) if peer is not None else None
            else:
                ours = run_rows(rows, lambda p: guard.inspect({"q": p}, source="lambda"), _judge_ours)
                theirs = run_peer(peer, rows) if peer is not None else None
            show = split == "dev"  # the test split is only counted: its rows stay unseen while tuning
            cell = {"ours": _set_summary(ours, args.examples, show), "timing": timing(ours)}
            if theirs is not None:
                cell["libddwaf"] = _set_summary(theirs, args.examples, show)
            entry["splits"][split] = cell
        out[name] = entry
    return out


def _judge_ours(verdict):
    return sorted({f.rule_id for f in verdict.findings}), all(f.family == "limits" for f in verdict.findings) and \
        bool(verdict.findings), None


def _judge_peer(peer):
    return lambda ids: (sorted(set(ids)), False, peer.last_waf_us)


def run_rows_indexed(rows, call, judge):
    """run_rows for calls that take the row's index (telemetry: the call needs the decoded wire)."""
    out = []
    clock = time.perf_counter_ns
    for row in rows:
        t0 = clock()
        res = call(row["_i"])
        us = (clock() - t0) / 1000.0
        rule_ids, limits_only, engine_us = judge(res)
        row = {k: v for k, v in row.items() if k != "_i"}
        out.append(Outcome(row, bool(rule_ids), limits_only, rule_ids, us, engine_us))
    return out


# ---------------------------------------------------------------- the run

def evaluate(args):
    from edge_ssre import Guard

    crs = "crs" in args.sets
    attacks = rc.load_rows(os.path.join(args.corpus, "crs_attacks.jsonl"), args.limit) if crs else []
    benign = rc.load_rows(os.path.join(args.corpus, "crs_benign.jsonl"), args.limit) if crs else []
    aws_files = rc.aws_event_files(args.corpus)
    for name in args.sets:  # fail before minutes of work when a set is missing
        if name != "crs":
            for split in SPLITS:
                path = os.path.join(args.corpus, PROJECT_SETS[name][0], split + ".jsonl")
                if not os.path.isfile(path):
                    raise rc.CorpusError("cannot read %s; build it with: python tools/build_corpus.py" % path)
    guard = Guard()
    names = PLACEMENTS if args.placement == "both" else (args.placement,)
    placements = [LambdaPlacement(guard) if n == "lambda" else ApigwPlacement(guard, args.corpus) for n in names]

    peer_doc = {"name": "libddwaf", "enabled": bool(args.peer), "available": False}
    peer_att = peer_ben = None
    peer = None
    if args.peer:
        peer = DdwafPeer.load()
        peer_doc.update(available=peer.available, reason=peer.reason, versions=peer.versions,
                        describe=peer.describe(),
                        placement="payload in server.request.query {q: [payload]}, server.request.body "
                                  "{q: payload} and server.request.path_params {q: payload}; one context per payload")
        if not peer.available:
            peer = None
        else:
            peer_att = run_peer(peer, attacks)
            peer_ben = run_peer(peer, benign)
            types = {}
            for o in peer_ben:
                for rid in o.rule_ids:
                    t = peer.rule_types.get(rid, "?")
                    types[t] = types.get(t, 0) + 1
            peer_doc.update(attacks=summarize(peer_att), benign=summarize(peer_ben),
                            timing=timing(peer_att + peer_ben), timeouts=peer.timeouts,
                            false_positives=false_positives(peer_ben), benign_rule_types=types)
    else:
        peer_doc["reason"] = "disabled with --no-peer"

    ours = {}
    primary_att = None
    for pl in placements:
        att = run_ours(pl, attacks)
        ben = run_ours(pl, benign)
        if primary_att is None:
            primary_att = att
        ours[pl.name] = {
            "how": pl.describe,
            "baseline_findings": sorted("%s@%s" % k for k in pl.baseline),
            "attacks": summarize(att), "benign": summarize(ben), "timing": timing(att + ben),
            "misses_by_rule": misses_by_rule(att),
            "false_positives": false_positives(ben),
        }
        if peer_att is not None:
            ours[pl.name]["peer_only"] = peer_only(att, peer_att)
    if args.misses:
        peer_hits = [o.hit for o in peer_att] if peer_att is not None else None
        ours[placements[0].name]["top_misses"] = top_misses(primary_att, args.misses, peer_hits)

    project = run_project_sets(guard, peer, args)
    return {
        "tool": "evaluate",
        "sets": list(args.sets),
        "project_sets": project,
        "meta": rc.run_meta(["tools/evaluate.py"] + list(args.argv)),
        "corpus": os.path.abspath(args.corpus),
        "limit": args.limit,
        "counting": {
            "buckets": rc.BUCKET_LABELS,
            "paranoia_null": "counted with PL3-4",
            "detection": "any finding not given by the placement's clean event; limits_only counts detections "
                         "that came only from family 'limits' findings",
        },
        "rows": {"attacks": len(attacks), "benign": len(benign)},
        "ours": ours,
        "peer": peer_doc,
        "aws_events": inspect_aws(guard, aws_files),
    }


# ---------------------------------------------------------------- output

def _engines(doc):
    """(label, summary-holder) columns: each ours placement, then the peer when measured."""
    cols = [("ours/%s" % name, res) for name, res in doc["ours"].items()]
    if doc["peer"].get("attacks"):
        cols.append(("libddwaf", doc["peer"]))
    return cols


def _rate_rows(doc, kind, bucket, total_label="ALL"):
    """Table rows (family, rows, one rate per engine) for ``kind`` (attacks|benign) in ``bucket``."""
    cols = _engines(doc)
    first = cols[0][1][kind]
    out = []
    for family in first["by_family"]:
        cells = [res[kind]["by_family"].get(family, {}).get(bucket, {"rows": 0, "hits": 0}) for _, res in cols]
        if not cells[0]["rows"]:
            continue
        out.append([family, cells[0]["rows"]] + [rc.fmt_rate(c["hits"], c["rows"]) for c in cells])
    tot = [(res[kind]["by_bucket"][bucket] if bucket != "all" else res[kind]) for _, res in cols]
    out.append([total_label, tot[0]["rows"]] +
               [rc.fmt_rate(t["hits"], t["rows"]) for t in tot])
    return ["family", "rows"] + [label for label, _ in cols], out


def _project_tables(doc):
    """(title, header, rows) per project set: every family per split, ours and libddwaf side by side."""
    out = []
    for name, entry in doc.get("project_sets", {}).items():
        splits = entry["splits"]
        peer = any("libddwaf" in c for c in splits.values())
        header = ["family", "split", "rows", "ours/lambda" if name != "telemetry" else "ours/mqtt"] + (["libddwaf"] if peer else [])
        rows = []
        families = []
        for cell in splits.values():
            for f in cell["ours"]["by_family"]:
                if f not in families:
                    families.append(f)
        for f in families + ["**all**"]:
            for split, cell in splits.items():
                mine = cell["ours"] if f == "**all**" else cell["ours"]["by_family"].get(f)
                if not mine:
                    continue
                line = [f, split, mine["rows"], rc.fmt_rate(mine["hits"], mine["rows"])]
                if peer:
                    theirs = cell["libddwaf"] if f == "**all**" else cell["libddwaf"]["by_family"].get(f, {})
                    line.append(rc.fmt_rate(theirs.get("hits", 0), theirs.get("rows", 0)))
                rows.append(line)
        what = "FPR" if entry["label"] == "benign" else "TPR"
        out.append(("`%s/` (%s: %s)" % (entry["folder"], what, entry["meaning"]), header, rows, name))
    return out


def _project_rules(entry, split="dev", engine="ours", n=8):
    rules = entry["splits"].get(split, {}).get(engine, {}).get("rules", {})
    return ", ".join("%s %d" % kv for kv in list(rules.items())[:n]) or "-"


def print_text(doc, misses):
    m = doc["meta"]
    print("edge_ssre detection evaluation  %s  edge_ssre %s @ %s" % (m["date"], m["edge_ssre"], m["commit"]))
    print("corpus %s: %d attack rows, %d benign rows%s" % (
        doc["corpus"], doc["rows"]["attacks"], doc["rows"]["benign"],
        "  (--limit %d per file)" % doc["limit"] if doc["limit"] else ""))
    for name, res in doc["ours"].items():
        print("ours/%s: %s" % (name, res["how"].replace("`", "")))
    print("peer: %s" % (doc["peer"].get("describe") or doc["peer"].get("reason")))
    for title, header, rows, _ in _project_tables(doc):
        print("\n%s" % title.replace("`", ""))
        print(rc.text_table(header, [[str(c).replace("*", "") for c in r] for r in rows]))
    for name, entry in doc.get("project_sets", {}).items():
        print("rules firing on %s (dev split, ours): %s" % (entry["folder"], _project_rules(entry)))
        for ex in entry["splits"].get("dev", {}).get("ours", {}).get("examples", []):
            print("    %-40s %s" % (", ".join(ex["rule_ids"]) or "(missed)", rc.short(ex["payload"], 100)))
    kinds = (("attacks", "TPR on crs_attacks.jsonl"), ("benign", "FPR on crs_benign.jsonl")) if "crs" in doc["sets"] else ()
    for kind, what in kinds:
        for bucket in (rc.PL12, rc.PL34, "all"):
            header, rows = _rate_rows(doc, kind, bucket)
            print("\n%s, %s" % (what, rc.BUCKET_LABELS.get(bucket, "all paranoia levels")))
            print(rc.text_table(header, rows))
    print()
    for label, res in (_engines(doc) if "crs" in doc["sets"] else ()):
        t = res["timing"]
        extra = ""
        if label.startswith("ours"):
            extra = "; detections only from 'limits' findings: %d attack rows, %d benign rows" % (
                res["attacks"]["limits_only"], res["benign"]["limits_only"])
        if "engine_median_us" in t:
            extra = " (libddwaf's own run time: median %s us; the rest is ddtrace's ctypes binding)" % (
                t["engine_median_us"])
        print("%-12s median %s us, p99 %s us per payload%s" % (label, t.get("median_us"), t.get("p99_us"), extra))
    if doc["peer"].get("timeouts"):
        print("libddwaf timeouts: %d" % doc["peer"]["timeouts"])
    aws = doc["aws_events"]
    print("\nAWS sample events (source=auto): %d files, %d with findings, %d findings" % (
        aws["files"], aws["with_findings"], aws["findings"]))
    for e in aws["events"]:
        for f in e["findings"]:
            print("  %s  %s  %s  %s" % (e["file"], f["rule_id"], f["path"], rc.short(f["excerpt"], 60)))
        if e.get("error"):
            print("  %s  ERROR %s" % (e["file"], e["error"]))
    if misses:
        for name, res in doc["ours"].items():
            if "top_misses" not in res:
                continue
            print("\nTop missed attack rows per family (ours/%s; * = libddwaf caught it)" % name)
            for family, rows in res["top_misses"].items():
                n = sum(res["misses_by_rule"].get(family, {}).values())
                print("  %s: %d missed" % (family, n))
                for r in rows:
                    print("    %s PL%s %-7s %s" % ("*" if r["peer_caught"] else " ", r["paranoia"],
                                                  r["crs_rule"], rc.short(r["payload"], 90)))


def print_markdown(doc):
    m = doc["meta"]
    p = doc["peer"]
    out = ["## Every set: edge_ssre vs libddwaf (tools/evaluate.py)", ""]
    out.append("Command: `%s` · %s · %s · edge_ssre %s at `%s`." % (
        m["command"], m["date"], m["machine"], m["edge_ssre"], m["commit"]))
    out.append("")
    out.append("Corpus `%s`: %d attack rows, %d benign rows%s. Paranoia buckets: PL1-2 and PL3-4 "
               "(the one untagged benign row is counted with PL3-4)." % (
                   "corpus/", doc["rows"]["attacks"], doc["rows"]["benign"],
                   " (first %d of each file)" % doc["limit"] if doc["limit"] else ""))
    out.append("")
    for name, res in doc["ours"].items():
        out.append("- **ours/%s**: %s." % (name, res["how"]))
    out.append("- **libddwaf**: %s." % (
        "%s; %s" % (p["describe"], p["placement"]) if p.get("available") else "not measured: %s" % p.get("reason")))
    out.append("- A detection is any finding (for apigw: any finding the clean event does not give). Detections "
               "that came only from `limits` findings: %s." % ", ".join(
                   "%s %d attack / %d benign" % (n, r["attacks"]["limits_only"], r["benign"]["limits_only"])
                   for n, r in doc["ours"].items()))
    for title, header, rows, name in _project_tables(doc):
        entry = doc["project_sets"][name]
        out += ["", "### %s" % title, "", rc.md_table(header, rows, "llrrr")]
        out += ["", "Rules that fired on the development split: ours: %s; libddwaf: %s." % (
            _project_rules(entry), _project_rules(entry, engine="libddwaf"))]
        ex = entry["splits"].get("dev", {}).get("ours", {}).get("examples", [])
        if ex:
            out += ["", "Development-split examples (%s): %s" % (
                "flagged" if entry["label"] == "benign" else "missed",
                "; ".join("%s → %s" % (rc.md_code(e["payload"], 60), ", ".join(e["rule_ids"][:2]) or "nothing")
                          for e in ex))]
    kinds = ((("attacks", "True-positive rate (`crs_attacks.jsonl`)"),
              ("benign", "False-positive rate (`crs_benign.jsonl`)")) if "crs" in doc["sets"] else ())
    for kind, what in kinds:
        for bucket in (rc.PL12, rc.PL34, "all"):
            header, rows = _rate_rows(doc, kind, bucket, "**all**")
            out += ["", "### %s, %s" % (what, rc.BUCKET_LABELS.get(bucket, "all paranoia levels")), "",
                    rc.md_table(header, rows)]
    if "crs" not in doc["sets"]:
        print("\n".join(out))
        return
    out += ["", "### Time per payload (measured during the evaluation; see docs/BENCHMARKS.md for medians)", ""]
    out.append(rc.md_table(["engine", "median µs", "p99 µs", "engine's own median µs"],
                           [[label, res["timing"].get("median_us"), res["timing"].get("p99_us"),
                             res["timing"].get("engine_median_us", "-")] for label, res in _engines(doc)]))
    out += ["", "Wall time per call from Python, one payload at a time (ours: `Guard.inspect`; libddwaf: "
            "ddtrace's ctypes binding, a new context per payload). The last column is libddwaf's own "
            "reported run time, without the binding."]
    first_name, first = next(iter(doc["ours"].items()))
    out += ["", "### Misses per family (ours/%s, attack rows)" % first_name, ""]
    rows = []
    for family, cells in first["attacks"]["by_family"].items():
        mb = first["misses_by_rule"].get(family, {})
        missed = sum(mb.values())
        po = first["peer_only"].get(family, {}).get("count", 0) if "peer_only" in first else "-"
        worst = ", ".join("%s: %d" % kv for kv in list(mb.items())[:4])
        rows.append([family, cells["all"]["rows"], missed, po, worst or "-"])
    out.append(rc.md_table(["family", "rows", "missed", "missed but libddwaf caught", "most-missed CRS rules"],
                           rows, "lrrrl"))
    out += _md_false_positives("ours/%s" % first_name, first["false_positives"])
    if p.get("attacks"):
        out += _md_false_positives("libddwaf", p["false_positives"])
    aws = doc["aws_events"]
    out += ["", "### AWS sample events", ""]
    out.append("%d files of `aws_events/`, each inspected whole with `source=\"auto\"`: %d with findings, "
               "%d findings." % (aws["files"], aws["with_findings"], aws["findings"]))
    found = [(e["file"], f) for e in aws["events"] for f in e["findings"]]
    if found:
        out += ["", rc.md_table(["file", "rule", "path", "excerpt"],
                                [[fn, "`%s`" % f["rule_id"], rc.md_code(f["path"], 50), rc.md_code(f["excerpt"], 50)]
                                 for fn, f in found], "llll")]
    print("\n".join(out))


def _md_false_positives(label, fps):
    out = ["", "### False positives by family (%s, benign rows)" % label, ""]
    if not fps:
        return out + ["None."]
    rows = []
    for family, items in sorted(fps.items(), key=lambda kv: -len(kv[1])):
        ex = "<br>".join("%s → %s" % (rc.md_code(i["payload"], 50), ", ".join(i["rule_ids"][:3]))
                         for i in items[:FP_EXAMPLES])
        rows.append([family, len(items), ex])
    return out + [rc.md_table(["family", "false positives", "examples (payload → rule ids)"], rows, "lrl")]


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="tools/evaluate.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=rc.DEFAULT_CORPUS, help="corpus folder (default: %(default)s)")
    ap.add_argument("--json", metavar="OUT", help="write the full results as JSON to OUT")
    ap.add_argument("--markdown", action="store_true", help="print a section for docs/DETECTION.md instead of tables")
    ap.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                    help="also measure libddwaf (PyPI ddtrace) in the same run (default: on)")
    ap.add_argument("--placement", choices=PLACEMENTS + ("both",), default="both",
                    help="where the payload goes in the inspected event (default: %(default)s)")
    ap.add_argument("--limit", type=int, metavar="N", help="only the first N rows of each .jsonl file")
    ap.add_argument("--misses", type=int, default=0, metavar="N",
                    help="list up to N missed attack rows per family (first placement)")
    ap.add_argument("--sets", default="crs,text,telemetry,attacks",
                    help="comma-separated sets to evaluate: crs, text, telemetry, attacks (default: %(default)s)")
    ap.add_argument("--examples", type=int, default=5, metavar="N",
                    help="flagged benign / missed attack rows listed per set, development split only (default: 5)")
    args = ap.parse_args(argv)
    args.sets = [x.strip() for x in args.sets.split(",") if x.strip()]
    unknown = [x for x in args.sets if x != "crs" and x not in PROJECT_SETS]
    if unknown or not args.sets:
        ap.error("--sets takes crs, text, telemetry, attacks (got %s)" % ", ".join(unknown or ["nothing"]))
    if args.limit is not None and args.limit < 0:
        ap.error("--limit must be >= 0")
    if args.misses < 0:
        ap.error("--misses must be >= 0")
    args.argv = argv
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    render = print_markdown if args.markdown else (lambda doc: print_text(doc, args.misses))
    return rc.run_tool("evaluate", lambda: evaluate(args), render, args.json)


if __name__ == "__main__":
    sys.exit(main())
