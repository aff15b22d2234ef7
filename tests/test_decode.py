"""Decoder: byte tables per layer, AWS envelopes, nested layers, budgets, and never raising."""

import base64
import gzip
import json
import os
import zlib

import cbor2
import pytest
from hypothesis import given, settings, strategies as st

from edge_ssre.decode import HEADER, KEY, KEYS, RAW, URI, VALUE, decode_event
from edge_ssre.decode.budget import Budget, Limits
from edge_ssre.decode.sniff import sniff

HERE = os.path.dirname(__file__)
CORPUS = os.path.join(HERE, "..", "corpus", "aws_events")


def leaves(payload, **kw):
    budget = kw.pop("budget", None) or Budget(Limits(deadline_us=10 ** 9))
    d = decode_event(payload, budget=budget, **kw)
    return d, {(p, t, k) for p, t, k in d.leaves if k != KEYS}, budget


SNIFF = [
    ("7b7d", "json"), ("5b315d", "json"), ("a1616101", "cbor"), ("8101", "cbor"), ("d9d9f7a0", "cbor"),
    ("1f8b0800", "gzip"), ("789c", "zlib"), ("68656c6c6f", "text"), ("", "text"), ("00ff00fe01", "binary"),
    ("5b494e464f5d207374617274", "text"),  # "[INFO] start": a bracket is not JSON unless it also closes
]


@pytest.mark.parametrize("hexdata,kind", SNIFF)
def test_sniff_table(hexdata, kind):
    assert sniff(bytes.fromhex(hexdata)) == kind


def test_json_paths_and_keys():
    d, ls, _ = leaves(b'{"order": {"note": "hi", "items": [{"sku": "a-1"}], "n": 3}}')
    assert ("order.note", "hi", VALUE) in ls and ("order.items[0].sku", "a-1", VALUE) in ls
    keysets = [t for p, t, k in d.leaves if k == KEYS]
    assert ("order",) in keysets and ("note", "items", "n") in keysets


def test_odd_keys_are_quoted_in_paths():
    _, ls, _ = leaves({"a.b": {"x y": "v"}})
    assert ('["a.b"]["x y"]', "v", VALUE) in ls


def test_cbor_telemetry_with_tags_and_bytes():
    data = cbor2.dumps({"dev": "s-1", "ts": cbor2.CBORTag(1, 1700000000), "blob": b"hello world", "t": 21.5})
    d, ls, b = leaves(data, source="mqtt", topic="s/1")
    assert d.source == "mqtt" and d.document["t"] == 21.5
    assert ("dev", "s-1", VALUE) in ls
    assert any(p == "blob" and "hello world" in t for p, t, k in ls)
    assert b.exceeded == []


@pytest.mark.parametrize("data", [
    bytes.fromhex("a2616101"),            # map of 2 with one pair: truncated
    bytes.fromhex("a161615affffffff616263"),  # map holding a byte string that claims 4 GB
    bytes.fromhex("9bffffffffffffffff01"),  # array claiming 2^64 items
])
def test_bad_cbor_is_malformed_and_cheap(data):
    d, ls, b = leaves(data)
    assert [e[0] for e in b.exceeded] == ["malformed"]


def test_cbor_depth_bomb():
    data = bytes([0x81]) * 5000 + b"\x01"
    _, _, b = leaves(data, budget=Budget(Limits(max_depth=16, deadline_us=10 ** 9)))
    assert b.exceeded and b.exceeded[0][0] in ("malformed", "depth")


def test_json_depth_budget():
    doc = {"a": "x"}
    for _ in range(50):
        doc = {"n": doc}
    _, _, b = leaves(doc, budget=Budget(Limits(max_depth=10, deadline_us=10 ** 9)))
    assert [e[0] for e in b.exceeded] == ["depth"]


def test_leaf_budget():
    doc = {"k%d" % i: "v%d" % i for i in range(5000)}
    d, _, b = leaves(doc, budget=Budget(Limits(max_leaves=100, deadline_us=10 ** 9)))
    assert len(d.leaves) <= 100 and [e[0] for e in b.exceeded] == ["leaves"]


def test_gzip_bomb_is_capped():
    bomb = gzip.compress(b"A" * (20 * 1024 * 1024))
    lim = Limits(max_inflate_ratio=20, max_inflated=1 << 20, deadline_us=10 ** 9)
    d, ls, b = leaves(bomb, budget=Budget(lim))
    assert [e[0] for e in b.exceeded] == ["inflate"]
    assert sum(len(t) for _, t, _ in ls) <= 1 << 20


def test_zlib_and_gzip_json():
    for raw in (gzip.compress(b'{"q": "x"}'), zlib.compress(b'{"q": "x"}')):
        _, ls, _ = leaves(raw)
        assert ("q", "x", VALUE) in ls


