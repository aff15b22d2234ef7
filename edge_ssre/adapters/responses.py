"""What a guarded Lambda returns when the guard blocks, per trigger.

- HTTP triggers (API Gateway v1/v2, Function URL, ALB, VPC Lattice): an HTTP 403 with a bare body.
- Batch triggers (SQS, Kinesis, DynamoDB streams): the handler runs on the clean records only, and
  the blocked ones are reported in ``batchItemFailures`` (enable ReportBatchItemFailures on the
  event source mapping), so one bad record never fails the whole batch.
- Everything else (SNS, S3, EventBridge, IoT rules, ...): ``EventBlocked`` is raised, so the
  event takes the function's retry / dead-letter path instead of being dropped silently.
"""

import re

from ..errors import EventBlocked

HTTP_TRIGGERS = ("apigw-v1", "apigw-v2", "function-url", "alb", "vpc-lattice")
BATCH_TRIGGERS = ("sqs", "kinesis", "dynamodb")
_RECORD = re.compile(r"^Records\[(\d+)\]")


def http_forbidden(trigger):
    resp = {"statusCode": 403, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "Forbidden",
            "isBase64Encoded": False}
    if trigger == "alb":
        resp["statusDescription"] = "403 Forbidden"
    return resp


def blocked_records(verdict):
    """Indexes of the records that a blocking finding points at (None: the whole event)."""
    idx = set()
    for f in verdict.findings:
        if f.action != "block":
            continue
        m = _RECORD.match(f.path or "")
        if m is None:
            return None
        idx.add(int(m.group(1)))
    return idx


def item_id(trigger, record):
    if trigger == "sqs":
        return record.get("messageId")
    if trigger == "kinesis":
        return (record.get("kinesis") or {}).get("sequenceNumber")
    if trigger == "dynamodb":
        return (record.get("dynamodb") or {}).get("SequenceNumber")
    return None


def blocked_response(event, trigger, verdict):
    """The response for a blocked event that is not a batch (HTTP 403), or raise EventBlocked."""
    if trigger in HTTP_TRIGGERS:
        return http_forbidden(trigger)
    raise EventBlocked("edge_ssre blocked a %s event (%d finding(s); see the security events)"
                       % (trigger or "Lambda", len(verdict.findings)))
