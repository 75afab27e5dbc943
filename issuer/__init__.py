"""Frontdesk Issuer: an OpenID for Verifiable Credential Issuance 1.0 Credential Issuer."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("frontdesk-issuer")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
