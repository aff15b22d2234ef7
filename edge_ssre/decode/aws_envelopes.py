"""AWS event envelopes: which trigger an event came from, and which of its fields carry data an
attacker can control. Pure AWS metadata (ARNs, ids, signatures, digests, timestamps, counters)
is skipped. MicroPython-clean.

Each trigger is one small function over the event; the shared helpers do the walking.
"""

from .url_layer import parse_cookies, parse_query, unquote

VALUE, KEY, URI, HEADER, RAW = 0, 1, 2, 3, 4
MAX_PARAMS = 512  # query/form/cookie pairs per field


def detect_trigger(ev):
    """The trigger name of a Lambda event dict, or None."""
    recs = ev.get("Records")
    if isinstance(recs, list) and recs and isinstance(recs[0], dict):
        r = recs[0]
        if "cf" in r:
            return "cloudfront"
        if "Sns" in r:
            return "sns"
        if "s3" in r:
            return "s3"
        if "dynamodb" in r:
            return "dynamodb"
        if "kinesis" in r:
            return "kinesis"
        if "ses" in r:
            return "ses"
        if "body" in r and ("receiptHandle" in r or r.get("eventSource") == "aws:sqs"):
            return "sqs"
        return None
    rc = ev.get("requestContext")
    if isinstance(rc, dict):
        if "elb" in rc:
            return "alb"
        if "serviceNetworkArn" in rc or "serviceArn" in rc:
            return "vpc-lattice"
        if "http" in rc or ev.get("version") == "2.0":
            dn = rc.get("domainName") or ""
            return "function-url" if ".lambda-url." in dn else "apigw-v2"
        if "httpMethod" in ev or "resource" in ev:
            return "apigw-v1"
    if "raw_path" in ev and "method" in ev:
        return "vpc-lattice"
    if "httpMethod" in ev and "path" in ev:
        return "apigw-v1"
    if isinstance(ev.get("awslogs"), dict):
        return "cloudwatch-logs"
    if "deliveryStreamArn" in ev and isinstance(ev.get("records"), list):
        return "firehose"
    src = ev.get("eventSource")
    if src in ("aws:kafka", "aws:SelfManagedKafka", "SelfManagedKafka") and isinstance(ev.get("records"), dict):
        return "kafka"
    if src in ("aws:mq", "aws:amq", "aws:rmq") or "rmqMessagesByQueue" in ev:
        return "mq"
    if ev.get("type") == "TOKEN" and "authorizationToken" in ev:
        return "apigw-authorizer"
    if "detail-type" in ev and "detail" in ev:
        return "eventbridge"
    return None


def _b64field(w, s, path, depth=1):
    """A field documented as base64 (Kinesis data, Firehose/Kafka/MQ values, HTTP bodies)."""
    if not isinstance(s, str) or not s:
        return
    from .base64_layer import decode
    raw = decode(s, force=True)
    if raw is None:
        w.string(s, path, depth, 0)
    else:
        w.payload(raw, path, depth, 1, VALUE, embedded=True)


def _headers(w, headers, path, multi=False):
    """Header values as HEADER leaves (cookies split into name/value)."""
    if not isinstance(headers, dict):
        return
    for name, value in headers.items():
        if not isinstance(name, str):
            continue
        values = value if isinstance(value, list) else [value]
        p = path + "." + name.lower()
        for v in values:
            if isinstance(v, dict):  # CloudFront: [{"key": "User-Agent", "value": "..."}]
                v = v.get("value")
            if not isinstance(v, str):
                continue
            if name.lower() == "cookie":
                _cookies(w, v, path.rsplit(".", 1)[0] + ".cookies")
            else:
                w.leaf(p, v, HEADER)


def _cookies(w, header, path):
    for name, value in parse_cookies(header, MAX_PARAMS):
        p = path + "." + name
        w.leaf(p, name, KEY)
        w.string(value, p, 1, 0, HEADER)


def _query(w, qs, path):
    if not isinstance(qs, str):
        return
    for name, value in parse_query(qs, MAX_PARAMS):
        p = path + "." + name if name else path
        w.leaf(p, name, KEY)
        w.string(value, p, 1, 0)


def _params(w, params, path, decode=False):
    """queryStringParameters / pathParameters style dicts (values or lists of values)."""
    if not isinstance(params, dict):
        return
    for name, value in params.items():
        if not isinstance(name, str):
            continue
        p = path + "." + name
        w.leaf(p, unquote(name) if decode else name, KEY)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                w.string(unquote(v) if decode else v, p, 1, 0)


def _content_type(headers):
    if isinstance(headers, dict):
        for k, v in headers.items():
            if isinstance(k, str) and k.lower() == "content-type":
                if isinstance(v, list):
                    v = v[0] if v else ""
                    if isinstance(v, dict):
                        v = v.get("value", "")
                return v.lower() if isinstance(v, str) else ""
    return ""


