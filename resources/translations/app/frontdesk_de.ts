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
