"""MQTT topic filters (``+`` one level, ``#`` the rest), compiled once. MicroPython-clean."""


def compile_filter(filt):
    """A filter as a tuple of levels; raises ValueError for filters MQTT forbids."""
    if not isinstance(filt, str) or not filt:
        raise ValueError("a topic filter is a non-empty string")
    levels = tuple(filt.split("/"))
    for i, lv in enumerate(levels):
        if "#" in lv and (lv != "#" or i != len(levels) - 1):
            raise ValueError("'#' must be a whole last level in %r" % filt)
        if "+" in lv and lv != "+":
            raise ValueError("'+' must be a whole level in %r" % filt)
    return levels


def check_topic_name(name):
    """A topic a client may publish to (MQTT 3.1.1 4.7.1, MQTT 5 4.7.1): a non-empty string without
    the wildcards ``+`` and ``#`` or NUL, at most 65535 bytes of UTF-8. Returns it; raises ValueError."""
    if not isinstance(name, str) or not name:
        raise ValueError("a topic name is a non-empty string")
    for bad, why in (("+", "the wildcard '+'"), ("#", "the wildcard '#'"), ("\x00", "a NUL character")):
        if bad in name:
            raise ValueError("%r is not a topic one can publish to: it contains %s" % (name, why))
    if len(name.encode("utf-8")) > 65535:
        raise ValueError("a topic name is at most 65535 bytes of UTF-8")
    return name


def matches(levels, topic_levels):
    """Whether a compiled filter matches a topic split into levels."""
    n = len(topic_levels)
    for i, f in enumerate(levels):
        if f == "#":
            # "$SYS/#" style filters: a leading '#' or '+' never matches topics starting with '$'
            return not (i == 0 and n and topic_levels[0][:1] == "$")
        if i >= n:
            return False
        if f == "+":
            if i == 0 and topic_levels[0][:1] == "$":
                return False
            continue
        if f != topic_levels[i]:
            return False
    return len(levels) == n


def topic_matches(filt, topic):
    return matches(compile_filter(filt), topic.split("/"))


class FilterTable:
    """Ordered filters -> first match index. Fixed once built."""

    __slots__ = ("filters",)

    def __init__(self, filters):
        self.filters = tuple(compile_filter(f) for f in filters)

    def first(self, topic_levels):
        for i, lv in enumerate(self.filters):
            if matches(lv, topic_levels):
                return i
        return -1
