"""Render every page of the desktop app with sample data to PNG files (for the README).

The New offer page is taken before and after the wallet takes its credential, and the printed
take-away sheet is rendered from its PDF (pdftoppm, from poppler-utils).

Runs without a display:
`QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [OUT_DIR] [--dark] [--language de]`
(or under `xvfb-run` for a real X window). The issuer runs for real in a temporary data
folder, and a test wallet redeems some of the sample offers over HTTP.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QPdfWriter  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app import i18n, style  # noqa: E402
from app.main import parse_args, start_issuer  # noqa: E402
from app.pages.compose import ComposePage  # noqa: E402
from app.pages.login import LoginDialog  # noqa: E402
from app.tasks import Tasks  # noqa: E402
from app.widgets.takeaway import print_sheet  # noqa: E402
from app.window import MainWindow  # noqa: E402
from issuer.records.holders import HolderRequest  # noqa: E402
from issuer.records.operators import Role  # noqa: E402
from issuer.service import IssuerService, OfferRequest  # noqa: E402
from wallet.client import TestWallet  # noqa: E402
from wallet.code_flow import CodeFlowWallet  # noqa: E402

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
CARD = {"given_name": "Grace", "family_name": "Hopper", "member_id": "M-1906", "level": "gold"}


def sample_data(service: IssuerService) -> None:
    service.operators.create_first("Ada", "correct horse battery")
    service.operators.add("Ada", "Bob", Role.OPERATOR, "staple battery horse")
    service.operators.add("Ada", "Grace", Role.ADMIN, "staple battery horse")
    service.operators.change_password("Grace", "staple battery horse", "correct horse battery")
    service.operators.add("Ada", "Carl", Role.OPERATOR, "staple battery horse")
    service.operators.set_enabled("Ada", "Carl", False)
    service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "P-19061209", "grace@example.org"), "Ada")
    service.desk.register_holder(HolderRequest("Alan", "Turing", "identity_card", "ID-19120623"), "Ada")
    wallet = TestWallet()
    issued = service.offers.create(OfferRequest(["membership_card"], CARD, operator="Ada"))
    wallet.receive(issued.offer_uri)
    waiting = service.offers.create(OfferRequest(["employee_badge"], BADGE, deferred=True, operator="Ada"))
    session = wallet.resolve_offer(waiting.offer_uri)
    wallet.token(session)
    wallet.request_credential(session, "employee_badge")
    wrong = service.offers.create(OfferRequest(["employee_badge"], BADGE, tx_code=True, operator="Ada"))
    session = wallet.resolve_offer(wrong.offer_uri)
    wallet.post_form(
        f"{session.issuer}/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": session.grant["pre-authorized_code"],
            "tx_code": "000000",
        },
    )
    lost = wallet.receive(service.offers.create(OfferRequest(["employee_badge"], BADGE, operator="Ada")).offer_uri)
    service.ledger.change_status(lost[0].notification_id or "", "revoke", "Ada", "phone lost")
    wallet.close()


def wallet_signing_in(service: IssuerService) -> CodeFlowWallet:
    """A wallet whose browser waits at the desk with its confirmation code."""
    wallet = CodeFlowWallet()
    session = wallet.authorization_session(service.issuer_url, ["membership_card"])
    wallet.start(session, config_ids=["membership_card"])
    return wallet


def hand_over(compose: ComposePage) -> None:
    """The person scans the offer on the panel and types the code the operator reads out."""
    created = compose.current
    assert created is not None
    with TestWallet() as wallet:
        wallet.receive(created.offer_uri, created.tx_code)
    deadline = time.monotonic() + 10
    while not compose.panel.result.text().startswith("Received") and time.monotonic() < deadline:
        time.sleep(0.01)
        QApplication.processEvents()


def take_away_sheet(compose: ComposePage, path: Path) -> None:
    """The sheet as printed: into a PDF, then that PDF as a PNG (pdftoppm, from poppler-utils)."""
    sheet = compose.sheet()
    assert sheet is not None
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "sheet.pdf"
        writer = QPdfWriter(str(pdf))
        print_sheet(writer, sheet)
        del writer
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf), str(path.with_suffix(""))], check=True)
    print(path)


def settle(tasks: Tasks) -> None:
    """Let queued events arrive and every task they started finish and show its result."""
    QApplication.processEvents()
    while not tasks.is_idle():
        time.sleep(0.01)
        QApplication.processEvents()


def save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    widget.grab().save(str(path))
    print(path)


def main() -> int:
    parser = argparse.ArgumentParser(description="Render every page of the desktop app to PNG files")
    parser.add_argument("out", nargs="?", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--dark", action="store_true", help="the dark colour scheme")
    parser.add_argument("--language", choices=sorted(i18n.LANGUAGES), default="en")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    i18n.install(app, args.language)
    style.apply(style.DARK if args.dark else style.LIGHT)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = start_issuer(parse_args(["--data-dir", tmp, "--port", "0", "--admin-port", "0"]))
        service = runtime.service
        assert service is not None
        tasks = Tasks()
        login = LoginDialog(service, tasks)
        settle(tasks)
        login.name.setText("Ada")
        save(login, out / "login.png")
        sample_data(service)
        window = MainWindow(runtime, operator="Ada", tasks=tasks)
        window.show()
        compose = window.compose
        grace = service.desk.search_holders("Grace Hopper")[0]
        compose.use_holder(grace)
        for name, value in {"employee_id": "E-1906", "department": "Navy"}.items():
            compose.field(name).setText(value)
        settle(tasks)
        compose.create_offer()
        signing_in = wallet_signing_in(service)
        settle(tasks)
        window.customer_display.show()
        save(window.customer_display, out / "customer-display.png")
        pages = {
            "compose": window.compose,
            "offers": window.offers,
            "holders": window.holders,
            "sign-ins": window.sign_ins,
            "ledger": window.ledger,
            "audit": window.audit,
            "settings": window.settings_page,
            "operators": window.operators_page,
        }
        for name, page in pages.items():
            window.tabs.setCurrentWidget(page)
            settle(tasks)
            if page in (window.sign_ins, window.ledger, window.operators_page):
                page.table.selectRow(1 if page is window.operators_page else 0)
            save(window, out / f"{name}.png")
        signing_in.close()
        take_away_sheet(compose, out / "take-away-sheet.png")
        window.tabs.setCurrentWidget(compose)
        hand_over(compose)
        settle(tasks)
        save(window, out / "compose-issued.png")
        window.lock()
        settle(tasks)
        save(window, out / "lock.png")
        window.stop_issuer()
        window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
