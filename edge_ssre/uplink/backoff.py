"""Exponential backoff with full jitter, and a token-bucket rate cap. MicroPython-clean."""

import random


class Backoff:
    """Delays base, 2*base, 4*base ... capped at ``cap`` seconds, each drawn uniformly from [0, d]."""

    def __init__(self, base=0.2, cap=30.0, rng=None):
        self.base = base
        self.cap = cap
        self.attempt = 0
        self.rng = rng or random.Random()

    def next_delay(self):
        d = min(self.cap, self.base * (2 ** self.attempt))
        self.attempt += 1
        return self.rng.uniform(0, d)

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
