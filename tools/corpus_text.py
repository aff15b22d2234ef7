"""Benign text for corpus/benign_text/: prose from the documentation installed on a Debian machine.

Used by tools/build_corpus.py (not part of the package). Every value is a paragraph, a list item, a
table row or a heading of a document, reflowed to one line, as a text field of an event would carry
it (a product description, a support ticket, a device's notes). Code blocks (fenced or indented
blocks in Markdown and reStructuredText, indented examples in Python's reference text, ``.nf``/``.EX``
blocks in man pages) are left out: they are code, not prose; inline code inside prose stays.

Sources, in this order (each yields ``Doc(doc_id, style, package, path, values)``):
- ``markdown``: ``*.md`` under /usr/share/doc (Debian packages' READMEs, pip's manual, systemd's docs)
- ``rst``: ``*.rst`` under /usr/share/doc and CMake's manual (/usr/share/cmake-*/Help)
- ``text``: README, NEWS and ``*.txt`` files under /usr/share/doc
- ``changelog``: entries of the packages' ``changelog.Debian.gz``
- ``man``: English man pages (sections 1, 5, 7, 8), roff markup stripped
- ``description``: the long descriptions of the installed packages (/var/lib/dpkg/status)
- ``pydoc``: Python's reference text as ``pydoc`` shows it (``pydoc_data.topics``)
"""

import glob
import gzip
import os
import re

MIN_CHARS = 24       # shorter values are mostly headings and fragments
MAX_CHARS = 300      # longer paragraphs are cut at sentence ends into pieces of at most this size
# values kept per document (the first ones in document order), per style: the corpus stays a few MB
# and no one document dominates a style
PER_DOC = {"markdown": 45, "rst": 4, "text": 5, "changelog": 5, "man": 7, "description": 10, "pydoc": 45}
MAN_PAGES = 900      # man pages read (a deterministic sample of the installed English pages)

Doc = tuple  # (doc_id, style, package, path, [values])


