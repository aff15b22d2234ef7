"""SQL injection by tokens, in the spirit of libinjection. MicroPython-clean (uses ``re`` only).

The value is tokenised as SQL three ways: as it stands, and as if it were the tail of a
single-, double- or back-quoted string the application put it in (everything up to the first
such quote is that string's remainder). A context is an injection when its tokens form
SQL grammar that ordinary text does not: a string broken out of and followed by an operator,
comment or statement; a logic operator joining a comparison; ``union select``; a stacked
statement after ``;``. Words such as "select" or "drop" and apostrophes in prose stay clean
because a bare word is never enough: it has to sit in one of those shapes.

Tokens are produced by one compiled expression (runs of identical punctuation are one token),
so the cost is linear in the text and per-token Python work is small. At most ``MAX_TOKENS``
tokens are examined per context.
"""

import re

from . import sre_cache
from .context import is_prose

MAX_TOKENS = 2048

_TOKEN_SOURCE = (
    r"(\s+)"                                                                  # 1 whitespace
    r"|(--[^\n]{0,256}|#[^\n]{0,256}|/\*.{0,1024}?(?:\*/|$))"                 # 2 comment
    r"|('(?:[^'\\]|\\.|''){0,4096}'?|\"(?:[^\"\\]|\\.|\"\"){0,4096}\"?|`[^`]{0,256}`?)"  # 3 string
    r"|(0x[0-9a-f]+|0b[01]+|\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)"   # 4 number
    r"|(@@?[a-z0-9_$.]+)"                                                     # 5 variable
    r"|([a-z_\x80-\uffff][a-z0-9_$\x80-\uffff]*)"                             # 6 word
    r"|(<=>|::|\|\||&&|[<>!=]=|<>|[-+*/%^|&~<>=!]+)"                          # 7 operator
    r"|(\(+|\)+|[,;.\[\]{}?:])"                                               # 8 punctuation
    r"|(.)"                                                                   # 9 other
)
_TOKEN = None  # compiled on first use: keeps import cheap for cold starts

LOGIC = frozenset(("or", "and", "xor", "not", "div", "mod", "like", "rlike", "regexp", "is", "in",
                   "between", "sounds", "glob", "collate", "escape", "||", "&&"))
COMPARE = frozenset(("=", "<", ">", "<=", ">=", "!=", "<>", "<=>", "==", "!<", "!>"))
CONSTANTS = frozenset(("null", "true", "false", "current_user", "user", "version", "database"))
KEYWORDS = frozenset((
    "select", "union", "insert", "update", "delete", "drop", "alter", "create", "truncate", "exec",
    "execute", "declare", "waitfor", "from", "where", "having", "group", "order", "limit", "offset",
    "into", "values", "table", "procedure", "case", "when", "then", "else", "end", "distinct", "all",
    "shutdown", "replace", "grant", "revoke", "rename", "set", "begin", "commit", "rollback", "load",
    "handler", "call", "merge", "copy", "pragma", "attach", "show", "describe", "use", "sleep",
))
STACKED = frozenset(("select", "insert", "update", "delete", "drop", "alter", "create", "truncate",
                     "exec", "execute", "declare", "waitfor", "shutdown", "replace", "grant", "revoke",
                     "rename", "set", "begin", "commit", "rollback", "call", "merge", "copy", "pragma",
                     "attach", "handler", "load", "use", "show", "describe", "sleep"))
AFTER_BREAK = frozenset(("order", "group", "having", "limit", "into", "procedure",
                         "waitfor", "insert", "update", "delete", "drop", "exec", "execute", "declare",
                         "offset", "from", "where", "case", "when", "then", "end"))
SQL_FUNCS = frozenset((
    "sleep", "benchmark", "pg_sleep", "extractvalue", "updatexml", "load_file", "xmltype", "concat",
    "concat_ws", "group_concat", "char", "chr", "ascii", "substring", "substr", "mid", "hex", "unhex",
    "ord", "md5", "sha1", "if", "iif", "ifnull", "isnull", "nullif", "coalesce", "version", "database",
    "user", "current_user", "system_user", "session_user", "schema", "db_name", "user_name",
    "object_id", "cast", "convert", "count", "length", "len", "rand", "floor", "elt", "make_set",
    "find_in_set", "instr", "locate", "json_extract", "name_const", "row_count", "lo_get", "lo_import",
    "pg_read_file", "utl_inaddr", "dbms_pipe", "sys_context", "encode", "decode", "exp", "polygon",
    "geometrycollection", "multipoint", "linestring", "randomblob", "sqlite_version", "left", "right",
    "reverse", "lower", "upper", "trim", "position", "overlay", "starts_with", "string_agg", "to_char",
    "waitfor", "exists", "select", "min", "max", "sum", "avg", "abs", "now", "sysdate", "getdate",
))

