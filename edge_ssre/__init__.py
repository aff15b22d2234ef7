"""edge_ssre: Serverless Security Runtime Environment for the edge.

    from edge_ssre import Guard
    verdict = Guard().inspect(event)

Heavy or optional parts (event store, decorators, MQTT, Greengrass) are imported
lazily on first attribute access, so ``import edge_ssre`` stays cheap for Lambda
cold starts and never imports paho or awsiotsdk.
"""

from .errors import (  # noqa: F401
    BehaviorViolation, BrokerError, DecodeError, EventBlocked, PolicyError, ProfileError, RuleError, SsreError,
    StoreError, StoreLockedError, UplinkError,
)
from .guard import Guard
from .verdict import Finding, Verdict

__version__ = "0.1.0"

_LAZY = {
    "EventStore": (".store", "EventStore"),
    "protect": (".adapters.protect", "protect"),
    "Policy": (".policy", "Policy"),
    "load_profile": (".profiles", "load_profile"),
}

__all__ = [
    "Guard", "Verdict", "Finding", "EventStore", "protect", "Policy", "load_profile",
    # errors: one root, each stage's error also a builtin (see edge_ssre/errors.py)
    "SsreError", "DecodeError", "RuleError", "PolicyError", "ProfileError", "StoreError", "StoreLockedError",
    "UplinkError", "BrokerError", "BehaviorViolation", "EventBlocked",
]


def __getattr__(name):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError("module 'edge_ssre' has no attribute %r" % name)
    import importlib
    value = getattr(importlib.import_module(target[0], __name__), target[1])
    globals()[name] = value
    return value
