"""How bundles reach a running guard: a watched file, an MQTT topic, Greengrass configuration.

    delivery = Delivery(installer, guard)       # installs and applies what it is offered
    delivery.start()                            # applies the bundles kept from earlier runs
    BundleWatcher("/etc/edge-ssre/site.bundle", delivery).start()
    delivery.offer(payload, "mqtt edge-ssre/gw-17/bundle")   # from a message on the bundle topic

Every path ends in ``Delivery.offer``: verify against the state, keep, record, then swap the guard's
configuration in one step. A refused bundle leaves the running configuration as it was, is logged
with the reason and becomes a ``policy.rejected`` event (``Installer.events``).
"""

import os
import threading

from .format import MAX_BUNDLE_BYTES, BundleError, parse

DEFAULT_TOPIC = "edge-ssre/{device}/bundle"


class Delivery:
    def __init__(self, installer, guard=None, monitor=None, on_apply=None):
        self.installer = installer
        self.guard = guard
        self.monitor = monitor
        self.on_apply = on_apply
        self.accepted = 0
        self.refused = 0
        self.last = None          # the Accepted bundle applied last
        self._applied = {}        # manifest digest -> Accepted: offered again (a retained message), a no-op
        self._lock = threading.Lock()

    def start(self):
        """Apply the bundles this device accepted before (a restart comes back to them)."""
        for accepted in self.installer.installed():
            self._apply(accepted)
        return self

    def retarget(self, guard):
        """A new guard (rebuilt for a configuration change): the applied bundles again, in order."""
        from .install import apply
        with self._lock:
            self.guard = guard
            for accepted in self._applied.values():
                apply(accepted, guard, self.monitor)

    def offer(self, data, origin=""):
        """Install and apply ``data``; returns the ``Accepted`` bundle, or None when refused."""
        if data is None or len(data) > MAX_BUNDLE_BYTES:
            data = b""  # refused below as malformed, and reported
        with self._lock:
            try:
                same = self._applied.get(parse(bytes(data)).digest)
            except BundleError:
                same = None
            if same is not None:
                return same
            try:
                accepted = self.installer.install(bytes(data))
            except BundleError:
                self.refused += 1
                return None
            self._apply(accepted)
            return accepted

    def _apply(self, accepted):
        from .install import apply
        apply(accepted, self.guard, self.monitor)
        self._applied[accepted.bundle.digest] = accepted
        self.accepted += 1
        self.last = accepted
        if self.on_apply is not None:
            self.on_apply(accepted)


class BundleWatcher:
    """Polls one file's identity (inode, size, modification time) and offers it when it changes.
    Polling a stat every few seconds costs nothing measurable and needs no inotify."""

    def __init__(self, path, delivery, interval=5.0):
        self.path = os.fspath(path)
        self.delivery = delivery
        self.interval = interval
        self._seen = None
        self._stop = threading.Event()
        self.thread = None

    def poll(self):
        """Offer the file if it changed since the last poll; returns the Accepted bundle or None."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        ident = (st.st_ino, st.st_size, st.st_mtime_ns)
        if ident == self._seen:
            return None
        self._seen = ident
        try:
            with open(self.path, "rb") as fh:
                data = fh.read(MAX_BUNDLE_BYTES + 1)
        except OSError:
            return None
        return self.delivery.offer(data, self.path)

    def start(self):
        from ..guard_threads import start
        self.thread = start(self._loop, "edge-ssre-bundle-watch")
        return self

    def _loop(self):
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        if self.thread is not None:
            self.thread.join(self.interval + 1)
