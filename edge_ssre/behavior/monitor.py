"""The behaviour monitor on Python audit hooks (PEP 578). No monkey-patching.

One hook is installed per process, on first use (audit hooks cannot be removed, which is also
what makes the monitor tamper-resistant). It does nothing outside a monitored invocation: the
invocation's state lives in a ``contextvars.ContextVar``, so threads and asyncio tasks of other
invocations (and the guard's own background threads) are never affected. Inside one, each
audited operation is classified (outbound network, file read/write, /tmp, child process,
handler source read, dynamic code, late imports) and judged against the learned baseline and
the policy's knobs and allowlists. A block raises ``BehaviorViolation`` (a ``PermissionError``)
at the offending call; every deviation is a finding sent to the guard's sink.
"""

import contextvars
import ipaddress
import os
import sys
import tempfile
import threading
import time
import weakref

from .. import guard_threads
from ..errors import BehaviorViolation
from ..verdict import Finding, Verdict

# The running invocation's state, a tuple:
#   (monitor, request id, the monitor's remembered path decisions, its net decisions,
#    the list an ``Invocation`` collects its findings in, or None)
_current = contextvars.ContextVar("edge_ssre_invocation", default=None)
_MONITOR, _REQUEST_ID, _PATHS, _NETS, _FOUND = range(5)
# Threads a handler starts run outside its invocation's context (threads do not inherit context
# variables before Python 3.14), so starting one would be a way around the monitor. Operations of
# threads other than the main thread and the guard's own (guard_threads.py) that run outside any
# invocation are judged as background work: this holds the judging monitor's state, with no
# request id. The first enforcing monitor keeps it (a monitor created later, in learn mode or with
# background_threads = "ignore", cannot loosen it); before one exists, the newest learning one.
_background = [None]
_internal = contextvars.ContextVar("edge_ssre_internal", default=False)
_installed = False
_install_lock = threading.Lock()

# audit events the hook looks at; everything else returns after one set lookup
_EVENTS = frozenset(("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                     "socket.gethostbyname", "socket.gethostbyaddr", "open", "os.remove", "os.rename",
                     "os.chmod", "os.truncate", "os.rmdir", "os.symlink", "os.link", "os.chdir", "os.mkdir",
                     "os.chown", "os.utime", "os.setxattr", "os.removexattr", "subprocess.Popen",
                     "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "exec", "compile",
                     "ctypes.dlopen", "ctypes.dlsym", "code.__new__", "import", "sys.settrace",
                     "sys.setprofile"))
# file operations judged as writes: on the directory entry (its parent resolved, the last name not
# followed: removing or renaming a symlink acts on the link), or on the file a path leads to
_ENTRY_WRITES = frozenset(("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link"))
_FILE_WRITES = frozenset(("os.chmod", "os.chown", "os.truncate", "os.utime", "os.setxattr", "os.removexattr"))
_TMP = tuple(sorted({os.path.realpath(tempfile.gettempdir()) + os.sep, "/tmp/", "/var/tmp/", "/dev/shm/"}))
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

# Remembered decisions: per monitor, only operations judged to need no action (a finding or a
# block is far dearer than judging again). The table is cleared whole when full, and a fact (path,
# host name) longer than MAX_REMEMBERED_FACT is judged every time, so memory stays fixed.
MAX_DECISIONS = 1024
MAX_REMEMBERED_FACT = 256
# events that can change which file a path names (symlinks, renames, removals, the working
# directory): any of them, in any thread, monitored or not, forgets every remembered file decision
_NAMESPACE_EVENTS = frozenset(("os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link", "os.chdir"))
_path_tables = {}  # id(monitor) -> its remembered file decisions; dropped with the monitor
# an event's kind (an event not in the table is not watched)
_OPEN, _CONNECT, _RESOLVE, _NAMESPACE, _OTHER = 1, 2, 3, 4, 5
_KINDS = dict.fromkeys(_EVENTS, _OTHER)
_KINDS.update(dict.fromkeys(_NAMESPACE_EVENTS, _NAMESPACE))
_KINDS.update({"open": _OPEN, "socket.connect": _CONNECT, "socket.getaddrinfo": _RESOLVE})


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class internal:
    """``with internal():`` marks the guard's own I/O (event store, uplink, logs): never judged.

    Only the guard's own modules can mark anything: entered from other code (the handler) inside
    an enforcing invocation, it marks nothing and is a tamper attempt, an event, refused with
    ``BehaviorViolation`` in block mode."""

    def __enter__(self):
        self._token = None
        if sys._getframe(1).f_code.co_filename.startswith(_PACKAGE_DIR):
            self._token = _internal.set(True)
            return
        inv = _current.get()
        if inv is not None and inv[_MONITOR].enforcing:
            inv[_MONITOR]._tamper(inv, "internal()", "code outside the guard marked its operations as the guard's own")

    def __exit__(self, *exc):
        if self._token is not None:
            _internal.reset(self._token)


