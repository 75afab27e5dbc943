"""Is the issuer reachable through its public URL? A wallet's view, with reasons a person can act on.

The check fetches the Credential Issuer metadata the way a wallet would (OID4VCI §12.2.2) and
names what is wrong: http instead of https, a host that does not resolve, a proxy that does
not forward, or a `credential_issuer` that differs from the URL the wallet started from.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

METADATA_SEGMENT = "/.well-known/openid-credential-issuer"
TIMEOUT = 5.0


@dataclass(frozen=True)
class Reachability:
    url: str
    reachable: bool
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.reachable and not self.problems:
            return f"Wallets can reach {self.url}."
        return "; ".join(self.problems)


def metadata_url(issuer_url: str) -> str:
    parts = urlsplit(issuer_url)
    return f"{parts.scheme}://{parts.netloc}{METADATA_SEGMENT}{parts.path.rstrip('/')}"


def check(issuer_url: str, *, timeout: float = TIMEOUT) -> Reachability:
    parts = urlsplit(issuer_url)
    problems: list[str] = []
    if parts.scheme != "https":
        problems.append("the public URL uses http: wallets only accept https (put a TLS proxy in front)")
    if parts.hostname in ("127.0.0.1", "localhost", "::1"):
        problems.append("the public URL is this computer's loopback address: phones cannot reach it")
    try:
        with urllib.request.urlopen(metadata_url(issuer_url), timeout=timeout) as response:
            body = json.loads(response.read(256 * 1024))
    except urllib.error.HTTPError as error:
        problems.append(f"the server answered HTTP {error.code}: the proxy may not forward to the issuer")
        return Reachability(issuer_url, False, problems)
    except urllib.error.URLError as error:
        problems.append(_reason(error.reason, parts.hostname or ""))
        return Reachability(issuer_url, False, problems)
    except (OSError, ValueError) as error:
        problems.append(f"no valid metadata came back ({error})")
        return Reachability(issuer_url, False, problems)
    advertised = body.get("credential_issuer") if isinstance(body, dict) else None
    if advertised != issuer_url:
        problems.append(f"the metadata names {advertised!r} as credential_issuer, not {issuer_url!r}")
    return Reachability(issuer_url, True, problems)


def _reason(reason: object, host: str) -> str:
    if isinstance(reason, socket.gaierror):
        return f"the host {host!r} does not resolve"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused: nothing listens there, or the proxy is down"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "no answer in time: a firewall may block the port"
    return f"the issuer could not be reached ({reason})"
