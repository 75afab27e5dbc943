"""The service's parts the desk's pages call, each over its admin routes (docs/admin-api.md).

Operator names are sent as the pages give them; the issuer records the login token's operator
whatever they say.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from issuer.config import Settings
from issuer.errors import InvalidInput, ServiceError
from issuer.protocol.credential_types import CredentialType, credential_type_from
from issuer.reachability import Reachability
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery
from issuer.remote.connection import AdminConnection
from issuer.service.types import CreatedOffer, OfferRequest

ON_THE_ISSUER = "is done on the issuer's machine (frontdesk-issuer {command} there)"


def _id(value: str) -> str:
    return quote(value, safe="")


def on_the_issuer(what: str, command: str) -> ServiceError:
    return ServiceError(f"{what} {ON_THE_ISSUER.format(command=command)}")


class RemoteOffers:
    def __init__(self, connection: AdminConnection) -> None:
        self._c = connection

    def create(self, request: OfferRequest) -> CreatedOffer:
        body = asdict(request)
        body["replaces"] = list(request.replaces)
        body["claims"] = dict(request.claims)
        if body["expires_in"] is None:
            del body["expires_in"]
        answer = self._c.request("POST", "/api/offers", body)
        return CreatedOffer(
            answer["offer_id"], answer["offer_uri"], answer["tx_code"], answer["credential_offer"], answer["expires_at"]
        )

    def approve(self, offer_id: str, operator: str | None = None) -> dict[str, Any]:
        return dict(self._c.request("POST", f"/api/offers/{_id(offer_id)}/approve", {"operator": operator}))

    def reject(self, offer_id: str, operator: str | None = None, reason: str = "") -> dict[str, Any]:
        body = {"operator": operator, "reason": reason}
        return dict(self._c.request("POST", f"/api/offers/{_id(offer_id)}/reject", body))

    def cancel(self, offer_id: str, operator: str | None = None) -> dict[str, Any]:
        return dict(self._c.request("POST", f"/api/offers/{_id(offer_id)}/cancel", {"operator": operator}))

    def status(self, offer_id: str) -> dict[str, Any]:
        return dict(self._c.request("GET", f"/api/offers/{_id(offer_id)}"))

    def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        return list(self._c.request("GET", "/api/offers/recent", query={"limit": limit})["offers"])


class RemoteDesk:
    def __init__(self, connection: AdminConnection) -> None:
        self._c = connection

    def register_holder(self, request: HolderRequest, operator: str | None) -> dict[str, Any]:
        return dict(self._c.request("POST", "/api/holders", {**asdict(request), "operator": operator}))

    def holder(self, holder_id: str) -> dict[str, Any]:
        return dict(self._c.request("GET", f"/api/holders/{_id(holder_id)}"))

    def search_holders(self, text: str = "", limit: int = 50) -> list[dict[str, Any]]:
        return list(self._c.request("GET", "/api/holders", query={"q": text})["holders"])[:limit]

    def audit_log(self, limit: int = 200, operator: str | None = None) -> list[dict[str, Any]]:
        return list(self._c.request("GET", "/api/audit", query={"operator": operator})["entries"])[:limit]

    def audit_csv(self, operator: str | None = None) -> str:
        return self._c.text("/api/audit", {"operator": operator, "format": "csv"})


class RemoteLedger:
    def __init__(self, connection: AdminConnection) -> None:
        self._c = connection

    def find(self, query: LedgerQuery) -> list[dict[str, Any]]:
        holders = None
        if query.holder_ids is not None:
            holders = ",".join(sorted(query.holder_ids)) or ","  # "," : no holder, which is not "any holder"
        params = {
            "q": query.text,
            "type": query.config_id,
            "state": query.state,
            "operator": query.operator,
            "offer": query.offer_id,
            "holders": holders,
            "from": query.issued_from,
            "until": query.issued_until,
            "limit": query.limit,
        }
        return list(self._c.request("GET", "/api/credentials", query=params)["credentials"])

    def record(self, record_id: str) -> dict[str, Any]:
        return dict(self._c.request("GET", f"/api/credentials/{_id(record_id)}"))

    def change_status(
        self, record_id: str, action: str, operator: str | None = None, reason: str = ""
    ) -> dict[str, Any]:
        if action not in ("revoke", "suspend", "unsuspend"):
            raise InvalidInput(f"unknown action {action!r}")
        body = {"operator": operator, "reason": reason}
        return dict(self._c.request("POST", f"/api/credentials/{_id(record_id)}/{action}", body))


class RemoteSignIns:
    def __init__(self, connection: AdminConnection) -> None:
        self._c = connection

    def pending(self) -> list[dict[str, Any]]:
        return list(self._c.request("GET", "/api/authorizations")["authorizations"])

    def approve(
        self,
        auth_id: str,
        operator: str | None = None,
        claims: Mapping[str, Any] | None = None,
        holder_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"operator": operator}
        if claims is not None:
            body["claims"] = dict(claims)
        if holder_id is not None:
            body["holder_id"] = holder_id
        return dict(self._c.request("POST", f"/api/authorizations/{_id(auth_id)}/approve", body))

    def deny(self, auth_id: str, operator: str | None = None, reason: str = "") -> dict[str, Any]:
        body = {"operator": operator, "reason": reason}
        return dict(self._c.request("POST", f"/api/authorizations/{_id(auth_id)}/deny", body))


class RemoteCredentialTypes(Mapping[str, CredentialType]):
    """The issuer's credential types, built from its definitions; `reload` fetches them again."""

    def __init__(self, connection: AdminConnection) -> None:
        self._c = connection
        self._types: dict[str, CredentialType] = {}
        self.version = 0

    def reload(self) -> None:
        definitions = self._c.request("GET", "/api/credential-types/definitions")["definitions"]
        self._types = {type_id: credential_type_from(type_id, doc) for type_id, doc in definitions.items()}
        self.version += 1

    def __getitem__(self, type_id: str) -> CredentialType:
        return self._types[type_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def desk_settings(answer: Mapping[str, Any]) -> Settings:
    """The issuer's settings as its desk shows them (nothing secret crosses)."""
    shown = {name: value for name, value in answer.items() if name not in ("data_dir", "issuer_url")}
    return Settings(data_dir=Path(answer["data_dir"]), **shown)


class RemoteAdministration:
    def __init__(self, connection: AdminConnection, types: RemoteCredentialTypes) -> None:
        self._c = connection
        self._types = types
        self._keys: list[dict[str, Any]] = []

    def refresh(self) -> None:
        """What the Settings page shows at once, read when the desk connects (keys)."""
        self._keys = list(self._c.request("GET", "/api/keys")["keys"])

    def save_settings(self, changes: dict[str, Any], operator: str | None = None) -> Settings:
        saved = self._c.request("POST", "/api/settings", {**changes, "operator": operator})
        return desk_settings({**saved, "data_dir": "(on the issuer)"})

    def check_public_url(self, url: str | None = None) -> Reachability:
        answer = self._c.request("POST", "/api/public-url/check", {"url": url} if url else {})
        return Reachability(answer["url"], answer["reachable"], list(answer["problems"]))

    def key_info(self) -> list[dict[str, Any]]:
        """The signing keys as read at the last refresh or rotation (the page reads them on its thread)."""
        return list(self._keys)

    def rotate_key(self, operator: str | None = None) -> dict[str, Any]:
        rotated = dict(self._c.request("POST", "/api/keys/rotate", {"operator": operator}))
        self.refresh()
        return rotated

    def create_issuing_ca(self, country: str, operator: str | None = None, *, replace: bool = False) -> dict[str, Any]:
        body = {"country": country, "replace": replace, "operator": operator}
        return dict(self._c.request("POST", "/api/certificates/ca", body))

    def certificate_status(self) -> dict[str, Any]:
        return dict(self._c.request("GET", "/api/certificates"))

    def certificate_warnings(self) -> list[str]:
        return list(self.certificate_status()["warnings"])

    @property
    def credential_types_folder(self) -> Path:
        """Not on this computer: the definitions live in the issuer's data folder."""
        raise on_the_issuer("Editing the credential type definitions", "serve's data folder, credential_types/,")

    def reload_credential_types(self, operator: str | None = None) -> None:
        self._c.request("POST", "/api/credential-types/reload", {"operator": operator})
        self._types.reload()

    def backup(self, destination: Path | IO[bytes], operator: str | None = None) -> dict[str, Any]:
        """Not from a desk: the archive holds the issuer's signing keys, which stay on its machine."""
        raise on_the_issuer("A backup", "backup")

    def restore_at_next_start(self, archive: Path, operator: str | None = None) -> dict[str, Any]:
        raise on_the_issuer("A restore", "restore")
