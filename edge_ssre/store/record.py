"""The security-event record: CBOR on disk, JSON on export. Secrets are redacted before storage.

Fields (CBOR map, text keys; absent fields are omitted)::

    v        1                      record format version
    type     "finding" | "loss"     a finding, or the store saying records were lost
    device   device / thing name
    boot     boot id (random per process start, so (device, boot, seq) is unique)
    seq      store sequence number (filled in on export; the store frames it on disk)
    ts       unix time, seconds (float)
    rule     rule id            family  family         action  "alert" | "block"
    severity low..critical      source  mqtt | lambda | lambda-edge | raw
    topic    MQTT topic or HTTP route
    path     leaf path          excerpt  <= 96 chars, secrets redacted
    client   client id          count   findings in the same verdict
    dropped  (loss) records lost   reason (loss) "overwrite" | "reject" | "disk-full" | "io-error" | "corrupt"

A refused bundle (edge_ssre/bundle) is a finding record with rule ``policy.rejected``, family
``policy``, action ``alert``, path ``bundle:NAME@VERSION`` and the reason as its excerpt.
"""

import re
import time

VERSION = 1
MAX_EXCERPT = 96

_SECRETS = [
    (re.compile(r"(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}"), "[aws-key]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{0,512}"), "[jwt]"),
    (re.compile(r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]{0,4096}?(?:-----END [A-Z ]{0,20}PRIVATE KEY-----|$)"),
     "[private-key]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,512}"), r"\1 [token]"),
    (re.compile(r"(?i)\b(pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|auth)\s*([=:])\s*[^\s&;,\"']{1,256}"),
     r"\1\2[redacted]"),
    (re.compile(r"(?i)\b(aws_secret_access_key|secretaccesskey)\W{1,3}[A-Za-z0-9/+=]{40}"), r"\1=[redacted]"),
]
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn_ok(digits):
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        alt = not alt
    return total % 10 == 0


def redact(text):
    """``text`` with keys, tokens, private keys, passwords and card numbers replaced."""
    if not text:
        return text
    for rx, rep in _SECRETS:
        text = rx.sub(rep, text)

    def card(m):
        digits = re.sub(r"[ -]", "", m.group(0))
        return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else m.group(0)
    return _CARD.sub(card, text)


def finding_record(finding, verdict, envelope, device, boot, ts=None):
    """The record dict for one finding of a verdict."""
    rec = {
        "v": VERSION, "type": "finding", "device": device, "boot": boot,
        "ts": round(ts if ts is not None else time.time(), 3),
        "rule": finding.rule_id, "family": finding.family, "action": finding.action or "alert",
        "severity": finding.severity, "source": verdict.source,
        "path": finding.path, "excerpt": redact(finding.excerpt or "")[:MAX_EXCERPT],
        "count": len(verdict.findings),
    }
    if envelope is not None:
        if envelope.topic is not None:
            rec["topic"] = str(envelope.topic)[:256]
        if envelope.client_id is not None:
            rec["client"] = str(envelope.client_id)[:128]
    return rec


def policy_record(reason, detail, name, version, device="", boot="", ts=None):
    """The record for a refused bundle: what was refused and why (it reaches the uplink like a finding)."""
    return {"v": VERSION, "type": "finding", "device": device, "boot": boot,
            "ts": round(ts if ts is not None else time.time(), 3),
            "rule": "policy.rejected", "family": "policy", "action": "alert", "severity": "high",
            "source": "bundle", "path": "bundle:%s@%s" % (name or "?", version if version is not None else "?"),
            "excerpt": redact("%s: %s" % (reason, detail))[:MAX_EXCERPT], "count": 1}


def loss_record(dropped, reason, device="", boot="", ts=None):
    return {"v": VERSION, "type": "loss", "device": device, "boot": boot,
            "ts": round(ts if ts is not None else time.time(), 3), "dropped": dropped, "reason": reason}


def _utf8(value):
    """A text field that UTF-8 can carry: lone surrogates (JSON's ``\\ud800``, which an attacker
    controls) are written as their escape, so the record is stored instead of lost."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def encode(rec):
    """CBOR bytes of a record (cbor2; the small encoder of the micro core where cbor2 is missing)."""
    try:
        import cbor2
    except ImportError:  # pragma: no cover - cbor2 is a core dependency
        from ..decode.cbor_lite import dumps
        return dumps({k: _utf8(v) for k, v in rec.items()})
    try:
        return cbor2.dumps(rec)
    except UnicodeEncodeError:
        return cbor2.dumps({k: _utf8(v) for k, v in rec.items()})


def decode(data):
    """A record dict from its stored bytes (CBOR, or the JSON a loss marker may use)."""
    try:
        import cbor2
        return cbor2.loads(data)
    except ImportError:  # pragma: no cover
        import json
        return json.loads(data)
