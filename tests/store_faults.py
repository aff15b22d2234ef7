"""Fault injection for the event store, shared by tests/test_store_faults.py and
tools/harden_store.py: a real small tmpfs to fill, a sparse store file (what a copy or a restore
leaves), and damage to the store file (bit flips, zeroed blocks, truncation)."""

import os
import subprocess

from edge_ssre.store.ring_buffer import DATA_START, Ring


class TmpfsUnavailable(Exception):
    """A tmpfs cannot be mounted here (not root, or mounting is not permitted)."""


class SmallDisk:
    """A tmpfs of ``size`` bytes mounted on ``path`` (created), unmounted on exit."""

    def __init__(self, path, size):
        self.path = str(path)
        self.size = size
        self.filler = os.path.join(self.path, "filler")

    def __enter__(self):
        if os.geteuid() != 0:
            raise TmpfsUnavailable("a full disk is a small tmpfs, and mounting one needs root")
        os.makedirs(self.path, exist_ok=True)
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % self.size, "tmpfs", self.path],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise TmpfsUnavailable("mount -t tmpfs is not permitted here: %s" % (res.stderr.strip() or res.returncode))
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", self.path], capture_output=True)

    def fill(self):
        """Take every free byte (until ENOSPC); returns the bytes taken."""
        taken = 0
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (1 << 16, 4096, 512, 1):
                block = b"f" * chunk
                while True:
                    try:
                        n = os.write(fd, block)
                    except OSError:
                        break
                    taken += n
                    if n < chunk:
                        break
        finally:
            os.close(fd)
        return taken

    def free(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def free_bytes(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize


def make_sparse_store(path, capacity):
    """A formatted, empty store whose data region is a hole (as `cp --sparse` or a restore
    leaves it): writing records there needs new blocks."""
    with open(path, "wb") as fh:
        fh.truncate(DATA_START + capacity)
    with open(path, "r+b", buffering=0) as fh:
        Ring(fh, capacity).format()


def flip_bit(path, pos, bit=0):
    with open(path, "r+b") as fh:
        fh.seek(pos)
        b = fh.read(1)[0]
        fh.seek(pos)
        fh.write(bytes([b ^ (1 << bit)]))


def zero_range(path, pos, n):
    with open(path, "r+b") as fh:
        fh.seek(pos)
        fh.write(b"\0" * n)


def record_offsets(store):
    """{seq: file offset of the frame} of the records the store holds now."""
    ring = store._ring
    out = {}
    for rseq, _, _, off, _, _ in ring._walk(ring.tail_off, ring.tail_seq, ring.used):
        out[rseq] = DATA_START + off
    return out