def request_id_of(context):
    """A Lambda context's request id (``aws_request_id``), or a ``request_id`` attribute."""
    return getattr(context, "aws_request_id", None) or getattr(context, "request_id", None)


def current_request_id():
    inv = _current.get()
    return inv[_REQUEST_ID] if inv is not None else None


class Invocation:
    """``with monitor.invocation(...) as inv:`` the handler's duration, sync or async; the
    findings of the operations inside are also collected in ``inv.findings``."""

    __slots__ = ("monitor", "request_id", "findings", "_token")

    def __init__(self, monitor, request_id):
        self.monitor = monitor
        self.request_id = request_id
        self.findings = []

    def __enter__(self):
        m = self.monitor
        self._token = None
        if not _outer_judges(m):
            self._token = _current.set(m._state(self.request_id, self.findings))
        return self

    def __exit__(self, *exc):
        if self._token is not None:
            _current.reset(self._token)


def _outer_judges(monitor):
    """Whether another monitor's enforcing invocation is running here: it keeps judging what runs
    inside, so a second monitor (a nested protected function, or one the watched code made to
    run its work under a looser policy) cannot take its place."""
    outer = _current.get()
    return outer is not None and outer[_MONITOR] is not monitor and outer[_MONITOR].enforcing


def _install():
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_make_hook())
            _installed = True


def _make_hook():
    """The audit hook. What it reads on every event is bound here, once: a local lookup costs
    less than a module global's (the hook runs for every audit event of the process, watched or
    not), and rebinding or emptying the module's tables later changes nothing in the installed
    hook. It is kept nowhere else, so no code can reach it to replace its parts."""
    kinds = dict(_KINDS)
    current = _current.get
    background = _background
    thread_id = threading.get_ident
    main_thread = threading.main_thread().ident
    is_internal = _internal.get
    forget_paths = _forget_paths
    OPEN, CONNECT, RESOLVE, NAMESPACE = _OPEN, _CONNECT, _RESOLVE, _NAMESPACE

    def hook(event, args):
        # Every audit event of the process comes here, mostly between system calls, where each
        # step costs several times what it does in a tight loop: an unwatched event costs one
        # set test (an operator, not a call), a repeated watched one a few more steps.
        if event not in kinds:
            return
        inv = current()
        kind = kinds[event]
        if inv is None:
            if kind == NAMESPACE:
                forget_paths()
            inv = background[0]
            if inv is None or thread_id() == main_thread or _is_guard_thread():
                return
        # The same operation repeats (a handler opens the same files, calls the same hosts): a
        # decision that needed no action is remembered under the operation's raw facts, so a
        # repeat costs one dict lookup. The facts are exact: ``open``'s whole (path, mode, flags),
        # so a read never answers for a write; (host, port), so one port never answers for
        # another. Only the caller's own objects (path, host, port) can be of another type; they
        # must be exact builtins to be looked up (see _plain). A remembered "no action" answers
        # for the guard's own I/O too, so that one is told apart only when the operation is judged.
        table = fact = None
        try:  # a hand-raised event (sys.audit) may carry anything
            if kind == OPEN:
                if type(args[0]) is str:
                    if args in inv[2]:  # _PATHS
                        return
                    table, fact = inv[2], args
            elif kind == CONNECT:
                addr = args[1]
                if type(addr) is tuple and type(addr[0]) is str and type(addr[1]) is int:
                    fact = addr[:2]
                    if fact in inv[3]:  # _NETS
                        return
                    table = inv[3]
            elif kind == RESOLVE:
                if type(args[0]) is str and type(args[1]) is int:
                    fact = args[:2]
                    if fact in inv[3]:  # _NETS
                        return
                    table = inv[3]
            elif kind == NAMESPACE:
                forget_paths()
        except (TypeError, IndexError):
            table = fact = None
        if not is_internal():
            inv[0].observe(inv, event, args, table, fact)  # _MONITOR

    return hook


