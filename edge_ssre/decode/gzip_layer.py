"""gzip / zlib / raw deflate with a ratio cap and an absolute cap.

Inflation is incremental with ``max_length``, so a decompression bomb never allocates more than
the cap: the result is cut there and the budget records it.
"""


def inflate(data, kind, limits):
    """(bytes, None) or (partial bytes | None, reason)."""
    try:
        import zlib
    except ImportError:  # pragma: no cover - MicroPython without zlib
        return None, "cannot inflate here (no zlib)"
    cap = min(limits.max_inflated, max(1024, len(data) * limits.max_inflate_ratio))
    wbits = 31 if kind == "gzip" else 15
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(data, cap)
        if d.unconsumed_tail:
            return out, "inflates past %d bytes (ratio cap %dx)" % (cap, limits.max_inflate_ratio)
        return out, None
    except zlib.error as exc:
        return None, "invalid %s data: %s" % (kind, str(exc)[:60])
