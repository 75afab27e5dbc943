"""The look of the app in one place: message colours, the sizes read from a distance, the QR's colours."""

from __future__ import annotations

PLAIN_STYLE = ""
ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"
RESULT_STYLE = "font-size: 16pt; padding: 12px;"  # the offer's result, where its QR code was
WARNING_STYLE = "color: #8a5300;"
BANNER_STYLE = "background: #fff4d6; border: 1px solid #e0b44c; padding: 6px;"  # what Create will revoke
CHIP_STYLE = "background: #e3ecfa; border-radius: 10px; padding: 2px 8px;"
TX_CODE_STYLE = "font-size: 20pt; font-weight: bold;"  # read out to the holder across the desk
SIGN_IN_TABLE_STYLE = "font-size: 14pt;"  # codes compared with a phone held up at the desk
CUSTOMER_TITLE_STYLE = "font-size: 24pt;"
CUSTOMER_COUNTDOWN_STYLE = "font-size: 16pt;"
CUSTOMER_MESSAGE_STYLE = "font-size: 28pt; padding: 24px;"
QR_DARK = "black"  # ISO/IEC 18004: dark modules on a light background, as scanners expect
QR_LIGHT = "white"
