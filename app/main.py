"""`frontdesk`: the desktop app around the embedded issuer.

The issuer runs in this process on background threads (`issuer.runtime`); the window is a
client of its DeskService. Closing the window stops the issuer. With `--connect URL` the window is
a desk of an issuer elsewhere, through its admin API (issuer.remote).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app import i18n, style
from app.desk_choice import DeskChoice, chosen_url
from app.i18n import LANGUAGES, SYSTEM
from app.session import DeskSession
from app.tasks import Tasks
from issuer import selftest
from issuer.config import Settings
from issuer.desk_api import DeskRuntime
from issuer.errors import ServiceError
from issuer.remote import RemoteIssuer, RemoteRuntime
from issuer.runtime import IssuerRuntime, PortUnavailable

HEADLESS_PLATFORMS = ("offscreen", "minimal")
SIGNAL_POLL_MS = 250


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="frontdesk", description="Frontdesk Issuer desktop app")
    parser.add_argument("--data-dir", type=Path, help="data folder (default: the user data folder)")
    parser.add_argument("--port", type=int, help="issuer port; 0 picks a free one (default 8440)")
    parser.add_argument("--admin-port", type=int, help="admin API port; 0 picks a free one (default 8441)")
    parser.add_argument(
        "--connect",
        metavar="URL",
        help="be a desk of the issuer whose admin API is at URL (https; http on this computer only)",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="use the embedded issuer this run, whatever issuer Settings names (so do --data-dir and the ports)",
    )
    parser.add_argument(
        "--language",
        choices=[SYSTEM, *LANGUAGES],
        help="the app's language this run (default: as chosen in Settings, else the system's)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="issue one credential to a built-in test wallet with a temporary data folder, print the result, exit",
    )
    return parser.parse_args(argv)


def embedded_asked(args: argparse.Namespace) -> bool:
    """`--embedded`, or an option only the embedded issuer takes (its folder, its ports)."""
    return bool(args.embedded) or any(given is not None for given in (args.data_dir, args.port, args.admin_port))


def start_issuer(args: argparse.Namespace) -> IssuerRuntime:
    """The embedded issuer, listening when this returns; it holds the data folder's lock until stopped."""
    settings = Settings.load(data_dir=args.data_dir, port=args.port, admin_port=args.admin_port)
    runtime = IssuerRuntime(settings, command="frontdesk (the desktop app)")
    runtime.start()
    return runtime


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.self_test:  # no window, no QApplication: works without a display
        return selftest.main([])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    i18n.install(app, i18n.resolve(args.language or DeskChoice.load().language))
    QApplication.setWindowIcon(style.window_icon())
    style.apply()
    runtime: DeskRuntime
    try:
        url = chosen_url(args.connect, embedded=embedded_asked(args))
        runtime = connect_to(url) if url else start_issuer(args)
    except PortUnavailable as error:
        return _could_not_start(error.cause)
    except (OSError, ValueError) as error:
        return _could_not_start(getattr(error, "strerror", None) or str(error))
    except ServiceError as error:
        return _could_not_start(i18n.service_message(error.message))
    if runtime.service is None:
        raise RuntimeError("the issuer started without its service")
    tasks = Tasks()
    session = DeskSession(runtime, tasks)
    # Ctrl+C and SIGTERM close the login dialog or the window, which stops the issuer (and removes
    # server.json); the timer lets Python run its signal handlers while Qt's loop runs.
    previous = {signum: signal.signal(signum, lambda *_: _close(session)) for signum in (signal.SIGINT, signal.SIGTERM)}
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(SIGNAL_POLL_MS)
    try:
        account = session.first_login()
        if account is None:
            tasks.shutdown()
            runtime.stop()
            return 0
        if isinstance(runtime, RemoteRuntime) and not _connected(runtime):
            tasks.shutdown()
            runtime.stop()
            return 1
        session.open_window(account)
        print(f"issuer: {runtime.issuer_url}", flush=True)
        print(f"admin: {runtime.admin_url}", flush=True)
        try:
            return app.exec()
        finally:
            session.stop_issuer()
    finally:
        ticker.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def connect_to(url: str) -> RemoteRuntime:
    """A desk of the issuer at `url`; nothing is asked of it before the operator logs in."""
    return RemoteRuntime(RemoteIssuer(url))


def _connected(runtime: RemoteRuntime) -> bool:
    """After the login: read what the pages show at once (settings, types, keys) and start the
    event stream; a failure is said like a start that failed."""
    try:
        if runtime.service is not None:
            runtime.service.connect()
        return True
    except (OSError, ServiceError, ValueError) as error:
        _could_not_start(i18n.service_message(error.message if isinstance(error, ServiceError) else str(error)))
        return False


def _close(session: DeskSession) -> None:
    shown = session.current()
    if shown is not None:
        shown.close()


def _could_not_start(cause: str) -> int:
    """Say why the issuer could not start (a port taken, a data folder that is a file), on stderr
    and, with a screen, in a message box."""
    message = f"The issuer could not start: {cause}"
    print(f"frontdesk: {message}", file=sys.stderr)
    if QGuiApplication.platformName() not in HEADLESS_PLATFORMS:
        QMessageBox.critical(None, "Frontdesk Issuer", message)
    return 1


if __name__ == "__main__":
    sys.exit(main())
