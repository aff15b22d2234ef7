"""Shared by tools/evaluate.py and tools/bench_inspect.py: corpus loading, run metadata, formatting.

Not part of the package: ``edge_ssre`` never imports anything under ``tools/``.
"""

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.normpath(os.path.join(PROJECT_ROOT, "corpus"))

# Paranoia buckets: CRS rules at PL1-2 are the "real attacks" set; PL3-4 and the
# untagged rows (paranoia null) are stricter/borderline and reported together.
PL12 = "pl12"
PL34 = "pl34"
BUCKETS = (PL12, PL34)
BUCKET_LABELS = {PL12: "PL1-2", PL34: "PL3-4+untagged"}


def pyc_env():
    """A child environment that uses (and writes) .pyc files (this machine sets
    PYTHONDONTWRITEBYTECODE=1)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def bytecode_env():
    """``pyc_env()`` with the package compiled first: an installed package or a deployment zip has
    its bytecode, so a cold-start figure taken without it would time the compiler, not the import."""
    import subprocess
    env = pyc_env()
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(PROJECT_ROOT, "edge_ssre")], check=True,
                   env=env)
    return env


def bucket_of(paranoia):
    return PL12 if paranoia in (1, 2) else PL34


class CorpusError(Exception):
    """The corpus is missing or a row is unreadable (message names the file and line)."""


def load_rows(path, limit=None):
    """Rows of one corpus ``.jsonl`` file (the first ``limit`` when given)."""
    rows = []
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise CorpusError("cannot read %s (%s); pass --corpus DIR pointing at a corpus folder (the project's is corpus/)" % (path, exc.strerror))
    with fh:
        for lineno, line in enumerate(fh, 1):
            if limit is not None and len(rows) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                row["payload"], row["family"]  # noqa: B018 - the two fields every row must have
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError("%s:%d: not a corpus row (%s)" % (path, lineno, exc))
            rows.append(row)
    return rows


def aws_event_files(corpus):
    folder = os.path.join(corpus, "aws_events")
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError as exc:
        raise CorpusError("cannot list %s (%s)" % (folder, exc.strerror))
    return [os.path.join(folder, n) for n in names]


def git_commit():
    """``<short sha>[+dirty]`` of the project checkout, or ``?``."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def run_meta(argv):
    """Date, exact command, machine and code version of this run."""
    import edge_ssre
    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(shlex.quote(a) for a in ["python"] + list(argv)),
        "machine": "%s, %d cores (shared, noisy), %s, Python %s" % (
            cpu_model, os.cpu_count() or 0, platform.system(), platform.python_version()),
        "python": sys.version.split()[0],
        "edge_ssre": edge_ssre.__version__,
        "commit": git_commit(),
    }


def rate(hits, rows):
    return (hits / rows) if rows else None


def fmt_rate(hits, rows):
    """``0.873 (654/749)``, or ``-`` when there are no rows."""
    if not rows:
        return "-"
    return "%.3f (%d/%d)" % (hits / rows, hits, rows)


def md_code(text, width=70):
    """``text`` as a one-line inline code span safe inside a Markdown table cell."""
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    text = "".join(ch if ch >= " " else "\\x%02x" % ord(ch) for ch in text)
    if len(text) > width:
        text = text[:width - 1] + "…"
    text = text.replace("|", "\\|")
    if not text:
        return "*(empty)*"
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, text, pad, fence)


def short(text, width=60):
    """A one-line excerpt for terminal tables."""
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    text = "".join(ch if ch >= " " else "\\x%02x" % ord(ch) for ch in text)
    return text if len(text) <= width else text[:width - 1] + "…"


def md_table(header, rows, align=None):
    """A Markdown table; ``align`` is one letter per column (``l``/``r``), default: first left, rest right."""
    align = align or "l" + "r" * (len(header) - 1)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " if a == "l" else " ---: " for a in align) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def text_table(header, rows):
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(str(c)))
    line = lambda cells: "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])  # noqa: E731
                                   for i, c in enumerate(cells))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def run_tool(prog, measure, render, json_out):
    """Run ``measure()``, write its document to ``json_out`` (if any), then ``render(doc)``.

    Returns the exit code: 0 done, 2 corpus or output error (one line on stderr, no traceback).
    """
    try:
        doc = measure()
    except CorpusError as exc:
        print("%s: %s" % (prog, exc), file=sys.stderr)
        return 2
    if json_out:
        try:
            with open(json_out, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1, ensure_ascii=False)
                fh.write("\n")
        except OSError as exc:
            print("%s: cannot write %s (%s)" % (prog, json_out, exc.strerror), file=sys.stderr)
            return 2
    try:
        render(doc)
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
    return 0
