"""Signed rule and policy bundles: updates a fleet can trust, versions that only go forward.

Device side: ``format`` (the file), ``trust`` (keys, signatures), ``state`` (anti-rollback file),
``install`` (verify, keep, record, apply), ``delivery`` (file watch, MQTT topic). Host side: ``build``
(keygen, build, sign), never imported by the device-side modules. docs/BUNDLES.md has the threat model.
"""

from .format import BundleError  # noqa: F401

__all__ = ["BundleError"]
