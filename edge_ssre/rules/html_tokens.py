"""XSS by HTML tokens. MicroPython-clean (``re`` only).

Finds tags (``<name ...>``, namespaced names folded) and judges each by its name and
attributes: tags that run or load code by themselves, event-handler attributes, URL
attributes carrying a script scheme, style that loads or evaluates. Plain markup such as
``<b>``, ``<p class="x">`` or a lone ``<`` in "a < b" is clean. Each tag costs one bounded
attribute scan, so the whole pass is linear in the text.
"""

from .context import is_prose
from .lazy_re import LazyRe

_TAG = LazyRe(r"<\s{0,8}[/?!]?\s{0,8}(?:[a-z][a-z0-9_\-]{0,31}:)?([a-z][a-z0-9_\-]{0,31})")
_ATTRS_END = LazyRe(r"[<>]")
MAX_ATTRS = 1024  # characters of one tag's attribute text examined

# tags that execute, load or re-base content on their own
CODE_TAGS = frozenset((
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link", "meta",
    "base", "isindex", "import", "vmlframe", "xss", "noscript", "template", "svg", "math", "xml",
    "portal", "handler", "listener", "bgsound", "layer", "ilayer", "xmp", "plaintext", "set", "animate",
))
_EVENT = LazyRe(r"(?:^|[\s\"'/;`])on[a-z]{3,45}\s{0,8}=")
# outside a tag, "name=" is only an event handler when the name is a DOM event or the value is code
_EVENT_BARE = LazyRe(
    r"(?:^|[\s\"';`])on(?:load|error|click|dblclick|mouse[a-z]{0,10}|key[a-z]{0,6}|focus[a-z]{0,3}|blur|change|"
    r"submit|input|toggle|begin|end|start|animation[a-z]{0,10}|transition[a-z]{0,10}|pointer[a-z]{0,12}|"
    r"touch[a-z]{0,6}|drag[a-z]{0,6}|drop|scroll[a-z]{0,6}|wheel|resize|select[a-z]{0,6}|copy|cut|paste|message|"
    r"hashchange|popstate|pageshow|pagehide|unload|beforeunload|show|search|invalid|reset|play[a-z]{0,4}|pause|"
    r"ended|loaded[a-z]{0,10}|canplay[a-z]{0,8}|progress|readystatechange|zoom|auxclick|contextmenu|"
    r"afterprint|beforeprint|abort|storage|filterchange|activate|beforeactivate|afterupdate|beforeupdate|"
    r"bounce|finish|help|propertychange|stop|webkit[a-z]{0,40})\s{0,8}="
    r"|(?:^|[\s\"';`])on[a-z]{3,45}\s{0,8}=\s{0,8}[\"'`]?\s{0,8}(?:[a-z_$][\w$.]{0,30}\s?\(|javascript:|alert|prompt|confirm|eval)")
_URL_ATTR = LazyRe(
    r"(?:href|src|action|formaction|data|dynsrc|lowsrc|background|poster|code|codebase|srcdoc|"
    r"xlink:href|values|to|from|by|content|xmlns(?::[a-z]+)?)\s{0,8}=\s{0,8}[\"'`]?\s{0,8}"
    r"(?:javascript|vbscript|livescript|mocha|data)\s{0,8}:")
_STYLE = LazyRe(r"expression\s{0,8}\(|url\s{0,8}\(\s{0,8}[\"']?\s{0,8}(?:javascript|vbscript|data):|"
                    r"-moz-binding|behavior\s{0,8}:|@import")
_SCHEME_NOSPACE = LazyRe(r"(?:javascript|vbscript|livescript):")


# tags whose content runs code: dangerous even with no attribute (<object> or <iframe> without one
# loads nothing)
_RUNS_CONTENT = frozenset(("script", "style", "svg", "math", "xss", "noscript", "template", "xml", "vmlframe",
                           "import", "handler", "listener", "set", "animate"))


def detect(text, budget=None):
    """(start, end) of an XSS construct in the normalized text, or None.

    In prose (context.is_prose), a tag counts only with an attribute value (``=``) or when its
    content runs (``<script>``): ``Local<Object> exports`` or ``:ref:`object library <object
    libraries>``` in documentation are not markup that loads anything."""
    prose = None
    if "<" in text:
        for m in _TAG.finditer(text):
            name = m.group(1)
            start = m.start()
            if text[m.start() + 1:m.start(1)].strip() == "?" and name != "import":
                continue  # processing instruction (<?xml ...?>), not a tag
            end_m = _ATTRS_END.search(text, m.end(), m.end() + MAX_ATTRS)
            stop = end_m.start() if end_m is not None else min(len(text), m.end() + MAX_ATTRS)
            attrs = text[m.end():stop]
            if name in CODE_TAGS:
                closed = end_m is not None and text[end_m.start()] == ">"
                if "=" not in attrs and name not in _RUNS_CONTENT:
                    if prose is None:
                        prose = is_prose(text)
                    if prose:
                        continue
                if attrs or closed or name in ("script", "iframe", "object", "embed", "applet", "noscript", "vmlframe", "import", "svg"):
                    return start, stop + 1
            if attrs:
                if _EVENT.search(attrs) or _URL_ATTR.search(attrs) or ("style" in attrs and _STYLE.search(attrs)):
                    return start, stop + 1
            if budget is not None and not budget.tick():
                return None
    # attribute-context breakout without a tag: `" onmouseover=...`, `' style=...expression(`
    m = _EVENT_BARE.search(text)
    if m is not None:
        return m.start(), m.end()
    if ":" in text and not (is_prose(text) if prose is None else prose):
        squeezed = text.replace(" ", "").replace("\t", "").replace("\n", "").replace("\r", "")
        m = _SCHEME_NOSPACE.search(squeezed)
        if m is not None and (m.start() == 0 or not squeezed[m.start() - 1].isalpha()):
            return 0, min(len(text), 48)
        m = _URL_ATTR.search(text)
        if m is not None:
            return m.start(), m.end()
    return None
