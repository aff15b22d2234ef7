"""The Greengrass v2 component as Greengrass users build and deploy it.

- The recipe template (recipe.yaml): platforms the nucleus recognises, no `{configuration:/}`, access
  control that is exactly what the default configuration uses (never "*").
- The build: `edge-ssre greengrass build` and the real GDK CLI (`gdk component build`, vendored 1.6.2)
  on a clean copy of the project write the same recipe and artifact where GDK's publish reads them;
  the recipe passes GDK's recipe schema and the nucleus's interpolation leaves no placeholder; the
  recipe's own Install script installs the artifact into a fresh venv.
- The Run step over IPC. No nucleus can run here, so `FakeNucleus` stands in for it at the narrowest
  boundary: the methods of awsiotsdk's GreengrassCoreIPCClientV2 that the component calls, taking and
  returning the SDK's own model types, and authorizing every subscribe and publish against the
  component's accessControl the way the nucleus does (pub/sub: '*' globs; IoT Core: MQTT wildcards),
  raising the SDK's UnauthorizedError otherwise.
"""

import copy
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time
import venv
import zipfile

import cbor2
import pytest

from edge_ssre.adapters import greengrass as gg

yaml = pytest.importorskip("yaml")
pytest.importorskip("awsiot.greengrasscoreipc.model")
from awsiot.greengrasscoreipc.model import (  # noqa: E402
    BinaryMessage, ConfigurationUpdateEvent, ConfigurationUpdateEvents, ConfigurationValidityStatus,
    GetConfigurationResponse, MessageContext, PublishMessage, SubscriptionResponseMessage, UnauthorizedError,
    ValidateConfigurationUpdateEvent, ValidateConfigurationUpdateEvents)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NUCLEUS_ARCHITECTURES = {"amd64", "x86", "arm", "aarch64"}  # nucleus PlatformResolver.java
# nucleus KernelConfigResolver.java: the same-component placeholder and the system parameters it knows
PLACEHOLDER = re.compile(r"\{([.\w-]+):([^:}]*)}")
SYSTEM = {("artifacts", "path"), ("artifacts", "decompressedPath"), ("work", "path"), ("kernel", "rootPath"),
          ("iot", "thingName")}


def template():
    with open(os.path.join(ROOT, "recipe.yaml")) as fh:
        return yaml.safe_load(fh)


def nucleus_interpolate(text, conf):
    """The nucleus's lifecycle interpolation (KernelConfigResolver.replace) for one string: returns the
    text and the placeholders it would leave as they are."""
    left = []
    for ns, key in PLACEHOLDER.findall(text):
        if ns == "configuration":
            node = conf
            for part in key.split("/")[1:] if key.startswith("/") else [None]:
                node = node.get(part) if isinstance(node, dict) and part is not None else None
            if node is None:  # Jackson's JsonNode.at() gives a missing node: the text stays
                left.append("{%s:%s}" % (ns, key))
            else:
                text = text.replace("{%s:%s}" % (ns, key), node if isinstance(node, str) else json.dumps(node))
        elif (ns, key) in SYSTEM:
            text = text.replace("{%s:%s}" % (ns, key), "/greengrass/v2/%s/%s" % (ns, key))
        else:
            left.append("{%s:%s}" % (ns, key))
    return text, left


def check_built_recipe(r, version):
    """What the nucleus needs from a built recipe."""
    assert r["RecipeFormatVersion"] == "2020-01-25"
    assert r["ComponentName"] == gg.COMPONENT and r["ComponentVersion"] == version
    assert r["ComponentPublisher"] == "edge_ssre"
    conf = r["ComponentConfiguration"]["DefaultConfiguration"]
    archs = [m["Platform"]["architecture"] for m in r["Manifests"]]
    assert sorted(archs) == ["aarch64", "amd64", "arm"] and set(archs) <= NUCLEUS_ARCHITECTURES
    for m in r["Manifests"]:
        assert m["Platform"]["os"] == "linux"
        assert m["Artifacts"] == [{"URI": "s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/edge_ssre.zip",
                                   "Unarchive": "ZIP"}]
        for step in ("Install", "Run"):
            script = m["Lifecycle"][step]["Script"]
            assert "{configuration:/}" not in script
            _, left = nucleus_interpolate(script, conf)
            assert left == [], (step, left)
    text = json.dumps(r)
    assert "{configuration:/}" not in text and "armv7l" not in text
    for service in conf["accessControl"].values():
        for pol in service.values():
            assert "*" not in pol["resources"] and "#" not in pol["resources"]


