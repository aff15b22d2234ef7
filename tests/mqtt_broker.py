"""Real MQTT brokers on free loopback ports for the tests, each restartable on the same port:

* mosquitto (Debian's, MQTT 3.1.1 and 5): the rig's broker helper;
* aedes (npm, MQTT 3.1.1, in-memory persistence) under Node.js: tests/brokers/aedes_server.mjs,
  installed by ``bash tools/dev.sh test`` (npm install in tests/brokers);
* rumqttd (PyPI ``iotcore``, which embeds it; MQTT 3.1.1 and 5 on two listeners).

All three have ``host``, ``port_for(protocol)`` (None when the broker does not speak it), ``start``,
``stop``, ``restart(down_seconds)`` and work as context managers; ``kind`` names them.
"""

import os
import shutil
import subprocess
import time

from edge_ssre.rig.broker import Broker, free_port, mosquitto_binary  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
BROKERS = ("mosquitto", "aedes", "rumqttd")


class Mosquitto(Broker):
    kind = "mosquitto"

    def port_for(self, protocol):
        return self.port


def _wait_listening(host, port, proc, timeout, what):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with code %s" % (what, proc.returncode))
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d within %.0f s" % (what, port, timeout))


class _Process:
    """A broker in a child process; it also exits when our end of its standard input closes."""

    host = "127.0.0.1"

    def __init__(self, workdir, port=None):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = port or free_port()
        self.proc = None

    def command(self):
        raise NotImplementedError

    def start(self, timeout=15.0):
        log = open(os.path.join(self.workdir, "%s-%d.log" % (self.kind, self.port)), "ab")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=log, stderr=log)
        log.close()
        for port in self.ports():
            _wait_listening(self.host, port, self.proc, timeout, self.kind)
        return self

    def ports(self):
        return [self.port]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc = None

    def restart(self, down_seconds=0.0):
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Aedes(_Process):
    kind = "aedes"
    SCRIPT = os.path.join(HERE, "brokers", "aedes_server.mjs")

    def command(self):
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None or not os.path.isdir(os.path.join(HERE, "brokers", "node_modules", "aedes")):
            raise RuntimeError("aedes needs Node.js and `npm install --prefix tests/brokers`: run `bash tools/dev.sh test`")
        return [node, self.SCRIPT, str(self.port)]

    def port_for(self, protocol):
        return self.port if protocol == "3.1.1" else None  # aedes speaks MQTT 3.1 and 3.1.1 only


RUMQTTD_CONFIG = """id = 0

[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "127.0.0.1:{v4}"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 100
    dynamic_filters = true

[v5.1]
name = "v5-1"
listen = "127.0.0.1:{v5}"
next_connection_delay_ms = 1
    [v5.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 100
    dynamic_filters = true
"""


class Rumqttd(_Process):
    """rumqttd as PyPI ``iotcore`` ships it, run the way ``iotcore.Broker`` runs it (a child
    process; rumqttd has no shutdown call), from a config with two loopback listeners."""

    kind = "rumqttd"

    def __init__(self, workdir, port=None):
        super().__init__(workdir, port)
        self.port311 = free_port()
        self.config = os.path.join(self.workdir, "rumqttd-%d.toml" % self.port)
        with open(self.config, "w") as fh:
            fh.write(RUMQTTD_CONFIG.format(v4=self.port311, v5=self.port))

    def command(self):
        import json
        import sys
        try:
            import iotcore  # noqa: F401
        except ImportError:
            raise RuntimeError("rumqttd needs PyPI iotcore: pip install -e '.[dev]' (bash tools/dev.sh test)") from None
        boot = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
                "from iotcore._serve import main; main()")
        return [sys.executable, "-c", boot, json.dumps({"config_path": self.config})]

    def ports(self):
        return [self.port, self.port311]

    def port_for(self, protocol):
        return self.port311 if protocol == "3.1.1" else self.port


def make_broker(kind, workdir):
    return {"mosquitto": Mosquitto, "aedes": Aedes, "rumqttd": Rumqttd}[kind](workdir)
