"""The tests use the rig's broker helper (a real mosquitto on a free loopback port)."""

from edge_ssre.rig.broker import Broker, free_port, mosquitto_binary  # noqa: F401