# ---- the template ------------------------------------------------------------------------------
def test_template_defaults_are_the_runtime_defaults_and_the_grants_are_exact():
    r = template()
    conf = r["ComponentConfiguration"]["DefaultConfiguration"]
    assert {k: v for k, v in conf.items() if k != "accessControl"} == gg.DEFAULTS
    settings = gg.parse_configuration(conf, thing="gw-1", work="/w")
    assert settings.uplink_topic == "edge-ssre/gw-1/events" and settings.store_path == "/w/events.ring"
    acl = conf["accessControl"]
    granted = {svc: {op: sorted(gg.granted(acl, svc, op)) for op in ops}
               for svc, ops in gg.required_grants(settings).items()}
    assert granted == {svc: {op: sorted(res) for op, res in ops.items()}
                       for svc, ops in gg.required_grants(settings).items()}
    assert gg.missing_grants(settings) == []
    assert granted[gg.PUBSUB][gg.SUBSCRIBE] == ["sensors/#"]
    assert granted[gg.MQTTPROXY][gg.PUBLISH_IOT] == ["edge-ssre/+/events"]
    # every placeholder GDK or our build fills is in the template; only scalar pointers in Run
    text = open(os.path.join(ROOT, "recipe.yaml")).read()
    for ph in ("{COMPONENT_NAME}", "{COMPONENT_VERSION}", "{COMPONENT_AUTHOR}", "{artifacts:decompressedPath}"):
        assert ph in text
    assert re.findall(r"\{configuration:([^}]*)\}", text) == ["/logLevel"] * 3


def test_the_runtime_imports_no_packaging_code():
    code = ("import sys, edge_ssre.adapters.greengrass; print(sorted(m for m in ('subprocess', 'yaml', 'zipfile', "
            "'edge_ssre.adapters.greengrass_build', 'awsiot') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stdout + res.stderr


def test_nucleus_matching_semantics():
    assert gg.glob_match("guarded/sensors/*", "guarded/sensors/a/b") and not gg.glob_match("guarded/sensors/*", "x")
    assert gg.glob_match("sensors/#", "sensors/#") and not gg.glob_match("sensors/#", "sensors/a")
    assert gg.mqtt_resource_match("edge-ssre/+/events", "edge-ssre/gw-1/events")
    assert not gg.mqtt_resource_match("edge-ssre/+/events", "edge-ssre/gw-1/x/events")
    assert gg._publish_globs("q", "a/+/c") == ["q/a/*/c"] and gg._publish_globs("q", "#") == ["q/*"]


@pytest.mark.parametrize("change, message", [
    ({"inputs": ["guarded/#"]}, "own output"),
    ({"inputs": ["#"]}, "own output"),
    ({"inputs": ["a/#/b"]}, "'#' must be"),
    ({"outputPrefix": "out/+"}, "wildcards"),
    ({"uplink": {"topic": "edge-ssre/#", "format": "cbor"}}, "plain topic"),
    ({"uplink": {"topic": "a/b/c/d/e/f/g/h/i", "format": "cbor"}}, "levels"),
    ({"uplink": {"topic": "t", "format": "xml"}}, "cbor, ocsf"),
    ({"policy": {"mode": "bogus"}}, "mode"),
    ({"telemetry": {"unknown_topics": "maybe"}}, "unknown_topics"),
    ({"profile": "no-such-profile"}, "no-such-profile"),
    ({"logLevel": "loud"}, "logLevel"),
    ({"extra": 1}, "unknown key"),
])
def test_bad_configurations_are_refused_with_the_key_named(change, message):
    conf = dict(gg.DEFAULTS, **change)
    with pytest.raises(ValueError, match=message):
        gg.parse_configuration(conf)


# ---- the build ---------------------------------------------------------------------------------
def clean_copy(dest):
    """The project as a clean clone has it: tracked and untracked-but-not-ignored files only."""
    res = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    for rel in filter(None, res.stdout.decode().split("\0")):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))
    return dest


