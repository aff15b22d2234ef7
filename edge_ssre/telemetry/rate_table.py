"""Token buckets in a table with a fixed number of slots. MicroPython-clean.

Memory is fixed when the table is built: ``slots`` entries of (key fingerprint, tokens, last
refill time), whatever the number of distinct client ids or topics. A key hashes to one slot.
When the slot belongs to another key, the newcomer takes it over if the owner's bucket has
refilled (the owner was idle long enough that forgetting it loses nothing); otherwise the two
share the bucket, which can only make their limit stricter, never looser. ``collisions``
counts the shares so an operator can size the table.
"""


def _fingerprint(key):
    """24-bit djb2 of the key's characters: every step stays a small int (no allocation on a
    board, where ints past 2**30 are heap objects) and the value is the same on both runtimes."""
    h = 5381
    if isinstance(key, str):
        for ch in key:
            h = ((h << 5) + h + ord(ch)) & 0xFFFFFF
    else:
        for ch in key:
            h = ((h << 5) + h + ch) & 0xFFFFFF
    return h


class RateTable:
    __slots__ = ("slots", "rate", "burst", "keys", "tokens", "stamps", "collisions", "takeovers")

    def __init__(self, slots, rate, burst):
        if slots < 1:
            raise ValueError("a rate table needs at least one slot")
        self.slots = slots
        self.rate = float(rate)
        self.burst = float(burst)
        self.keys = [0] * slots
        self.tokens = [0.0] * slots
        self.stamps = [0.0] * slots
        self.collisions = 0
        self.takeovers = 0

    def allow(self, key, now, cost=1.0, rate=None, burst=None):
        """Take ``cost`` tokens for ``key`` at time ``now`` (seconds); False when over the limit."""
        rate = self.rate if rate is None else rate
        burst = self.burst if burst is None else burst
        fp = _fingerprint(key) * 2 + 1  # never 0: 0 marks a free slot
        i = fp % self.slots
        owner = self.keys[i]
        tokens = self.tokens[i] + (now - self.stamps[i]) * rate
        if tokens > burst:
            tokens = burst
        if owner != fp:
            if owner == 0 or tokens >= burst:
                if owner != 0:
                    self.takeovers += 1
                self.keys[i] = fp
                tokens = burst
            else:
                self.collisions += 1
        self.stamps[i] = now
        if tokens >= cost:
            self.tokens[i] = tokens - cost
            return True
        self.tokens[i] = tokens
        return False
