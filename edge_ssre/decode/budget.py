"""Budgets for untrusted data: bytes, depth, leaves, decode layers, string size, time.

MicroPython-clean. A ``Budget`` is made per inspection from immutable ``Limits``;
the deadline reads the clock only every ``clock_every`` ticks. Hitting a budget
never raises: the decoder/matcher stops at a stage boundary and the guard turns
``budget.exceeded`` into a ``limits`` finding.
"""

try:
    from time import perf_counter_ns as _ns  # type: ignore[attr-defined]  # CPython only

    def monotonic_us():
        return _ns() // 1000

except ImportError:  # MicroPython: ticks_us wraps (about 18 min on ESP32); a deadline set just
    # before the wrap then never fires, so that one inspection is bounded by the other budgets only
    from time import ticks_us as monotonic_us  # type: ignore


class Limits:
    """Immutable per-inspection limits (from the device profile)."""

    __slots__ = ("max_bytes", "max_depth", "max_leaves", "max_layers", "max_string",
                 "max_inflate_ratio", "max_inflated", "deadline_us", "clock_every")

    def __init__(self, max_bytes=1048576, max_depth=32, max_leaves=4096, max_layers=4,
                 max_string=65536, max_inflate_ratio=20, max_inflated=1048576,
                 deadline_us=20000, clock_every=64):
        self.max_bytes = max_bytes          # raw event bytes accepted for decoding
        self.max_depth = max_depth          # container nesting depth
        self.max_leaves = max_leaves        # strings handed to the matchers
        self.max_layers = max_layers        # nested decode layers in one value (b64 -> json -> url ...)
        self.max_string = max_string        # characters of one string that are inspected
        self.max_inflate_ratio = max_inflate_ratio  # gzip/deflate output/input cap
        self.max_inflated = max_inflated    # absolute cap on inflated bytes
        self.deadline_us = deadline_us      # wall time for one inspection
        self.clock_every = clock_every      # ticks between clock reads

    def replace(self, **changes):
        kw = {}
        for name in Limits.__slots__:
            kw[name] = changes.pop(name, getattr(self, name))
        if changes:
            raise TypeError("unknown limit(s): %s" % ", ".join(sorted(changes)))
        return Limits(**kw)

    def to_dict(self):
        return {name: getattr(self, name) for name in Limits.__slots__}


DEFAULT_LIMITS = Limits()

# Names of the budgets; each becomes rule id "limits.<name>" when exceeded.
BYTES = "bytes"
DEPTH = "depth"
LEAVES = "leaves"
LAYERS = "layers"
STRING = "string"
INFLATE = "inflate"
DEADLINE = "deadline"
MALFORMED = "malformed"


class Budget:
    """Mutable counters for one inspection."""

    __slots__ = ("limits", "clock", "start", "deadline", "ticks", "leaves", "exceeded", "timed_out")

    def __init__(self, limits=DEFAULT_LIMITS, clock=None):
        self.limits = limits
        self.clock = clock or monotonic_us
        self.exceeded = []      # list of (budget name, path, detail)
        self.reset()

    def reset(self):
        """Start over for a new inspection (a guard that inspects one message at a time keeps
        one Budget rather than allocating one per message)."""
        self.start = self.clock()  # microseconds; the guard reports elapsed time from here
        self.deadline = self.start + self.limits.deadline_us
        self.ticks = 0
        self.leaves = 0
        if self.exceeded:
            self.exceeded = []
        self.timed_out = False

    def tick(self):
        """Count one unit of work; False once the deadline has passed."""
        if self.timed_out:
            return False
        self.ticks += 1
        if self.ticks % self.limits.clock_every == 0 and self.clock() > self.deadline:
            self.timed_out = True
            self.exceed(DEADLINE, "", "inspection stopped after %d us" % self.limits.deadline_us)
            return False
        return True

    def expired(self):
        """Read the clock now (used at stage boundaries)."""
        if not self.timed_out and self.clock() > self.deadline:
            self.timed_out = True
            self.exceed(DEADLINE, "", "inspection stopped after %d us" % self.limits.deadline_us)
        return self.timed_out

    def exceed(self, name, path, detail):
        for n, p, _ in self.exceeded:
            if n == name and p == path:
                return
        if len(self.exceeded) < 16:
            self.exceeded.append((name, path, detail))
