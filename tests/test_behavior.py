"""Behavioural protection with real sockets on loopback, real subprocesses and real files. Each
scenario runs in its own interpreter (audit hooks cannot be removed from a process)."""

import json
import os
import subprocess
import sys

import pytest

HARNESS = os.path.join(os.path.dirname(__file__), "data", "behavior_harness.py")


def run(name, tmp_path):
    res = subprocess.run([sys.executable, HARNESS, name, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_learned_profile_allows_the_normal_run(tmp_path):
    out = run("learn_replay", tmp_path)
    assert out["results"] == ["ran"] * 10  # five replays in ``with invocation()``, five through run()
    assert out["findings"] == []  # zero false blocks when replaying the learned run
    assert "127.0.0.1" in out["baseline"] and "config.json" in out["baseline"]


def test_functionshield_examples_are_blocked(tmp_path):
    out = run("fs_block", tmp_path)["results"]
    assert out["write_tmp"] == "blocked" and out["read_handler"] == "blocked"
    assert out["popen_shell"] == "blocked" and out["os_system_curl"] == "blocked"
    assert out["connect_other"] == "blocked" and out["connect_allowed"] == "ran"
    assert not (tmp_path / "touched-block").exists()  # blocked before the shell ran


def test_functionshield_examples_alert_and_run(tmp_path):
    out = run("fs_alert", tmp_path)
    assert (tmp_path / "touched-alert").exists()  # alert mode lets the child process run
    assert all(v != "blocked" for v in out["results"].values())
    rules = {(f["rule"], f["rid"]) for f in out["findings"]}
    for rule, rid in (("behavior.read_write_tmp", "write_tmp"), ("behavior.read_handler", "read_handler"),
                      ("behavior.create_child_process", "popen_shell"),
                      ("behavior.create_child_process", "os_system_curl"),
                      ("behavior.outbound_connectivity", "connect_other")):
        assert (rule, rid) in rules
    assert all(f["action"] == "alert" for f in out["findings"])
    assert not any(f["rid"] == "connect_allowed" and f["rule"] == "behavior.outbound_connectivity"
                   for f in out["findings"])


def test_the_guards_own_io_is_never_blocked(tmp_path):
    out = run("internal_io", tmp_path)
    assert out["result"] == "blocked" and out["stored"] >= 1


def test_request_ids_follow_threads_and_tasks(tmp_path):
    out = run("request_ids", tmp_path)
    assert out["seen"] == {k: k for k in out["seen"]} and len(out["seen"]) == 8
    rids = sorted(f["rid"] for f in out["findings"] if f["rule"] == "behavior.create_child_process")
    assert rids == sorted(["thread-%d" % i for i in range(4)] + ["task-%d" % i for i in range(4)])
    assert out["outside"] is None


def test_run_is_one_invocation_around_a_call(tmp_path):
    out = run("run", tmp_path)
    assert out["out"] == {"rid": "req-run", "sum": 5, "child": "blocked"}
    assert "create_child_process" in out["raised"]  # a block inside leaves run() as BehaviorViolation
    # the scope ends with the call; context variables the handler set stay set, as after a plain call
    assert out["after"] is None and out["caller_var"] == "handler"
    assert [f["rid"] for f in out["findings"]] == ["req-run", "req-raise"]


def test_threads_a_handler_starts_are_judged(tmp_path):
    out = run("threads", tmp_path)
    assert out["results"] == {"thread": "blocked", "pool": "blocked", "direct": "blocked",
                              "thread_after_invocation": "blocked", "guard_thread": "ran", "main_outside": "ran",
                              "thread_after_looser_monitors": "blocked",
                              "nested_monitor_run": "blocked", "nested_monitor_with": "blocked"}
    rids = [f["rid"] for f in out["findings"] if f["rule"] == "behavior.create_child_process"]
    assert rids.count("req-threads") == 1 and rids.count(None) == 4  # background work has no request id
    assert rids.count("req-nested") == 2 and "mine" not in rids  # the outer invocation kept judging


def test_a_policy_can_leave_background_threads_alone(tmp_path):
    out = run("threads_ignored", tmp_path)
    assert out["results"] == {"thread": "ran", "direct": "blocked"}


def test_work_in_a_thread_pool_is_learned_and_replayed(tmp_path):
    out = run("learn_threads", tmp_path)
    assert out["results"] == ["ran"] * 3 and "127.0.0.1" in out["baseline"]
    assert out["other"] == "blocked"  # a host the pool never reached while learning
    assert [f["target"] for f in out["findings"]] == ["127.0.0.1:9"]


def test_protect_learns_a_baseline_and_enforces_it(tmp_path):
    out = run("protect_learn", tmp_path)
    assert "127.0.0.1" in out["baseline"] and "config.json" in out["baseline"] and out["monitor"] >= 2
    assert out["unchanged"] and out["logged"]
    assert out["results"] == ["ran"] * 3  # the learned run replays without a false block
    assert out["deviation"] == "blocked"
    assert [f["target"] for f in out["findings"]] == ["127.0.0.1:9"]


def test_native_code_through_ctypes_is_judged(tmp_path):
    out = run("native", tmp_path)
    assert out["results"] == {"libc_system": "blocked", "learned_getpid": "ran", "unlearned_symbol": "blocked",
                              "allowed_by_policy": "ran"}
    assert '"dlopen None"' in out["baseline"] and '"dlsym getpid"' in out["baseline"]
    native = [(f["rid"], f["target"]) for f in out["findings"] if f["rule"] == "behavior.native_code"]
    assert native == [("req-libc", "dlopen None"), ("req-system", "dlsym system")]


def test_name_lookups_and_datagrams_are_outbound(tmp_path):
    out = run("lookups", tmp_path)
    assert out["results"] == {"lookup_allowed": "ran", "lookup_exfil": "blocked", "reverse_lookup_other": "blocked",
                              "sendmsg_allowed": "ran", "sendmsg_other": "blocked"}
    targets = {f["rid"]: f["target"] for f in out["findings"]}
    assert targets == {"lookup_exfil": "c2VjcmV0.attacker.invalid:None", "reverse_lookup_other": "192.0.2.7:None",
                       "sendmsg_other": "127.0.0.1:9"}


def test_replay_with_new_temp_file_names_is_not_blocked(tmp_path):
    out = run("learn_tempfiles", tmp_path)
    assert out["results"] == ["ran"] * 3  # zero false blocks replaying the learned run
    assert "tmp????????.json" in out["baseline"] and "tmp????????/out.json" in out["baseline"]
    assert out["dropper"] == "blocked"  # another /tmp file still is
    assert [f["rid"] for f in out["findings"]] == ["dropper"]


def test_hosts_allowed_by_name_cover_their_addresses(tmp_path):
    out = run("named_hosts", tmp_path)
    assert out["results"] == {"allowed_name": "ran", "same_address_other_port": "blocked",
                              "learned_name_new_address": "ran"}
    assert "127.0.0.1" not in out["baseline"] and "localhost:" in out["baseline"]
    assert [f["rid"] for f in out["findings"]] == ["other-port"]


def test_enforcement_cannot_be_switched_off(tmp_path):
    out = run("tamper", tmp_path)
    assert out["results"] == {"disable": "refused", "set_mode": "refused", "set_policy": "refused",
                              "still_enforced": "blocked",
                              # handler code cannot claim the guard's own-I/O marker
                              "internal_from_handler": "blocked",
                              # code compiled under an existing file's name is still dynamic code,
                              # unless it is that file's text (as the import system compiles it)
                              "borrowed_file_name": "blocked", "module_from_its_file": "ran",
                              "code_replace": "blocked",
                              # the installed hook holds its own tables
                              "tables_emptied": "blocked"}
    assert out["tamper_attempts"] == 3
    tamper = [f for f in out["findings"] if f["rule"] == "behavior.tamper"]
    assert len(tamper) == 3 and tamper[-1]["rid"] == "internal_from_handler"
    dynamic = {f["rid"] for f in out["findings"] if f["rule"] == "behavior.dynamic_code"}
    assert dynamic == {"borrowed_file_name", "code_replace"}


def test_protect_blocks_inside_the_handler(tmp_path):
    out = run("protect", tmp_path)
    assert out["result"].startswith("PermissionError") and "create_child_process" in out["result"]
    assert out["findings"] and out["findings"][0]["rid"] == "req-42"


def test_remembered_decisions_never_let_a_different_operation_through(tmp_path):
    out = run("cache_exact", tmp_path)["results"]
    for rnd in ("0", "1"):
        r = {k.split(":", 1)[1]: v for k, v in out.items() if k.startswith(rnd + ":")}
        assert r["os_open_read"] == "ran" and r["os_open_write"] == "blocked"  # same path, write flags
        assert r["open_read"] == "ran" and r["open_append"] == "blocked"
        assert r["cached_read_after_swap"] == "blocked"  # the allowed path now points at the secret
        assert r["relative_read"] == "ran" and r["relative_read_after_chdir"] == "blocked"
        assert r["connect_allowed"] == "ran" and r["connect_other"] == "blocked"
        # str/int subclasses that lie through __str__/__eq__/__hash__ are judged on what the call uses
        assert r["connect_lying_port"] == "blocked" and r["connect_lying_host"] == "blocked"
        assert r["open_lying_path"] == "blocked" and r["poison_then_write"] == "blocked"
    assert out["0:cached_read"] == "ran" and out["0:cached_remove"] == "ran" and out["0:cached_reread"] == "ran"


def test_remembered_decisions_are_bounded(tmp_path):
    out = run("cache_bounded", tmp_path)
    assert out["ran"] == 3 * out["max"]  # allowed writes all ran
    assert out["before"] == "blocked" and out["after"] == "blocked"
    assert 0 < out["remembered"] <= out["max"]


@pytest.mark.parametrize("text, line, key, says", [
    ('create_child_process = "maybe"\n', 1, "create_child_process", "block, alert or allow"),
    ('read_handler = "block"\nsend_email = "block"\n', 2, "send_email", "unknown key"),
    ('background_threads = "sometimes"\n', 1, "background_threads", "judge or ignore"),
    ('[allow]\nhosts = ["api.example.com:443"]\npaths = ["/tmp"]\n', 3, "paths", "glob"),
    ('[allow]\npaths = [{ glob = "/tmp/*", mode = "x" }]\n', 2, "paths", "mode"),
    ('[allow]\npaths = [{ glob = "/tmp/[z-a]", mode = "r" }]\n', 2, "paths", "bad glob"),
])
def test_behavior_policy_errors_name_line_and_key(text, line, key, says):
    from edge_ssre.behavior.policy import BehaviorPolicy  # the policy alone installs no audit hook
    from edge_ssre.errors import PolicyError
    with pytest.raises(PolicyError) as err:
        BehaviorPolicy.load(text=text)
    msg = str(err.value)
    assert msg.startswith("<string>:%d:" % line) and key in msg and says in msg


def test_behavior_policy_file_and_dict_agree(tmp_path):
    from edge_ssre.behavior.policy import BehaviorPolicy
    text = ('outbound_connectivity = "block"\nbackground_threads = "ignore"\n'
            '[allow]\nhosts = ["10.0.0.0/8", "api.example.com:443"]\n')
    path = tmp_path / "behavior.toml"
    path.write_text(text)
    from_file = BehaviorPolicy.load(str(path))
    from_dict = BehaviorPolicy.from_dict({"outbound_connectivity": "block", "background_threads": "ignore",
                                          "allow": {"hosts": ["10.0.0.0/8", "api.example.com:443"]}})
    for p in (from_file, from_dict):
        assert p.knobs["outbound_connectivity"] == "block" and p.background == "ignore"
        assert p.host_allowed("10.1.2.3", 80) and p.host_allowed("api.example.com", 443)
        assert not p.host_allowed("api.example.com", 80) and not p.host_allowed("192.168.1.1", 80)


def test_directory_entry_and_attribute_changes_are_writes(tmp_path):
    """mkdir/rmdir/symlink/link/rename (both names)/chown/utime are judged as writes. A rename was
    judged by its source only: moving an allowed scratch file over the handler's code ran."""
    out = run("file_ops", tmp_path)
    assert out["results"] == {
        "mkdir_scratch": "ran", "mkdir_app": "blocked", "rename_into_app": "blocked", "rename_out_of_app": "blocked",
        "rename_in_scratch": "ran", "symlink_in_app": "blocked", "hardlink_in_app": "blocked", "chown_app": "blocked",
        "utime_app": "blocked", "chmod_through_link": "blocked", "rmdir_app": "blocked",
        # removing a symlink acts on the link (in scratch), not on the file it points to (in app)
        "remove_link_in_scratch": "ran"}
    assert out["app"] == ["d", "f", "handler.py"] and out["handler"] == "original handler.py\n"  # nothing changed
    app = str(tmp_path / "app")
    assert {f["target"] for f in out["findings"]} == {"('%s/%s', 'w')" % (app, n) for n in
                                                     ("new", "handler.py", "f", "passwd", "h", "d")}


def test_learned_names_with_glob_characters_match_only_themselves(tmp_path):
    out = run("learn_glob_names", tmp_path)
    assert out["replay"] == "ran"  # "report[1].csv" learned as a glob did not match itself
    assert out["other"] == "blocked"  # a learned file named "*" allowed its whole directory
    assert "report[[]1].csv" in out["baseline"] and "/out/[*]" in out["baseline"]
    assert [f["rid"] for f in out["findings"]] == ["other"]


def test_names_that_vary_per_run_are_learned_by_shape(tmp_path):
    """A request id, uuid4, token or timestamp in a name differs on every run: learned exactly, the
    baseline blocked its own replay. Learned as globs of their shape; other names stay blocked."""
    out = run("learn_varying_names", tmp_path)
    assert out["replays"] == ["ran"] * 3
    assert out["others"] == {"evil.sh": "blocked", "report-1.csv": "blocked", "chunk-not-a-hex-token": "blocked"}
    assert "/out/????????-????-????-????-????????????.json" in out["baseline"]
    assert [f["rid"] for f in out["findings"]] == ["evil.sh", "report-1.csv", "chunk-not-a-hex-token"]


def test_a_fault_in_judging_never_reaches_the_function_as_an_exception(tmp_path):
    out = run("fault", tmp_path)
    assert out["results"] == {"alert": "ran", "block": "blocked"}  # not "raised RuntimeError"
    assert [(f["rule"], f["action"], f["rid"]) for f in out["findings"]] == [
        ("behavior.fault", "alert", "alert"), ("behavior.read_write_tmp", "alert", "alert"),
        ("behavior.fault", "alert", "block"), ("behavior.read_write_tmp", "block", "block")]
    assert "RuntimeError: policy bug" in out["findings"][0]["target"]


def test_a_disabled_learning_monitor_does_not_hold_an_enforcing_one_back(tmp_path):
    out = run("disabled_outer", tmp_path)
    assert out["inner"] == "blocked"  # the outer "off" monitor counted as enforcing: os.system ran
    assert [(f["rule"], f["rid"]) for f in out["findings"]] == [("behavior.create_child_process", "inner")]


def test_path_globs_read_as_shell_globs():
    """* within one name, ** across names, ? one character of a name. With fnmatch's matching
    (before), "/tmp/cache/*" allowed writes anywhere below /tmp/cache and a learned glob's ? matched "/"."""
    from edge_ssre.behavior.policy import BehaviorPolicy
    p = BehaviorPolicy.from_dict({"allow": {"paths": [
        {"glob": "/tmp/cache/*", "mode": "rw"}, {"glob": "/var/task/**", "mode": "r"},
        {"glob": "/tmp/out/????????-????.json", "mode": "w"}, {"glob": "/tmp/out/report[[]1].csv", "mode": "w"}],
        "executables": ["/usr/bin/*"]}})
    assert p.path_allowed("/tmp/cache/a.json", "w") and not p.path_allowed("/tmp/cache/sub/a.json", "w")
    assert p.path_allowed("/var/task/lib/deep/mod.py", "r") and not p.path_allowed("/var/task/x.py", "w")
    assert p.path_allowed("/tmp/out/abcdefgh-ijkl.json", "w")
    assert not p.path_allowed("/tmp/out/abc/efgh-ijkl.json", "w")  # ? does not match "/"
    assert p.path_allowed("/tmp/out/report[1].csv", "w") and not p.path_allowed("/tmp/out/report1.csv", "w")
    assert p.exe_allowed("/usr/bin/convert") and not p.exe_allowed("/usr/bin/../../tmp/x")


def test_hand_raised_events_with_any_arguments_never_break_the_hook(tmp_path):
    """sys.audit with every watched event name and odd arguments (None, objects, bytes, lists, str
    subclasses that lie through __eq__/__hash__) under a block policy: a run or a block, never another
    exception from inside the hook."""
    out = run("hand_raised", tmp_path)
    assert set(out["outcomes"]) <= {"ran", "blocked"}, out["outcomes"]
    assert sum(out["outcomes"].values()) > 400 and out["outcomes"].get("blocked", 0) > 0
