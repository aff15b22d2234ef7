"""edge_ssre as an AWS IoT Greengrass v2 component.

    edge-ssre greengrass build [--out greengrass-build] [--version 0.1.0] [--bucket BUCKET]
    edge-ssre greengrass run --config CONFIG.json      # the component's Run step

``build`` writes what the GDK's custom build produces: ``greengrass-build/recipes/<name>-<v>.json``
and ``greengrass-build/artifacts/<name>/<v>/`` holding the wheel; ``gdk-config.json`` at the project
root points the GDK at it. Inside the nucleus (``AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT``
is set) the component talks IPC (awsiotsdk ``GreengrassCoreIPCClientV2``): it subscribes to the
configured local topics, republishes what passes, forwards security events with
``publish_to_iot_core``, follows configuration updates and reports its state. Outside a nucleus the
same config runs the MQTT sidecar.
"""

import json
import os
import subprocess
import sys
import time

COMPONENT = "com.edgessre.Guard"
PUBLISHER = "edge_ssre"
ARCHS = ("aarch64", "armv7l", "amd64")
DEFAULT_CONFIGURATION = {
    "profile": "greengrass-core",
    "inputs": ["sensors/#"],
    "outputPrefix": "guarded",
    "quarantine": "quarantine",
    "eventsTopic": "edge-ssre/{iot:thingName}/events",
    "storePath": "{work:path}/events.ring",
    "policy": {"mode": "enforce"},
    "telemetry": {"unknown_topics": "alert"},
    "accessControl": {
        "aws.greengrass.ipc.pubsub": {
            COMPONENT + ":pubsub:1": {
                "policyDescription": "Read device telemetry and republish what passes inspection.",
                "operations": ["aws.greengrass#SubscribeToTopic", "aws.greengrass#PublishToTopic"],
                "resources": ["*"],
            }
        },
        "aws.greengrass.ipc.mqttproxy": {
            COMPONENT + ":mqttproxy:1": {
                "policyDescription": "Forward security events to AWS IoT Core.",
                "operations": ["aws.greengrass#PublishToIoTCore"],
                "resources": ["edge-ssre/*"],
            }
        },
    },
}


def recipe(version, wheel_name, bucket="BUCKET_NAME"):
    """The component recipe (RecipeFormatVersion 2020-01-25) as a dict."""
    uri = "s3://%s/%s/%s/%s" % (bucket, COMPONENT, version, wheel_name)
    venv = "{work:path}/venv"
    install = ("python3 -m venv %s && %s/bin/pip install --upgrade --quiet pip && "
               "%s/bin/pip install --quiet '{artifacts:path}/%s[aws]'" % (venv, venv, venv, wheel_name))
    run = ("%s/bin/edge-ssre greengrass run --config-json '{configuration:/}'" % venv)
    manifests = []
    for arch in ARCHS:
        manifests.append({
            "Platform": {"os": "linux", "architecture": arch},
            "Lifecycle": {"Install": {"Script": install, "Timeout": 900}, "Run": {"Script": run}},
            "Artifacts": [{"URI": uri, "Unarchive": "NONE"}],
        })
    return {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": COMPONENT,
        "ComponentVersion": version,
        "ComponentType": "aws.greengrass.generic",
        "ComponentDescription": "edge_ssre: inspects device telemetry and events for attacks, guards topics, "
                                "schemas and rates, and forwards security events to AWS IoT Core.",
        "ComponentPublisher": PUBLISHER,
        "ComponentConfiguration": {"DefaultConfiguration": DEFAULT_CONFIGURATION},
        "ComponentDependencies": {"aws.greengrass.Nucleus": {"VersionRequirement": ">=2.9.0", "DependencyType": "SOFT"}},
        "Manifests": manifests,
    }


def gdk_config(bucket="BUCKET_NAME", region="eu-west-1"):
    return {
        "component": {COMPONENT: {
            "author": PUBLISHER, "version": "NEXT_PATCH",
            "build": {"build_system": "custom", "custom_build_command": ["edge-ssre", "greengrass", "build"]},
            "publish": {"bucket": bucket, "region": region},
        }},
        "gdk_version": "1.6.0",
    }


def build(out="greengrass-build", version=None, bucket="BUCKET_NAME", root=None):
    """Write recipes/ and artifacts/ the way the GDK lays them out; returns the recipe path."""
    from .. import __version__
    version = version or __version__
    root = root or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    art = os.path.join(out, "artifacts", COMPONENT, version)
    rec_dir = os.path.join(out, "recipes")
    os.makedirs(art, exist_ok=True)
    os.makedirs(rec_dir, exist_ok=True)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                          "-w", art, root], capture_output=True, text=True)
    if res.returncode != 0:
        raise OSError("building the wheel failed: %s" % (res.stderr.strip().splitlines() or ["?"])[-1])
    wheels = [f for f in os.listdir(art) if f.endswith(".whl")]
    if not wheels:
        raise OSError("no wheel was built in %s" % art)
    path = os.path.join(rec_dir, "%s-%s.json" % (COMPONENT, version))
    with open(path, "w") as fh:
        json.dump(recipe(version, sorted(wheels)[-1], bucket), fh, indent=2)
    gdk = os.path.join(root, "gdk-config.json")
    if not os.path.exists(gdk):  # the project's own file wins; this only bootstraps a missing one
        with open(gdk, "w") as fh:
            json.dump(gdk_config(bucket), fh, indent=2)
    return path


