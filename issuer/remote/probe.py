"""Before a desk remembers an issuer's address: is it reachable, and is it a Frontdesk admin API?

Nothing is sent but one GET without a token: a Frontdesk admin API answers it with 401, its JSON
error `invalid_token` and the `frontdesk-admin` bearer realm, whichever of its routes is asked.
Anything else (the wallet-facing port, a web page, a proxy's error) is not an issuer a desk can
log in to.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from issuer.errors import InvalidInput
from issuer.remote.connection import USER_AGENT, check_remote_url

PROBE_PATH = "/api/settings"
REALM = 'realm="frontdesk-admin"'
PROBE_TIMEOUT = 10.0


class NotAnIssuer(InvalidInput):
    """The address answers, but not as a Frontdesk issuer's admin API."""


def probe_issuer(url: str, timeout: float = PROBE_TIMEOUT) -> str:
    """The admin URL as the desk keeps it; raises InvalidInput (a bad or wrong address) or OSError
    (nothing answers there)."""
    base_url = check_remote_url(url)
    request = urllib.request.Request(base_url + PROBE_PATH, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read(4096)
    except urllib.error.HTTPError as error:
        with error:
            status, headers, body = error.code, error.headers, error.read(4096)
    except urllib.error.URLError as error:
        reason = getattr(error.reason, "strerror", None) or str(error.reason)
        raise OSError(f"nothing answers at {base_url} ({reason})") from None
    except TimeoutError:
        raise OSError(f"{base_url} did not answer within {timeout:g} seconds") from None
    if status == 401 and REALM in (headers.get("WWW-Authenticate") or "") and _error_code(body) == "invalid_token":
        return base_url
    hint = " (the admin API listens on its own port, 8441 by default, not the wallets' port)" if status == 404 else ""
    raise NotAnIssuer(f"{base_url} answers, but not as a Frontdesk issuer's admin API (HTTP {status}){hint}")


def _error_code(body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return str(answer.get("error")) if isinstance(answer, dict) else None
