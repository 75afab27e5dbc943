"""RemoteIssuer: what the desk's pages call (issuer.desk_api.DeskService), on an issuer elsewhere.

`RemoteRuntime` stands where the app's embedded IssuerRuntime stands: the window reads its
`service` and `issuer_url` and calls `stop` when it closes (which logs the desk out and ends the
event stream; the issuer itself keeps running).
"""

from __future__ import annotations

import logging

from issuer.config import Settings
from issuer.errors import ServiceError
from issuer.events import EventBus
from issuer.remote.accounts import RemoteOperators
from issuer.remote.connection import AdminConnection
from issuer.remote.events import EventStream
from issuer.remote.parts import (
    RemoteAdministration,
    RemoteCredentialTypes,
    RemoteDesk,
    RemoteLedger,
    RemoteOffers,
    RemoteSignIns,
    desk_settings,
)

log = logging.getLogger(__name__)

CONNECT_WAIT = 5.0  # seconds the first connection of the event stream may take


class RemoteIssuer:
    remote = True

    def __init__(self, admin_url: str) -> None:
        self.connection = AdminConnection(admin_url)
        self.events = EventBus()
        self.offers = RemoteOffers(self.connection)
        self.desk = RemoteDesk(self.connection)
        self.operators = RemoteOperators(self.connection)
        self.ledger = RemoteLedger(self.connection)
        self.sign_ins = RemoteSignIns(self.connection)
        self.credential_types = RemoteCredentialTypes(self.connection)
        self.admin = RemoteAdministration(self.connection, self.credential_types)
        self.settings = Settings(data_dir=self.connection.base_url)  # type: ignore[arg-type]  # until connected
        self.issuer_url = ""
        self._stream: EventStream | None = None

    @property
    def connected(self) -> bool:
        return self._stream is not None

    def connect(self) -> None:
        """After the login: read what the pages show at once, and start the event stream."""
        answer = self.connection.request("GET", "/api/settings")
        self.issuer_url = answer["issuer_url"]
        self.settings = desk_settings(answer)
        self.credential_types.reload()
        self.admin.refresh()
        self._stream = EventStream(self.connection, self.events)
        self._stream.start()
        if not self._stream.wait_connected(CONNECT_WAIT):
            log.warning("the issuer's event stream is not connected yet; it keeps trying")

    def storage_problem(self) -> str | None:
        problem = self.connection.request("GET", "/api/storage")["problem"]
        return str(problem) if problem else None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream = None
        try:
            self.operators.logout()
        except (OSError, ServiceError) as error:
            log.info("logging out of the issuer: %s", error)


class RemoteRuntime:
    """The window's handle on a remote issuer, in place of the embedded runtime."""

    def __init__(self, service: RemoteIssuer) -> None:
        self.service: RemoteIssuer | None = service
        self.admin_url = service.connection.base_url

    @property
    def issuer_url(self) -> str:
        return self.service.issuer_url if self.service else ""

    def stop(self) -> None:
        service, self.service = self.service, None
        if service is not None:
            service.close()
