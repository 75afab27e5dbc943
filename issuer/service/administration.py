"""Looking after the issuer: settings, signing keys, credential type definitions, reachability,
backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from issuer import reachability
from issuer.config import Settings, SettingsError, save_settings
from issuer.crypto.keys import KeyRing
from issuer.errors import InvalidInput
from issuer.protocol.credential_types import CredentialTypes
from issuer.reachability import Reachability
from issuer.service.context import Context
from issuer.storage.backup import BackupError, create_backup, stage_restore


class Administration:
    def __init__(self, ctx: Context, keys: KeyRing, types: CredentialTypes) -> None:
        self._ctx = ctx
        self._keys = keys
        self._types = types

    def save_settings(self, changes: dict[str, Any], operator: str | None = None) -> Settings:
        """Store settings for the next start (ports, public URL, retention)."""
        try:
            saved = save_settings(self._ctx.settings.data_dir, changes)
        except SettingsError as error:
            raise InvalidInput(str(error)) from error
        self._ctx.audit(operator, "settings_changed", "", **{k: str(v) for k, v in changes.items()})
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

    def rotate_key(self, operator: str | None = None) -> dict[str, Any]:
        """A new signing key; the old ones stay in the JWKS so their credentials still verify."""
        with self._ctx.transaction():
            key = self._keys.rotate()
            self._ctx.audit(operator, "key_rotated", key.kid)
        return next(info for info in self.key_info() if info["kid"] == key.kid)

    @property
    def credential_types_folder(self) -> Path:
        return self._types.folder

    def reload_credential_types(self, operator: str | None = None) -> None:
        """Read the definitions again; a broken file leaves the current ones in place."""
        self._types.reload()
        self._ctx.audit(operator, "credential_types_reloaded", "", types=sorted(self._types))

    def backup(self, destination: Path | IO[bytes], operator: str | None = None) -> dict[str, Any]:
        """Write the data folder as one tar.gz to `destination` (a Path or a binary file).

        Consistent while wallets are served: the files are copied inside one transaction."""
        self._refuse_on_shared_store()
        info = create_backup(self._ctx.settings.data_dir, destination, lock=self._ctx.transaction())
        self._ctx.audit(operator, "backup_created", "", files=info.files)
        return {"files": info.files, "size": info.size, "created_at": info.created_at}

    def restore_at_next_start(self, archive: Path, operator: str | None = None) -> dict[str, Any]:
        """Check a backup and stage it: it replaces the data when the issuer next starts.

        A running issuer cannot swap its data folder under itself; at the next start the
        current contents move to `<data>.before-restore-<time>`, nothing is deleted."""
        self._refuse_on_shared_store()
        try:
            checked = stage_restore(Path(archive), self._ctx.settings.data_dir)
        except BackupError as error:
            raise InvalidInput(str(error)) from error
        self._ctx.audit(operator, "restore_staged", "", files=checked.files, backup_created_at=checked.created_at)
        return {"files": checked.files, "created_at": checked.created_at}

    def _refuse_on_shared_store(self) -> None:
        if self._ctx.settings.store_url is not None:
            raise InvalidInput(
                "this issuer keeps its data in a PostgreSQL store: back it up with pg_dump and keep the key "
                "passphrase (see docs/deployment.md); a folder backup would miss it"
            )
