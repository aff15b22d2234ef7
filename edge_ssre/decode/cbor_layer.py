"""CBOR bytes -> object through cbor2 with a depth cap.

cbor2 >= 5.6 reads long strings in chunks and never preallocates a claimed length, so a
payload that claims 4 GB fails at its real end instead of allocating. Tags are unwrapped to
their values; byte strings stay bytes (the walker reads them as UTF-8 text when they are).
"""


def _tag_hook(decoder, tag):
    return tag.value


_cbor2 = None


def loads(data, max_depth):
    """(object, None) or (None, reason)."""
    global _cbor2
    cbor2 = _cbor2
    if cbor2 is None:
        try:
            import cbor2
        except ImportError:  # pragma: no cover - cbor2 is a core dependency
            return None, "CBOR support is not installed (pip install cbor2)"
        _cbor2 = cbor2
    try:
        return cbor2.loads(data, max_depth=max_depth, tag_hook=_tag_hook), None
    except cbor2.CBORDecodeEOF:
        return None, "truncated CBOR (%d bytes)" % len(data)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return None, "invalid CBOR: %s" % (str(exc)[:60],)
    except MemoryError:
        return None, "CBOR item too large"
