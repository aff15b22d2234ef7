"""Regular expressions compiled on first use. MicroPython-clean.

Compiling every pattern at import would cost a Lambda cold start several milliseconds; a
``LazyRe`` compiles on its first method call, then caches the bound methods on itself so later
calls cost the same as on a compiled pattern; the first one takes the host-built code words
(sre_cache) when they are there.
"""

from . import sre_cache


class LazyRe:
    def __init__(self, pattern, flags=0):
        self._args = (pattern, flags)
        self._rx = None

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