# token kinds
_STR, _NUM, _VAR, _WORD, _FUNC, _KEY, _LOGIC, _CMP, _ARITH, _OPEN, _CLOSE, _SEMI, _COMMA, _CMT, _PUNCT = range(15)
_OPERAND = frozenset((_STR, _NUM, _VAR, _FUNC, _OPEN))


def _tokens(text, start, budget, limit=MAX_TOKENS):
    """List of (kind, value, pos) for ``text[start:]`` without whitespace; at most ``limit``."""
    global _TOKEN
    if _TOKEN is None:
        _TOKEN = sre_cache.compile(_TOKEN_SOURCE, re.S)
    out = []
    pending_word = None
    n = 0
    for m in _TOKEN.finditer(text, start):
        g = m.lastindex
        if g == 1:
            continue
        val = m.group(g)
        pos = m.start()
        if g == 2:
            kind = _CMT
        elif g == 3:
            kind = _STR
        elif g == 4:
            kind = _NUM
        elif g == 5:
            kind = _VAR
        elif g == 6:
            if val in LOGIC:
                kind = _LOGIC
            elif val in CONSTANTS:
                kind = _NUM
            elif val in KEYWORDS:
                kind = _KEY
            else:
                kind = _WORD
        elif g == 7:
            if val in COMPARE:
                kind = _CMP
            elif val in LOGIC:
                kind = _LOGIC
            else:
                kind = _ARITH
        elif g == 8:
            c = val[0]
            kind = _OPEN if c == "(" else _CLOSE if c == ")" else _SEMI if c == ";" else _COMMA if c == "," else _PUNCT
        else:
            kind = _PUNCT
        if kind == _OPEN and pending_word is not None:
            # a word (or keyword) directly followed by "(" is a function call
            pk, pv, pp = out[pending_word]
            if pk in (_WORD, _KEY, _NUM) and pv not in ("in", "values", "exists"):
                out[pending_word] = (_FUNC, pv, pp)
        pending_word = len(out) if kind in (_WORD, _KEY, _NUM) and g == 6 else (pending_word if kind == _CMT else None)
        out.append((kind, val, pos))
        n += 1
        if n >= limit or (n & 255 == 0 and budget is not None and not budget.tick()):
            break
    return out


def _operand(tok):
    return tok[0] in _OPERAND or (tok[0] == _KEY and tok[1] in ("select", "case"))


def _breakout(toks, q):
    """Tokens after a closing quote of context ``q``: (matched, end index) or None."""
    # toks[0] is the string remainder ending at the quote
    if len(toks) < 2:
        return None
    k1, v1, _ = toks[1]
    t2 = toks[2] if len(toks) > 2 else None
    if k1 == _SEMI:
        return 2
    if k1 == _CMT:
        # "--stat-count", "#define": a command-line option or a preprocessor word, not a comment
        # closing the query (an injected comment ends the value or is followed by a space)
        return None if v1[:2] == "--" and v1[2:3].isalpha() or v1[:1] == "#" and v1[1:2].isalpha() else 2
    if k1 == _LOGIC:
        if t2 is None:
            return None
        need = _OPERAND_OF.get(v1)
        if need is not None:
            # what the grammar needs after this operator: "in" a list, "is" null/true/not ...
            return 3 if need(t2) else None
        if _operand(t2) or t2[0] == _LOGIC:
            return 3
        if t2[0] in (_WORD, _KEY) and len(toks) > 3 and toks[3][0] in (_CMP, _LOGIC, _STR):
            return 4
        return None
    if k1 == _CMP:
        if t2 is None:
            return None
        if _operand(t2) or t2[0] == _CMT:
            return 3
        # a column after a comparison, when what follows the column can end or join a condition
        t3 = toks[3] if len(toks) > 3 else None
        if t2[0] == _WORD and (t3 is None or t3[0] in (_CMT, _SEMI, _CLOSE) or (t3[0] == _LOGIC and t3[1] in _JOINERS)):
            return 3
        return None
    if k1 == _KEY and v1 in AFTER_BREAK:
        return 2
    if k1 == _KEY and v1 in ("union", "select") and _anywhere(toks[1:6]) == 0:
        return 2
    if k1 == _FUNC and v1 in SQL_FUNCS:
        return 2
    if k1 == _CLOSE and t2 is not None and (t2[0] in (_LOGIC, _SEMI, _CMT) or (t2[0] == _KEY and t2[1] in AFTER_BREAK)):
        return 3
    if k1 == _ARITH and t2 is not None and (t2[0] in (_FUNC, _OPEN, _VAR) or (t2[0] == _KEY and t2[1] == "select")):
        return 3
    return None


