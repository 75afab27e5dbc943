"""`frontdesk --self-test`: the installed issuer issues one credential to itself and checks it.

It starts the embedded issuer on free loopback ports with a temporary data folder (the
user's data folder is never read or written), creates a pre-authorized offer with a
transaction code, offered by reference, and receives it with the built-in test wallet over
HTTP, step by step as a wallet does (OID4VCI 1.0 §4 offer, §12 metadata, §6 token, §7 nonce,
§8 credential with a `jwt` proof, §11 notification). The credential is then verified
independently of the issuer's code: the signature against the keys published at
`/.well-known/jwt-vc-issuer`, the holder binding, the type, and the disclosed claims against
those offered. Last, the issuer's own record must say the offer was issued.

Qt is never imported: this runs without a display, from the source tree or a frozen bundle.
The result is one line, and the exit status 0 or 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer.config import Settings
from issuer.protocol.credential_types import CredentialType
from issuer.runtime import IssuerRuntime
from issuer.service import OfferRequest, OfferState
from wallet.client import Received, TestWallet, well_known
from wallet.keys import public_jwk
from wallet.transport import WalletError
from wallet.verify import VerificationError, verify_jwt_vc_json, verify_sd_jwt_vc

DEFAULT_CONFIGURATION = "employee_badge"
HTTP_TIMEOUT = 10.0


class SelfTestFailure(Exception):
    """A step of the self-test that did not give what it must; the message says which and why."""


@dataclass(frozen=True)
class SelfTestResult:
    passed: bool
    detail: str
    seconds: float

    @property
    def line(self) -> str:
        if self.passed:
            return f"self-test passed: {self.detail} in {self.seconds:.2f} s"
        return f"self-test failed: {self.detail}"


def run_self_test(configuration_id: str = DEFAULT_CONFIGURATION) -> SelfTestResult:
    """One whole pre-authorized issuance against a fresh embedded issuer, verified."""
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="frontdesk-self-test-") as folder:
            detail = _issue_and_verify(Path(folder) / "data", configuration_id)
    except (SelfTestFailure, WalletError, VerificationError) as error:
        return SelfTestResult(False, str(error), time.perf_counter() - started)
    except Exception as error:  # a self-test reports every failure as its result; the traceback goes to stderr
        traceback.print_exc(file=sys.stderr)
        return SelfTestResult(False, f"{type(error).__name__}: {error}", time.perf_counter() - started)
    return SelfTestResult(True, detail, time.perf_counter() - started)


def _issue_and_verify(data_dir: Path, configuration_id: str) -> str:
    runtime = IssuerRuntime(Settings.load(data_dir=data_dir, port=0, admin_port=0))
    try:
        service = runtime.start()
    except OSError as error:
        raise SelfTestFailure(f"the issuer did not start: {error}") from error
    try:
        credential_type = service.credential_types.get(configuration_id)
        if credential_type is None:
            raise SelfTestFailure(f"no credential type {configuration_id!r} is shipped")
        claims = sample_claims(credential_type)
        request = OfferRequest([configuration_id], claims, tx_code=True, by_reference=True)
        offer = service.offers.create(request)
        with TestWallet(timeout=HTTP_TIMEOUT) as wallet:
            session = wallet.resolve_offer(offer.offer_uri)
            wallet.fetch_metadata(session)
            wallet.fetch_as_metadata(session)
            wallet.token(session, offer.tx_code)
            received = wallet.request_credential(session, configuration_id)
            if not isinstance(received, Received):
                raise SelfTestFailure(f"the issuer deferred the credential (transaction {received})")
            if len(received.credentials) != 1 or not isinstance(received.credentials[0], str):
                raise SelfTestFailure(f"expected one credential, received {len(received.credentials)}")
            if received.notification_id:
                wallet.notify(session, received.notification_id)
            jwks = issuer_keys(wallet, session.issuer)
        configuration = session.metadata["credential_configurations_supported"][configuration_id]
        disclosed = verify_credential(
            received.credentials[0], configuration, jwks, session.issuer, public_jwk(received.holder_keys[0])
        )
        if disclosed != claims:
            differences = claim_differences(claims, disclosed)
            raise SelfTestFailure(f"the credential's claims differ from those offered: {differences}")
        state = service.offers.status(offer.offer_id)["state"]
        if state != OfferState.ISSUED:
            raise SelfTestFailure(f"the issuer recorded the offer as {state!r}, not {OfferState.ISSUED.value!r}")
        return f"issued and verified a {credential_type.format} {configuration_id}"
    finally:
        runtime.stop()


def sample_claims(credential_type: CredentialType) -> dict[str, Any]:
    """A value for every claim of the type, mandatory or not."""
    return {spec.name: f"Self-test {spec.name.replace('_', ' ')}" for spec in credential_type.claims}


def claim_differences(offered: Mapping[str, Any], disclosed: Mapping[str, Any]) -> str:
    """What a credential lacks, adds or changes, by claim name, e.g. "missing department"."""
    parts = [
        (label, sorted(names))
        for label, names in (
            ("missing", offered.keys() - disclosed.keys()),
            ("unexpected", disclosed.keys() - offered.keys()),
            ("changed", {name for name in offered.keys() & disclosed.keys() if offered[name] != disclosed[name]}),
        )
        if names
    ]
    return "; ".join(f"{label} {', '.join(names)}" for label, names in parts)


def issuer_keys(wallet: TestWallet, issuer_url: str) -> dict[str, Any]:
    """The issuer's public keys as a verifier resolves them (SD-JWT VC §3: JWT VC Issuer Metadata)."""
    response = wallet.request("GET", well_known(issuer_url, "jwt-vc-issuer"))
    body = response.json() if response.status == 200 else None
    if not isinstance(body, dict) or body.get("issuer") != issuer_url or not isinstance(body.get("jwks"), dict):
        raise SelfTestFailure(f"the issuer's keys cannot be resolved (HTTP {response.status})")
    return dict(body["jwks"])


def verify_credential(
    credential: str,
    configuration: Mapping[str, Any],
    jwks: Mapping[str, Any],
    issuer_url: str,
    holder_jwk: Mapping[str, Any],
) -> dict[str, Any]:
    """The claims a verifier reads from the credential, once it checks out."""
    credential_format = configuration.get("format")
    if credential_format == "dc+sd-jwt":
        return verify_sd_jwt_vc(
            credential, jwks, issuer=issuer_url, vct=str(configuration["vct"]), holder_jwk=holder_jwk
        )
    if credential_format == "jwt_vc_json":
        subject = verify_jwt_vc_json(credential, jwks, issuer=issuer_url, holder_jwk=holder_jwk)
        return {name: value for name, value in subject.items() if name != "id"}
    raise SelfTestFailure(f"the self-test cannot verify the {credential_format!r} format")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the one-line result (when there is a console to print on) and return the exit status."""
    parser = argparse.ArgumentParser(prog="frontdesk --self-test", description=__doc__.splitlines()[0])
    parser.add_argument("--type", default=DEFAULT_CONFIGURATION, help="credential type to issue (default %(default)s)")
    args = parser.parse_args(argv)
    result = run_self_test(args.type)
    if sys.stdout is not None:  # a windowed Windows executable has no console
        print(result.line, flush=True)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
