"""``edge-ssre events stat|tail|export [--store PATH] [--json]``: read the event store."""

import json
import os
import sys

DEFAULT_STORE = os.environ.get("EDGE_SSRE_STORE", "/var/lib/edge-ssre/events.ring")


def open_existing(path):
    """The store at ``path``, sized by its header (a truncated file keeps its capacity), else
    by the file's size."""
    from . import EventStore
    from .ring_buffer import DATA_START, Ring
    if not os.path.exists(path):
        raise FileNotFoundError("no event store at %s (give --store PATH)" % path)
    capacity = os.path.getsize(path) - DATA_START
    with open(path, "rb") as fh:
        header = Ring(fh, 0).read_header()
    if header is not None:
        capacity = header[4]
    return EventStore(path, capacity_bytes=capacity, durability="none")


def _record(seq, payload):
    from .record import decode
    try:
        rec = decode(payload)
        if not isinstance(rec, dict):
            rec = {"type": "unknown", "value": repr(rec)[:200]}
    except Exception:
        rec = {"type": "undecodable", "bytes": len(payload)}
    rec["seq"] = seq
    return rec


def _line(rec):
    if rec.get("type") == "loss":
        return "%8d  LOSS  %d record(s) lost (%s)" % (rec["seq"], rec.get("dropped", 0), rec.get("reason", "?"))
    return "%8d  %-5s  %-26s %-8s %s  %s" % (
        rec["seq"], str(rec.get("action", "?")).upper(), rec.get("rule", "?"), rec.get("family", ""),
        rec.get("topic") or rec.get("path", ""), rec.get("excerpt", ""))


def main(args):
    path = args.store or DEFAULT_STORE
    try:
        store = open_existing(path)
    except FileNotFoundError as exc:
        sys.stderr.write("edge-ssre: %s\n" % exc)
        return 2
    with store:
        if args.action == "stat":
            st = store.stats()
            if args.json:
                print(json.dumps(st))
            else:
                for k in ("path", "capacity_bytes", "used_bytes", "records", "dropped", "oldest_seq",
                          "newest_seq", "committed_seq", "backlog"):
                    print("%-15s %s" % (k, st[k]))
            return 0
        records = [_record(s, p) for s, p in store.iter_from(1)]
        if args.action == "tail":
            records = records[-args.n:] if args.n > 0 else []
        for rec in records:
            print(json.dumps(rec, default=str) if args.json or args.action == "export" else _line(rec))
    return 0
