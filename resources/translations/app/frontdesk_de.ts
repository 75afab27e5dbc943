<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context>
    <name></name>
    <message>
        <source>Closing stops the issuer until the app is started again:

• {items}

Close anyway?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Version</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{folder} (on the issuer&apos;s computer, not this one)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Issuer URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Admin URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reachability</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No offer on the panel: create one on the New offer page first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save QR…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Print…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Back up…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restore…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy link</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Customer display</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open data folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About Frontdesk Issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AddOperatorDialog</name>
    <message>
        <source>Frontdesk Issuer: add an operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The person chooses their own password at their first login.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name of the new operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Role</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator: customers, offers, approvals, sign-ins</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Admin: also operators, settings, keys, backups, revocation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Initial password</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Countdown</name>
    <message>
        <source>You can try again now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Too many failed logins for this name: try again in {seconds} s</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LockScreen</name>
    <message>
        <source>The issuer keeps serving wallets and the customer display keeps its screen; approvals wait until someone unlocks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locked by {operator} at {time}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checking …</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Choose a new password to log in.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>New customer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Issuer address and operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whether wallets can reach the issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificate warnings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Storage problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opened the data folder {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No file manager opened {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About Frontdesk Issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frontdesk Issuer {version}

Issues verifiable credentials to wallets over OpenID4VCI.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close Frontdesk Issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operators</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lock</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change my password…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unlocked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your password is changed.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OperatorsPage</name>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Role</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator accounts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reset password…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disable {name}? They cannot log in until an admin enables the account again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disable an operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} is enabled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} is disabled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} is an admin now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} is an operator now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frontdesk Issuer: reset a password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A new password for {name}, who must change it at their next login.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The password of {name} is reset: they choose a new one at their next login.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} is added: they choose their own password at their first login.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>enabled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>disabled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>to change at next login</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>set</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The operators could not be read: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PasswordDialog</name>
    <message>
        <source>At least {length} characters, and neither the name nor the name reversed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Current password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Repeat the new password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Repeat it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The two new passwords differ.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change the password of {name}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name}, your password was set by an admin: choose your own to go on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Frontdesk Issuer: new password</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ServiceMessages</name>
    <message>
        <source>A wallet that signs in is confirmed at the desk: it needs no transaction code and no approval</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An offer must expire between 30 seconds and 7 days from now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose at least one credential type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the document type that was checked: {&apos;, &apos;.join(DOCUMENT_LABELS.values())}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Family name is required: the holder&apos;s family name as on the document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Given name is required: the holder&apos;s given name as on the document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The document number needs at least {DOCUMENT_SUFFIX_LENGTH} characters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The e-mail address is not valid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The offer changed at this moment: look at it again, then cancel it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The offer of this sign-in is finished (cancelled or expired): make a new offer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no holder with this id: choose the holder again on the Holders page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no live offer with this id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no offer with this id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>These claims are not defined by {names}: {&apos;, &apos;.join(extra)}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This offer is already finished ({STATE_WORDS[OfferState(archived[&apos;state&apos;])]})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This offer is issued immediately: there is nothing to approve</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This offer was already {STATE_WORDS[offer.decision]}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a PostgreSQL store needs psycopg: pip install &apos;frontdesk-issuer[postgres]&apos;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a role is {&apos; or &apos;.join(Role)}, not {str(value)[:40]}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>action must be one of {&apos;, &apos;.join(ACTIONS)}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an operator name has 1 to {MAX_NAME_LENGTH} printable characters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>automatic must be true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>batch_size must be at least 1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot read the store password file {path}: {error.strerror}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot {action} a credential that is {state_of(record, current, self._ctx.clock())}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>check_host must be true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>claims must be a JSON object of claim names and values</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>clients must map each client_id to a list of redirect URIs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>country must be a two-letter code and replace true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>credential {record_id} is already revoked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>credential_configuration_ids must be a list of credential type ids</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>expires_in must be a number of seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>grant must be one of {&apos;, &apos;.join(OfferGrant)}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>holder_id must be a holder id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>holders names at most {MAX_HOLDER_IDS} holder ids</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>limit must be a whole number from 1 to 1000</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>lock_after_minutes must be from 0 (never) to 1440</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>max_connections must be from 10 to 10,000</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>max_connections_per_client must be at least 1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>max_connections_per_client must be below max_connections, or one client can take all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>max_credential_requests must be from 1 to 100</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no holder {holder_id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no issued credential {str(record_id)[:60]}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no offer {created.offer_id}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no operator named {name.strip()[:MAX_NAME_LENGTH]}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no sign-in request {str(auth_id)[:40]}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no such credential offer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no such status list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>only {locked_by} or an admin can unlock this window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>operator and password must be given as text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>profile must be {&apos; or &apos;.join((repr(p) for p in PROFILES))}, not {self.profile}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>public URL must be an http or https URL with a host, not {url}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>public URL must have no query and no fragment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>public URL must not end with &apos;/&apos;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rate_limit_window must be from 1 to 3600 seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>replaces must be a list of credential ids</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>request_timeout must be from 1 to 600 seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>state must be one of {&apos;, &apos;.join(STATES)}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>status_list_size must be from 16 to 10,000,000</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>store_url must be a postgresql:// URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>store_url must not hold the password: put it in {STORE_PASSWORD_ENV} or in a file named by store_password_file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the account {account.name} is disabled: an admin can enable it again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the account {changed.name} changed meanwhile: try again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the credential type definitions cannot be read: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the first operator is an admin: add them with the admin role</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the issuer answered {status} without an explanation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the issuer cannot do this now: {message}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the issuer&apos;s address must be an https URL, not {url[:80]}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the issuer&apos;s address must use https: http is allowed on this computer (loopback) only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the new password must differ from the current one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the operator {shown} {state}: name an enabled operator (see &apos;operators list&apos;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the reason is longer than {MAX_REASON} characters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the retention period is at least one day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the store password file {path} is empty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>there are operators already: an admin adds new ones</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>there is already an operator named {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>there is already an operator named {operator.name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this credential offer is no longer valid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this credential was issued without a status list entry</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this issuer keeps its data in a PostgreSQL store: back it up with pg_dump and keep the key passphrase (see docs/deployment.md); a folder backup would miss it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this issuer process serves at most {self.max_streams} desks&apos; event streams</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this request came without an offer: fill in the holder&apos;s claims</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this request is for an offer that already holds the claims</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>this sign-in request is no longer waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tx_code, deferred and by_reference must be true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tx_code_length must be from 4 to 12</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>under the HAIP profile a new key needs a certificate at once, and your organisation&apos;s CA issues it: switch the profile off, rotate, run &apos;certificates csr&apos; and &apos;certificates import&apos;, then switch it on again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown action {action}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown credential type: {&apos;, &apos;.join(unknown)}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown credential type: {config_id[:60]} (the types are {&apos;, &apos;.join(types)})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown field{&apos;s&apos; if len(unknown) &gt; 1 else &apos;&apos;}: {names} (this route takes {&apos;, &apos;.join(allowed)})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown settings: {&apos;, &apos;.join(unknown)}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>url must be text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>wallet_trust_anchors: {path} is not a readable PEM certificate file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{&apos; and &apos;.join((self._types[c].display_name for c in mdocs))} is an mdoc, signed with a document-signer certificate, and the signing key has none yet: make the issuing CA first (Settings, or &apos;frontdesk-issuer certificates init --country XX&apos;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{FIELD_LABELS[name]} is longer than {MAX_FIELD_LENGTH} characters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{FIELD_LABELS[name]} must be text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{WRONG_LOGIN}: wait {math.ceil(waits)} s before the next try</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{account.name} is the last enabled admin and cannot be {change}: make another admin first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{action} is for admins: {account.name} is an operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{action}: the account {account.name} is disabled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{action}: {name.strip()[:MAX_NAME_LENGTH]} is not an operator of this issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{base_url} answers, but not as a Frontdesk issuer&apos;s admin API (HTTP {status}){hint}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{field} is required, as a string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} must be a list of strings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} must be a number of requests, 0 for no limit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} must be a port number from 0 to 65535, not {value}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} must be a whole number (a Unix time for from and until)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} must be at least 1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{name} must be true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{path} holds a token shorter than {MIN_ADMIN_TOKEN_LENGTH} characters; delete it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{path} is open to other users (mode {mode}); run: {fix} &apos;{path}&apos;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{path}: cannot be read: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{path}: must hold a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{session.operator} must choose a new password first (POST /api/password)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{spec.label} is longer than {CLAIM_VALUE_MAX_LENGTH} characters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{spec.label} is required</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{spec.label} must be text, a number or true/false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{what} is for a desk&apos;s login token, not the admin token</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source> min without input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>never</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lock the window after this many minutes without input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lock the window after</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
