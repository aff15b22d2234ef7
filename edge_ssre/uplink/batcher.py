"""Batches of stored records as one CBOR array per message. MicroPython-clean.

Each element is ``[seq, record]`` (the record is already CBOR on disk, so batching is
concatenation), so a consumer can deduplicate by (device, boot, seq) after a redelivery.
AWS IoT Core accepts messages up to 128 KB; the default cap leaves room for the MQTT header.
"""

MAX_MESSAGE_BYTES = 120 * 1024
MAX_RECORDS = 1000


def _uint(major, n):
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes([(major << 5) | 26]) + n.to_bytes(4, "big")
    return bytes([(major << 5) | 27]) + n.to_bytes(8, "big")


def encode_batch(items):
    """CBOR array of [seq, record] pairs (records are CBOR items already)."""
    parts = [_uint(4, len(items))]
    for seq, payload in items:
        parts.append(b"\x82" + _uint(0, seq) + payload)
    return b"".join(parts)


def next_batch(store, after_seq, max_bytes=MAX_MESSAGE_BYTES, max_records=MAX_RECORDS):
    """(items, message) of the records after ``after_seq``, or ([], b"") when there are none."""
    items = store.read(after_seq + 1, max_records=max_records, max_bytes=max_bytes - 16 * max_records)
    if not items:
        return [], b""
    return items, encode_batch(items)


FORMATS = ("cbor", "ocsf")


def reader(fmt="cbor"):
    """The batch function for an uplink ``format``: "cbor" (this module) or "ocsf" (uplink/ocsf.py, JSON)."""
    if fmt == "cbor":
        return next_batch
    if fmt == "ocsf":
        from .ocsf import next_batch as ocsf_batch
        return ocsf_batch
    raise ValueError("uplink format must be one of %s, got %r" % (", ".join(FORMATS), fmt))
