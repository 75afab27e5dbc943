"""The desk as a client of a running issuer: IssuerService's desk interface over the admin API.

No Qt and no Flask here: plain HTTP (urllib), so that the desktop app drives an issuer on another
machine exactly as it drives the one it embeds (issuer.desk_api).
"""

from issuer.remote.connection import AdminConnection, check_remote_url
from issuer.remote.service import RemoteIssuer, RemoteRuntime

__all__ = ["AdminConnection", "RemoteIssuer", "RemoteRuntime", "check_remote_url"]
