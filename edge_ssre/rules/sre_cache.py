"""Regular expressions compiled from code words built on the host: a cold start skips re's
parser and code generator.

Python compiles a pattern in two steps: ``re``'s parser and code generator, written in Python
(about a millisecond for one of the rule tables' alternations), then ``_sre.compile`` of the
code words they produce, in C (microseconds). The second step takes the code words as a list,
so a table of them, built once by the same interpreter (``tools/build_rules.py``,
``tools/package_lambda_edge.py``), makes a first use cost microseconds: what a Lambda@Edge
cold start pays on its first event.

The table is keyed by the interpreter (implementation, version, ``_sre.MAGIC``, code word
size) and by each pattern's source and flags. Only its index stays in memory; a pattern's entry
is read from the file when the pattern is first used (a process that never uses most patterns
never holds their code words). Anything else compiles with ``re.compile`` as usual: another
Python, a missing or unreadable file, a pattern not in the table, code words ``_sre`` refuses
(it validates what it is given). MicroPython has no ``_sre``: plain ``re.compile``.
"""

import os
import re

try:
    import _sre
    import marshal
    import sys
    KEY = (sys.implementation.name, tuple(sys.version_info[:2]), _sre.MAGIC, _sre.CODESIZE)
except ImportError:  # MicroPython
    _sre = None
    KEY = None

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compiled_sre.bin")
_FORMAT = b"ESRE1"  # then the index's length (4 bytes, little-endian), the index, the entries
_table = None     # the index: {_ref(source, flags): (offset, length) of the entry after the index}
_recording = None  # a set of (source, flags) while record() runs
_made = {}        # (source, flags) -> pattern made from the table: like re's own cache, two uses of
                  # one pattern (a rule in the plain and the full table) share one compiled object
MAX_MADE = 512
hits = 0          # patterns made from the table's code words in this process
misses = 0        # patterns compiled by re.compile (not in the table, or refused)


def compile(source, flags=0):
    """``re.compile(source, flags)``, from the table's code words when it has them."""
    global hits, misses
    if _recording is not None:
        _recording.add((source, flags))
    if _sre is not None:
        rx = _made.get((source, flags))
        if rx is not None:
            return rx
        where = (_table if _table is not None else _load()).get(_ref(source, flags))
        if where is not None:
            try:
                with open(CACHE, "rb") as fh:
                    fh.seek(where[0])
                    src, f, code, groups, groupindex, indexgroup = marshal.loads(fh.read(where[1]))
                if src == source:
                    rx = _sre.compile(source, f, code, groups, groupindex, indexgroup)
                    hits += 1
                    if len(_made) >= MAX_MADE:
                        _made.clear()
                    _made[(source, flags)] = rx
                    return rx
            except Exception:
                pass  # refused or unreadable: compile it the usual way
    misses += 1
    return re.compile(source, flags)


def _ref(source, flags):
    """A pattern's key in the index: short, so the index stays small (an entry holds the whole
    source, compared before use)."""
    return (int(flags), len(source), source[:40], source[-40:])


def _load():
    global _table
    table = {}
    try:
        with open(CACHE, "rb") as fh:
            head = fh.read(len(_FORMAT) + 4)
            if head[:len(_FORMAT)] == _FORMAT:
                size = int.from_bytes(head[len(_FORMAT):], "little")
                key, index = marshal.loads(fh.read(size))
                if key == KEY and isinstance(index, dict):
                    start = len(head) + size
                    table = {ref: (start + offset, length) for ref, (offset, length) in index.items()}
    except (OSError, ValueError, EOFError, TypeError):
        pass
    _table = table
    return table


class record:
    """``with record() as seen:`` collects the (source, flags) of every pattern compiled
    through this module meanwhile: what a build runs its workload under."""

    def __enter__(self):
        global _recording
        _recording = set()
        return _recording

    def __exit__(self, *exc):
        global _recording
        _recording = None


def re_internals():
    """re's parser, compiler and constants modules (``re._parser`` from Python 3.11, ``sre_parse``
    and friends before)."""
    try:
        from re import _compiler, _constants, _parser  # Python 3.11+
    except ImportError:
        import sre_compile as _compiler
        import sre_constants as _constants
        import sre_parse as _parser
    return _parser, _compiler, _constants


def build(patterns):
    """The table's bytes for ``patterns`` [(source, flags)], with this interpreter's code words.
    An entry is kept only when the pattern it makes agrees with ``re.compile``'s (flags, groups,
    group names), so a difference in ``re``'s internals leaves the pattern to ``re.compile``."""
    _parser, _compiler, _ = re_internals()
    entries = []
    for source, flags in sorted(set((source, int(flags)) for source, flags in patterns)):
        try:
            tree = _parser.parse(source, flags)
            code = [int(c) for c in _compiler._code(tree, flags)]  # opcodes are int subclasses
            state = tree.state
            groupindex = dict(state.groupdict)
            indexgroup = [None] * state.groups
            for name, i in groupindex.items():
                indexgroup[i] = name
            entry = (int(flags | state.flags), code, state.groups - 1, groupindex, tuple(indexgroup))
            made = _sre.compile(source, *entry)
        except Exception:
            continue
        want = re.compile(source, flags)
        if (made.flags, made.groups, made.groupindex) == (want.flags, want.groups, want.groupindex):
            entries.append((source, flags, entry))
    return pack(entries)


def pack(entries, key=None):
    """The file's bytes for [(source, flags, (flags, code, groups, groupindex, indexgroup))]."""
    index, blobs, offset = {}, [], 0
    for source, flags, entry in entries:
        blob = marshal.dumps((source,) + tuple(entry))
        index[_ref(source, flags)] = (offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps((KEY if key is None else key, index))
    return _FORMAT + len(head).to_bytes(4, "little") + head + b"".join(blobs)


def reset():
    """Forget the loaded table (after writing a new one)."""
    global _table
    _table = None
    _made.clear()
