"""Frontdesk Issuer: an OpenID for Verifiable Credential Issuance 1.0 Credential Issuer."""

# The one place the version is written: pyproject.toml reads it (setuptools dynamic version),
# and so do the installers (packaging/appinfo.py). A literal works the same from a source
# tree, an installed wheel and a frozen bundle, which carries no package metadata.
__version__ = "0.1.0"
