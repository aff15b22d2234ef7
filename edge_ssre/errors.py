"""One error root for the whole package.

Every stage error also inherits the matching builtin, so callers that catch
``ValueError`` or ``OSError`` keep working. Messages say what to do and name the
rule id or file where one exists. MicroPython-clean.
"""


class SsreError(Exception):
    """Root of every error edge_ssre raises on purpose."""


class DecodeError(SsreError, ValueError):
    """Event bytes could not be decoded (the guard turns this into a finding)."""


class RuleError(SsreError, ValueError):
    """A rule file is invalid; the message names the rule id."""


class PolicyError(SsreError, ValueError):
    """A policy or profile file is invalid; the message names file, line and key."""


class ProfileError(PolicyError):
    """A device profile is missing or invalid."""


class StoreError(SsreError, OSError):
    """The event store cannot be opened or written."""


class StoreLockedError(StoreError):
    """Another process holds the event store's file lock."""


class UplinkError(SsreError, ConnectionError):
    """The uplink could not deliver (the caller backs off and retries)."""


# CONNACK return codes (MQTT 3.1.1 3.2.2.3) and reason codes (MQTT 5 3.2.2.2) a user may meet
_CONNACK_REASONS = (("0x01", "unacceptable protocol version"), ("0x02", "client id rejected"),
                    ("0x03", "server unavailable"), ("0x04", "bad user name or password"),
                    ("0x05", "not authorized"), ("0x84", "unsupported protocol version"),
                    ("0x85", "client id not valid"), ("0x86", "bad user name or password"),
                    ("0x87", "not authorized"), ("0x88", "server unavailable"), ("0x89", "server busy"),
                    ("0x8a", "banned"), ("0x8c", "bad authentication method"))


class BrokerError(SsreError, ConnectionError):
    """The MQTT broker could not be reached, or refused the connection, within the start-up time
    (``[broker] connect_timeout``). A sidecar already running keeps retrying instead."""

    @classmethod
    def not_reached(cls, host, port, timeout, logged=None):
        """One line from the last connection-trouble line an MQTT client logged (its address,
        errno and retry note taken out): "cannot connect to the MQTT broker at H:P within T s: why"."""
        why = logged or "no answer"
        for head in ("cannot connect to ", "connection to "):
            if why.startswith(head):
                rest = why[len(head):].split(": ", 1)
                why = rest[1] if len(rest) == 2 else "no answer"
        if why.startswith("[Errno ") and "] " in why:
            why = why.split("] ", 1)[1]
        cut = why.find(" (retrying")
        if cut > 0:
            why = why[:cut]
        for code, name in _CONNACK_REASONS:
            if why.endswith("(reason %s)" % code):
                why = why[:-1] + ": %s)" % name
        return cls("cannot connect to the MQTT broker at %s:%d within %g s: %s" % (host, port, timeout, why))


class BehaviorViolation(SsreError, PermissionError):
    """A monitored operation was blocked by the behaviour policy."""


class EventBlocked(SsreError):
    """The guard blocked an event whose trigger has no way to answer "forbidden" (SNS, S3, EventBridge,
    IoT rules): the invocation fails, so the event goes to the function's retry/DLQ path."""
