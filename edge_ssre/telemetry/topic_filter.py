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