# operators whose right side the grammar fixes: anything else after them is not SQL
_OPERAND_OF = {
    "in": lambda t: t[0] == _OPEN,
    "is": lambda t: t[0] == _NUM or (t[0] == _LOGIC and t[1] == "not"),
    "like": lambda t: t[0] in _OPERAND, "rlike": lambda t: t[0] in _OPERAND,
    "regexp": lambda t: t[0] in _OPERAND, "glob": lambda t: t[0] in _OPERAND,
    "between": lambda t: t[0] in _OPERAND, "sounds": lambda t: t[1] == "like",
    "escape": lambda t: t[0] == _STR, "not": lambda t: t[0] in _OPERAND or t[0] == _LOGIC,
}

_OBJECTS = frozenset(("table", "database", "user", "procedure", "function", "view", "index", "schema",
                      "trigger", "column", "login", "role", "temporary", "or"))


def _statement(toks, i):
    """Whether the statement keyword at ``toks[i]`` is followed by what that statement needs."""
    n = len(toks)
    v = toks[i][1]
    nxt = toks[i + 1] if i + 1 < n else None
    if nxt is None or nxt[0] in (_CMT, _SEMI):
        return v in ("shutdown", "commit", "rollback", "begin", "show", "select", "sleep")
    nk, nv = nxt[0], nxt[1]
    if v == "select":
        return nk != _WORD or (i + 2 < n and toks[i + 2][0] in (_COMMA, _KEY))
    if v == "insert" or v == "replace":
        return nv == "into" or (nk == _WORD and i + 2 < n and toks[i + 2][0] == _OPEN)
    if v == "update":
        return i + 2 < n and toks[i + 2][1] == "set"
    if v == "delete":
        return nv == "from"
    if v in ("drop", "create", "alter", "truncate", "rename", "attach"):
        return nv in _OBJECTS or (nk == _WORD and (i + 2 >= n or toks[i + 2][0] in (_SEMI, _CMT)))
    if v in ("exec", "execute", "call"):
        return nk in (_WORD, _VAR, _OPEN, _FUNC, _STR) and (nk != _WORD or nv.startswith(("xp_", "sp_", "master")) or i + 2 >= n or toks[i + 2][0] in (_SEMI, _CMT, _VAR, _STR, _OPEN))
    if v == "declare" or v == "set":
        return nk == _VAR or (i + 2 < n and toks[i + 2][0] == _CMP and nk == _WORD)
    if v == "waitfor":
        return nv in ("delay", "time")
    if v == "sleep":
        return nk in (_OPEN, _NUM) or nk == _FUNC
    if v in ("use", "describe"):  # USE db / DESCRIBE table: one name, then the statement ends
        return nk in (_WORD, _STR) and (i + 2 >= n or toks[i + 2][0] in (_SEMI, _CMT))
    if v == "show":
        return nv in _SHOWABLE
    if v == "load":
        return nv in ("data", "xml")
    if v in ("copy", "merge", "handler"):
        return nk in (_WORD, _STR) and i + 2 < n and toks[i + 2][1] in ("from", "to", "into", "using", "open", "read", "(")
    return nk in (_WORD, _KEY, _FUNC, _VAR, _OPEN, _NUM, _STR)


_SHOWABLE = frozenset(("tables", "databases", "schemas", "columns", "fields", "grants", "variables", "status",
                       "processlist", "full", "create", "index", "indexes", "keys", "triggers", "users", "privileges",
                       "engines", "plugins", "warnings", "errors", "master", "slave", "binary", "global", "session"))


