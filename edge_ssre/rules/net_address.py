"""Internal-address detection for SSRF: URLs whose host is loopback, link-local, private,
a cloud metadata endpoint, or one of those written in another notation (decimal, octal or
hex IPv4 parts, 1-4 part forms, IPv4-mapped IPv6, enclosed digits already folded by
``normalize``). MicroPython-clean.
"""

import re

from .lazy_re import LazyRe

_URL = LazyRe(r"([a-z][a-z0-9+.\-]{1,15}):/{1,3}\\?([^\s/?#]{1,256})")
# "http:127.0.0.1": browsers and some URL parsers accept a special scheme without slashes
_URL_NO_SLASH = LazyRe(r"\b(?:https?|ftp|gopher|dict|ldap|tftp|file):((?:\[[0-9a-f:.]{2,45}\]|[0-9a-fx.]{1,40}))(?:[:/?#\s]|$)")
_BARE_NAME = LazyRe(r"(?:^|[\s\"'=(,@])((?:localhost[46]?(?:\.localdomain[46]?)?|ip(?:v)?6-(?:localhost|loopback)|"
                        r"metadata\.google\.internal|metadata\.packet\.net|instance-data|metadata\.azure\.com|"
                        r"(?:host|gateway|kubernetes)\.(?:docker|containers)\.internal|kubernetes\.default(?:\.svc)?"
                        r"(?:\.cluster\.local)?|[a-z0-9-]{1,63}\.svc\.cluster\.local|localtest\.me|lvh\.me|"
                        r"(?:[a-z0-9-]{1,63}\.)?nip\.io))(?::\d{1,5})?[/:]")
METADATA_NAMES = ("metadata.google.internal", "metadata.packet.net", "instance-data", "metadata.azure.com",
                  "metadata", "kubernetes.default", "kubernetes.default.svc")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "ipv6-localhost", "localhost4",
               "localhost6", "localhost4.localdomain4", "localhost6.localdomain6", "0", "localtest.me", "lvh.me",
               "host.docker.internal", "gateway.docker.internal", "kubernetes.docker.internal",
               "host.containers.internal")


def _part(s):
    """One IPv4 part in decimal, octal (leading 0) or hex (0x); None if not numeric."""
    if not s:
        return None
    try:
        if s[:2] == "0x":
            return int(s[2:] or "0", 16) & 0xFFFFFFFF  # some parsers keep only the low 32 bits
        if len(s) > 1 and s[0] == "0":
            return int(s[1:], 8)
        if s.isdigit():
            return int(s)
    except ValueError:
        return None
    return None


def ipv4_value(host):
    """The 32-bit value of an IPv4 host in any inet_aton notation, or None."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    vals = []
    for p in parts:
        v = _part(p)
        if v is None:
            return None
        vals.append(v)
    last_bits = 8 * (5 - len(vals))
    for v in vals[:-1]:
        if v > 255:
            return None
    if vals[-1] >= 1 << last_bits:
        return None
    value = 0
    for v in vals[:-1]:
        value = (value << 8) | v
    return (value << last_bits) | vals[-1]


def internal_ipv4(value):
    a = value >> 24
    b = (value >> 16) & 0xFF
    return (value == 0 or a in (10, 127) or (a == 169 and b == 254) or (a == 172 and 16 <= b <= 31)
            or (a == 192 and b == 168) or (a == 100 and 64 <= b <= 127) or value == 0xFFFFFFFF)


def _ipv6_internal(h):
    h = h.split("%", 1)[0]
    if h in ("::1", "::", "0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:0"):
        return True
    if h.startswith(("fe8", "fe9", "fea", "feb", "fc", "fd")) or h == "fd00:ec2::254":
        return True
    tail = h.rsplit(":", 1)[-1]
    if "." in tail:  # ::ffff:169.254.169.254 and friends
        v = ipv4_value(tail)
        return v is not None and internal_ipv4(v)
    groups = h.split(":")
    if len(groups) >= 3 and groups[-3] in ("ffff", "0", "") and all(len(g) <= 4 for g in groups[-2:]):
        try:
            v = (int(groups[-2] or "0", 16) << 16) | int(groups[-1] or "0", 16)
        except ValueError:
            return False
        pre = [g for g in groups[:-2] if g not in ("", "0", "0000")]
        return (pre in ([], ["ffff"])) and internal_ipv4(v)
    return False


def host_is_internal(host):
    """Whether a URL authority's host part points inside the device or the cloud's metadata plane."""
    host = host.replace("\\", "").strip().rstrip(".")
    if host.startswith("["):
        return _ipv6_internal(host[1:].split("]", 1)[0])
    if host.count(":") >= 2:
        return _ipv6_internal(host)
    host = host.split(":", 1)[0]
    if (host in LOCAL_NAMES or host in METADATA_NAMES or host.endswith((".localhost", ".svc.cluster.local"))):
        return True
    v = ipv4_value(host)
    return v is not None and internal_ipv4(v)


def _hosts(authority):
    """Candidate hosts of an authority: parsers disagree on '@' and '#', so try every reading."""
    for piece in authority.replace("#", "@").replace("&", "@").split("@"):
        piece = piece.strip()
        if piece:
            yield piece


def detect_internal_url(text, budget=None):
    """(start, end) of a URL or well-known name that targets an internal address, or None."""
    if "://" in text or ":/" in text:
        for m in _URL.finditer(text):
            auth = m.group(2)
            for host in _hosts(auth):
                if host_is_internal(host):
                    return m.start(), m.end()
        # the authority may continue after spaces in a confused URL: "host:80 &@127.0.0.1/"
        if "@" in text:
            for m in re.finditer(r"@\s{0,4}([^\s/?#@]{1,256})", text):
                if "://" in text[:m.start()] and host_is_internal(m.group(1)):
                    return m.start(), m.end()
    if ":" in text:
        for m in _URL_NO_SLASH.finditer(text):
            if host_is_internal(m.group(1)):
                return m.start(), m.end()
    m = _BARE_NAME.search(text)
    if m is not None:
        return m.start(1), m.end()
    return None
