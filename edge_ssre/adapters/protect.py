"""``edge_ssre.protect``: one decorator for Lambda handlers (and any function taking an event).

    from edge_ssre import protect

    @protect
    def handler(event, context): ...

    @protect(profile="greengrass-core", policy="policy.toml", sink=my_sink)
    async def handler(event, context): ...

Each invocation's event is inspected before the handler runs (the source is detected: API
Gateway, ALB, Function URL, SQS, SNS, S3, DynamoDB, Kinesis, EventBridge, IoT rules...). On
*alert* the handler runs as usual; on *block* the function answers as its trigger expects
(see responses.py). Findings go to ``sink`` (default: one JSON line per finding on stdout, which
Lambda sends to CloudWatch Logs). A failure of the guard itself never breaks the function:
``on_error="allow"`` (default) runs the handler and logs the error, ``"block"`` refuses.
"""

import asyncio
import functools
import json
import sys

from ..guard import Guard
from ..verdict import BLOCK
from . import responses


def log_sink(verdict, env):
    for f in verdict.findings:
        d = f.to_dict()
        d.update(edge_ssre="finding", source=verdict.source)
        sys.stdout.write(json.dumps(d, separators=(",", ":")) + "\n")


def protect(handler=None, *, profile=None, policy=None, sink=None, guard=None, on_error="allow",
            behavior="off", behavior_policy=None, behavior_baseline=None):
    """Wrap a handler; usable bare (``@protect``) or with arguments.

    With ``behavior="learn"`` the learned baseline (a behaviour policy file to review, then
    enforce) is written out whenever an invocation taught the monitor something new: to the
    file ``behavior_baseline`` (replaced whole), or else as one JSON log line
    ``{"edge_ssre": "behavior_baseline", "toml": ...}`` (CloudWatch Logs, on Lambda).
    ``handler.edge_ssre_monitor()`` returns the monitor (``baseline_toml()``)."""
    if on_error not in ("allow", "block"):
        raise ValueError("on_error must be 'allow' or 'block', got %r" % (on_error,))
    if behavior not in ("off", "learn", "alert", "block"):
        raise ValueError("behavior must be off, learn, alert or block, got %r" % (behavior,))

    def decorate(fn):
        state = {"guard": guard, "monitor": None, "learned": 0}

        def get_guard():
            g = state["guard"]
            if g is None:
                g = Guard.from_profile(profile, sink=sink or log_sink) if profile else Guard(sink=sink or log_sink)
                if policy is not None:
                    g.reload(policy=policy)
                state["guard"] = g
            return g

        def get_monitor():
            if behavior == "off":
                return None
            if state["monitor"] is None:
                from ..behavior import monitor_for
                state["monitor"] = monitor_for(fn, behavior, behavior_policy, get_guard())
            return state["monitor"]

        def learned(mon):
            """After a learning invocation: write the baseline out when it grew."""
            n = mon.learned_size()
            if n == state["learned"]:
                return
            state["learned"] = n
            from ..behavior import internal
            try:
                text = mon.baseline_toml()
                with internal():  # the guard's own write: not part of what the function does
                    if behavior_baseline is None:
                        line = {"edge_ssre": "behavior_baseline", "items": n, "toml": text}
                        sys.stdout.write(json.dumps(line) + "\n")
                    else:
                        _replace(behavior_baseline, text)
            except Exception as exc:  # the handler's answer must not depend on the baseline's file
                sys.stdout.write(json.dumps({"edge_ssre": "error", "error": "behavior baseline: %s: %s"
                                             % (type(exc).__name__, exc)}) + "\n")

        def before(event):
            """(event to pass, response to return instead, batch info)"""
            try:
                g = get_guard()
                verdict = g.inspect(event, source="lambda")
            except Exception as exc:
                sys.stdout.write(json.dumps({"edge_ssre": "error", "error": "%s: %s" % (type(exc).__name__, exc)}) + "\n")
                if on_error == "block":
                    return None, {"statusCode": 403, "body": "Forbidden"}, None
                return event, None, None
            if verdict.action != BLOCK:
                return event, None, None
            from ..decode.aws_envelopes import detect_trigger
            trigger = detect_trigger(event) if isinstance(event, dict) else None
            if trigger in responses.BATCH_TRIGGERS:
                idx = responses.blocked_records(verdict)
                records = event.get("Records") or []
                if idx is None:
                    idx = set(range(len(records)))
                failures = [{"itemIdentifier": responses.item_id(trigger, records[i])} for i in sorted(idx)
                            if i < len(records)]
                clean = dict(event)
                clean["Records"] = [r for i, r in enumerate(records) if i not in idx]
                return clean, None, failures
            return None, responses.blocked_response(event, trigger, verdict), None

        def merge(result, failures):
            if not failures:
                return result
            if isinstance(result, dict):
                result = dict(result)
                result["batchItemFailures"] = list(result.get("batchItemFailures") or []) + failures
                return result
            return {"batchItemFailures": failures}

        def gate(event, context):
            """(event for the handler or None, the answer when None, batch failures, behaviour monitor or None)."""
            ev, resp, failures = before(event)
            if resp is not None:
                return None, resp, None, None
            if failures is not None and not ev["Records"]:
                return None, merge(None, failures), None, None
            return ev, None, failures, get_monitor()

        if asyncio.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(event, context=None, *a, **kw):
                ev, done, failures, mon = gate(event, context)
                if ev is None:
                    return done
                if mon is None:
                    return merge(await fn(ev, context, *a, **kw), failures)
                try:
                    with mon.invocation(context):
                        return merge(await fn(ev, context, *a, **kw), failures)
                finally:
                    if behavior == "learn":
                        learned(mon)
            awrapper.edge_ssre_guard = get_guard
            awrapper.edge_ssre_monitor = get_monitor
            return awrapper

        @functools.wraps(fn)
        def wrapper(event, context=None, *a, **kw):
            ev, done, failures, mon = gate(event, context)
            if ev is None:
                return done
            if mon is None:
                return merge(fn(ev, context, *a, **kw), failures)
            try:
                return merge(mon.run(mon.request_id_of(context), fn, ev, context, *a, **kw), failures)
            finally:
                if behavior == "learn":
                    learned(mon)
        wrapper.edge_ssre_guard = get_guard
        wrapper.edge_ssre_monitor = get_monitor
        return wrapper

    if handler is not None and callable(handler):
        return decorate(handler)
    return decorate


def _replace(path, text):
    """Write ``text`` to ``path`` whole: a reader sees the old file or the new one."""
    import os
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
