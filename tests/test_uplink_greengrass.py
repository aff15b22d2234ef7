"""Greengrass IPC uplink at the SDK boundary. No Greengrass nucleus can run here, so the IPC
client is a stand-in with the signature of awsiotsdk's GreengrassCoreIPCClientV2.publish_to_iot_core."""

import cbor2

from edge_ssre import EventStore
from edge_ssre.store.record import encode
from edge_ssre.uplink.greengrass_uplink import GreengrassUplink


class FakeIPC:
    def __init__(self, fail_after=None):
        self.published = []
        self.fail_after = fail_after

    def publish_to_iot_core(self, *, topic_name, qos, payload):
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            raise ConnectionError("nucleus unavailable")
        self.published.append((topic_name, str(qos), payload))
        return object()


def test_drains_in_batches_and_commits_after_each_publish(tmp_path):
    with EventStore(str(tmp_path / "g.ring"), capacity_bytes=1 << 20, durability="none") as store:
        seqs = [store.append(encode({"type": "finding", "i": i})) for i in range(250)]
        ipc = FakeIPC()
        up = GreengrassUplink(store, "edge-ssre/gw/events", client=ipc, max_records=100)
        assert up.drain_once() == 250
        assert [t for t, _, _ in ipc.published] == ["edge-ssre/gw/events"] * 3
        got = [seq for _, _, p in ipc.published for seq, _ in cbor2.loads(p)]
        assert got == seqs and store.committed_seq == seqs[-1]


def test_a_failed_publish_keeps_the_events(tmp_path):
    with EventStore(str(tmp_path / "g.ring"), capacity_bytes=1 << 20, durability="none") as store:
        seqs = [store.append(encode({"type": "finding", "i": i})) for i in range(250)]
        up = GreengrassUplink(store, "t", client=FakeIPC(fail_after=1), max_records=100)
        assert up.drain_once() == 100 and up.failures == 1 and "nucleus unavailable" in up.last_error
        assert store.committed_seq == seqs[99]
        up.client = FakeIPC()
        assert up.drain_once() == 150 and store.committed_seq == seqs[-1]