def _is_guard_thread():
    return guard_threads.is_guard_thread(threading.current_thread())


def _forget_paths():
    for table in list(_path_tables.values()):  # one C-level copy: safe while monitors come and go
        table.clear()


def _plain(value):
    """The value the C call acts on. A subclass of str, bytes or int can lie through ``__str__``,
    ``__eq__`` or ``__hash__`` (say it is an allowed host, or equal to a remembered one), so it is
    copied into the exact builtin type before it is judged."""
    t = type(value)
    if t is str or t is int or t is bytes or value is None:
        return value
    if isinstance(value, str):
        return str.__getitem__(value, slice(None))
    if isinstance(value, bytes):
        return bytes.__getitem__(value, slice(None))
    if isinstance(value, int):
        return int.__int__(value)
    return "<%s>" % t.__name__


def _path_text(path):
    """A path argument as text, or None for a file descriptor. Only exact pathlib objects are
    asked for their text: any other path-like could answer the hook differently from the call."""
    if isinstance(path, (str, bytes)):
        return os.fsdecode(_plain(path))
    if isinstance(path, int):
        return None
    pathlib = sys.modules.get("pathlib")
    if pathlib is not None and type(path) in (pathlib.PurePosixPath, pathlib.PosixPath, pathlib.PureWindowsPath,
                                              pathlib.WindowsPath):
        return str(path)
    return "<%s>" % type(path).__name__


MAX_SOURCE_CHECK = 1 << 22  # bytes of a module file compared with what is compiled under its name


def _is_file_source(source, filename):
    """Whether ``source`` is the content of ``filename``, as when the import system compiles a
    module: code compiled under the name of an existing file is still dynamic code when it is
    not that file's text (a borrowed file name must not make it look imported)."""
    if isinstance(source, str):
        source = source.encode("utf-8", "surrogateescape")
    elif not isinstance(source, (bytes, bytearray)):
        return False  # an AST: built by code, not read from a file
    try:
        with internal():
            if os.path.getsize(filename) != len(source) or len(source) > MAX_SOURCE_CHECK:
                return False
            with open(filename, "rb") as fh:
                return fh.read() == source
    except (OSError, ValueError):
        return False


def _written(path):
    return "path", (path, "w"), "read_write_tmp" if path.startswith(_TMP) else "file_access"


def _entry_written(path_arg):
    """A write to a directory entry: its directory resolved, its own name not followed."""
    path = _path_text(path_arg)
    if path is None:  # a file descriptor: no name to judge by
        return _written("<fd %s>" % (_plain(path_arg),))
    head, tail = os.path.split(path)
    return _written(os.path.join(os.path.realpath(head or "."), tail) if tail else os.path.realpath(path))


_GLOBS = {}  # learned path glob -> compiled (bounded: cleared whole at MAX_DECISIONS)


def _glob_matches(glob, path):
    rx = _GLOBS.get(glob)
    if rx is None:
        from .policy import path_glob
        if len(_GLOBS) >= MAX_DECISIONS:
            _GLOBS.clear()
        rx = _GLOBS[glob] = path_glob(glob)
    return rx.match(path) is not None


_VARYING = None  # compiled on first use: (parts of any path, a tempfile name in a temp directory)


