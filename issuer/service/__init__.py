"""The issuer's service: `IssuerService` and the values its callers exchange with it."""

from issuer.service.facade import IssuerService
from issuer.service.types import (
    PRE_AUTHORIZED_GRANT,
    AccessGrant,
    CreatedOffer,
    IssuanceResult,
    OfferGrant,
    OfferRequest,
    OfferState,
    SignInState,
    TokenResult,
)

__all__ = [
    "PRE_AUTHORIZED_GRANT",
    "AccessGrant",
    "CreatedOffer",
    "IssuanceResult",
    "IssuerService",
    "OfferGrant",
    "OfferRequest",
    "OfferState",
    "SignInState",
    "TokenResult",
]
