"""Looking after the issuer: settings, signing keys and their certificates, credential type definitions,
reachability, backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from issuer import reachability
from issuer.config import Settings, SettingsError, save_settings
from issuer.crypto.certificates import CertificateError, IssuerCertificates
from issuer.crypto.encryption_keys import EncryptionKeys
from issuer.crypto.keys import KeyRing
from issuer.crypto.trust_anchors import TrustAnchors
from issuer.errors import Conflict, InvalidInput
from issuer.protocol.credential_types import CredentialTypes
from issuer.reachability import Reachability
from issuer.service import profile
from issuer.service.actors import Acting
from issuer.service.context import Context
from issuer.storage.backup import BackupError, create_backup, stage_restore


class Administration:
    def __init__(
        self,
        ctx: Context,
        keys: KeyRing,
        types: CredentialTypes,
        certificates: IssuerCertificates,
        encryption_keys: EncryptionKeys | None = None,
    ) -> None:
        self._ctx = ctx
        self._keys = keys
        self._types = types
        self._certificates = certificates
        self._encryption_keys = encryption_keys

    def save_settings(self, changes: dict[str, Any], operator: Acting = None) -> Settings:
        """Store settings for the next start (ports, public URL, retention, the HAIP profile); settings the
        issuer could not start with (the HAIP profile without its certificate) are refused, not saved."""
        name = self._ctx.require_admin(operator, "changing the settings")
        try:
            saved = save_settings(self._ctx.settings.data_dir, changes, self._startable)
        except SettingsError as error:
            raise InvalidInput(str(error)) from error
        self._ctx.audit(name, "settings_changed", "", **{k: str(v) for k, v in changes.items()})
        return saved

    def check_public_url(self, url: str | None = None) -> Reachability:
        """What a wallet sees at the public URL (does network I/O: call it off the GUI thread)."""
        return reachability.check(url or self._ctx.issuer_url)

    def key_info(self) -> list[dict[str, Any]]:
        active = self._keys.active.kid
        return [
            {"kid": key.kid, "fingerprint": key.fingerprint, "created_at": key.created_at, "active": key.kid == active}
            for key in self._keys.all()
        ]

    def rotate_key(self, operator: Acting = None) -> dict[str, Any]:
        """A new signing key; the old ones stay in the JWKS so their credentials still verify. With its
        own CA, the issuer certifies the new key in the same step; the encryption key rotates with it,
        the old one still accepted for a grace period."""
        name = self._ctx.require_admin(operator, "rotating the signing key")
        if self._ctx.settings.haip and not self._certificates.own_ca:
            raise Conflict(
                "under the HAIP profile a new key needs a certificate at once, and your organisation's CA "
                "issues it: switch the profile off, rotate, run 'certificates csr' and 'certificates import', "
                "then switch it on again"
            )
        with self._ctx.transaction():
            key = self._keys.rotate()
            if self._certificates.own_ca:
                self._certificates.certify(key, self._ctx.issuer_url)
            if self._encryption_keys is not None:
                self._encryption_keys.rotate()
            self._ctx.audit(name, "key_rotated", key.kid)
        return next(info for info in self.key_info() if info["kid"] == key.kid)

    # ----- certificates -----

    def create_issuing_ca(self, country: str, operator: Acting = None, *, replace: bool = False) -> dict[str, Any]:
        """The issuer's own CA and a certificate from it for the active signing key; signatures carry the
        chain in `x5c` from now on."""
        name = self._ctx.require_admin(operator, "making the issuing CA")
        try:
            with self._ctx.transaction():
                self._certificates.create_ca(
                    country, self._ctx.settings.issuer_name, self._ctx.issuer_url, replace=replace
                )
        except CertificateError as error:
            raise InvalidInput(str(error)) from error
        self._ctx.audit(name, "issuing_ca_created", self._keys.active.kid, country=country.strip().upper())
        return self.certificate_status()

    def certificate_status(self) -> dict[str, Any]:
        """The trust anchor (PEM, for verifiers), whether the issuer is its own CA, the certificates with
        their end dates, and a warning for each that ends within 30 days."""
        return {
            "trust_anchor": self._certificates.trust_anchor_pem(),
            "own_ca": self._certificates.own_ca,
            "certificates": [info.to_json() for info in self._certificates.infos()],
            "warnings": self._certificates.expiring(),
        }

    def _startable(self, settings: Settings) -> None:
        """SettingsError when the issuer could not start with `settings` (docs/haip.md)."""
        anchors = TrustAnchors.load(settings.data_dir, settings.wallet_trust_anchors)
        issuer_url = settings.public_url or self._ctx.issuer_url
        profile.check(settings, issuer_url, self._keys.active, self._types, anchors)

    def certificate_warnings(self) -> list[str]:
        """What the status bar says: certificates that end within 30 days."""
        return self._certificates.expiring()

    @property
    def credential_types_folder(self) -> Path:
        return self._types.folder

    def reload_credential_types(self, operator: Acting = None) -> None:
        """Read the definitions again; a broken file leaves the current ones in place."""
        name = self._ctx.require_admin(operator, "reloading the credential types")
        self._types.reload()
        self._ctx.audit(name, "credential_types_reloaded", "", types=sorted(self._types))

    def backup(self, destination: Path | IO[bytes], operator: Acting = None) -> dict[str, Any]:
        """Write the data folder as one tar.gz to `destination` (a Path or a binary file).

        Consistent while wallets are served: the files are copied inside one transaction."""
        name = self._ctx.require_admin(operator, "a backup")
        self._refuse_on_shared_store()
        info = create_backup(self._ctx.settings.data_dir, destination, lock=self._ctx.transaction())
        self._ctx.audit(name, "backup_created", "", files=info.files)
        return {"files": info.files, "size": info.size, "created_at": info.created_at}

    def restore_at_next_start(self, archive: Path, operator: Acting = None) -> dict[str, Any]:
        """Check a backup and stage it: it replaces the data when the issuer next starts.

        A running issuer cannot swap its data folder under itself; at the next start the
        current contents move to `<data>.before-restore-<time>`, nothing is deleted."""
        name = self._ctx.require_admin(operator, "a restore")
        self._refuse_on_shared_store()
        try:
            checked = stage_restore(Path(archive), self._ctx.settings.data_dir)
        except BackupError as error:
            raise InvalidInput(str(error)) from error
        self._ctx.audit(name, "restore_staged", "", files=checked.files, backup_created_at=checked.created_at)
        return {"files": checked.files, "created_at": checked.created_at}

    def _refuse_on_shared_store(self) -> None:
        if self._ctx.settings.store_url is not None:
            raise InvalidInput(
                "this issuer keeps its data in a PostgreSQL store: back it up with pg_dump and keep the key "
                "passphrase (see docs/deployment.md); a folder backup would miss it"
            )
