"""A real mosquitto on a free loopback port: restartable, always stopped. Used by the rig (the gateway
broker and the upstream stand-in) and by the tests.

    with Broker(workdir) as b:       # the tests' ``broker`` fixture wraps this
        b.host, b.port
        b.stop(); b.start()          # an outage and its end, same port
"""

import os
import shutil
import socket
import subprocess
import time


def mosquitto_binary():
    for cand in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if cand and os.path.exists(cand):
            return cand
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, workdir, port=None, extra_conf=""):
        self.binary = mosquitto_binary()
        if self.binary is None:
            raise RuntimeError("mosquitto is not installed: run `bash tools/dev.sh demo` or "
                               "`apt-get install mosquitto`")
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.conf = os.path.join(self.workdir, "mosquitto-%d.conf" % self.port)
        self.log = os.path.join(self.workdir, "mosquitto-%d.log" % self.port)
        # Started as root, mosquitto drops to its own user, which cannot write a root-owned work
        # directory: persistence then fails at every save ("Permission denied" in the log) and a
        # restart loses the sessions and queued messages a test or the rig relies on.
        user = "user root\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
        with open(self.conf, "w") as fh:
            fh.write("%slistener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                     "max_queued_messages 100000\n%s\n" % (user, self.port, extra_conf))
        self.proc = None

    def start(self, timeout=10.0):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: " + open(self.log).read()[-500:])
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen on %d within %.0fs" % (self.port, timeout))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down_seconds=0.0):
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