class IpcAdapter:
    """Telemetry over Greengrass IPC: SDK messages become Envelopes at this edge and go no further."""

    def __init__(self, guard, client, inputs, output_prefix="guarded", quarantine=None):
        self.guard = guard
        self.client = client
        self.inputs = list(inputs)
        self.output_prefix = output_prefix.rstrip("/")
        self.quarantine = quarantine
        self.counts = {"messages": 0, "allowed": 0, "blocked": 0, "errors": 0}

    def start(self):
        for topic in self.inputs:
            self.client.subscribe_to_topic(topic=topic, on_stream_event=self.on_event,
                                           on_stream_error=lambda exc: False)

    def on_event(self, event):
        try:
            self.handle(event)
        except Exception:  # a malformed IPC message must not end the subscription
            self.counts["errors"] += 1

    def handle(self, event):
        from awsiot.greengrasscoreipc.model import BinaryMessage, PublishMessage
        from ..envelope import Envelope
        if event.binary_message is not None:
            payload = event.binary_message.message
            topic = event.binary_message.context.topic if event.binary_message.context else None
        else:
            payload = event.json_message.message
            topic = event.json_message.context.topic if event.json_message.context else None
        self.counts["messages"] += 1
        verdict = self.guard.inspect_envelope(Envelope(payload, "mqtt", topic, None))
        if verdict.action == "block":
            self.counts["blocked"] += 1
            if not self.quarantine:
                return
            out = "%s/%s" % (self.quarantine, topic)
        else:
            self.counts["allowed"] += 1
            out = "%s/%s" % (self.output_prefix, topic)
        data = payload if isinstance(payload, (bytes, bytearray)) else json.dumps(payload).encode()
        self.client.publish_to_topic(topic=out, publish_message=PublishMessage(binary_message=BinaryMessage(message=data)))


def guard_from_configuration(conf, sink=None):
    """A Guard built from the component configuration (policy, telemetry, profile)."""
    from ..guard import Guard
    from ..policy import Policy
    from ..profiles import load_profile
    from ..telemetry.guard import TelemetryGuard
    from ..telemetry.policy import TelemetryPolicy
    prof = load_profile(conf.get("profile", "greengrass-core"))
    tel = TelemetryPolicy.from_dict(conf["telemetry"], profile=prof) if conf.get("telemetry") else None
    return Guard(policy=Policy.from_dict(conf.get("policy", {})), profile=prof,
                 telemetry=TelemetryGuard(tel) if tel else None, sink=sink)


def run_component(conf, client=None, stop=None):
    """The Run step inside a nucleus: IPC in, IPC out, events to IoT Core, configuration updates."""
    from ..store import EventStore
    from ..store.sink import StoreSink
    from ..uplink.greengrass_uplink import GreengrassUplink
    if client is None:
        from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2
        client = GreengrassCoreIPCClientV2()
    thing = os.environ.get("AWS_IOT_THING_NAME", "device")
    store = EventStore.from_profile(conf.get("profile", "greengrass-core"),
                                    path=conf.get("storePath", "events.ring").replace("{work:path}", os.getcwd()),
                                    device=thing)
    guard = guard_from_configuration(conf, StoreSink(store, device=thing))
    adapter = IpcAdapter(guard, client, conf.get("inputs", ["#"]), conf.get("outputPrefix", "guarded"),
                         conf.get("quarantine"))
    uplink = GreengrassUplink(store, conf.get("eventsTopic", "edge-ssre/events").replace("{iot:thingName}", thing),
                              client=client)

    def on_config(update):  # policy changes are swapped in whole
        try:
            new = client.get_configuration(key_path=[]).value
            guard.reload(policy=new.get("policy", {}))
        except Exception:
            pass
    client.subscribe_to_configuration_update(key_path=[], on_stream_event=on_config)
    adapter.start()
    client.update_state(state="RUNNING")
    try:
        while stop is None or not stop.is_set():
            uplink.drain_once()
            time.sleep(1.0) if stop is None else stop.wait(0.05)
    finally:
        uplink.drain_once()
        store.close()
    return adapter, uplink


def main(args):
    if args.action == "build":
        path = build(args.out, args.version, args.bucket)
        print("wrote %s and %s" % (path, os.path.join(args.out, "artifacts", COMPONENT)))
        return 0
    conf = json.loads(args.config_json) if args.config_json else {}
    if args.config:
        with open(args.config) as fh:
            conf = json.load(fh)
    if os.environ.get("AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"):
        run_component(conf)
        return 0
    sys.stderr.write("edge-ssre: not inside a Greengrass nucleus; use `edge-ssre run` for the MQTT sidecar\n")
    return 2