def _body(w, body, is_b64, content_type, path):
    if not isinstance(body, str) or not body:
        return
    if is_b64:
        from .base64_layer import decode
        raw = decode(body, force=True)
        if raw is None:
            w.string(body, path, 1, 0)
            return
        if "x-www-form-urlencoded" in content_type:
            _query(w, raw.decode("utf-8", "replace"), path)
        else:
            w.payload(raw, path, 1, 1, VALUE, embedded=True)
        return
    if "x-www-form-urlencoded" in content_type:
        _query(w, body, path)
    else:
        w.string(body, path, 1, 0)


def _http(w, ev, path_key, query_key, b64_key="isBase64Encoded", mq_key="multiValueQueryStringParameters",
          decode_params=False):
    headers = ev.get("headers")
    if isinstance(ev.get(path_key), str):
        w.leaf(path_key, ev[path_key], URI)
    if query_key == "rawQueryString":
        _query(w, ev.get("rawQueryString"), "query")
    else:
        # API Gateway and ALB fill both forms; a caller (or an attacker-built test event) may not
        # keep them in step, so both are inspected (repeated values cost one memo lookup)
        _params(w, ev.get(query_key), query_key, decode_params)
        if isinstance(ev.get(mq_key), dict) and ev.get(mq_key) != ev.get(query_key):
            _params(w, ev.get(mq_key), mq_key, decode_params)
    _params(w, ev.get("pathParameters"), "pathParameters")
    _headers(w, headers, "headers")
    mvh = ev.get("multiValueHeaders")
    if isinstance(mvh, dict) and mvh != headers:
        _headers(w, mvh, "multiValueHeaders")
    cookies = ev.get("cookies")
    if isinstance(cookies, list):
        for c in cookies:
            if isinstance(c, str):
                _cookies(w, c, "cookies")
    _body(w, ev.get("body"), bool(ev.get(b64_key)), _content_type(headers), "body")


def _cloudfront(w, ev):
    for i, rec in enumerate(ev.get("Records", ())):
        cf = rec.get("cf") if isinstance(rec, dict) else None
        if not isinstance(cf, dict):
            continue
        base = "Records[%d].cf" % i
        req = cf.get("request")
        if isinstance(req, dict):
            rp = base + ".request"
            if isinstance(req.get("uri"), str):
                w.leaf(rp + ".uri", req["uri"], URI)
            _query(w, req.get("querystring"), rp + ".querystring")
            _headers(w, req.get("headers"), rp + ".headers")
            body = req.get("body")
            if isinstance(body, dict):
                _body(w, body.get("data"), body.get("encoding") == "base64",
                      _content_type(req.get("headers")), rp + ".body")
        resp = cf.get("response")
        if isinstance(resp, dict):  # response headers come from the origin; inspect the body it may echo
            rb = resp.get("body")
            if isinstance(rb, str):
                w.string(rb, base + ".response.body", 1, 0)


def _records(w, ev, fields):
    """For each record, walk the listed (dotted) fields."""
    for i, rec in enumerate(ev.get("Records", ())):
        if not isinstance(rec, dict):
            continue
        for dotted in fields:
            obj = rec
            for part in dotted.split("."):
                obj = obj.get(part) if isinstance(obj, dict) else None
            if obj is not None:
                w.walk(obj, "Records[%d].%s" % (i, dotted), 1, 0)


def _dynamo_value(w, av, path, depth):
    """DynamoDB typed attribute values: {"S": ...}, {"M": {...}}, {"L": [...]}, {"SS": [...]}."""
    if w.stopped or not isinstance(av, dict):
        return
    for t, v in av.items():
        if t == "S" or t == "SS":
            for s in v if isinstance(v, list) else [v]:
                if isinstance(s, str):
                    w.string(s, path, depth, 0)
        elif t == "B" or t == "BS":
            for s in v if isinstance(v, list) else [v]:
                _b64field(w, s, path, depth)
        elif t == "M" and isinstance(v, dict):
            for k, sub in v.items():
                p = path + "." + str(k)
                w.leaf(p, str(k), KEY)
                _dynamo_value(w, sub, p, depth + 1)
        elif t == "L" and isinstance(v, list):
            for j, sub in enumerate(v):
                _dynamo_value(w, sub, "%s[%d]" % (path, j), depth + 1)


def _dynamodb(w, ev):
    for i, rec in enumerate(ev.get("Records", ())):
        ddb = rec.get("dynamodb") if isinstance(rec, dict) else None
        if not isinstance(ddb, dict):
            continue
        for image in ("Keys", "NewImage", "OldImage"):
            img = ddb.get(image)
            if isinstance(img, dict):
                for k, av in img.items():
                    p = "Records[%d].dynamodb.%s.%s" % (i, image, k)
                    w.leaf(p, str(k), KEY)
                    _dynamo_value(w, av, p, 2)


def _kinesis(w, ev):
    for i, rec in enumerate(ev.get("Records", ())):
        k = rec.get("kinesis") if isinstance(rec, dict) else None
        if isinstance(k, dict):
            _b64field(w, k.get("data"), "Records[%d].kinesis.data" % i)
            if isinstance(k.get("partitionKey"), str):
                w.string(k["partitionKey"], "Records[%d].kinesis.partitionKey" % i, 1, 0)


