"""Lambda@Edge: ``protect`` for CloudFront viewer/origin request and response handlers.

    from edge_ssre.lambda_edge import protect

    @protect                                    # built-in rules, profile "lambda-edge-viewer"
    def handler(event, context): ...

    @protect(profile="lambda-edge-origin", policy="edge-ssre-policy.toml", on_error="allow")
    def handler(event, context): ...

The request (uri, querystring, headers, cookies, body with ``encoding: base64`` and
``inputTruncated``) is inspected before the handler runs. On *block* the handler is not
called and a generated 403 is returned (no rule details reach the client); on *alert* the
handler runs as usual. Every finding is written as one JSON line to stdout, which Lambda@Edge
sends to CloudWatch Logs in the region that served the request (it has no disk that outlives the
call and no environment variables, so configuration is packaged with the function: relative
policy/profile paths are resolved next to the handler's module).

Only the standard library and the inspection core are imported here: never paho or awsiotsdk.
"""

import functools
import json
import os
import sys

from ..guard import Guard
from ..verdict import BLOCK

BLOCK_BODY = "Forbidden"
_ON_ERROR = ("allow", "block")


def blocked_response():
    """The response CloudFront sends instead of calling the origin (the same for every rule)."""
    return {
        "status": "403",
        "statusDescription": "Forbidden",
        "headers": {
            "content-type": [{"key": "Content-Type", "value": "text/plain; charset=utf-8"}],
            "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
        },
        "body": BLOCK_BODY,
    }


def _log(kind, verdict, event, request_id):
    """One JSON line per finding (CloudWatch Logs keeps each line as an event)."""
    cf = _cf(event)
    config = cf.get("config", {}) if isinstance(cf, dict) else {}
    for f in verdict.findings:
        line = {
            "edge_ssre": kind,
            "action": f.action,
            "rule_id": f.rule_id,
            "family": f.family,
            "severity": f.severity,
            "path": f.path,
            "excerpt": f.excerpt,
            "event_type": config.get("eventType"),
            "distribution": config.get("distributionId"),
            "request_id": request_id or config.get("requestId"),
        }
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")


def _cf(event):
    try:
        return event["Records"][0]["cf"]
    except (KeyError, IndexError, TypeError):
        return None


def _resolve(path, handler):
    if path is None or not isinstance(path, str) or os.path.isabs(path):
        return path
    mod = sys.modules.get(getattr(handler, "__module__", ""), None)
    base = os.path.dirname(os.path.abspath(getattr(mod, "__file__", "") or "."))
    candidate = os.path.join(base, path)
    return candidate if os.path.exists(candidate) else path


BUNDLE = "edge-ssre.bundle"  # a signed bundle packaged beside the handler (package_lambda_edge.py --bundle)


def _packaged_bundle(guard, path):
    """Apply the bundle packaged with the function, if there is one; a refused bundle is logged and
    the packaged configuration stays (the zip's profile and policy)."""
    if not path or not os.path.isfile(path):
        return
    from ..bundle.format import BundleError
    from ..bundle.install import apply, load_packaged
    try:
        with open(path, "rb") as fh:
            accepted = load_packaged(fh.read(), base_profile=guard.profile)
    except (BundleError, OSError) as exc:
        sys.stdout.write(json.dumps({"edge_ssre": "policy.rejected", "bundle": os.path.basename(path),
                                     "reason": str(exc)[:300]}) + "\n")
        return
    apply(accepted, guard)


def protect(handler=None, profile="lambda-edge-viewer", policy=None, guard=None, on_error="allow", log=True,
            bundle=BUNDLE):
    """Wrap a Lambda@Edge handler; usable bare (``@protect``) or with arguments.

    ``bundle``: a signed bundle file beside the handler's module (default ``edge-ssre.bundle``, put
    there by ``tools/package_lambda_edge.py --bundle``); its members replace the profile's and the
    policy argument's configuration. None or a missing file: no bundle.

    ``on_error``: what to do if the guard itself fails (it should not): ``allow`` calls the
    handler (fail open, logged), ``block`` returns the 403.
    """
    if on_error not in _ON_ERROR:
        raise ValueError("on_error must be 'allow' or 'block', got %r" % (on_error,))

    def decorate(fn):
        state = {"guard": guard}

        def get_guard():
            g = state["guard"]
            if g is None:
                prof = _resolve(profile, fn) if profile and profile.endswith(".toml") else profile
                g = Guard.from_profile(prof) if prof else Guard()
                if policy is not None:
                    g.reload(policy=_resolve(policy, fn) if isinstance(policy, str) else policy)
                _packaged_bundle(g, _resolve(bundle, fn))
                state["guard"] = g
            return g

        @functools.wraps(fn)
        def wrapper(event, context=None):
            try:
                verdict = get_guard().inspect(event, source="lambda-edge")
            except Exception as exc:  # configuration errors surface here on the first call
                sys.stdout.write(json.dumps({"edge_ssre": "error", "error": "%s: %s" % (type(exc).__name__, exc),
                                             "on_error": on_error}) + "\n")
                if on_error == "block":
                    return blocked_response()
                return fn(event, context)
            if verdict.findings and log:
                _log("finding", verdict, event, getattr(context, "aws_request_id", None))
            if verdict.action == BLOCK:
                return blocked_response()
            return fn(event, context)

        wrapper.edge_ssre_guard = get_guard
        return wrapper

    if handler is not None and callable(handler):
        return decorate(handler)
    return decorate
