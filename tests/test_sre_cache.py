"""The host-built regex table (edge_ssre/rules/sre_cache.py): patterns made from its code words
behave as re.compile's, and anything it cannot vouch for compiles the usual way."""

import marshal
import os
import re
import sys

import pytest

from edge_ssre.rules import ruleset, sre_cache

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from build_rules import sre_table  # noqa: E402

if sre_cache.KEY is None:  # pragma: no cover - MicroPython has no _sre
    pytest.skip("no _sre", allow_module_level=True)


@pytest.fixture
def table_at(monkeypatch):
    """Point the module at a table file; counters and the loaded table start afresh."""
    def use(path):
        monkeypatch.setattr(sre_cache, "CACHE", str(path))
        monkeypatch.setattr(sre_cache, "hits", 0)
        monkeypatch.setattr(sre_cache, "misses", 0)
        sre_cache.reset()
    yield use
    sre_cache.reset()


def texts():
    """Every rule's attack and benign examples, plus strings that stress the engine."""
    out = ["", "a", "' or 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "${jndi:ldap://x/a}",
           "(" * 300, "%25" * 200, "\u00e9\u0130\u2028\U0001f600 select", "a\nb\r\nc\x00d"]
    for spec in ruleset.build_default().specs:
        out.extend(spec.attack)
        out.extend(spec.benign)
    return out


def test_table_patterns_behave_as_re_compile(tmp_path, table_at):
    path = tmp_path / "compiled_sre.bin"
    n, size = sre_table(str(path))
    assert n > 50 and size > 0
    table_at(path)
    entries = [(source, int(flags)) for source, flags in patterns_of(path)]
    assert len(entries) >= n - 2  # all but patterns re itself disagrees on
    assert len(sre_cache._load()) == len(entries)  # only the index is held
    samples = texts()
    for (source, flags) in entries:
        made, want = sre_cache.compile(source, flags), re.compile(source, flags)
        assert (made.pattern, made.flags, made.groups, made.groupindex) == \
            (want.pattern, want.flags, want.groups, want.groupindex)
        for text in samples:
            a, b = made.search(text), want.search(text)
            assert (a and (a.span(), a.lastgroup, a.groups())) == (b and (b.span(), b.lastgroup, b.groups())), \
                (source[:80], text[:80])
    assert sre_cache.hits == len(entries) and sre_cache.misses == 0


def patterns_of(path):
    """(source, flags) of every entry of a table file, read as the format says."""
    data = path.read_bytes()
    start = len(sre_cache._FORMAT) + 4
    size = int.from_bytes(data[len(sre_cache._FORMAT):start], "little")
    _, index = marshal.loads(data[start:start + size])
    return [(marshal.loads(data[start + size + off:start + size + off + n])[0], ref[0])  # the flags asked for
            for ref, (off, n) in index.items()]


def test_another_interpreters_table_is_ignored(tmp_path, table_at):
    path = tmp_path / "t.bin"
    src = r"(?P<a>x+)y"
    path.write_bytes(sre_cache.pack([(src, 0, (0, [1, 2, 3], 0, {}, ()))], key=("cpython", (2, 7), 0, 2)))
    table_at(path)
    rx = sre_cache.compile(src)
    assert rx.search("zxxy").group("a") == "xx"
    assert (sre_cache.hits, sre_cache.misses) == (0, 1)


def test_code_words_sre_refuses_fall_back(tmp_path, table_at):
    path = tmp_path / "t.bin"
    src = r"a(b|c)d"
    bad = (32, [17, 4, 0, 1, 1, 99, 99], 1, {}, (None, None))  # not valid SRE code
    path.write_bytes(sre_cache.pack([(src, 0, bad)]))
    table_at(path)
    assert sre_cache.compile(src).search("xacd").group(1) == "c"
    assert (sre_cache.hits, sre_cache.misses) == (0, 1)


@pytest.mark.parametrize("content", [None, b"", b"not marshal data", marshal.dumps([1, 2, 3]),
                                     b"ESRE1\xff\xff\x00\x00short", b"ESRE1\x03\x00\x00\x00abc"])
def test_missing_or_unreadable_table_falls_back(tmp_path, table_at, content):
    path = tmp_path / "t.bin"
    if content is not None:
        path.write_bytes(content)
    table_at(path)
    assert sre_cache.compile(r"\d+").findall("a1b22") == ["1", "22"]
    assert (sre_cache.hits, sre_cache.misses) == (0, 1)


def test_table_bytes_grow_as_patterns_compile_then_stay_fixed():
    """Lazy patterns compile on first use: the held size grows to a fixed one after compile_all()."""
    rs = ruleset.build_default()
    before = rs.table_bytes()
    rs.compile_all()
    after = rs.table_bytes()
    assert after > before
    rs.scan("' or 1=1 -- <script>alert(1)</script> ../../etc/passwd", 0)
    assert rs.compile_all().table_bytes() == after