def _s3(w, ev):
    for i, rec in enumerate(ev.get("Records", ())):
        s3 = rec.get("s3") if isinstance(rec, dict) else None
        if not isinstance(s3, dict):
            continue
        obj = s3.get("object")
        if isinstance(obj, dict) and isinstance(obj.get("key"), str):
            w.string(unquote(obj["key"]), "Records[%d].s3.object.key" % i, 1, 0)
        b = s3.get("bucket")
        if isinstance(b, dict) and isinstance(b.get("name"), str):
            w.leaf("Records[%d].s3.bucket.name" % i, b["name"])


def _sns(w, ev):
    _records(w, ev, ("Sns.Subject", "Sns.Message"))
    for i, rec in enumerate(ev.get("Records", ())):
        attrs = rec.get("Sns", {}).get("MessageAttributes") if isinstance(rec, dict) else None
        if isinstance(attrs, dict):
            for name, a in attrs.items():
                p = "Records[%d].Sns.MessageAttributes.%s" % (i, name)
                w.leaf(p, str(name), KEY)
                if isinstance(a, dict) and isinstance(a.get("Value"), str):
                    w.string(a["Value"], p, 2, 0)


def _sqs(w, ev):
    for i, rec in enumerate(ev.get("Records", ())):
        if not isinstance(rec, dict):
            continue
        if isinstance(rec.get("body"), str):
            w.string(rec["body"], "Records[%d].body" % i, 1, 0)
        attrs = rec.get("messageAttributes")
        if isinstance(attrs, dict):
            for name, a in attrs.items():
                p = "Records[%d].messageAttributes.%s" % (i, name)
                w.leaf(p, str(name), KEY)
                if isinstance(a, dict):
                    if isinstance(a.get("stringValue"), str):
                        w.string(a["stringValue"], p, 2, 0)
                    if isinstance(a.get("binaryValue"), str):
                        _b64field(w, a["binaryValue"], p, 2)


def _ses(w, ev):
    _records(w, ev, ("ses.mail.commonHeaders.subject", "ses.mail.commonHeaders.from", "ses.mail.commonHeaders.to",
                     "ses.mail.source"))


def _cloudwatch_logs(w, ev):
    _b64field(w, ev["awslogs"].get("data"), "awslogs.data")


def _firehose(w, ev):
    for i, rec in enumerate(ev.get("records", ())):
        if isinstance(rec, dict):
            _b64field(w, rec.get("data"), "records[%d].data" % i)


def _kafka(w, ev):
    for topic, recs in ev.get("records", {}).items():
        if not isinstance(recs, list):
            continue
        for i, rec in enumerate(recs):
            if isinstance(rec, dict):
                base = "records.%s[%d]" % (topic, i)
                _b64field(w, rec.get("value"), base + ".value")
                _b64field(w, rec.get("key"), base + ".key")


def _mq(w, ev):
    msgs = ev.get("messages")
    if isinstance(msgs, list):
        for i, m in enumerate(msgs):
            if isinstance(m, dict):
                _b64field(w, m.get("data"), "messages[%d].data" % i)
    by_q = ev.get("rmqMessagesByQueue")
    if isinstance(by_q, dict):
        for q, msgs in by_q.items():
            for i, m in enumerate(msgs if isinstance(msgs, list) else ()):
                if isinstance(m, dict):
                    _b64field(w, m.get("data"), "rmqMessagesByQueue.%s[%d].data" % (q, i))


def _eventbridge(w, ev):
    w.walk(ev.get("detail"), "detail", 1, 0)


def _authorizer(w, ev):
    if isinstance(ev.get("authorizationToken"), str):
        w.leaf("authorizationToken", ev["authorizationToken"], HEADER)


def _apigw_v1(w, ev):
    _http(w, ev, "path", "queryStringParameters")


def _apigw_v2(w, ev):
    _http(w, ev, "rawPath", "rawQueryString")


def _alb(w, ev):
    # ALB passes query parameters still URL-encoded
    _http(w, ev, "path", "queryStringParameters", decode_params=True)


def _lattice(w, ev):
    if "raw_path" in ev:
        _http(w, ev, "raw_path", "query_string_parameters", b64_key="is_base64_encoded")
    else:
        _http(w, ev, "path", "queryStringParameters")


HANDLERS = {
    "cloudfront": _cloudfront, "sns": _sns, "sqs": _sqs, "s3": _s3, "dynamodb": _dynamodb,
    "kinesis": _kinesis, "ses": _ses, "cloudwatch-logs": _cloudwatch_logs, "firehose": _firehose,
    "kafka": _kafka, "mq": _mq, "eventbridge": _eventbridge, "apigw-v1": _apigw_v1, "apigw-v2": _apigw_v2,
    "function-url": _apigw_v2, "alb": _alb, "vpc-lattice": _lattice, "apigw-authorizer": _authorizer,
}


def extract(ev, trigger, w):
    HANDLERS[trigger](w, ev)
