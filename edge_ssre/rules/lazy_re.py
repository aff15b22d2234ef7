"""Regular expressions compiled on first use. MicroPython-clean.

Compiling every pattern at import would cost a Lambda cold start several milliseconds; a
``LazyRe`` compiles on its first method call, then caches the bound methods on itself so later
calls cost the same as on a compiled pattern; the first one takes the host-built code words
(sre_cache) when they are there.
"""

from . import sre_cache


class LazyRe:
    def __init__(self, pattern, flags=0, reach=False):
        self._args = (pattern, flags)
        self._rx = None
        self._reach = reach  # False: not worked out yet (see reach())

    def reach(self):
        """How far past where a match starts the pattern can look: its longest match plus its
        longest lookahead (None when either is unbounded or unknown). Worked out once, from
        re's parser, on the first long text."""
        if self._reach is False:
            self._reach = pattern_reach(*self._args)
        return self._reach

    def compile(self):
        """Compile now (a server that prefers a slower start to a slower first event)."""
        if self._rx is None:
            self.__getattr__("search")
        return self

    def compiled_size(self):
        """Bytes the compiled pattern holds (0 while not compiled)."""
        return self._rx.__sizeof__() if self._rx is not None else 0

    def __getattr__(self, name):  # only reached for methods not cached yet
        rx = self.__dict__.get("_rx")
        if rx is None:
            rx = sre_cache.compile(*self.__dict__["_args"])
            self.__dict__["_rx"] = rx
        attr = getattr(rx, name)
        self.__dict__[name] = attr
        return attr


def pattern_reach(pattern, flags=0):
    """How far past a match's start ``pattern`` can look (None: unbounded or unknown)."""
    try:
        parser, _, constants = sre_cache.re_internals()
        tree = parser.parse(pattern, flags)
        most = tree.getwidth()[1] + _lookahead(tree, constants)
    except Exception:
        return None
    return most if most < constants.MAXREPEAT else None


def _lookahead(sub, c):
    """The longest lookahead in a parsed pattern (its own width and any lookahead inside it)."""
    most = 0
    for op, av in sub.data:
        inner = ()
        if op is c.ASSERT or op is c.ASSERT_NOT:
            direction, body = av
            if direction == 1:
                most = max(most, body.getwidth()[1] + _lookahead(body, c))
                continue
            inner = (body,)
        elif op is c.BRANCH:
            inner = av[1]
        elif op is c.SUBPATTERN:
            inner = (av[3],)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) or op is getattr(c, "POSSESSIVE_REPEAT", None):
            inner = (av[2],)
        elif op is getattr(c, "ATOMIC_GROUP", None):
            inner = (av,)
        elif op is c.GROUPREF_EXISTS:
            inner = tuple(b for b in av[1:] if b is not None)
        for body in inner:
            most = max(most, _lookahead(body, c))
    return most
