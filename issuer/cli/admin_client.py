"""The running issuer's admin API, as the commands call it: found through `<data>/server.json` (a
loopback URL only) and authenticated with `<data>/admin-token`; every failure is one CommandError."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from issuer.cli.common import (
    ADMIN_TIMEOUT,
    CommandError,
)
from issuer.config import (
    Settings,
)
from issuer.fileio import write_atomic_stream
from issuer.runtime import read_admin_token, running_admin_url


def admin_call(data_dir: Path | None, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the running server's admin API; every failure becomes a CommandError."""
    folder = Settings.load(data_dir).data_dir
    admin_url = running_admin_url(folder)
    not_running = f"no running issuer found in {folder} (start it with 'frontdesk-issuer serve')"
    if admin_url is None:
        raise CommandError(not_running)
    try:
        token = read_admin_token(folder)
    except OSError as error:
        raise CommandError(not_running) from error
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        admin_url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        raise CommandError(_error_message(error)) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CommandError(f"the issuer at {admin_url} is not reachable: {reason}") from error


def admin_download(folder: Path, path: str, destination: Path) -> int:
    """GET an admin API resource into a new owner-only file; returns its size."""
    admin_url = running_admin_url(folder)
    if admin_url is None:
        raise CommandError(f"the issuer running on {folder} names no admin API on this machine in its server.json")
    try:
        headers = {"Authorization": f"Bearer {read_admin_token(folder)}"}
        request = urllib.request.Request(admin_url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as response:
            write_atomic_stream(destination, lambda out: shutil.copyfileobj(response, out))
    except urllib.error.HTTPError as error:
        raise CommandError(_error_message(error)) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CommandError(f"the backup failed: {getattr(error, 'reason', None) or error}") from error
    return destination.stat().st_size


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
        return body.get("error_description") or body.get("error") or f"HTTP {error.code}"
    except ValueError:
        return f"HTTP {error.code}"
