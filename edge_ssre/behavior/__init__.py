"""Behavioural protection: learn what a function does, then enforce it (see monitor.py, policy.py)."""

import os
import sys

from .monitor import Monitor, current_request_id, internal  # noqa: F401
from .policy import BehaviorPolicy  # noqa: F401


def monitor_for(fn, mode, behavior_policy, guard):
    """The Monitor ``protect`` uses for a handler: its source files are the ``read_handler`` set."""
    mod = sys.modules.get(getattr(fn, "__module__", ""), None)
    files = []
    f = getattr(mod, "__file__", None)
    if f:
        files.append(f)
        files.append(os.path.splitext(f)[0] + ".py")
    return Monitor(mode, behavior_policy, sink=getattr(guard, "sink", None), handler_files=files)


__all__ = ["Monitor", "BehaviorPolicy", "internal", "current_request_id", "monitor_for"]