def artifact_wheel(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert len(names) == 1 and re.fullmatch(r"edge_ssre-[^/]+-py3-none-any\.whl", names[0]), names
    return names[0]


@pytest.fixture(scope="module")
def cli_build(tmp_path_factory):
    """`edge-ssre greengrass build` on a clean copy of the project (the path without GDK)."""
    project = clean_copy(str(tmp_path_factory.mktemp("project")))
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "greengrass", "build", "--project", project],
                         capture_output=True, text=True, timeout=600, cwd=project)
    assert res.returncode == 0, res.stderr + res.stdout
    return project


def test_cli_build_writes_where_gdk_publish_reads_and_the_install_script_works(cli_build, tmp_path):
    out = os.path.join(cli_build, "greengrass-build")
    recipe_text = open(os.path.join(out, "recipes", "recipe.yaml")).read()
    recipe = yaml.safe_load(recipe_text)
    check_built_recipe(recipe, "0.1.0")
    art = os.path.join(out, "artifacts", gg.COMPONENT, "0.1.0", "edge_ssre.zip")
    wheel = artifact_wheel(art)
    # the nucleus unpacks edge_ssre.zip into {artifacts:decompressedPath}/edge_ssre/ and runs Install
    decompressed = tmp_path / "decompressed"
    with zipfile.ZipFile(art) as zf:
        zf.extractall(decompressed / "edge_ssre")
    work = tmp_path / "work"
    work.mkdir()
    script = recipe["Manifests"][0]["Lifecycle"]["Install"]["Script"]
    script = script.replace("{work:path}", str(work)).replace("{artifacts:decompressedPath}", str(decompressed))
    env = dict(os.environ, PIP_NO_DEPS="1", PIP_NO_INDEX="1")  # offline here: the wheel only, no PyPI
    res = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=600, env=env, cwd=str(work))
    assert res.returncode == 0, res.stderr
    py = work / "venv" / "bin" / "python"
    res = subprocess.run([str(py), "-c", "import edge_ssre, edge_ssre.rules.ruleset as r, edge_ssre.profiles as p; "
                          "print(edge_ssre.__version__, len(r.compiled()['rules']), sorted(p.available_profiles()))"],
                         capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("0.1.0 ") and "greengrass-core" in res.stdout and wheel.startswith("edge_ssre-0.1.0")
    # the Run script's command exists in the venv and explains itself outside a nucleus
    run = recipe["Manifests"][0]["Lifecycle"]["Run"]["Script"]
    run, _ = nucleus_interpolate(run.replace("{work:path}", str(work)), recipe["ComponentConfiguration"]
                                 ["DefaultConfiguration"])
    env = {k: v for k, v in os.environ.items() if k != "AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"}
    res = subprocess.run(["sh", "-c", run], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 2 and "not inside a Greengrass nucleus" in res.stderr


def test_the_build_refuses_a_recipe_the_nucleus_would_not_run(tmp_path):
    project = clean_copy(str(tmp_path / "p"))
    path = os.path.join(project, "recipe.yaml")
    text = open(path).read()
    bad = (text.replace("architecture: arm\n", "architecture: armv7l\n")
           .replace("--log-level {configuration:/logLevel}", "--config-json '{configuration:/}'", 1)
           .replace("            - edge-ssre/+/events", "            - \"*\"")
           .replace("            - quarantine/sensors/*\n", ""))
    open(path, "w").write(bad)
    res = subprocess.run([sys.executable, os.path.join(project, "tools", "build_greengrass.py"), "--project", project],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 1
    assert "'armv7l' is not one the nucleus reports" in res.stderr
    assert "{configuration:/}" in res.stderr
    assert "grants every topic ('*')" in res.stderr
    assert "does not grant aws.greengrass.ipc.pubsub aws.greengrass#PublishToTopic quarantine/sensors/*" in res.stderr
    assert not os.path.exists(os.path.join(project, "greengrass-build", "recipes", "recipe.yaml"))


def gdk_available():
    try:
        import gdk.CLIParser  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not gdk_available(), reason="GDK CLI not installed (tools/dev.sh test installs it from "
                                                "../shared/vendor when that folder exists): gdk component build not run")
def test_gdk_component_build_on_a_clean_clone(cli_build, tmp_path):
    project = clean_copy(str(tmp_path / "clone"))
    bindir = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PATH=bindir + os.pathsep + env.get("PATH", ""), AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    # GDK's `gdk` entry point (gdk.CLIParser.main) with one function faked: its non-fatal "is a newer CLI on
    # GitHub?" check (gdk/common/utils.py get_latest_cli_version), the only network request `build` makes
    gdk_main = ("import sys, gdk.common.utils as u; u.get_latest_cli_version = lambda: u.cli_version; "
                "sys.argv[0] = 'gdk'; from gdk.CLIParser import main; main()")
    res = subprocess.run([sys.executable, "-c", gdk_main, "component", "build"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    # where GDK's publish looks: GDKProject's artifacts folder and the recipe named like the template
    probe = subprocess.run([sys.executable, "-c", "from gdk.common.config.GDKProject import GDKProject as P; p = P(); "
                            "print(p.gg_build_component_artifacts_dir); print(p.gg_build_recipes_dir / p.recipe_file.name)"],
                           cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    art_dir, recipe_path = probe.stdout.split()
    assert os.path.isfile(os.path.join(art_dir, "edge_ssre.zip")) and os.path.isfile(recipe_path)
    built = open(recipe_path).read()
    # one template, two paths, the same files
    assert built == open(os.path.join(cli_build, "greengrass-build", "recipes", "recipe.yaml")).read()
    assert artifact_wheel(os.path.join(art_dir, "edge_ssre.zip")) == artifact_wheel(
        os.path.join(cli_build, "greengrass-build", "artifacts", gg.COMPONENT, "0.1.0", "edge_ssre.zip"))
    recipe = yaml.safe_load(built)
    check_built_recipe(recipe, "0.1.0")
    # GDK's own recipe schema, as `gdk component publish` applies it
    from gdk.common import utils as gdk_utils
    from gdk.common.CaseInsensitive import CaseInsensitiveRecipeFile
    from gdk.common.RecipeValidator import RecipeValidator
    RecipeValidator(gdk_utils.get_static_file_path("recipe_schema.json")).validate_recipe(
        CaseInsensitiveRecipeFile().read(pathlib.Path(recipe_path)).to_dict())
    assert len(built.encode()) <= 16000


# ---- the Run step over IPC ----------------------------------------------------------------------
class FakeOperation:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


class FakeNucleus:
    """GreengrassCoreIPCClientV2's methods the component calls, with the SDK's model types, and the
    nucleus's authorization of the component's own accessControl."""

    def __init__(self, configuration):
        self.configuration = copy.deepcopy(configuration)
        self.subs, self.published, self.iot, self.states, self.reports, self.denied = {}, [], [], [], [], []
        self.on_update = self.on_validate = None
        self.refuse = set()  # topics this nucleus refuses whatever the policy says (an older nucleus, say)
        self.lock = threading.Lock()

    def _authorize(self, service, operation, resource):
        if not gg.authorized(self.configuration.get("accessControl"), service, operation, resource):
            self.denied.append((operation, resource))
            raise UnauthorizedError(message="Principal %s is not authorized to perform %s:%s on resource %s"
                                    % (gg.COMPONENT, service, operation, resource))

    def get_configuration(self, *, component_name=None, key_path=None):
        return GetConfigurationResponse(component_name=gg.COMPONENT, value=copy.deepcopy(self.configuration))

    def subscribe_to_configuration_update(self, *, component_name=None, key_path=None, stream_handler=None,
                                          on_stream_event=None, on_stream_error=None, on_stream_closed=None):
        self.on_update = on_stream_event
        return object(), FakeOperation()

    def subscribe_to_validate_configuration_updates(self, *, stream_handler=None, on_stream_event=None,
                                                    on_stream_error=None, on_stream_closed=None):
        self.on_validate = on_stream_event
        return object(), FakeOperation()

    def send_configuration_validity_report(self, *, configuration_validity_report=None):
        self.reports.append(configuration_validity_report)

    def subscribe_to_topic(self, *, topic=None, receive_mode=None, stream_handler=None, on_stream_event=None,
                           on_stream_error=None, on_stream_closed=None):
        self._authorize(gg.PUBSUB, gg.SUBSCRIBE, topic)
        if topic in self.refuse:
            raise UnauthorizedError(message="refused: %s" % topic)
        op = FakeOperation()
        self.subs[topic] = (on_stream_event, op)
        return object(), op

    def publish_to_topic(self, *, topic=None, publish_message=None):
        assert isinstance(publish_message, PublishMessage)
        self._authorize(gg.PUBSUB, gg.PUBLISH, topic)
        with self.lock:
            self.published.append((topic, publish_message.binary_message.message))

    def publish_to_iot_core(self, *, topic_name=None, qos=None, payload=None, **_):
        self._authorize(gg.MQTTPROXY, gg.PUBLISH_IOT, topic_name)
        with self.lock:
            self.iot.append((topic_name, payload))

    def update_state(self, *, state=None):
        self.states.append(state)

    # ---- what the nucleus does on its own ----
    def deliver(self, topic, payload):
        for filt, (handler, op) in list(self.subs.items()):
            if not op.closed and gg.mqtt_resource_match(filt, topic):
                handler(SubscriptionResponseMessage(binary_message=BinaryMessage(
                    message=payload, context=MessageContext(topic=topic))))

    def deploy(self, merge):
        """A deployment merging ``merge`` into the configuration: one update event per changed key."""
        for key, value in merge.items():
            self.configuration[key] = copy.deepcopy(value)
        for key in merge:
            self.on_update(ConfigurationUpdateEvents(configuration_update_event=ConfigurationUpdateEvent(
                component_name=gg.COMPONENT, key_path=[key])))

    def validate(self, proposed, deployment_id="d-1"):
        self.on_validate(ValidateConfigurationUpdateEvents(validate_configuration_update_event=(
            ValidateConfigurationUpdateEvent(configuration=proposed, deployment_id=deployment_id))))
        return self.reports[-1]


class Lines:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass

    def __str__(self):
        return "".join(self.lines)


def wait_until(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


ATTACK = cbor2.dumps({"temp": 1, "cmd": "; cat /etc/passwd"})
CLEAN = cbor2.dumps({"temp": 21.5})


@pytest.fixture
def running(tmp_path, monkeypatch):
    """The component running against a FakeNucleus holding the template's default configuration."""
    monkeypatch.chdir(tmp_path)  # the nucleus runs a component in its work folder
    monkeypatch.setenv("AWS_IOT_THING_NAME", "gw-1")
    conf = template()["ComponentConfiguration"]["DefaultConfiguration"]
    nucleus = FakeNucleus(conf)
    stop = threading.Event()
    out = Lines()
    box = {}

    def target():
        box["comp"] = gg.run_component(nucleus, stop=stop, interval=0.05, log=gg.Log("info", out))
    th = threading.Thread(target=target)
    th.start()
    assert wait_until(lambda: nucleus.states == ["RUNNING"]), str(out)
    yield nucleus, out
    stop.set()
    th.join(10)
    assert not th.is_alive()
    assert nucleus.denied == [], "the component used a topic its accessControl does not grant"


def test_component_guards_forwards_and_stays_inside_its_grants(running):
    nucleus, out = running
    assert set(nucleus.subs) == {"sensors/#"}
    nucleus.deliver("sensors/s-1/telemetry", CLEAN)
    nucleus.deliver("sensors/s-2/telemetry", ATTACK)
    nucleus.deliver("sensors/s-3/telemetry", b"\xff\xfe not cbor")
    events = lambda: [rec for _, p in list(nucleus.iot) for _, rec in cbor2.loads(p)]  # noqa: E731
    assert wait_until(lambda: any(r["family"] == "cmdi" for r in events()))
    topics = [t for t, _ in nucleus.published]
    assert "guarded/sensors/s-1/telemetry" in topics and "quarantine/sensors/s-2/telemetry" in topics
    assert "guarded/sensors/s-2/telemetry" not in topics
    assert {t for t, _ in nucleus.iot} == {"edge-ssre/gw-1/events"}
    assert os.path.exists("events.ring")  # {work:path}/events.ring in the work folder


def test_the_fake_nucleus_refuses_what_the_grants_do_not_cover():
    """The check the fixture relies on: a publish outside accessControl fails, is counted and logged."""
    conf = template()["ComponentConfiguration"]["DefaultConfiguration"]
    nucleus = FakeNucleus(conf)
    out = Lines()
    adapter = gg.IpcAdapter(gg.Component(nucleus).guard_for(gg.parse_configuration(conf), None), nucleus,
                            ["sensors/#"], output_prefix="elsewhere", log=gg.Log("info", out))
    adapter.start()
    nucleus.deliver("sensors/a", CLEAN)
    assert nucleus.denied == [(gg.PUBLISH, "elsewhere/sensors/a")] and adapter.counts["unauthorized"] == 1
    assert "widen accessControl" in str(out)
    with pytest.raises(UnauthorizedError):
        nucleus.subscribe_to_topic(topic="other/#")


def test_a_configuration_update_reaches_the_running_guard_within_a_second(running):
    nucleus, out = running
    nucleus.deploy({"policy": {"mode": "alert-only"}})
    assert wait_until(lambda: "configuration applied" in str(out))
    nucleus.deliver("sensors/s-9/telemetry", ATTACK)
    assert nucleus.published[-1][0] == "guarded/sensors/s-9/telemetry"  # alert-only: passes
    t0 = time.monotonic()
    nucleus.deploy({"policy": {"mode": "enforce"}})
    latency = None
    while time.monotonic() - t0 < 5:
        nucleus.deliver("sensors/s-9/telemetry", ATTACK)
        if nucleus.published[-1][0].startswith("quarantine/"):
            latency = time.monotonic() - t0
            break
        time.sleep(0.005)
    print("configuration update reached the guard in %.3f s" % latency)
    assert latency is not None and latency <= 1.0


def test_a_bad_update_is_rejected_and_reported_and_the_running_configuration_stays(running):
    nucleus, out = running
    nucleus.deploy({"policy": {"mode": "bogus"}, "inputs": ["devices/#"]})
    assert wait_until(lambda: "configuration update rejected" in str(out))
    assert "mode" in str(out)
    nucleus.deliver("sensors/s-1/telemetry", ATTACK)
    assert nucleus.published[-1][0] == "quarantine/sensors/s-1/telemetry"
    assert set(nucleus.subs) == {"sensors/#"}
    # inputs the accessControl does not grant: rejected before the nucleus would refuse the subscribe
    nucleus.deploy({"policy": {"mode": "enforce"}, "inputs": ["devices/#"]})
    assert wait_until(lambda: str(out).count("configuration update rejected") == 2)
    assert "does not grant what the configuration uses" in str(out)
    assert "aws.greengrass.ipc.pubsub aws.greengrass#SubscribeToTopic devices/#" in str(out)


def test_validation_reports_rejected_before_a_deployment_applies(running):
    nucleus, out = running
    good = copy.deepcopy(nucleus.configuration)
    report = nucleus.validate(good, "d-ok")
    assert (report.status, report.deployment_id) == (ConfigurationValidityStatus.ACCEPTED, "d-ok")
    bad = dict(good, uplink={"topic": "edge-ssre/{iot:thingName}/events", "format": "xml"})
    report = nucleus.validate(bad, "d-bad")
    assert report.status == ConfigurationValidityStatus.REJECTED and "uplink.format" in report.message


def test_widening_inputs_with_matching_grants_resubscribes_and_switches_to_ocsf(running):
    nucleus, out = running
    acl = copy.deepcopy(nucleus.configuration["accessControl"])
    acl[gg.PUBSUB][gg.COMPONENT + ":pubsub:1"]["resources"].append("devices/+/state")
    acl[gg.PUBSUB][gg.COMPONENT + ":pubsub:2"]["resources"] += ["guarded/devices/*/state", "quarantine/devices/*/state"]
    old_op = nucleus.subs["sensors/#"][1]
    nucleus.deploy({"accessControl": acl, "inputs": ["sensors/#", "devices/+/state"],
                    "uplink": {"topic": "edge-ssre/{iot:thingName}/events", "format": "ocsf"}})
    assert wait_until(lambda: "configuration applied" in str(out)), str(out)
    assert set(nucleus.subs) == {"sensors/#", "devices/+/state"} and not old_op.closed
    nucleus.deliver("devices/d-1/state", ATTACK)
    assert nucleus.published[-1][0] == "quarantine/devices/d-1/state"
    assert wait_until(lambda: nucleus.iot and nucleus.iot[-1][1][:1] == b"[")
    events = json.loads(nucleus.iot[-1][1])
    assert events[0]["class_uid"] == 2004 and events[0]["device"]["name"] == "gw-1"
    # narrowing again closes the dropped subscription's stream
    nucleus.deploy({"inputs": ["sensors/#"]})
    assert wait_until(lambda: str(out).count("configuration applied") == 2)
    assert nucleus.subs["devices/+/state"][1].closed


def test_a_subscription_the_nucleus_refuses_keeps_the_running_route(running):
    nucleus, out = running
    acl = copy.deepcopy(nucleus.configuration["accessControl"])
    acl[gg.PUBSUB][gg.COMPONENT + ":pubsub:1"]["resources"].append("devices/#")
    acl[gg.PUBSUB][gg.COMPONENT + ":pubsub:2"]["resources"] += ["guarded/devices", "guarded/devices/*",
                                                                "quarantine/devices", "quarantine/devices/*"]
    nucleus.refuse.add("devices/#")
    nucleus.deploy({"accessControl": acl, "inputs": ["sensors/#", "devices/#"], "policy": {"mode": "alert-only"}})
    assert wait_until(lambda: "subscribing failed" in str(out)), str(out)
    assert set(nucleus.subs) == {"sensors/#"} and not nucleus.subs["sensors/#"][1].closed
    nucleus.deliver("sensors/s-1/telemetry", ATTACK)
    assert nucleus.published[-1][0] == "quarantine/sensors/s-1/telemetry"  # the enforcing policy stays


def test_an_invalid_configuration_at_start_stops_the_component(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = dict(template()["ComponentConfiguration"]["DefaultConfiguration"], outputPrefix="sensors")
    nucleus = FakeNucleus(conf)
    with pytest.raises(ValueError, match="own output"):
        gg.Component(nucleus, "gw-1", str(tmp_path)).start()
    assert nucleus.states == [] and nucleus.subs == {}


def test_signed_bundles_from_the_configuration_outrank_it_and_refusals_reach_the_cloud(running, tmp_path):
    """``bundle`` in the component configuration (docs/BUNDLES.md): the trust key is pinned in the work
    folder on first use, the bundle's policy is applied, a later configuration's own policy does not
    override it, and a rolled-back bundle is refused and reported upstream as policy.rejected."""
    from test_bundle import make, make_keys
    nucleus, out = running
    keys = make_keys(tmp_path / "keys")
    (tmp_path / "artifacts").mkdir()
    path = tmp_path / "artifacts" / "site.bundle"  # {artifacts:path}/site.bundle in a deployment
    path.write_bytes(make(keys, 3))  # alert-only
    nucleus.deploy({"bundle": {"path": str(path), "trust": keys["root"][2]}})
    assert wait_until(lambda: "bundle site version 3 accepted" in str(out)), str(out)
    assert os.path.exists("bundle.trust") and os.path.exists("bundle.state")
    nucleus.deliver("sensors/s-1/telemetry", ATTACK)
    assert nucleus.published[-1][0] == "guarded/sensors/s-1/telemetry"       # the bundle's alert-only
    nucleus.deploy({"policy": {"mode": "enforce", "families": {"cmdi": "block"}}})
    assert wait_until(lambda: str(out).count("configuration applied") >= 2)
    nucleus.deliver("sensors/s-2/telemetry", ATTACK)
    assert nucleus.published[-1][0] == "guarded/sensors/s-2/telemetry"       # still the bundle's policy
    old = tmp_path / "artifacts" / "old.bundle"
    old.write_bytes(make(keys, 2, files={"policy.toml": b'mode = "enforce"\n'}))
    nucleus.deploy({"bundle": {"path": str(old), "trust": keys["root"][2]}})
    assert wait_until(lambda: "refused: rollback" in str(out)), str(out)
    events = lambda: [rec for _, p in list(nucleus.iot) for _, rec in cbor2.loads(p)]  # noqa: E731
    assert wait_until(lambda: any(r["rule"] == "policy.rejected" for r in events()))
    nucleus.deliver("sensors/s-3/telemetry", ATTACK)
    assert nucleus.published[-1][0] == "guarded/sensors/s-3/telemetry"
