"""A high-assurance issuer for tests: the HAIP 1.0 profile, its own issuing CA, a trusted wallet provider,
and an https public URL that the wallets reach over plain HTTP on 127.0.0.1, as a TLS proxy would forward it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from issuer.config import Settings
from issuer.crypto.certificates import IssuerCertificates
from issuer.crypto.keys import KeyRing
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService
from wallet.attestation import WalletProvider
from wallet.certificates import load_anchor
from wallet.client import TestWallet
from wallet.code_flow import CodeFlowWallet

PUBLIC_URL = "https://issuer.haip.test"
ANCHORS_FILE = "wallet-providers.pem"


@dataclass(frozen=True)
class HaipIssuer:
    url: str  # the public URL, the Credential Issuer Identifier
    local_url: str  # where it listens
    data_dir: Path
    service: IssuerService
    runtime: IssuerRuntime
    provider: WalletProvider  # trusted: its CA is in wallet_trust_anchors

    @property
    def trust_anchor(self) -> x509.Certificate:
        return load_anchor(self.service.certificates.trust_anchor_pem() or "")

    def wallet(self, **options: Any) -> TestWallet:
        """A wallet that checks the signed metadata against the issuer's trust anchor."""
        return TestWallet(trust_anchor=self.trust_anchor, connect_to={self.url: self.local_url}, **options)

    def code_flow_wallet(self) -> CodeFlowWallet:
        return CodeFlowWallet(trust_anchor=self.trust_anchor, connect_to={self.url: self.local_url})


def prepare_data_folder(data_dir: Path, provider: WalletProvider, **settings: Any) -> None:
    """Settings for the HAIP profile, the provider's CA as the one wallet trust anchor, and the issuer's
    own CA with a certificate for its signing key, as `frontdesk-issuer certificates init` makes them."""
    data_dir.mkdir(mode=0o700, parents=True)
    (data_dir / ANCHORS_FILE).write_bytes(provider.trust_anchor_pem)
    stored = {"profile": "haip", "public_url": PUBLIC_URL, "wallet_trust_anchors": [ANCHORS_FILE], **settings}
    (data_dir / "settings.json").write_text(json.dumps(stored))
    IssuerCertificates(data_dir, KeyRing(data_dir / "keys")).create_ca("DE", "Frontdesk Issuer", PUBLIC_URL)


@contextmanager
def haip_issuer(data_dir: Path, provider: WalletProvider | None = None, **settings: Any) -> Iterator[HaipIssuer]:
    provider = provider or WalletProvider()
    prepare_data_folder(data_dir, provider, **settings)
    runtime = IssuerRuntime(Settings.load(data_dir, port=0, admin_port=0))
    service = runtime.start()
    local_url = f"http://127.0.0.1:{runtime.settings.port}"
    try:
        yield HaipIssuer(runtime.issuer_url, local_url, data_dir, service, runtime, provider)
    finally:
        runtime.stop()