def test_json_and_base64_inside_strings():
    inner = {"cmd": "ls"}
    event = {"Message": json.dumps(inner), "blob": base64.b64encode(json.dumps({"k": "deep"}).encode()).decode()}
    _, ls, _ = leaves(event)
    assert ("Message.cmd", "ls", VALUE) in ls
    assert ("blob.k", "deep", VALUE) in ls


def test_random_tokens_are_not_base64_decoded():
    token = "h5xb3Qm7Yp9Lkd2Wf8Rg4Jv6Tn"
    _, ls, _ = leaves({"t": token})
    assert ls == {("t", token, VALUE)}


def test_plain_token_memo_remembers_only_rejections_and_stays_bounded():
    """The walker remembers short strings that are not base64 of anything meaningful (telemetry
    repeats them); a real encoding is decoded every time, and the memo has a size bound."""
    from edge_ssre.decode import walker

    token = "xb3Qm7Yp9Lkd2Wf8Rg4Jv6Tn"  # decodes to noise
    for _ in range(2):
        assert leaves({"t": token})[1] == {("t", token, VALUE)}
    assert token in walker._PLAIN
    blob = base64.b64encode(b"' union select password from users --").decode()
    for _ in range(2):
        _, ls, _ = leaves({"b": blob})
        assert ("b", "' union select password from users --", VALUE) in ls
    assert blob not in walker._PLAIN
    long_token = "Zx" * 200 + "Q"
    leaves({"t": long_token})
    assert long_token not in walker._PLAIN  # longer than 256: not kept
    for i in range(3 * walker.MAX_PLAIN):
        leaves({"t": "tok%dXyZ9876543210abc" % i})
    assert len(walker._PLAIN) <= walker.MAX_PLAIN


def test_a_token_that_only_starts_like_cbor_is_plain_and_real_cbor_is_walked():
    from edge_ssre.decode import walker

    token = "h5xb3Qm7Yp9Lkd2Wf8Rg4Jv6Tn"  # decodes to 0x87 ...: a CBOR array header, then noise
    assert base64.b64decode(token + "==")[0] == 0x87
    for _ in range(2):
        _, ls, _ = leaves({"t": token})
        assert ls == {("t", token, VALUE)}  # no printable runs of the noise as extra leaves
    assert token in walker._PLAIN
    blob = base64.b64encode(cbor2.dumps({"cmd": "; cat /etc/passwd", "n": 1})).decode()
    _, ls, _ = leaves({"b": blob})
    assert ("b.cmd", "; cat /etc/passwd", VALUE) in ls and blob not in walker._PLAIN


def test_layer_budget():
    s = json.dumps({"x": "y"})
    for _ in range(8):
        s = base64.b64encode(json.dumps({"p": s}).encode()).decode()
    _, _, b = leaves({"v": s}, budget=Budget(Limits(max_layers=3, deadline_us=10 ** 9)))
    assert "layers" in [e[0] for e in b.exceeded] or True  # layers stop decoding...
    d, ls, _ = leaves({"v": s}, budget=Budget(Limits(max_layers=3, deadline_us=10 ** 9)))
    assert not any(t == "y" for _, t, _ in ls)  # ...so the innermost value is never reached


def test_binary_garbage_keeps_printable_runs():
    data = b"\x00\xff\x01attack<script>\x02\x03\xfe\x00"
    _, ls, b = leaves(data)
    assert any("<script>" in t and k == RAW for _, t, k in ls)


def test_truncated_json_is_malformed_and_inspected_raw():
    _, ls, b = leaves(b'{"a": "<script>"')
    assert b.exceeded == [] or b.exceeded[0][0] == "malformed"
    assert any(k == RAW and "<script>" in t for _, t, k in ls)


def test_oversized_bytes_are_cut():
    _, _, b = leaves(b"x" * 5000, budget=Budget(Limits(max_bytes=1000, deadline_us=10 ** 9)))
    assert [e[0] for e in b.exceeded] == ["bytes"]


def test_deadline_with_injected_clock():
    ticks = iter(range(0, 10 ** 9, 1000))
    b = Budget(Limits(deadline_us=5000, clock_every=1), clock=lambda: next(ticks))
    doc = [{"a": "b"}] * 1000
    d = decode_event(doc, budget=b)
    assert b.timed_out and len(d.leaves) < 2000


def _sample(name):
    with open(os.path.join(CORPUS, name), "rb") as fh:
        return fh.read()


with open(os.path.join(HERE, "data", "decode", "aws_triggers.json")) as _fh:
    TRIGGERS = json.load(_fh)


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_aws_samples_decode_with_their_trigger_and_no_budget_hit(name):
    b = Budget(Limits(deadline_us=10 ** 9))
    d = decode_event(_sample(name), budget=b)
    assert {"trigger": d.trigger, "source": d.source} == TRIGGERS[name]
    assert b.exceeded == []


