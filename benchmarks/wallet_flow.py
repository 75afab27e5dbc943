"""One simulated wallet doing whole pre-authorized issuances, step by step, over keep-alive HTTP.

It drives the project's test wallet (`wallet.client`) and adds the operator's step,
offer creation through the admin API, so that a flow is everything one issuance costs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from wallet.client import TestWallet
from wallet.keys import new_key
from wallet.transport import ConnectionLost, ProtocolViolation, WalletError

STEPS = ("admin_offer", "offer", "metadata", "token", "nonce", "credential", "notification")
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
PREPARED_KEYS = 64


class FlowError(Exception):
    """An answer the flow did not expect; `kind` names the step and the error."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class WalletFlow:
    def __init__(self, issuer_url: str, admin_url: str, admin_token: str, wallet: TestWallet | None = None) -> None:
        self._admin_url = admin_url
        self._admin_headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        self._offer_body = json.dumps(
            {"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS, "by_reference": True}
        ).encode()
        self._wallet = wallet or TestWallet()
        self._keys = [new_key() for _ in range(PREPARED_KEYS)]  # key generation is the wallet's cost, not the issuer's
        self._used = 0
        self.current_step = ""

    def issue(self) -> Iterator[tuple[str, float]]:
        """Run one issuance, yielding (step, seconds) as each step completes."""
        wallet = self._wallet
        started = self._start("admin_offer")
        response = wallet.request(
            "POST", f"{self._admin_url}/api/offers", body=self._offer_body, headers=self._admin_headers
        )
        if response.status != 201:
            raise FlowError(f"admin_offer: HTTP {response.status}")
        offer_uri = response.json()["offer_uri"]
        yield "admin_offer", time.perf_counter() - started
        try:
            self.current_step = "offer"
            session = wallet.resolve_offer(offer_uri)
            yield "offer", wallet.timings["offer"]
            self.current_step = "metadata"
            wallet.fetch_metadata(session)
            yield "metadata", wallet.timings["metadata"]
            self.current_step = "token"
            wallet.token(session)
            yield "token", wallet.timings["token"]
            self.current_step = "nonce"
            nonce = wallet.nonce(session)
            yield "nonce", wallet.timings["nonce"]
            self.current_step = "credential"
            key = self._keys[self._used % PREPARED_KEYS]
            self._used += 1
            received = wallet.request_credential(session, "employee_badge", nonce=nonce, holder_keys=[key])
            if isinstance(received, str) or not received.notification_id:
                raise FlowError("credential: no credential and notification id")
            yield "credential", wallet.timings["credential"]
            self.current_step = "notification"
            wallet.notify(session, received.notification_id)
            yield "notification", wallet.timings["notification"]
        except ConnectionLost as error:
            raise FlowError(f"{self.current_step}: {error}") from error
        except ProtocolViolation as error:
            raise FlowError(f"{error.step}: protocol violation: {error.reason}") from error
        except WalletError as error:
            raise FlowError(f"{error.step}: HTTP {error.status} {error.error}") from error

    def close(self) -> None:
        self._wallet.close()

    def _start(self, step: str) -> float:
        self.current_step = step
        return time.perf_counter()
