"""``StoreSink``: the guard's sink that writes one security-event record per finding.

    store = EventStore("/var/lib/edge-ssre/events.ring", capacity_bytes=32 << 20)
    guard = Guard(sink=StoreSink(store, device="gw-17"))

It never raises into the guard: a store that cannot be written (disk full, I/O error, closed)
only increments ``lost``, and the store records the loss as soon as it can write again.
"""

import time

from .record import encode, finding_record


class StoreSink:
    def __init__(self, store, device="", boot=None, clock=time.time):
        self.store = store
        self.device = device or getattr(store, "device", "")
        self.boot = boot or getattr(store, "boot", "")
        self.clock = clock
        self.written = 0
        self.lost = 0

    def __call__(self, verdict, envelope):
        ts = self.clock()
        for f in verdict.findings:
            try:
                seq = self.store.append(encode(finding_record(f, verdict, envelope, self.device, self.boot, ts)))
            except Exception:  # the guard's verdict must not depend on the disk
                seq = None
            if seq is None:
                self.lost += 1
            else:
                self.written += 1
