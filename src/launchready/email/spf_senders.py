"""The SPF mechanism that authorises each configured sender (a provider name, include:X, ip4:X, ...).

email.spf checks the record against them and email.dmarc asks whether each one aligns.
"""

from __future__ import annotations

# The SPF include domain of the providers founders commonly send through (config email.senders).
PROVIDER_INCLUDES: dict[str, str] = {
    "google": "_spf.google.com",
    "gmail": "_spf.google.com",
    "workspace": "_spf.google.com",
    "microsoft": "spf.protection.outlook.com",
    "office365": "spf.protection.outlook.com",
    "outlook": "spf.protection.outlook.com",
    "postmark": "spf.mtasv.net",
    "sendgrid": "sendgrid.net",
    "amazonses": "amazonses.com",
    "ses": "amazonses.com",
    "mailgun": "mailgun.org",
    "mailchimp": "servers.mcsv.net",
    "mandrill": "spf.mandrillapp.com",
    "sparkpost": "sparkpostmail.com",
    "brevo": "spf.brevo.com",
    "sendinblue": "spf.sendinblue.com",
    "mailjet": "spf.mailjet.com",
    "zoho": "zoho.com",
    "fastmail": "spf.messagingengine.com",
    "protonmail": "_spf.protonmail.ch",
    "proton": "_spf.protonmail.ch",
}


def sender_mechanisms(senders: tuple[str, ...]) -> tuple[str, ...]:
    """SPF mechanisms for the configured senders: provider names, include:X, ip4:X, ip6:X, a, mx."""
    out: list[str] = []
    for sender in senders:
        s = sender.strip()
        low = s.lower()
        if low.startswith(("include:", "ip4:", "ip6:", "a:", "mx:")) or low in ("a", "mx"):
            mech = s
        elif low in PROVIDER_INCLUDES:
            mech = f"include:{PROVIDER_INCLUDES[low]}"
        else:
            mech = f"include:<SPF domain of {s}>"
        if mech not in out:
            out.append(mech)
    return tuple(out)