def _learned_glob(path):
    """A learned path as the glob the baseline holds. The parts that differ on every run, so that
    the baseline would block its own replay, become ``?`` (one per character: the glob keeps their
    place, their length and a UUID's dashes): UUIDs (a request id is one), hex tokens of 16 or more
    characters, runs of 6 or more digits (timestamps, counters), and in a temp directory the random
    part of a ``tempfile`` name ("tmp" and eight of [a-z0-9_]). Any other part stays as it is, its
    glob characters escaped (a file named ``*`` must not allow its whole directory). In path globs
    ``?`` is one character of a name (policy.path_glob)."""
    global _VARYING
    if "[" in path or "*" in path or "?" in path:
        path = "".join("[%s]" % c if c in "[*?" else c for c in path)
    if _VARYING is None:
        import re
        _VARYING = (re.compile(r"(?<![0-9a-z])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                               r"|[0-9a-f]{16,})(?![0-9a-z])|(?<![0-9])[0-9]{6,}(?![0-9])", re.IGNORECASE),
                    re.compile(r"(?<=/)tmp[a-z0-9_]{8}(?=[./]|$)"))
    path = _VARYING[0].sub(lambda m: "".join("-" if c == "-" else "?" for c in m.group()), path)
    if path.startswith(_TMP):
        path = _VARYING[1].sub("tmp" + "?" * 8, path)
    return path


RESOLVED_TTL = 60.0       # seconds a resolved allowed name's addresses are trusted
RESOLVE_PER_CHECK = 16    # names resolved at most for one unknown address
MAX_RESOLVED = 256        # names whose addresses are held (cleared whole when full)


