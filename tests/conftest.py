import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from mqtt_broker import BROKERS, Broker, make_broker  # noqa: E402


@pytest.fixture
def broker(tmp_path):
    """A fresh real mosquitto on a free loopback port (stopped after the test)."""
    with Broker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def topic_prefix():
    """A unique topic prefix per test, so tests never see each other's messages."""
    return "t-%s" % uuid.uuid4().hex[:10]


@pytest.fixture(params=BROKERS)
def any_broker(request, tmp_path):
    """Each real broker in turn (mosquitto, aedes, rumqttd), fresh, on free loopback ports."""
    with make_broker(request.param, tmp_path / request.param) as b:
        yield b
