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
import os
import sys
import tempfile
import threading

from ..errors import BehaviorViolation
from ..verdict import Finding, Verdict

_current = contextvars.ContextVar("edge_ssre_invocation", default=None)
_internal = contextvars.ContextVar("edge_ssre_internal", default=False)
_installed = False
_install_lock = threading.Lock()

# audit events the hook looks at; everything else returns after one set lookup
_EVENTS = frozenset(("socket.connect", "socket.sendto", "socket.getaddrinfo", "open", "os.remove", "os.rename",
                     "os.chmod", "os.truncate", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                     "os.spawn", "os.fork", "os.forkpty", "exec", "compile", "ctypes.dlopen", "import",
                     "sys.settrace", "sys.setprofile"))
_TMP = tuple(sorted({os.path.realpath(tempfile.gettempdir()) + os.sep, "/tmp/", "/var/tmp/", "/dev/shm/"}))
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_MISS = object()


class internal:
    """``with internal():`` marks the guard's own I/O (event store, uplink, logs): never judged."""

    def __enter__(self):
        self._token = _internal.set(True)

    def __exit__(self, *exc):
        _internal.reset(self._token)


def current_request_id():
    inv = _current.get()
    return inv.request_id if inv is not None else None


class Invocation:
    __slots__ = ("monitor", "request_id", "findings")

    def __init__(self, monitor, request_id):
        self.monitor = monitor
        self.request_id = request_id
        self.findings = []


def _install():
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


