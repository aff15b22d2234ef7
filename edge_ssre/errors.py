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


class BehaviorViolation(SsreError, PermissionError):
    """A monitored operation was blocked by the behaviour policy."""


class EventBlocked(SsreError):
    """The guard blocked an event whose trigger has no way to answer "forbidden" (SNS, S3, EventBridge,
    IoT rules): the invocation fails, so the event goes to the function's retry/DLQ path."""
