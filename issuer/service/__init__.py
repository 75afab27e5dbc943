"""The issuer's service: `IssuerService` and the values its callers exchange with it."""

from issuer.service.facade import IssuerService
from issuer.service.types import (
    FINISHED,
    PRE_AUTHORIZED_GRANT,
    STATE_WORDS,
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
    "FINISHED",
    "PRE_AUTHORIZED_GRANT",
    "STATE_WORDS",
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