def _hook(event, args):
    if event not in _EVENTS:
        return
    inv = _current.get()
    if inv is None or _internal.get():
        return
    inv.monitor.observe(inv, event, args)


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
             {"hosts": set(), "paths": set(), "executables": set(), "imports": set()})
        init(self, "_decided", {})  # raw operation -> verdict (bounded; cleared when full)
        init(self, "_locked", mode != "learn")
        _install()

    # tamper resistance: once enforcing, nothing about the monitor can change
    def __setattr__(self, name, value):
        if self._locked:
            object.__setattr__(self, "tamper_attempts", self.tamper_attempts + 1)
            self._emit(_current.get(), "behavior.tamper", "monitor.%s" % name, "attempt to change the behaviour monitor",
                       "critical", "block")
            raise BehaviorViolation("the behaviour monitor is locked while enforcing: %s cannot be changed" % name)
        object.__setattr__(self, name, value)

    def disable(self):
        self.__setattr__("_mode", "off")

    @property
    def mode(self):
        return self._mode

    def invocation(self, context=None, request_id=None):
        rid = request_id or getattr(context, "aws_request_id", None) or getattr(context, "request_id", None)
        return _Scope(self, rid)

    # ---- judging ----------------------------------------------------------------------
    def observe(self, inv, event, args):
        # the same operation repeats (a handler opens the same files, calls the same hosts): its
        # classification and judgement are remembered, so a repeat costs one dict lookup
        key = None
        if event == "open" or event == "socket.getaddrinfo":
            key = (event, args[0], args[1])
        elif event == "socket.connect":
            key = (event, args[1]) if isinstance(args[1], tuple) else None
        decided = self._decided
        if key is not None:
            hit = decided.get(key, _MISS)
            if hit is None:
                return
            if hit is not _MISS:
                kind, target, knob, action = hit
                return self._act(inv, event, target, knob, action)
        try:
            kind, target, knob = self._classify(event, args)
        except Exception:
            return
        action = None
        if kind is not None:
            if self._mode == "learn":
                self._learn(kind, target)
            elif not self._allowed(kind, target, knob):
                action = self._policy.knobs.get(knob, "alert")
                if action == "allow":
                    action = None
                elif self._mode == "alert":
                    action = "alert"
        if key is not None:
            if len(decided) >= 4096:
                decided.clear()
            decided[key] = None if action is None else (kind, target, knob, action)
        if action is not None:
            self._act(inv, event, target, knob, action)

    def _act(self, inv, event, target, knob, action):
        self._emit(inv, "behavior." + knob, event, target, "high" if action == "block" else "medium", action)
        if action == "block":
            raise BehaviorViolation("edge_ssre blocked %s (%s: %s) by the behaviour policy" % (event, knob, target))

    def _classify(self, event, args):
        if event in ("socket.connect", "socket.sendto"):
            addr = args[1] if event == "socket.connect" else args[2]
            if not isinstance(addr, tuple):
                return None, None, None  # AF_UNIX and friends: local IPC
            return "net", "%s:%s" % (addr[0], addr[1]), "outbound_connectivity"
        if event == "socket.getaddrinfo":
            return "net", "%s:%s" % (args[0], args[1]), "outbound_connectivity"
        if event == "open":
            path, mode, flags = args[0], args[1], args[2]
            if not isinstance(path, (str, bytes)) or isinstance(path, int):
                return None, None, None
            path = os.path.realpath(os.fsdecode(path))
            m = _mode(mode, flags if isinstance(flags, int) else 0)
            if path in self._handler_files and m == "r":
                return "read_handler", path, "read_handler"
            if path.startswith(_TMP):
                return "path", (path, m), "read_write_tmp" if m == "w" else "file_access"
            if m == "r" and path.startswith((sys.prefix, sys.base_prefix)):
                return None, None, None  # the interpreter reading its own library
            return "path", (path, m), "file_access"
        if event in ("os.remove", "os.rename", "os.chmod", "os.truncate"):
            path = os.path.realpath(os.fsdecode(args[0])) if isinstance(args[0], (str, bytes)) else str(args[0])
            return "path", (path, "w"), "read_write_tmp" if path.startswith(_TMP) else "file_access"
        if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"):
            exe = args[0]
            if isinstance(exe, (list, tuple)):
                exe = exe[0] if exe else ""
            return "exe", os.fsdecode(exe) if exe is not None else str(args[1]), "create_child_process"
        if event == "os.system":
            return "exe", os.fsdecode(args[0]), "create_child_process"
        if event in ("os.fork", "os.forkpty"):
            return "exe", "fork()", "create_child_process"
        if event == "exec":
            code = args[0]
            fn = getattr(code, "co_filename", "")
            if fn and not fn.startswith("<") and os.path.exists(fn):
                return None, None, None  # a module's code being run by the import system
            return "code", fn or "<code>", "dynamic_code"
        if event == "compile":
            fn = args[1] if len(args) > 1 else None
            fn = os.fsdecode(fn) if isinstance(fn, (str, bytes)) else ""
            if fn and not fn.startswith("<") and os.path.exists(fn):
                return None, None, None
            return "code", fn or "<string>", "dynamic_code"
        if event == "ctypes.dlopen":
            return "code", "dlopen %s" % (args[0],), "dynamic_code"
        if event == "import":
            name = args[0]
            if name in sys.modules:
                return None, None, None
            return "import", name, "new_imports"
        if event in ("sys.settrace", "sys.setprofile"):
            return None, None, None
        return None, None, None

    def _learn(self, kind, target):
        if kind == "net":
            self._learned["hosts"].add(target)
        elif kind == "path":
            self._learned["paths"].add(target)
        elif kind == "exe":
            self._learned["executables"].add(target)
        elif kind == "import":
            self._learned["imports"].add(target)

    def _allowed(self, kind, target, knob):
        L, P = self._learned, self._policy
        if kind == "net":
            if target in L["hosts"]:
                return True
            host, _, port = target.rpartition(":")
            return P.host_allowed(host.strip("[]"), int(port) if port.isdigit() else None)
        if kind == "path":
            path, m = target
            if (path, m) in L["paths"] or (path, "w") in L["paths"]:
                return True
            return P.path_allowed(path, m)
        if kind == "exe":
            return target in L["executables"] or P.exe_allowed(target)
        if kind == "import":
            return target in L["imports"] or P.import_allowed(target)
        if kind == "read_handler":
            return False
        if kind == "code":
            return False
        return False

    def _emit(self, inv, rule_id, op, target, severity, action):
        f = Finding(rule_id, "behavior", op, str(target)[:96], severity, action)
        if inv is not None:
            inv.findings.append(f)
        sink = self._sink
        if sink is None:
            return
        from ..envelope import Envelope
        with internal():
            try:
                sink(Verdict(action, (f,), "lambda"), Envelope(None, "lambda", None, None,
                                                                 {"request_id": inv.request_id if inv else None}))
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
                 "", "[baseline]"]
        lines.append("hosts = [%s]" % ", ".join(json.dumps(h) for h in sorted(L["hosts"])))
        lines.append("paths = [%s]" % ", ".join('{ glob = %s, mode = "%s" }' % (json.dumps(p), m)
                                                for p, m in sorted(L["paths"])))
        lines.append("executables = [%s]" % ", ".join(json.dumps(e) for e in sorted(L["executables"])))
        lines.append("imports = [%s]" % ", ".join(json.dumps(i) for i in sorted(L["imports"])))
        return "\n".join(lines) + "\n"


class _Scope:
    """One invocation: sets the context for the handler's duration (sync or async)."""

    def __init__(self, monitor, request_id):
        self.inv = Invocation(monitor, request_id)

    def __enter__(self):
        self._token = _current.set(self.inv)
        return self.inv

    def __exit__(self, *exc):
        _current.reset(self._token)
