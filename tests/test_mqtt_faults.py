"""The short version of tools/fault_mqtt.py: the MQTT transport against peers that misbehave on
purpose (all on loopback, every wait bounded), with the targets of issue #22:

* a frozen peer (a proxy in front of a real mosquitto that stops reading and answering) is
  dropped within 1.5 x keepalive, and stop() returns at once with a write blocked on it; the
  sidecar process with a frozen output broker drops that connection within 1.5 x keepalive and
  ends within 5 s of SIGTERM, on both of its MQTT clients;
* a peer that accepts and closes (or refuses, or disconnects at once) gets at most one attempt per
  backoff step (<= 8 in 8 s) and one log line, which carries the MQTT 5 reason code and string;
* a packet that never completes (trickled, or stalled half way) is dropped within 1.5 x keepalive;
* hostile packets give a protocol error and a reconnect, never a dead reader; odd but harmless
  ones keep the connection.

The bounds are behaviour (a deadline the code enforces), not speed: each is the target plus at
most 0.5 s for scheduling on a loaded machine where the figure passes through a pipe.
"""

import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import fault_mqtt as fm  # noqa: E402

SLACK = 0.5


def in_parallel(calls):
    """Run scenario calls side by side (each mostly waits): their results in order."""
    out = [None] * len(calls)

    def run(i, fn, args):
        out[i] = fn(*args)
    threads = [threading.Thread(target=run, args=(i, fn, args)) for i, (fn, args) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_a_frozen_peer_is_dropped_within_one_and_a_half_keepalives_and_stop_does_not_wait():
    r = fm.scenario_frozen_client("builtin", keepalive=2)
    assert r["drop_s"] is not None and r["drop_s"] <= 1.5 * 2 + 0.25, r
    assert "no packet from the broker" in r["drop_reason"]
    assert r["write_blocked"] is True, r  # the flood's write was stuck on the frozen socket ...
    assert r["stop_s"] < 1.0, r           # ... and stop() did not wait for it


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_the_sidecar_drops_a_frozen_output_broker_and_ends_on_sigterm(client):
    r = fm.scenario_frozen_sidecar(client, keepalive=4, prefix="fz-" + client)
    assert r["drop_s"] is not None and r["drop_s"] <= 1.5 * 4 + SLACK, r
    assert r["exit_s"] <= 5.0 and r["exit_code"] == 0 and r["final_line"], r


def test_failing_peers_get_one_attempt_per_backoff_step_and_one_log_line():
    calls = []
    for kind in ("builtin", "paho"):
        calls += [(fm.scenario_attempts, (fm.close_at_once, kind, 8.0)),
                  (fm.scenario_attempts, (fm.refuse_with(0x87, "policy denies client gw-17"), kind, 8.0)),
                  (fm.scenario_attempts, (fm.disconnect_with(0x8B, "maintenance window"), kind, 8.0))]
    results = in_parallel(calls)
    for r in results:
        assert 2 <= r["attempts"] <= 8 and r["log_lines"] == 1, r
    for r in results[1::3]:
        assert "0x87 not authorized: policy denies client gw-17" in r["log"][0], r
    for r in results[2::3]:
        assert "0x8b server shutting down: maintenance window" in r["log"][0], r


def test_a_packet_that_never_completes_is_dropped_within_one_and_a_half_keepalives():
    results = in_parallel([(fm.scenario_drop_time, (fm.trickle(10), "builtin", 2)),
                           (fm.scenario_drop_time, (fm.stall_mid_packet, "builtin", 2)),
                           (fm.scenario_drop_time, (fm.stall_mid_packet, "paho", 2))])
    for r in results[:2]:
        assert r["drop_s"] is not None and r["drop_s"] <= 1.5 * 2 + 0.25, r
    # paho counts any byte as life (a trickle keeps it open); a stall it drops after 2 x its keepalive
    assert results[2]["drop_s"] is not None and results[2]["drop_s"] <= 1.5 * 2 + 1.0 + 0.25, results[2]


def test_hostile_packets_give_a_reason_and_a_reconnect_and_odd_ones_do_not():
    h, k = len(fm.HOSTILE), len(fm.HARMLESS)
    results = in_parallel([(fm.scenario_hostile, (name, data)) for name, data in fm.HOSTILE.items()]
                          + [(fm.scenario_harmless, (name, data)) for name, data in fm.HARMLESS.items()]
                          + [(fm.scenario_one_byte_segments, (kind,)) for kind in ("builtin", "paho")])
    for r in results[:h]:
        assert r["reconnected"] and r["thread_alive"] and r["reason"], r
        assert r["reason"].startswith(("protocol error", "disconnected by the broker")), r
    for r in results[h:]:
        assert r["delivered"] and r["connections"] == 1, r
    assert len(results) == h + k + 2


def test_paho_keeps_a_qos1_publication_made_while_disconnected(broker, topic_prefix):
    """paho's MQTTMessageInfo.is_published() raises for a publication made while disconnected
    (rc MQTT_ERR_NO_CONN) although paho sends it after connecting: the wrapper's ``done`` comes
    from on_publish instead, so the sidecar's worker never sees the RuntimeError."""
    from edge_ssre.transports.paho_client import PahoClient
    from edge_ssre.transports.mqtt_wire import Client
    got = []
    sub = Client(broker.host, broker.port, on_connect=lambda c: c.subscribe([topic_prefix + "/#"]),
                 on_message=lambda t, p, q, r, m, pr: (got.append(p), sub.ack(m)))
    sub.start()
    c = PahoClient(broker.host, broker.port, client_id="paho-nc-" + topic_prefix)
    try:
        assert fm.wait_for(lambda: sub.connected, 10)
        time.sleep(0.2)
        early = [c.publish(topic_prefix + "/x", b"before %d" % i, qos=1) for i in range(3)]
        assert all(s is not False and s.done is False for s in early)  # held, not raised
        c.start()
        assert fm.wait_for(lambda: all(s.done for s in early), 10) and all(s.reason == 0 for s in early)
        later = c.publish(topic_prefix + "/x", b"after", qos=1)
        assert fm.wait_for(lambda: later.done, 10)
        assert fm.wait_for(lambda: len(got) >= 4, 10) and got == [b"before 0", b"before 1", b"before 2", b"after"]
    finally:
        c.stop(2.0)
        sub.stop()
