"""Lab faults that make the email.* checks fire (records in lab/zone.py and lab/mail_zone.py,
the MTA-STS policy site in lab/mta_sts.py, the app's mail in lab/mail_faults.py)."""

from __future__ import annotations

from launchready.core.labfault import LabFault, each

# The messages of the lab's smoke flows (lab/smoke.yaml): each email step is one message under test.
_CONFIRMATION = "https://app.{domain} flow:signup email:confirmation email"
_INVITATION = "https://app.{domain} flow:invite email:invitation email"
_RESET = "https://app.{domain} flow:password-reset email:reset email"
_ALL_MESSAGES = (_CONFIRMATION, _INVITATION, _RESET)
_MAIL_TEST = {"email": {"test": True}}

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "email-dkim-wrong-key",
        "the app signs its mail with a staging DKIM key, not the one published at lab._domainkey",
        each("email.message.dkim-fail", *_ALL_MESSAGES),
        lab_config=_MAIL_TEST,
    ),
    LabFault(
        "email-from-unaligned",
        "the app sends through a provider with the provider's bounce domain and DKIM d=: both pass, neither "
        "aligns with From",
        each("email.message.dmarc-fail", *_ALL_MESSAGES),
        lab_config=_MAIL_TEST,
    ),
    LabFault(
        "email-reset-link-localhost",
        "the password reset mail links to http://localhost:3000 (the framework's default base URL)",
        each("email.message.local-link", _RESET),
        lab_config=_MAIL_TEST,
    ),
    LabFault(
        "email-invite-delayed",
        "the relay holds invitations in its queue (90 s; the lab test uses 5 s against a 2 s budget)",
        each("email.message.slow-delivery", _INVITATION),
        lab_config={"email": {"test": True, "delivery_s": 2.0, "wait_s": 15.0}},
        lab_settings={"invite_delay_s": 5.0},
    ),
    LabFault(
        "email-html-only",
        "the app's mail templates send HTML only, with no text/plain part",
        each("email.message.no-text-part", *_ALL_MESSAGES),
        lab_config=_MAIL_TEST,
    ),
    LabFault("spf-missing", "the domain publishes no SPF record", each("email.spf.missing", "{domain}")),
    LabFault(
        "spf-plus-all",
        "the SPF record ends in +all (anyone may send as the domain)",
        each("email.spf.permissive-all", "{domain}"),
    ),
    LabFault("dmarc-missing", "no DMARC record at _dmarc", each("email.dmarc.missing", "{domain}")),
    LabFault(
        "spf-multiple",
        "a second SPF record (v=spf1 include:sendgrid.net ~all) beside the real one",
        each("email.spf.multiple", "{domain}"),
    ),
    LabFault(
        "spf-too-many-lookups",
        "SPF includes a bulk-mail provider whose include tree costs 13 DNS lookups",
        each("email.spf.too-many-lookups", "{domain}") + each("email.spf.undeclared-include", "{domain}"),
    ),
    LabFault(
        "dmarc-none-no-rua",
        "DMARC is p=none with no rua= report address",
        each("email.dmarc.none-no-rua", "{domain}"),
    ),
    LabFault(
        "dkim-weak-key",
        "the lab DKIM selector publishes a 1024-bit RSA key",
        each("email.dkim.weak-key", "lab._domainkey.{domain}"),
    ),
    LabFault(
        "dkim-revoked",
        "the lab DKIM selector's key is revoked (empty p=)",
        each("email.dkim.revoked", "lab._domainkey.{domain}"),
    ),
    LabFault(
        "dkim-missing-selector",
        "the declared DKIM selector 'lab' has no key record",
        each("email.dkim.selector-missing", "lab._domainkey.{domain}"),
    ),
    LabFault(
        "dkim-not-for-email",
        "the lab DKIM key carries s=tlsrpt: it is not a key for mail",
        each("email.dkim.not-for-email", "lab._domainkey.{domain}"),
    ),
    LabFault(
        "dkim-sha1-only",
        "the lab DKIM key carries h=sha1, a hash RFC 8301 forbids receivers to verify",
        each("email.dkim.sha1-only", "lab._domainkey.{domain}"),
    ),
    LabFault(
        "dmarc-invalid-optional-tag",
        "DMARC is p=reject with pct=101 (out of range: receivers use pct=100 and still reject)",
        each("email.dmarc.tag-fallback", "{domain}"),
    ),
    LabFault(
        "dmarc-rua-https",
        "DMARC sends aggregate reports only to an https: URI (valid, but most receivers only use mailto:)",
        each("email.dmarc.reports-not-mailto", "{domain}"),
    ),
    LabFault("mx-cname", "the MX names smtp., a CNAME to mail.", each("email.mx.cname-target", "{domain}")),
    LabFault(
        "mta-sts-bad-policy",
        "the MTA-STS policy is in testing mode and names an MX the domain does not use",
        each("email.mta-sts.testing-mode", "https://mta-sts.{domain}/.well-known/mta-sts.txt")
        + each("email.mta-sts.mx-mismatch", "https://mta-sts.{domain}/.well-known/mta-sts.txt"),
    ),
    LabFault("tls-rpt-missing", "no TLS-RPT record at _smtp._tls", each("email.tls-rpt.missing", "{domain}")),
    LabFault(
        "dmarc-sender-unaligned",
        "the config declares Postmark as a sender, but no Postmark DKIM key or Return-Path is published",
        each("email.dmarc.sender-cannot-align", "{domain} sender:postmark"),
    ),
)
