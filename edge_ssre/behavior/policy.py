"""Behaviour policy: what a protected function may do. TOML file or dict; errors name file, line, key.

    outbound_connectivity = "block"   # block | alert | allow: network connections not allowed below
    read_write_tmp = "alert"          # writes under /tmp (and the OS temp directory)
    create_child_process = "block"    # subprocess, os.system, exec*, posix_spawn, fork
    read_handler = "block"            # reads of the handler's own source files
    dynamic_code = "alert"            # exec/eval/compile of strings, ctypes loading
    file_access = "alert"             # other file writes (and reads) outside the allowlist/baseline
    new_imports = "alert"             # modules first imported inside an invocation that the baseline does not
                                      # know (warm-up, the module-level imports at cold start, is not judged)
    native_code = "block"             # C libraries loaded and C functions looked up with ctypes
    background_threads = "judge"      # judge | ignore: operations of threads the handler starts that run
                                      # outside its invocation (the guard's own threads are never judged)
    [allow]
    hosts = ["api.example.com:443", "10.0.0.0/8", "127.0.0.1"]   # host[:port], IPs and CIDRs
    paths = [{ glob = "/var/task/**", mode = "r" }, { glob = "/tmp/cache/*", mode = "rw" }]
                                      # * within a name, ** across names, ? one character of a name
    executables = ["/usr/bin/convert"]
    imports = ["json", "urllib.*"]
    native = ["dlopen libz.so.1", "dlsym crc32"]                 # ctypes loads and lookups
"""

import fnmatch
import ipaddress
import re

from ..errors import PolicyError

KNOBS = ("outbound_connectivity", "read_write_tmp", "create_child_process", "read_handler", "dynamic_code",
         "file_access", "new_imports", "native_code")
ACTIONS = ("block", "alert", "allow")
BACKGROUND = ("judge", "ignore")
DEFAULTS = {"outbound_connectivity": "alert", "read_write_tmp": "alert", "create_child_process": "alert",
            "read_handler": "alert", "dynamic_code": "alert", "file_access": "allow", "new_imports": "allow",
            # ctypes reaches C directly (libc's system() runs a shell with no Python audit event), and a
            # function that needs it at run time is rare: blocked unless allowed or learned
            "native_code": "block"}


def path_glob(glob):
    """A path glob (allowed paths, executables, learned paths) as a compiled pattern: ``*`` matches
    within one name, ``**`` across names (any depth), ``?`` one character of a name, ``[...]`` a
    character class (``[!...]`` negated), as in shell and .gitignore globs. (fnmatch's ``*`` and
    ``?`` also match "/": "/tmp/cache/*" would allow "/tmp/cache/a/b/c".) Raises ValueError for a
    class re cannot compile."""
    out, i, n = [], 0, len(glob)
    while i < n:
        c = glob[i]
        i += 1
        if c == "*":
            if i < n and glob[i] == "*":
                while i < n and glob[i] == "*":
                    i += 1
                out.append(".*")
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and glob[j] == "!":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                out.append("\\[")
                continue
            body = "".join("\\" + c if c in "\\[&~|" else c for c in glob[i:j])  # literal inside the class
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append("[%s]" % body)
            i = j + 1
        else:
            out.append(re.escape(c))
    try:
        return re.compile("(?s:%s)\\Z" % "".join(out))
    except re.error as exc:
        raise ValueError("bad glob %r: %s" % (glob, exc)) from None


class HostRule:
    __slots__ = ("net", "name", "port")

    def __init__(self, text):
        host, port = text, None
        if text.count(":") == 1:
            host, p = text.rsplit(":", 1)
            port = int(p)
        self.port = port
        self.net = None
        self.name = None
        try:
            self.net = ipaddress.ip_network(host, strict=False)
        except ValueError:
            self.name = host.lower()

    def port_matches(self, port):
        return self.port is None or port is None or port == self.port

    def covers(self, host, port):
        if not self.port_matches(port):
            return False
        if self.net is not None:
            try:
                return ipaddress.ip_address(host) in self.net
            except ValueError:
                return False
        return fnmatch.fnmatch(str(host).lower(), self.name)