def _read(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read(2_000_000)
    except (OSError, EOFError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


class Owners:
    """Which Debian package installed a path (from /var/lib/dpkg/info/*.list), and package licenses."""

    def __init__(self):
        self.by_path = {}
        for lst in sorted(glob.glob("/var/lib/dpkg/info/*.list")):
            pkg = os.path.basename(lst)[:-5].split(":")[0]
            try:
                with open(lst, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        self.by_path.setdefault(line.rstrip("\n"), pkg)
            except OSError:
                continue
        self.versions = _dpkg_versions()
        self._licenses = {}

    def package(self, path):
        pkg = self.by_path.get(path) or self.by_path.get(os.path.realpath(path))
        if pkg is None and path.startswith("/usr/share/doc/"):
            pkg = path.split("/")[4]
        return pkg or "?"

    def license(self, pkg):
        if pkg not in self._licenses:
            self._licenses[pkg] = _license_of(pkg)
        return self._licenses[pkg]


def _dpkg_versions():
    out = {}
    for pkg, fields in _dpkg_status():
        out[pkg] = fields.get("Version", "?")
    return out


def _dpkg_status():
    try:
        with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return []
    out = []
    for stanza in text.split("\n\n"):
        fields = {}
        key = None
        for line in stanza.split("\n"):
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        if "Package" in fields and "install ok installed" in fields.get("Status", ""):
            out.append((fields["Package"], fields))
    return sorted(out, key=lambda kv: kv[0])


_LICENSE_WORDS = (("Apache", "Apache-2.0"), ("GNU General Public License", "GPL"), ("GPL", "GPL"),
                  ("LGPL", "LGPL"), ("BSD", "BSD"), ("MIT", "MIT"), ("Expat", "Expat"), ("Python", "PSF"),
                  ("public domain", "public-domain"), ("Artistic", "Artistic"), ("zlib", "Zlib"))


def _license_of(pkg):
    """The license of the package's main files (the ``License:`` of its ``Files: *`` stanza in
    /usr/share/doc/<pkg>/copyright, DEP-5), or the first license word named in a free-form file."""
    text = _read("/usr/share/doc/%s/copyright" % pkg)
    if text is None:
        return "see /usr/share/doc/%s/copyright" % pkg
    for stanza in re.split(r"\n\s*\n", text):
        if re.search(r"^Files:\s*\*\s*$", stanza, re.M):
            m = re.search(r"^License:\s*(.+)$", stanza, re.M)
            if m:
                return m.group(1).strip()
    m = re.search(r"^License:\s*([\w.+-]+(?:\s(?:or|and)\s[\w.+-]+)*)\s*$", text, re.M)
    if m and text.startswith("Format:"):
        return m.group(1).strip()
    for word, name in _LICENSE_WORDS:
        if word in text:
            return name + " (free-form copyright file)"
    return "see /usr/share/doc/%s/copyright" % pkg


# ---------------------------------------------------------------- splitting into values

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'`*_\[])")


def _pieces(text):
    """``text`` reflowed to one line; cut at sentence ends when longer than MAX_CHARS."""
    text = " ".join(text.split())
    if len(text) <= MAX_CHARS:
        return [text]
    out, cur = [], ""
    for sentence in _SENTENCE_END.split(text):
        if cur and len(cur) + 1 + len(sentence) > MAX_CHARS:
            out.append(cur)
            cur = sentence
        else:
            cur = (cur + " " + sentence) if cur else sentence
    if cur:
        out.append(cur)
    return [p[:MAX_CHARS] for p in out]


def _keep(value):
    return len(value) >= MIN_CHARS and sum(c.isalpha() for c in value) >= len(value) // 3


_MD_BLOCK_START = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+|^\s{0,3}#{1,6}\s|^\s{0,3}>|^\s{0,3}\|")


def markdown_values(text):
    """Paragraphs, list items, headings, quotes and table rows of a Markdown document (fenced and
    indented code blocks left out)."""
    values = []
    para = []
    fence = None

    def flush():
        if para:
            values.extend(_pieces(" ".join(para)))
            del para[:]

    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            flush()
            fence = stripped[:3]
            continue
        if not stripped:
            flush()
            continue
        if line.startswith(("    ", "\t")) and not para:
            continue  # indented code block
        if stripped.startswith("|") and set(stripped) <= set("|-: "):
            continue  # table rule
        if _MD_BLOCK_START.match(line):
            flush()
        para.append(stripped)
    flush()
    return values


_RST_DIRECTIVE = re.compile(r"^\s*\.\. ")


def rst_values(text):
    """Paragraphs of a reStructuredText document; literal blocks (after ``::``) and directive
    bodies (``.. code-block::`` and the like) left out, as are section underlines."""
    values = []
    para = []
    skip_indent = None  # skipping an indented block deeper than this
    prev_literal = False

    def flush():
        if para:
            values.extend(_pieces(" ".join(para)))
            del para[:]

    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                continue
            skip_indent = None
        if not stripped:
            if para:
                prev_literal = para[-1].endswith("::")
            flush()
            continue
        if re.match(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$", stripped):
            continue  # section adornment
        if _RST_DIRECTIVE.match(line):
            flush()
            skip_indent = indent
            continue
        if prev_literal and not para and indent > 0:
            skip_indent = indent - 1
            prev_literal = False
            continue
        prev_literal = False
        if re.match(r"^\s*(?:[-*+]|\d{1,3}\.|#\.)\s+", line):
            flush()
        para.append(stripped)
    flush()
    return values


def plain_values(text):
    """Paragraphs of a plain-text file (blank-line separated); blocks indented deeper than the
    document's usual indentation are examples and are left out."""
    values = []
    blocks = re.split(r"\n\s*\n", text)
    indents = sorted(len(b) - len(b.lstrip(" ")) for b in blocks if b.strip())
    base = indents[len(indents) // 2] if indents else 0
    for block in blocks:
        if not block.strip():
            continue
        indent = len(block) - len(block.lstrip(" "))
        if indent > base + 2:
            continue
        values.extend(_pieces(block))
    return values


def changelog_values(text):
    """The change entries (``* ...`` items with their continuation lines) of a Debian changelog."""
    values = []
    cur = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("* ", "- ", "+ ")):
            if cur:
                values.extend(_pieces(" ".join(cur)))
            cur = [s[2:]]
        elif s and cur and not s.startswith("--") and line.startswith(" "):
            cur.append(s)
        else:
            if cur:
                values.extend(_pieces(" ".join(cur)))
            cur = []
    if cur:
        values.extend(_pieces(" ".join(cur)))
    return values


_ROFF_ESC = [
    (re.compile(r"\\f(?:\[[^\]]{0,8}\]|\(..|.)"), ""), (re.compile(r"\\s[-+]?\d"), ""),
    (re.compile(r"\\\*?\(lq|\\\*?\(rq|\\\(dq|\\\*\(L\"|\\\*\(R\""), '"'), (re.compile(r"\\\(aq|\\\(cq|\\\(oq"), "'"),
    (re.compile(r"\\\(em"), "--"), (re.compile(r"\\\(en"), "-"), (re.compile(r"\\\(bu"), "*"),
    (re.compile(r"\\\(co"), "(c)"), (re.compile(r"\\\(..|\\\[[^\]]{0,12}\]|\\\*\(..|\\\*."), ""),
    (re.compile(r"\\-"), "-"), (re.compile(r"\\[&|^c%]"), ""), (re.compile(r"\\[ ~0]"), " "),
    (re.compile(r"\\e"), "\\\\"), (re.compile(r"\\(.)"), r"\1"),
]
_FONT_MACROS = {".B", ".I", ".SM", ".SB"}
_ALT_MACROS = {".BR", ".RB", ".BI", ".IB", ".IR", ".RI"}
_BREAK_MACROS = {".PP", ".P", ".LP", ".SH", ".SS", ".TP", ".IP", ".HP", ".sp", ".br", ".RS", ".RE", ".TQ"}


def _unroff(text):
    for rx, rep in _ROFF_ESC:
        text = rx.sub(rep, text)
    return text


def _macro_args(rest):
    args = re.findall(r'"((?:[^"]|"")*)"|(\S+)', rest)
    return [a or b for a, b in args]


def man_values(text):
    """Paragraphs of a man page: roff requests dropped, font macros' text kept, ``.nf``/``.EX``
    (unfilled, mostly examples) blocks left out."""
    values = []
    para = []
    nofill = False

    def flush():
        if para:
            values.extend(_pieces(_unroff(" ".join(para))))
            del para[:]

    for line in text.splitlines():
        if line.startswith((".\\\"", "'\\\"", '.\\"')):
            continue
        if line.startswith((".", "'")):
            parts = line.split(None, 1)
            macro = parts[0] if parts else "."
            rest = parts[1] if len(parts) > 1 else ""
            if macro in (".nf", ".EX"):
                flush()
                nofill = True
            elif macro in (".fi", ".EE"):
                nofill = False
            elif macro in _FONT_MACROS and rest:
                para.append(" ".join(_macro_args(rest)))
            elif macro in _ALT_MACROS and rest:
                para.append("".join(_macro_args(rest)))
            elif macro in _BREAK_MACROS:
                flush()
                if macro in (".IP", ".SH", ".SS") and rest:
                    head = " ".join(_macro_args(rest))
                    if macro != ".IP":
                        continue  # section heading
                    para.append(head)
            continue
        if nofill:
            continue
        if line.strip():
            para.append(line.strip())
        else:
            flush()
    flush()
    return values


def pydoc_values(text):
    """Paragraphs of a pydoc topic: prose paragraphs (examples, indented deeper than the prose
    before them after a ':', and grammar productions are left out)."""
    values = []
    prose_indent = 0
    prev_colon = False
    for block in re.split(r"\n\s*\n", text):
        if not block.strip():
            continue
        lines = block.splitlines()
        if all(set(ln.strip()) <= set("*=-") for ln in lines[1:]) and len(lines) == 2:
            continue  # title with underline
        indent = len(lines[0]) - len(lines[0].lstrip())
        if (prev_colon and indent > prose_indent) or ">>>" in block or "::=" in block:
            continue
        prose_indent = indent
        prev_colon = block.rstrip().endswith(":")
        values.extend(_pieces(block))
    return values


# ---------------------------------------------------------------- sources

def _files(patterns):
    seen = set()
    out = []
    for pat in patterns:
        for p in sorted(glob.glob(pat, recursive=True)):
            if os.path.isfile(p) and p not in seen:
                seen.add(p)
                out.append(p)
    return out


def _doc(owners, style, path, values):
    pkg = owners.package(path)
    vals = [v for v in values if _keep(v)][:PER_DOC[style]]
    return (style + ":" + path, style, pkg, path, vals)


def documents(owners):
    """Every source document as ``(doc_id, style, package, path, values)``, in a fixed order."""
    md = _files(["/usr/share/doc/**/*.md", "/usr/share/doc/**/*.md.gz"])
    for path in md:
        text = _read(path)
        if text:
            yield _doc(owners, "markdown", path, markdown_values(text))
    rst = _files(["/usr/share/doc/**/*.rst", "/usr/share/doc/**/*.rst.gz", "/usr/share/cmake-*/Help/**/*.rst"])
    for path in rst:
        text = _read(path)
        if text:
            yield _doc(owners, "rst", path, rst_values(text))
    plain = _files(["/usr/share/doc/**/README", "/usr/share/doc/**/README.gz", "/usr/share/doc/**/README.txt*",
                    "/usr/share/doc/**/NEWS", "/usr/share/doc/**/NEWS.gz", "/usr/share/doc/**/*.txt",
                    "/usr/share/doc/**/*.txt.gz", "/usr/share/doc/**/README.Debian*"])
    for path in plain:
        text = _read(path)
        if text:
            yield _doc(owners, "text", path, plain_values(text))
    for path in _files(["/usr/share/doc/*/changelog.Debian.gz"]):
        text = _read(path)
        if text:
            yield _doc(owners, "changelog", path, changelog_values(text))
    pages = _files(["/usr/share/man/man%s/*.gz" % s for s in "1578"])
    step = max(1, len(pages) // MAN_PAGES)
    for path in pages[::step][:MAN_PAGES]:
        if os.path.islink(path):
            continue  # an alternative's link or an alias: the page is read under its own name
        text = _read(path)
        if text and not text.startswith(".so "):
            yield _doc(owners, "man", path, man_values(text))
    for pkg, fields in _dpkg_status():
        desc = fields.get("Description", "")
        body = "\n".join(ln[1:] if ln.startswith(" ") else ln for ln in desc.split("\n")[1:])
        body = "\n".join("" if ln.strip() == "." else ln for ln in body.split("\n"))
        values = [v for block in re.split(r"\n\s*\n", body) if block.strip() for v in _pieces(block)]
        doc = ("description:" + pkg, "description", pkg, "/var/lib/dpkg/status#" + pkg,
               [v for v in values if _keep(v)][:PER_DOC["description"]])
        yield doc
    # Debian's copy of the text (not the running interpreter's): the same packages give the same corpus
    found = sorted(glob.glob("/usr/lib/python3*/pydoc_data/topics.py"))
    if not found:
        return
    ns = {}
    exec(compile(_read(found[-1]) or "topics = {}", found[-1], "exec"), ns)  # a module holding one dict literal
    topics = ns.get("topics", {})
    pkg = owners.package(found[-1])
    for name in sorted(topics):
        vals = [v for v in pydoc_values(topics[name]) if _keep(v)][:PER_DOC["pydoc"]]
        yield ("pydoc:" + name, "pydoc", pkg, "pydoc_data.topics#" + name, vals)


# Python's documentation (the text pydoc_data.topics holds) is under the PSF License Agreement,
# whatever the Debian copyright file of the package that ships it says about the rest.
LICENSE_OVERRIDES = {"pydoc": "PSF-2.0 (Python documentation)"}