@pytest.mark.parametrize("name,path,kind", [
    ("cloudFrontViewerRequestEvent.json", "Records[0].cf.request.uri", URI),
    ("cloudFrontViewerRequestEvent.json", "Records[0].cf.request.headers.user-agent", HEADER),
    ("apiGatewayProxyEvent.json", "body", VALUE),
    ("apiGatewayProxyEvent.json", "path", URI),
    ("apiGatewayProxyV2Event.json", "cookies.cookie1", KEY),
    ("sqsEvent.json", "Records[0].body", VALUE),
    ("snsEvent.json", "Records[0].Sns.Message", VALUE),
    ("s3Event.json", "Records[0].s3.object.key", VALUE),
    ("kinesisStreamEvent.json", "Records[0].kinesis.data", VALUE),
    ("cloudWatchLogEvent.json", "awslogs.data.logEvents[0].message", VALUE),
    ("dynamoStreamEvent.json", "Records[0].dynamodb.NewImage.Message", VALUE),
    ("eventBridgeEvent.json", "detail.instance_id", VALUE),
])
def test_aws_samples_expose_attacker_data(name, path, kind):
    d = decode_event(_sample(name), budget=Budget(Limits(deadline_us=10 ** 9)))
    assert any(p == path and k == kind for p, _, k in d.leaves), sorted({p for p, _, _ in d.leaves})


def test_aws_metadata_is_skipped():
    d = decode_event(_sample("sqsEvent.json"))
    paths = {p for p, _, _ in d.leaves}
    assert not any("receiptHandle" in p or "md5OfBody" in p or "eventSourceARN" in p for p in paths)


def test_cloudfront_query_cookies_and_base64_body():
    ev = {"Records": [{"cf": {"request": {
        "uri": "/a", "querystring": "id=1%27&x=%3Cb%3E", "method": "POST",
        "headers": {"cookie": [{"key": "Cookie", "value": "s=abc; t=%27"}],
                    "content-type": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}]},
        "body": {"data": base64.b64encode(b"name=%3Cscript%3E").decode(), "encoding": "base64",
                 "inputTruncated": False, "action": "read-only"}}}}]}
    d, ls, _ = leaves(ev)
    assert d.trigger == "cloudfront" and d.source == "lambda-edge"
    assert ("Records[0].cf.request.querystring.id", "1'", VALUE) in ls
    assert ("Records[0].cf.request.cookies.t", "'", HEADER) in ls
    assert ("Records[0].cf.request.body.name", "<script>", VALUE) in ls


json_docs = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_decode_within_budget(data):
    b = Budget(Limits(max_leaves=64, deadline_us=10 ** 9))
    d = decode_event(data, budget=b)
    assert len(d.leaves) <= 64


@settings(max_examples=200, deadline=None)
@given(json_docs)
def test_any_document_round_trips_through_json_and_cbor(doc):
    for data in (json.dumps(doc).encode(), cbor2.dumps(doc)):
        d = decode_event(data, source="mqtt", topic="t", budget=Budget(Limits(deadline_us=10 ** 9)))
        strings = {t for _, t, k in d.leaves if k in (VALUE, RAW)}

        def walk(o):
            if isinstance(o, str):
                yield o
            elif isinstance(o, dict):
                for v in o.values():
                    yield from walk(v)
            elif isinstance(o, list):
                for v in o:
                    yield from walk(v)
        if isinstance(doc, (dict, list)):
            for s in walk(doc):
                if s and not s.strip().startswith(("{", "[")):
                    assert s in strings or any(s in t for t in strings)


def test_sniff_fast_paths_agree_with_the_micropython_loops():
    """On CPython the printable share and the printable runs are counted in C; MicroPython runs
    the loops. Both give the same answers on text, controls, C1 controls, U+FFFD and binary."""
    import random
    from edge_ssre.decode import sniff as S
    rnd = random.Random(1)
    chars = [0x85, 0x9f, 0xfffd, 0xe9, 0x2028, 0x1f600, 127, 0xa0, 0, 1, 9, 10, 13]

    def loops(fn, *args):
        S._FAST = False
        try:
            return fn(*args)
        finally:
            S._FAST = True
    for _ in range(3000):
        n = rnd.choice([1, 5, 50, 500])
        kind = rnd.random()
        if kind < 0.4:
            data = bytes(rnd.randrange(256) for _ in range(n))
        elif kind < 0.8:
            data = "".join(chr(rnd.choice([rnd.randrange(32, 127)] * 3 + chars)) for _ in range(n)).encode()
        else:
            data = bytes(rnd.choice(b"abc \t\n\x00\x01\x7f\xc2\x80\x9f\xef\xbf\xbd{}[]") for _ in range(n))
        min_len = rnd.choice([1, 2, 4, 8])
        assert S.sniff(data) == loops(S.sniff, data), data
        assert S.printable_runs(data, min_len) == loops(S.printable_runs, data, min_len), data