class BehaviorPolicy:
    """Frozen once built."""

    __slots__ = ("knobs", "hosts", "paths", "executables", "imports", "native", "origin", "background", "_path_rx",
                 "_exe_rx", "_frozen")

    def __init__(self, knobs=None, hosts=(), paths=(), executables=(), imports=(), origin="<default>",
                 background="judge", native=()):
        k = dict(DEFAULTS)
        k.update(knobs or {})
        object.__setattr__(self, "knobs", k)
        object.__setattr__(self, "hosts", tuple(HostRule(h) for h in hosts))
        object.__setattr__(self, "paths", tuple(paths))
        object.__setattr__(self, "executables", tuple(executables))
        object.__setattr__(self, "_path_rx", tuple((path_glob(g), m) for g, m in self.paths))
        object.__setattr__(self, "_exe_rx", tuple(path_glob(g) for g in self.executables))
        object.__setattr__(self, "imports", tuple(imports))
        object.__setattr__(self, "native", tuple(native))
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "background", background)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name, value):
        from ..errors import BehaviorViolation
        raise BehaviorViolation("the behaviour policy is locked: %s cannot be changed at run time" % name)

    def host_allowed(self, host, port):
        return any(r.covers(host, port) for r in self.hosts)

    def host_names(self, port):
        """The plain host names (no glob) allowed on ``port``."""
        return [r.name for r in self.hosts
                if r.name is not None and not any(c in r.name for c in "*?[") and r.port_matches(port)]

    def path_allowed(self, path, mode):
        for rx, m in self._path_rx:
            if all(c in m for c in mode) and rx.match(path) is not None:
                return True
        return False

    def exe_allowed(self, exe):
        return any(rx.match(exe) is not None for rx in self._exe_rx)

    def import_allowed(self, name):
        return any(fnmatch.fnmatch(name, g) for g in self.imports)

    def native_allowed(self, what):
        return any(fnmatch.fnmatch(what, g) for g in self.native)

    @classmethod
    def from_dict(cls, data, where=None):
        from ..tomlload import Where
        where = where or Where("", "<dict>")
        if not isinstance(data, dict):
            raise where.fail("behavior", "a behaviour policy is a table")
        for key in data:
            if key not in KNOBS + ("allow", "baseline", "background_threads"):
                raise where.fail(key, "unknown key; expected one of %s, background_threads, allow"
                                 % ", ".join(KNOBS))
        background = data.get("background_threads", "judge")
        if background not in BACKGROUND:
            raise where.fail("background_threads", "must be judge or ignore, got %r" % (background,))
        knobs = {}
        for k in KNOBS:
            if k in data:
                if data[k] not in ACTIONS:
                    raise where.fail(k, "must be block, alert or allow, got %r" % (data[k],))
                knobs[k] = data[k]
        allow = data.get("allow", {})
        base = data.get("baseline", {})
        if not isinstance(allow, dict) or not isinstance(base, dict):
            raise where.fail("allow", "must be a table")
        hosts = list(allow.get("hosts", [])) + list(base.get("hosts", []))
        for h in hosts:
            try:
                HostRule(h)
            except (ValueError, TypeError):
                raise where.fail("hosts", "not a host[:port], IP or CIDR: %r" % (h,)) from None
        paths = []
        for p in list(allow.get("paths", [])) + list(base.get("paths", [])):
            if not isinstance(p, dict) or "glob" not in p or not set(p.get("mode", "r")) <= set("rw"):
                raise where.fail("paths", "each entry is { glob = \"...\", mode = \"r\" | \"w\" | \"rw\" }")
            try:
                path_glob(p["glob"])
            except (ValueError, TypeError) as exc:
                raise where.fail("paths", str(exc)) from None
            paths.append((p["glob"], p.get("mode", "r")))
        exes = list(allow.get("executables", [])) + list(base.get("executables", []))
        imports = list(allow.get("imports", [])) + list(base.get("imports", []))
        native = list(allow.get("native", [])) + list(base.get("native", []))
        for n in native:
            if not isinstance(n, str):
                raise where.fail("native", "each entry is \"dlopen LIBRARY\" or \"dlsym SYMBOL\" (globs allowed)")
        return cls(knobs, hosts, paths, exes, imports, where.label, background, native)

    @classmethod
    def load(cls, path=None, text=None):
        from ..tomlload import Where, load_toml
        data, text, label = load_toml(path, text)
        if "behavior" in data and isinstance(data["behavior"], dict):
            data = data["behavior"]
        return cls.from_dict(data, Where(text, label))

    @classmethod
    def coerce(cls, value):
        if value is None:
            return cls()
        if isinstance(value, BehaviorPolicy):
            return value
        if isinstance(value, dict):
            return cls.from_dict(value)
        if isinstance(value, str):
            return cls.load(value)
        raise PolicyError("behavior_policy must be a TOML path, a dict or a BehaviorPolicy")
