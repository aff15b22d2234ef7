"""The guard's own threads (event store flusher, uplink, MQTT readers, sidecar worker).

The behaviour monitor judges the operations of threads a handler starts (they run outside the
invocation's context on CPython before 3.14), but never those of the threads started here.
"""

import threading
import weakref

_GUARD = weakref.WeakSet()


def start(target, name):
    """Start ``target`` in a daemon thread the behaviour monitor knows as the guard's own."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    _GUARD.add(thread)
    thread.start()
    return thread


def is_guard_thread(thread):
    return thread in _GUARD
