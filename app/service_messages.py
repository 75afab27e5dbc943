"""The issuer's refusals, for translation: written by tools/translations.py update, do not edit."""

from PySide6.QtCore import QT_TRANSLATE_NOOP

TEMPLATES = (
    QT_TRANSLATE_NOOP(
        "ServiceMessages",
        "A wallet that signs in is confirmed at the desk: it needs no transaction code and no approval",
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "An offer must expire between 30 seconds and 7 days from now"),
    QT_TRANSLATE_NOOP("ServiceMessages", "Choose at least one credential type"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "Choose the document type that was checked: {', '.join(DOCUMENT_LABELS.values())}"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "Family name is required: the holder's family name as on the document"),
    QT_TRANSLATE_NOOP("ServiceMessages", "Given name is required: the holder's given name as on the document"),
    QT_TRANSLATE_NOOP("ServiceMessages", "The document number needs at least {DOCUMENT_SUFFIX_LENGTH} characters"),
    QT_TRANSLATE_NOOP("ServiceMessages", "The e-mail address is not valid"),
    QT_TRANSLATE_NOOP("ServiceMessages", "The offer changed at this moment: look at it again, then cancel it"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "The offer of this sign-in is finished (cancelled or expired): make a new offer"
    ),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "There is no holder with this id: choose the holder again on the Holders page"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "There is no live offer with this id"),
    QT_TRANSLATE_NOOP("ServiceMessages", "There is no offer with this id"),
    QT_TRANSLATE_NOOP("ServiceMessages", "These claims are not defined by {names}: {', '.join(extra)}"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "This offer is already finished ({STATE_WORDS[OfferState(archived['state'])]})"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "This offer is issued immediately: there is nothing to approve"),
    QT_TRANSLATE_NOOP("ServiceMessages", "This offer was already {STATE_WORDS[offer.decision]}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "a PostgreSQL store needs psycopg: pip install 'frontdesk-issuer[postgres]'"),
    QT_TRANSLATE_NOOP("ServiceMessages", "a role is {' or '.join(Role)}, not {str(value)[:40]}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "action must be one of {', '.join(ACTIONS)}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "an operator name has 1 to {MAX_NAME_LENGTH} printable characters"),
    QT_TRANSLATE_NOOP("ServiceMessages", "automatic must be true or false"),
    QT_TRANSLATE_NOOP("ServiceMessages", "batch_size must be at least 1"),
    QT_TRANSLATE_NOOP("ServiceMessages", "cannot read the store password file {path}: {error.strerror}"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "cannot {action} a credential that is {state_of(record, current, self._ctx.clock())}"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "check_host must be true or false"),
    QT_TRANSLATE_NOOP("ServiceMessages", "claims must be a JSON object of claim names and values"),
    QT_TRANSLATE_NOOP("ServiceMessages", "clients must map each client_id to a list of redirect URIs"),
    QT_TRANSLATE_NOOP("ServiceMessages", "country must be a two-letter code and replace true or false"),
    QT_TRANSLATE_NOOP("ServiceMessages", "credential {record_id} is already revoked"),
    QT_TRANSLATE_NOOP("ServiceMessages", "credential_configuration_ids must be a list of credential type ids"),
    QT_TRANSLATE_NOOP("ServiceMessages", "expires_in must be a number of seconds"),
    QT_TRANSLATE_NOOP("ServiceMessages", "grant must be one of {', '.join(OfferGrant)}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "holder_id must be a holder id"),
    QT_TRANSLATE_NOOP("ServiceMessages", "holders names at most {MAX_HOLDER_IDS} holder ids"),
    QT_TRANSLATE_NOOP("ServiceMessages", "limit must be a whole number from 1 to 1000"),
    QT_TRANSLATE_NOOP("ServiceMessages", "lock_after_minutes must be from 0 (never) to 1440"),
    QT_TRANSLATE_NOOP("ServiceMessages", "max_connections must be from 10 to 10,000"),
    QT_TRANSLATE_NOOP("ServiceMessages", "max_connections_per_client must be at least 1"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "max_connections_per_client must be below max_connections, or one client can take all"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "max_credential_requests must be from 1 to 100"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no holder {holder_id}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no issued credential {str(record_id)[:60]}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no offer {created.offer_id}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no operator named {name.strip()[:MAX_NAME_LENGTH]}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no sign-in request {str(auth_id)[:40]}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no such credential offer"),
    QT_TRANSLATE_NOOP("ServiceMessages", "no such status list"),
    QT_TRANSLATE_NOOP("ServiceMessages", "only {locked_by} or an admin can unlock this window"),
    QT_TRANSLATE_NOOP("ServiceMessages", "operator and password must be given as text"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "profile must be {' or '.join((repr(p) for p in PROFILES))}, not {self.profile}"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "public URL must be an http or https URL with a host, not {url}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "public URL must have no query and no fragment"),
    QT_TRANSLATE_NOOP("ServiceMessages", "public URL must not end with '/'"),
    QT_TRANSLATE_NOOP("ServiceMessages", "rate_limit_window must be from 1 to 3600 seconds"),
    QT_TRANSLATE_NOOP("ServiceMessages", "replaces must be a list of credential ids"),
    QT_TRANSLATE_NOOP("ServiceMessages", "request_timeout must be from 1 to 600 seconds"),
    QT_TRANSLATE_NOOP("ServiceMessages", "state must be one of {', '.join(STATES)}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "status_list_size must be from 16 to 10,000,000"),
    QT_TRANSLATE_NOOP("ServiceMessages", "store_url must be a postgresql:// URL"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages",
        "store_url must not hold the password: put it in {STORE_PASSWORD_ENV} or in a file named by store_password_file",
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "the account {account.name} is disabled: an admin can enable it again"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the account {changed.name} changed meanwhile: try again"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the credential type definitions cannot be read: {error}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the first operator is an admin: add them with the admin role"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the issuer answered {status} without an explanation"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the issuer cannot do this now: {message}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the issuer's address must be an https URL, not {url[:80]}"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "the issuer's address must use https: http is allowed on this computer (loopback) only"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "the new password must differ from the current one"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "the operator {shown} {state}: name an enabled operator (see 'operators list')"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "the reason is longer than {MAX_REASON} characters"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the retention period is at least one day"),
    QT_TRANSLATE_NOOP("ServiceMessages", "the store password file {path} is empty"),
    QT_TRANSLATE_NOOP("ServiceMessages", "there are operators already: an admin adds new ones"),
    QT_TRANSLATE_NOOP("ServiceMessages", "there is already an operator named {name}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "there is already an operator named {operator.name}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "this credential offer is no longer valid"),
    QT_TRANSLATE_NOOP("ServiceMessages", "this credential was issued without a status list entry"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages",
        "this issuer keeps its data in a PostgreSQL store: back it up with pg_dump and keep the key passphrase (see docs/deployment.md); a folder backup would miss it",
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "this issuer process serves at most {self.max_streams} desks' event streams"),
    QT_TRANSLATE_NOOP("ServiceMessages", "this request came without an offer: fill in the holder's claims"),
    QT_TRANSLATE_NOOP("ServiceMessages", "this request is for an offer that already holds the claims"),
    QT_TRANSLATE_NOOP("ServiceMessages", "this sign-in request is no longer waiting"),
    QT_TRANSLATE_NOOP("ServiceMessages", "tx_code, deferred and by_reference must be true or false"),
    QT_TRANSLATE_NOOP("ServiceMessages", "tx_code_length must be from 4 to 12"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages",
        "under the HAIP profile a new key needs a certificate at once, and your organisation's CA issues it: switch the profile off, rotate, run 'certificates csr' and 'certificates import', then switch it on again",
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "unknown action {action}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "unknown credential type: {', '.join(unknown)}"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "unknown credential type: {config_id[:60]} (the types are {', '.join(types)})"
    ),
    QT_TRANSLATE_NOOP(
        "ServiceMessages",
        "unknown field{'s' if len(unknown) > 1 else ''}: {names} (this route takes {', '.join(allowed)})",
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "unknown settings: {', '.join(unknown)}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "url must be text"),
    QT_TRANSLATE_NOOP("ServiceMessages", "wallet_trust_anchors: {path} is not a readable PEM certificate file"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages",
        "{' and '.join((self._types[c].display_name for c in mdocs))} is an mdoc, signed with a document-signer certificate, and the signing key has none yet: make the issuing CA first (Settings, or 'frontdesk-issuer certificates init --country XX')",
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "{FIELD_LABELS[name]} is longer than {MAX_FIELD_LENGTH} characters"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{FIELD_LABELS[name]} must be text"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{WRONG_LOGIN}: wait {math.ceil(waits)} s before the next try"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "{account.name} is the last enabled admin and cannot be {change}: make another admin first"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "{action} is for admins: {account.name} is an operator"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{action}: the account {account.name} is disabled"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "{action}: {name.strip()[:MAX_NAME_LENGTH]} is not an operator of this issuer"
    ),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "{base_url} answers, but not as a Frontdesk issuer's admin API (HTTP {status}){hint}"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "{field} is required, as a string"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{name} must be a list of strings"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{name} must be a number of requests, 0 for no limit"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{name} must be a port number from 0 to 65535, not {value}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{name} must be a whole number (a Unix time for from and until)"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{name} must be at least 1"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{name} must be true or false"),
    QT_TRANSLATE_NOOP(
        "ServiceMessages", "{path} holds a token shorter than {MIN_ADMIN_TOKEN_LENGTH} characters; delete it"
    ),
    QT_TRANSLATE_NOOP("ServiceMessages", "{path} is open to other users (mode {mode}); run: {fix} '{path}'"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{path}: cannot be read: {error}"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{path}: must hold a JSON object"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{session.operator} must choose a new password first (POST /api/password)"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{spec.label} is longer than {CLAIM_VALUE_MAX_LENGTH} characters"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{spec.label} is required"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{spec.label} must be text, a number or true/false"),
    QT_TRANSLATE_NOOP("ServiceMessages", "{what} is for a desk's login token, not the admin token"),
)
