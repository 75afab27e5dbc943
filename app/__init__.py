"""The Frontdesk desktop app: a PySide6 client of the embedded issuer's DeskService."""