def _anywhere(toks):
    """Shapes that are SQL wherever they appear: index of the first token of the shape, or -1."""
    n = len(toks)
    for i in range(n):
        k, v, _ = toks[i]
        if k == _KEY:
            if v == "union":
                j = i + 1
                while j < n and j <= i + 3:
                    kj, vj, _ = toks[j]
                    if (kj in (_KEY, _FUNC)) and vj == "select":
                        return i
                    if not (kj in (_KEY, _OPEN, _CMT) and vj in ("all", "distinct", "(") or kj in (_OPEN, _CMT)):
                        break
                    j += 1
            elif v == "select" and i + 1 < n:
                kj, vj, _ = toks[i + 1]
                if kj in (_FUNC, _VAR, _OPEN) or (kj == _ARITH and vj == "*") or (kj == _KEY and vj in ("distinct", "case", "all")):
                    return i
                if kj in (_NUM, _STR):
                    for j in range(i + 2, min(n, i + 12)):
                        if toks[j][0] == _KEY and toks[j][1] == "from":
                            return i
            elif v == "waitfor" and i + 1 < n and toks[i + 1][1] in ("delay", "time"):
                return i
            elif v == "into" and i + 1 < n and toks[i + 1][1] in ("outfile", "dumpfile"):
                return i
            elif v in ("order", "group") and i + 2 < n and toks[i + 1][1] == "by" and toks[i + 2][0] in (_NUM, _FUNC):
                return i
        elif k == _SEMI and i + 1 < n:
            kj, vj, _ = toks[i + 1]
            if kj in (_KEY, _FUNC) and vj in STACKED and _statement(toks, i + 1):
                return i
        elif k == _LOGIC and v not in ("is", "in", "like", "not", "escape", "collate") and i + 1 < n:
            t1 = toks[i + 1]
            if t1[0] == _FUNC and t1[1] in SQL_FUNCS:
                return i
            if t1[0] == _LOGIC and t1[1] == "not":
                if i + 2 < n:
                    t1 = toks[i + 2]
                    i += 1
            if i + 3 < n and (t1[0] in _OPERAND or t1[0] == _WORD):
                t2, t3 = toks[i + 2], toks[i + 3]
                if t2[0] == _CMP and (t3[0] in _OPERAND or t3[0] == _WORD) and not (t1[0] == _WORD and t3[0] == _WORD):
                    if t2[1] not in ("<", ">", "<=", ">=") or t1[0] in (_FUNC, _STR, _VAR) or t3[0] in (_FUNC, _STR, _VAR, _OPEN):
                        return i
    return -1


_JOINERS = frozenset(("or", "and", "xor", "||", "&&"))
_EQ_OPS = frozenset(("=", "==", "<=>", "like", "is", "glob", "regexp", "rlike", ">=", "<="))
_NE_OPS = frozenset(("!=", "<>", "is not", "not like", "not regexp", "not rlike", "not glob"))


def _tautology(toks):
    """``1=1``, ``'a'='a'``, ``42 like 42``, ``1!=2``, ``1 is not 2``: a comparison whose outcome is
    fixed by its literals (what a boolean probe sends). Returns the index of its first token or -1."""
    n = len(toks)
    for i in range(n - 2):
        a = toks[i]
        if a[0] not in (_NUM, _STR):
            continue
        if i > 0 and not (toks[i - 1][0] in (_COMMA, _OPEN, _SEMI, _STR)
                          or (toks[i - 1][0] == _LOGIC and toks[i - 1][1] in _JOINERS)):
            continue
        j = i + 1
        op = toks[j][1]
        if toks[j][0] == _LOGIC and op in ("is", "not") and j + 1 < n and toks[j + 1][0] == _LOGIC:
            op = op + " " + toks[j + 1][1]
            j += 1
        if toks[j][0] not in (_CMP, _LOGIC) or j + 1 >= n:
            continue
        b = toks[j + 1]
        if b[0] not in (_NUM, _STR):
            continue
        av = a[1].strip("'\"`")
        bv = b[1].strip("'\"`")
        after = toks[j + 2] if j + 2 < n else None
        if after is not None and not (after[0] in (_CMT, _CLOSE, _SEMI, _STR)
                                      or (after[0] == _LOGIC and after[1] in _JOINERS)):
            continue
        if (op in _EQ_OPS and av == bv) or (op in _NE_OPS and av != bv):
            return i
    return -1


def detect(text, budget=None):
    """(start, end) of the SQL injection shape found in ``text`` (lower-cased), or None."""
    n = len(text)
    if n < 2:
        return None
    if ("`" in text or '"' in text) and is_prose(text):
        # In prose, paired backticks (Markdown/reST code spans) and paired double quotes (how
        # documentation marks names: the "len()" function) delimit words, not SQL strings or
        # identifiers; a tautology or a union in them is still found below.
        for q in '`"':
            if q in text and text.count(q) % 2 == 0:
                text = text.replace(q, " ")
    toks = _tokens(text, 0, budget)
    i = _anywhere(toks)
    if i < 0:
        i = _tautology(toks)
    if i >= 0:
        return toks[i][2], min(n, toks[i][2] + 48)
    for q in "'\"`":
        at = text.find(q)
        if at < 0:
            continue
        rest = _tokens(text, at + 1, budget, 6)  # a breakout is decided by the first few tokens
        if q == "`" and rest and rest[0][0] == _CMT and rest[0][1][:2] == "--" and rest[0][1][2:3] not in ("", " ", "\t", "\n", "\r"):
            continue  # backticks quote MySQL identifiers, and MySQL's "--" comment needs a space after it
        ctx = [(_STR, text[:at], 0)] + rest
        end = _breakout(ctx, q)
        if end is not None:
            return at, min(n, (ctx[end - 1][2] + len(ctx[end - 1][1])) if end - 1 > 0 else at + 1)
    return None
