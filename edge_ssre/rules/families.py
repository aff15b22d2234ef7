"""The attack families findings are reported under. MicroPython-clean."""

FAMILIES = (
    "sqli", "nosqli", "xss", "cmdi", "code", "php", "java", "path", "rfi", "ssti",
    "ssrf", "jndi", "xxe", "deser", "crlf", "ldap", "xpath", "orm", "telemetry", "behavior", "limits",
)
