"""Exponential backoff with jitter, and a token-bucket rate cap. MicroPython-clean."""

import random


class Backoff:
    """Delays base, base*factor, base*factor**2 ... capped at ``cap`` seconds, each drawn uniformly
    from [(1 - spread) * d, d].

    The defaults (0.7 s growing by 1.4, half of each step jittered) reconnect soon after an outage
    ends (median 0.9 s after a 5 s outage, in simulation and on loopback; see docs/HARDENING.md) while
    a peer that fails every attempt gets at most 7 in its first 8 s; the jitter spreads a fleet that
    lost its broker at the same moment. ``reset`` starts over (the owner calls it once a connection
    has proved good)."""

    def __init__(self, base=0.7, cap=30.0, rng=None, factor=1.4, spread=0.5):
        self.base = base
        self.cap = cap
        self.factor = factor
        self.spread = min(1.0, max(0.0, spread))
        self.attempt = 0
        self.rng = rng or random.Random()

    def step(self):
        """The current step's upper bound in seconds (before jitter)."""
        return min(self.cap, self.base * (self.factor ** min(self.attempt, 64)))

    def next_delay(self):
        d = self.step()
        self.attempt += 1
        return self.rng.uniform(d * (1.0 - self.spread), d)

    def reset(self):
        self.attempt = 0


class RateCap:
    """At most ``rate`` events per second on average, bursts up to ``burst``."""

    def __init__(self, rate, burst=None, clock=None):
        import time
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self.tokens = self.burst
        self.clock = clock or time.monotonic
        self.last = self.clock()

    def wait_time(self):
        """Seconds to wait before the next event may go (0 when it may go now); takes a token."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        need = (1.0 - self.tokens) / self.rate
        self.tokens -= 1.0
        return need
