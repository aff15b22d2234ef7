"""Security events as OCSF Detection Findings (class_uid 2004, OCSF 1.1.0 with the ``host`` and
``security_control`` profiles), one JSON array of events per message.

    items, message = next_batch(store, after_seq)      # same contract as batcher.next_batch

The mapping (docs/GREENGRASS.md has the table): ``finding_info.uid`` is ``device:boot:seq``, unique per
event and stable across redeliveries (deduplicate on it); family and rule go to ``finding_info.types``
and ``finding_info.analytic``; severity to ``severity_id``; ``block``/``alert`` to ``action_id``
(Denied/Allowed) and ``disposition_id`` (Blocked/Detected); the device to ``device`` (type IOT); the
MQTT topic or HTTP route to ``resources``; path, redacted excerpt and client to ``evidences``. A store
``loss`` record becomes a finding of its own (analytic ``edge_ssre.store.loss``) so the fleet sees it.

Every text field is capped, so one event stays a few KB and a batch stops before ``max_bytes``
(AWS IoT Core takes 128 KB per message). JSON is ASCII-escaped: excerpts of attack payloads may hold
lone surrogates, which UTF-8 cannot carry.
"""

import json

from .batcher import MAX_MESSAGE_BYTES, MAX_RECORDS

OCSF_VERSION = "1.1.0"
PROFILES = ["host", "security_control"]
CLASS_UID = 2004
CATEGORY_UID = 2
ACTIVITY_CREATE = 1
SEVERITY = {"informational": (1, "Informational"), "info": (1, "Informational"), "low": (2, "Low"),
            "medium": (3, "Medium"), "high": (4, "High"), "critical": (5, "Critical"), "fatal": (6, "Fatal")}
DEVICE_TYPE_IOT = 7
ANALYTIC_RULE = 1
MAX_FIELD = 512  # characters of a path, topic or id in an event
# an IoT rule's Firehose action with batchMode takes at most 500 array elements per message
MAX_EVENTS = 500
# a batch's reading budget: stored CBOR is several times smaller than the JSON it becomes
READ_BYTES = 256 * 1024


def _cap(value, n=MAX_FIELD):
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text[:n]


def _product_version():
    try:
        from .. import __version__
        return __version__
    except ImportError:  # pragma: no cover - the package is always importable here
        return "unknown"


def detection_finding(rec, seq):
    """One stored record (a dict from store/record.py) as an OCSF Detection Finding dict."""
    if not isinstance(rec, dict):
        rec = {"type": "undecodable"}
    device = _cap(rec.get("device")) or "unknown"
    uid = "%s:%s:%d" % (device, _cap(rec.get("boot"), 64), seq)
    try:
        ms = int(round(float(rec.get("ts") or 0) * 1000))
    except (TypeError, ValueError):
        ms = 0
    kind = rec.get("type")
    if kind == "loss":
        family, rule, action, severity = "store", "edge_ssre.store.loss", "alert", "medium"
        title = "%s security events lost on %s (%s)" % (rec.get("dropped", "?"), device, _cap(rec.get("reason"), 32))
    elif kind == "finding":
        family, rule = _cap(rec.get("family"), 64) or "unknown", _cap(rec.get("rule"), 128) or "unknown"
        action, severity = rec.get("action") or "alert", str(rec.get("severity") or "").lower()
        title = "%s attempt blocked: %s" % (family, rule) if action == "block" else \
            "%s attempt detected: %s" % (family, rule)
    else:
        family, rule, action, severity = "store", "edge_ssre.store.record", "alert", "low"
        title = "an event record on %s could not be read" % device
    sev_id, sev = SEVERITY.get(severity, (99, "Other") if severity else (0, "Unknown"))
    blocked = action == "block"
    event = {
        "class_uid": CLASS_UID, "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE, "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE, "type_name": "Detection Finding: Create",
        "time": ms, "severity_id": sev_id, "severity": sev,
        "status_id": 1, "status": "New",
        "action_id": 2 if blocked else 1, "action": "Denied" if blocked else "Allowed",
        "disposition_id": 2 if blocked else 15, "disposition": "Blocked" if blocked else "Detected",
        "message": title,
        "finding_info": {
            "uid": uid, "title": title, "types": [family], "created_time": ms,
            "analytic": {"uid": rule, "name": rule, "type_id": ANALYTIC_RULE, "type": "Rule", "category": family},
        },
        "device": {"type_id": DEVICE_TYPE_IOT, "type": "IOT", "name": device, "uid": device, "hostname": device},
        "metadata": {
            "version": OCSF_VERSION, "profiles": list(PROFILES), "uid": uid, "sequence": seq,
            "log_name": "edge_ssre", "original_time": str(rec.get("ts", "")),
            "product": {"name": "edge_ssre", "vendor_name": "edge_ssre", "version": _product_version()},
        },
        "unmapped": {"edge_ssre": {k: rec[k] for k in ("v", "boot", "count", "source", "dropped", "reason")
                                   if isinstance(rec.get(k), (str, int, float))}},
    }
    if rec.get("source"):
        event["finding_info"]["data_sources"] = [_cap(rec["source"], 32)]
    topic = _cap(rec.get("topic"))
    if topic:
        kind = "HTTP route" if str(rec.get("source", "")).startswith("lambda") else "MQTT topic"
        event["resources"] = [{"type": kind, "name": topic, "uid": topic}]
    data = {k: _cap(rec.get(k)) for k in ("path", "excerpt", "topic") if rec.get(k)}
    if data or rec.get("client"):
        evidence = {"data": data}
        if rec.get("client"):
            evidence["src_endpoint"] = {"uid": _cap(rec["client"], 128)}
        event["evidences"] = [evidence]
    return event


def encode_event(rec, seq):
    return json.dumps(detection_finding(rec, seq), separators=(",", ":"), ensure_ascii=True).encode("ascii")


def next_batch(store, after_seq, max_bytes=MAX_MESSAGE_BYTES, max_records=MAX_RECORDS):
    """(items, message): the records after ``after_seq`` that fit in one JSON array of at most
    ``max_bytes`` and ``MAX_EVENTS`` events, or ([], b"") when there are none. ``items`` holds exactly the records in the message,
    so the caller's cursor moves over those only."""
    from ..store.record import decode
    stored = store.read(after_seq + 1, max_records=min(max_records, MAX_EVENTS), max_bytes=max(max_bytes, READ_BYTES))
    parts, items, size = [], [], 2
    for seq, payload in stored:
        try:
            rec = decode(payload)
        except Exception:  # a stored record that no longer decodes still becomes an event
            rec = None
        part = encode_event(rec, seq)
        if parts and size + len(part) + 1 > max_bytes:
            break
        parts.append(part)
        items.append((seq, payload))
        size += len(part) + 1
    if not items:
        return [], b""
    return items, b"[" + b",".join(parts) + b"]"