def _is_address(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _rememberable(fact):
    """Short, and made of exact builtins only: a remembered key never holds an object that could
    claim to equal another operation's facts (``sys.audit`` lets any code raise an event)."""
    size = 0
    for part in fact:
        t = type(part)
        if t is str or t is bytes:
            size += len(part)
        elif t is not int and part is not None:
            return False
    return size <= MAX_REMEMBERED_FACT


def _mode(args, flags):
    if isinstance(args, str):
        return "w" if any(c in args for c in "wax+") else "r"
    return "w" if flags & _WRITE_FLAGS else "r"


class Monitor:
    """Per protected function: its mode (learn/alert/block), policy, baseline and sink."""

    def __init__(self, mode, policy, sink=None, handler_files=(), baseline=None):
        from .policy import BehaviorPolicy
        if mode not in ("learn", "alert", "block"):
            raise ValueError("behaviour mode must be learn, alert or block")
        init = object.__setattr__
        init(self, "tamper_attempts", 0)
        init(self, "_mode", mode)
        init(self, "_policy", BehaviorPolicy.coerce(policy))
        init(self, "_sink", sink)
        init(self, "_handler_files", frozenset(os.path.realpath(f) for f in handler_files if f))
        init(self, "_learned", baseline if baseline is not None else
             {"hosts": set(), "paths": set(), "executables": set(), "imports": set(), "native": set()})
        # remembered "no action" decisions, keyed by the raw facts of the operation: ``open``'s
        # (path, mode, flags), (host, port) for name lookups and connects (bounded; see MAX_DECISIONS)
        init(self, "_path_decisions", {})
        init(self, "_net_decisions", {})
        init(self, "_resolved", {})  # allowed or learned name -> (until, its addresses); see _named_address
        init(self, "_locked", mode != "learn")
        _path_tables[id(self)] = self._path_decisions
        # who judges the work of the handler's threads (see _background)
        held = _background[0]
        if held is None or not held[_MONITOR].enforcing:
            if self._policy.background == "judge":
                _background[0] = self._state(None)
            elif mode != "learn":
                _background[0] = None
        weakref.finalize(self, _path_tables.pop, id(self), None)
        _install()

    # tamper resistance: once enforcing, nothing about the monitor can change
    def __setattr__(self, name, value):
        if self._locked:
            self._tamper(_current.get(), "monitor.%s" % name, "attempt to change the behaviour monitor",
                         "the behaviour monitor is locked while enforcing: %s cannot be changed" % name)
        object.__setattr__(self, name, value)
        self._path_decisions.clear()  # decisions taken under the old settings no longer hold
        self._net_decisions.clear()

    def _tamper(self, inv, op, what, refusal=None):
        """An attempt to switch enforcement off or around it: always an event; refused in block
        mode (and always when ``refusal`` says why it cannot be done at all)."""
        object.__setattr__(self, "tamper_attempts", self.tamper_attempts + 1)
        block = refusal is not None or self._mode == "block"
        self._emit(inv, "behavior.tamper", op, what, "critical", "block" if block else "alert")
        if block:
            raise BehaviorViolation(refusal or "edge_ssre blocked %s: %s" % (op, what))

    def learned_size(self):
        """How many hosts, paths, executables, imports and native loads learn mode has recorded."""
        return sum(len(v) for v in self._learned.values())

    def remembered_decisions(self):
        """How many decisions are remembered now (never more than 2 * MAX_DECISIONS)."""
        return len(self._path_decisions) + len(self._net_decisions)

    def disable(self):
        self.__setattr__("_mode", "off")

    @property
    def mode(self):
        return self._mode

    @property
    def enforcing(self):
        """Alerting or blocking: learning or ``disable()``d, it judges nothing and holds no one back."""
        return self._mode == "alert" or self._mode == "block"

    request_id_of = staticmethod(request_id_of)

    def _state(self, request_id, found=None):
        """An invocation's state, as ``_current`` holds it (see there)."""
        return (self, request_id, self._path_decisions, self._net_decisions, found)

    def invocation(self, context=None, request_id=None):
        """``with monitor.invocation(context):`` judges what runs inside (sync or async code)."""
        return Invocation(self, request_id or request_id_of(context))

    def run(self, request_id, fn, *args, **kw):
        """``fn(*args, **kw)`` as one invocation: what ``with invocation()`` does around a
        synchronous call, for less (no Python-level enter and exit: on a handler doing loopback
        I/O those were ~3 us of the monitor's cost; running the call in a copied context instead,
        as this did before, ~2 us more than setting the variable here). As in a plain call,
        context variables the function sets stay set when it returns."""
        outer = _current.get()  # _outer_judges(self), inline: this runs once per invocation
        if outer is not None and outer[_MONITOR] is not self and outer[_MONITOR].enforcing:
            return fn(*args, **kw)
        token = _current.set((self, request_id, self._path_decisions, self._net_decisions, None))  # _state(), inline
        try:
            return fn(*args, **kw)
        finally:
            _current.reset(token)

    # ---- judging ----------------------------------------------------------------------
    def observe(self, inv, event, args, table, fact):
        """Judge one operation; remember the fact in ``table`` when it needed no action."""
        if self._mode == "off":  # disable()d while learning
            return
        try:
            judged = self._classify(event, args)
        except Exception:
            return  # a hand-raised event (sys.audit) whose arguments are not an operation's
        for kind, target, knob in judged:
            try:
                if self._mode == "learn":
                    self._learn(kind, target)
                    continue
                allowed = self._allowed(kind, target, knob)
            except Exception as exc:  # a fault of the guard's own: reported, never raised into the
                # function's operation, which is then judged as not allowed (nothing learned, remembered)
                self._emit(inv, "behavior.fault", event, "%s: %s" % (type(exc).__name__, exc), "low", "alert")
                if self._mode == "learn":
                    return
                allowed = False
            if not allowed:
                action = self._policy.knobs.get(knob, "alert")
                if action != "allow":
                    return self._act(inv, event, target, knob, "alert" if self._mode == "alert" else action)
        if table is not None and _rememberable(fact):
            if len(table) >= MAX_DECISIONS:
                table.clear()
            table[fact] = True

    def _act(self, inv, event, target, knob, action):
        self._emit(inv, "behavior." + knob, event, target, "high" if action == "block" else "medium", action)
        if action == "block":
            raise BehaviorViolation("edge_ssre blocked %s (%s: %s) by the behaviour policy" % (event, knob, target))

    def _classify(self, event, args):
        """What an operation does, as (kind, target, knob) triples (none: nothing to judge)."""
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            addr = args[2] if event == "socket.sendto" else args[1]
            if not isinstance(addr, tuple):
                return ()  # AF_UNIX and friends (local IPC), or sendmsg on a connected socket
            return (("net", "%s:%s" % (_plain(addr[0]), _plain(addr[1])), "outbound_connectivity"),)
        if event == "socket.getaddrinfo":
            return (("net", "%s:%s" % (_plain(args[0]), _plain(args[1])), "outbound_connectivity"),)
        if event in ("socket.gethostbyname", "socket.gethostbyaddr"):
            # a name lookup is a packet to a resolver, and the name can carry data out (DNS exfiltration)
            return (("net", "%s:None" % (_plain(args[0]),), "outbound_connectivity"),)
        if event == "open":
            path, mode, flags = _path_text(args[0]), args[1], args[2]
            if path is None:
                return ()  # an open file descriptor
            path = os.path.realpath(path)
            m = _mode(mode, flags if isinstance(flags, int) else 0)
            if path in self._handler_files and m == "r":
                return (("read_handler", path, "read_handler"),)
            if path.startswith(_TMP):
                return (("path", (path, m), "read_write_tmp" if m == "w" else "file_access"),)
            if m == "r" and path.startswith((sys.prefix, sys.base_prefix)):
                return ()  # the interpreter reading its own library
            return (("path", (path, m), "file_access"),)
        if event in _ENTRY_WRITES:  # a directory entry made, removed or renamed: judged where it is
            if event == "os.rename":  # (src, dst, ...): both names change, and dst may replace a file
                return _entry_written(args[1]), _entry_written(args[0])
            return (_entry_written(args[1] if event in ("os.symlink", "os.link") else args[0]),)
        if event in _FILE_WRITES:  # a file's content or attributes changed: judged where it leads
            path = _path_text(args[0])
            return (_written(os.path.realpath(path) if path is not None else "<fd %s>" % (_plain(args[0]),)),)
        if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"):
            exe = args[0]
            if isinstance(exe, (list, tuple)):
                exe = exe[0] if exe else ""
            return (("exe", os.fsdecode(exe) if exe is not None else str(args[1]), "create_child_process"),)
        if event == "os.system":
            return (("exe", os.fsdecode(args[0]), "create_child_process"),)
        if event in ("os.fork", "os.forkpty"):
            return (("exe", "fork()", "create_child_process"),)
        if event == "exec":
            code = args[0]
            fn = getattr(code, "co_filename", "")
            if fn and not fn.startswith("<") and os.path.exists(fn):
                return ()  # a module's code being run by the import system
            return (("code", fn or "<code>", "dynamic_code"),)
        if event == "compile":
            fn = args[1] if len(args) > 1 else None
            fn = os.fsdecode(fn) if isinstance(fn, (str, bytes)) else ""
            if fn and not fn.startswith("<") and _is_file_source(args[0], fn):
                return ()  # the import system compiling a module from its file
            return (("code", fn or "<string>", "dynamic_code"),)
        if event == "code.__new__":  # a code object built by hand (CodeType(), code.replace())
            return (("code", "code object %s" % (_plain(args[1]),), "dynamic_code"),)
        if event == "ctypes.dlopen":  # native code: libc's system() needs no Python audit event to run
            return (("native", "dlopen %s" % (_plain(args[0]),), "native_code"),)
        if event == "ctypes.dlsym":  # (library, symbol): a C function looked up to be called
            return (("native", "dlsym %s" % (_plain(args[1]) if len(args) > 1 else "?",), "native_code"),)
        if event == "import":
            name = args[0]
            if name in sys.modules:
                return ()
            return (("import", name, "new_imports"),)
        if event in ("sys.settrace", "sys.setprofile"):
            return ()
        return ()

    def _learn(self, kind, target):
        if kind == "net":
            self._learned["hosts"].add(target)
        elif kind == "path":
            self._learned["paths"].add((_learned_glob(target[0]), target[1]))
        elif kind == "exe":
            self._learned["executables"].add(target)
        elif kind == "import":
            self._learned["imports"].add(target)
        elif kind == "native":
            self._learned.setdefault("native", set()).add(target)

    def _allowed(self, kind, target, knob):
        L, P = self._learned, self._policy
        if kind == "net":
            if target in L["hosts"]:
                return True
            host, _, port = target.rpartition(":")
            host, port = host.strip("[]"), int(port) if port.isdigit() else None
            return P.host_allowed(host, port) or self._named_address(host, port)
        if kind == "path":
            path, m = target
            if (path, m) in L["paths"] or (path, "w") in L["paths"]:
                return True
            if any((gm == m or gm == "w") and _glob_matches(g, path) for g, gm in L["paths"]):
                return True  # learned in this process: a temp file's or an escaped name's glob
            return P.path_allowed(path, m)
        if kind == "exe":
            return target in L["executables"] or P.exe_allowed(target)
        if kind == "import":
            return target in L["imports"] or P.import_allowed(target)
        if kind == "native":
            return target in L.get("native", ()) or P.native_allowed(target)
        if kind == "read_handler":
            return False
        if kind == "code":
            return False
        return False

    def _named_address(self, address, port):
        """Whether an allowed or learned host name resolves to ``address`` (a connect goes to the
        address the handler's lookup returned: a name in the policy or the baseline must cover
        it, and a service's addresses change between runs). The names are resolved by the guard
        (its own lookups, not judged), cached for RESOLVED_TTL seconds, at most RESOLVE_PER_CHECK
        names per check and MAX_RESOLVED names held."""
        if not _is_address(address):
            return False
        names = []
        for entry in self._learned["hosts"]:
            name, _, p = entry.rpartition(":")
            if not _is_address(name.strip("[]")) and (p == str(port) or p == "None"):
                names.append(name)
        names.extend(self._policy.host_names(port))
        now = time.monotonic()
        cache = self._resolved
        for name in sorted(set(names))[:RESOLVE_PER_CHECK]:
            hit = cache.get(name)
            if hit is None or hit[0] < now:
                if len(cache) >= MAX_RESOLVED:
                    cache.clear()
                addresses = frozenset()
                import socket
                try:
                    with internal():
                        addresses = frozenset(info[4][0] for info in socket.getaddrinfo(name, None))
                except (OSError, UnicodeError, ValueError):
                    pass
                hit = cache[name] = (now + RESOLVED_TTL, addresses)
            if address in hit[1]:
                return True
        return False

    def _emit(self, inv, rule_id, op, target, severity, action):
        f = Finding(rule_id, "behavior", op, str(target)[:96], severity, action)
        if inv is not None:
            if inv[_FOUND] is not None:
                inv[_FOUND].append(f)
        sink = self._sink
        if sink is None:
            return
        from ..envelope import Envelope
        with internal():
            try:
                sink(Verdict(action, (f,), "lambda"), Envelope(None, "lambda", None, None,
                                                                 {"request_id": inv[_REQUEST_ID] if inv else None}))
            except Exception:
                pass

    # ---- learned baseline ---------------------------------------------------------------
    def baseline_toml(self):
        """The learned behaviour as a policy file a person can review (then enforce)."""
        import json
        L = self._learned
        lines = ["# edge_ssre behaviour baseline (learned). Review, then protect(behavior=\"block\", "
                 "behavior_policy=\"this-file.toml\").",
                 'outbound_connectivity = "block"', 'read_write_tmp = "block"', 'create_child_process = "block"',
                 'read_handler = "block"', 'dynamic_code = "alert"', 'file_access = "alert"', 'new_imports = "alert"',
                 'native_code = "block"',
                 '# operations of threads the handler starts, outside its invocation: judge | ignore',
                 'background_threads = "judge"',
                 "", "[baseline]"]
        lines.append("hosts = [%s]" % ", ".join(json.dumps(h) for h in sorted(L["hosts"])))
        lines.append("paths = [%s]" % ", ".join('{ glob = %s, mode = "%s" }' % (json.dumps(p), m)
                                                for p, m in sorted(L["paths"])))
        lines.append("executables = [%s]" % ", ".join(json.dumps(e) for e in sorted(L["executables"])))
        lines.append("imports = [%s]" % ", ".join(json.dumps(i) for i in sorted(L["imports"])))
        lines.append("native = [%s]" % ", ".join(json.dumps(n) for n in sorted(L.get("native", ()))))
        return "\n".join(lines) + "\n"
