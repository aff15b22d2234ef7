#!/usr/bin/env python3
"""Build the project's own corpus sets: benign text, benign telemetry/config, generated attacks.

    python tools/build_corpus.py [--corpus DIR] [--only text|telemetry|attacks] [--check]

Writes, under ``corpus/`` (see corpus/README.md for the row formats and the sources' licenses):
- ``benign_text/{dev,test}.jsonl`` and ``benign_text/sources.json``: prose from the Debian
  documentation, man pages, package descriptions and Python's reference text installed on this
  machine (tools/corpus_text.py). The same installed packages give the same files.
- ``telemetry/{dev,test}.jsonl``: messages generated from published IoT formats (tools/corpus_telemetry.py).
- ``generated_attacks/{dev,test}.jsonl``: attacks built by construction (tools/corpus_attacks.py).

The split is fixed by content, never by hand: a benign text value goes to ``test`` when its source
document's id hashes into the test share (``int(sha256(doc_id)[:8], 16) % 10 < 3``: whole documents
are held out, so no paragraph of a test document is seen while writing rules); a telemetry message
or a generated attack goes to ``test`` when its payload hashes there (same rule on the payload).
``--check`` rebuilds in memory and exits 1 when a committed file differs (the build is deterministic).

Exit codes: 0 done, 1 ``--check`` found a difference, 2 a source is missing (one line on stderr).
"""

import argparse
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_common as rc  # noqa: E402

TEST_SHARE = 3  # tenths of each set held out as the test split
SEED = 15


def is_test(key):
    """The split rule: the first 8 hex digits of sha256(key), modulo 10, below TEST_SHARE."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 10 < TEST_SHARE


def _dump(rows):
    return "".join(json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) + "\n" for r in rows).encode("utf-8")


def build_text():
    import corpus_text
    owners = corpus_text.Owners()
    seen = set()
    documents = []
    packages = {}
    splits = {"dev": [], "test": []}
    for doc_id, style, pkg, path, values in corpus_text.documents(owners):
        fresh = [v for v in values if v not in seen]
        if not fresh:
            continue
        seen.update(fresh)
        index = len(documents)
        split = "test" if is_test(doc_id) else "dev"
        documents.append([style, pkg, path])
        key = pkg if style not in corpus_text.LICENSE_OVERRIDES else "%s (%s)" % (pkg, style)
        if key not in packages:
            packages[key] = {"version": owners.versions.get(pkg, "?"),
                             "license": corpus_text.LICENSE_OVERRIDES.get(style) or owners.license(pkg)}
        for v in fresh:
            splits[split].append({"payload": v, "family": style, "doc": index})
    if not documents:
        raise rc.CorpusError("no documentation found under /usr/share/doc or /usr/share/man: install the Debian "
                             "packages listed in corpus/benign_text/sources.json")
    sources = {"how": "tools/build_corpus.py --only text; values per document and style capped as in tools/corpus_text.py",
               "split_rule": "test when int(sha256(doc_id)[:8], 16) %% 10 < %d, doc_id = '<style>:<path>'" % TEST_SHARE,
               "packages": dict(sorted(packages.items())), "documents": "[style, package, path] per row's doc index"}
    body = json.dumps(sources, ensure_ascii=False, indent=1)[:-2]
    body += ',\n "document_list": [\n' + ",\n".join(json.dumps(d, ensure_ascii=False) for d in documents) + "\n ]\n}\n"
    return {"benign_text/dev.jsonl": _dump(splits["dev"]), "benign_text/test.jsonl": _dump(splits["test"]),
            "benign_text/sources.json": body.encode("utf-8")}


def build_telemetry():
    import corpus_telemetry
    seen = set()
    splits = {"dev": [], "test": []}
    for fmt, topic, document, encoding in corpus_telemetry.messages(SEED):
        wire = corpus_telemetry.encode(document, encoding)
        if wire in seen:
            continue
        seen.add(wire)
        text = base64.b64encode(wire).decode() if encoding == "cbor" else wire.decode("utf-8")
        row = {"family": fmt, "topic": topic, "encoding": encoding, "payload": text}
        splits["test" if is_test(topic + "\n" + text) else "dev"].append(row)
    return {"telemetry/dev.jsonl": _dump(splits["dev"]), "telemetry/test.jsonl": _dump(splits["test"])}


def build_attacks():
    import corpus_attacks
    splits = {"dev": [], "test": []}
    for family, technique, payload in corpus_attacks.attacks(SEED):
        row = {"payload": payload, "family": family, "label": "attack", "technique": technique}
        splits["test" if is_test(payload) else "dev"].append(row)
    return {"generated_attacks/dev.jsonl": _dump(splits["dev"]), "generated_attacks/test.jsonl": _dump(splits["test"])}


BUILDERS = {"text": build_text, "telemetry": build_telemetry, "attacks": build_attacks}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tools/build_corpus.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=rc.DEFAULT_CORPUS, help="corpus folder (default: %(default)s)")
    ap.add_argument("--only", choices=sorted(BUILDERS), action="append", help="build only this set (repeatable)")
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args(argv)
    files = {}
    try:
        for name in args.only or sorted(BUILDERS):
            files.update(BUILDERS[name]())
    except rc.CorpusError as exc:
        print("build_corpus: %s" % exc, file=sys.stderr)
        return 2
    changed = []
    for rel, data in sorted(files.items()):
        path = os.path.join(args.corpus, rel)
        try:
            with open(path, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if same:
            continue
        changed.append(rel)
        if not args.check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
    for rel, data in sorted(files.items()):
        rows = data.count(b"\n") if rel.endswith(".jsonl") else "-"
        print("%-34s %8s rows %9d bytes%s" % (rel, rows, len(data),
                                               ("  DIFFERS" if args.check else "  written") if rel in changed else ""))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
