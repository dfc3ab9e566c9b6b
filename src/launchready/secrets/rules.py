"""The secret rules: what a credential of each provider looks like, and how to rotate it.

Each rule has keywords (lower-case literals, at least one of which must occur in a block of text
before its regex runs at all), a regex whose ``secret`` group is the credential, an optional
entropy floor for the secret, a severity and the provider's rotation procedure. The keyword
prefilter is what keeps the scan fast: most files and most commits contain none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from launchready.core.severity import Impact, Severity


class Kind(str, Enum):
    """How a hit of the rule should be judged."""

    PROVIDER = "provider"  # a credential with a recognisable provider format: exposed means exposed
    TEST = "test"  # a provider's test-mode credential: worth removing, no money or data at risk
    GENERIC = "generic"  # a high-entropy value assigned to a secret-looking name: probably a secret
    # A value under a credential-named key of a parsed config or credential file, or a password in a
    # URL or connection string: a credential whatever its entropy (a weak password is worse, not better).
    CREDENTIAL = "credential"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    regex: re.Pattern[str]
    keywords: tuple[str, ...]
    severity: Severity
    rotate: str
    kind: Kind = Kind.PROVIDER
    impact: Impact = Impact.DATA_EXPOSURE
    entropy: float | None = None
    # Further regexes the block must match for the rule to apply (e.g. the provider's name).
    requires: tuple[re.Pattern[str], ...] = field(default=())
    # The regex starts with one of the keywords: it is tried only where a keyword occurs.
    anchored: bool = False


# Name parts between literals are bounded ({0,64}, not *): an unbounded one runs to the end of a
# long run after every keyword occurrence, and the scan goes quadratic on hostile files.
def _re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# What every provider rule adds after rotating: the repository clean-up (a key held only in an
# environment's variables needs the rotation alone).
ROTATE_THEN_PURGE = (
    " Then remove it from the code (read it from the environment instead) and, if the repository "
    "was ever shared, purge it from git history (git filter-repo --replace-text) and force-push."
)

# Values assigned to names containing these are secrets when they look random enough. The regex
# starts at the keyword (the detector runs it only where the keyword occurs: no scan of every
# position); the rest of the name is read back from the text.
_SECRET_KEYWORD = (
    r"secret|token|passw(?:or)?d|passwd|pwd|api_?key|access_?key|private_?key|auth_?key|credentials?|"
    r"signing_?key|encryption_?key"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "aws-access-key-id",
        "AWS access key id (without its secret in the same file)",
        _re(r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b"),
        ("akia", "asia", "abia", "acca"),
        Severity.MEDIUM,
        "Deactivate the key in IAM (aws iam update-access-key --status Inactive), create a new one, "
        "deploy it, then delete the old one (aws iam delete-access-key)." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "aws-secret-access-key",
        "AWS secret access key",
        _re(
            r"(?i)aws_?(?:secret_?(?:access_?)?key|sk)\\?[\"']?\s{0,20}(?::=|=>|=|:)\s{0,20}\\?[\"']?"
            r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        ("aws",),
        Severity.BLOCKER,
        "Deactivate the access key in IAM, create a new one, deploy it, then delete the old one; check "
        "CloudTrail for use of the old key." + ROTATE_THEN_PURGE,
        entropy=3.5,
    ),
    Rule(
        "gcp-service-account",
        "Google Cloud service-account key (JSON)",
        _re(
            r"\"type\"\s{0,20}:\s{0,20}\"service_account\"[\s\S]{0,400}?\"private_key_id\"\s{0,20}:\s{0,20}\"(?P<secret>[0-9a-f]{40})\""
        ),
        ("service_account",),
        Severity.BLOCKER,
        "Delete the key (gcloud iam service-accounts keys delete KEY_ID --iam-account=ACCOUNT), create a "
        "new one or switch to workload identity." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "gcp-api-key",
        "Google API key",
        _re(r"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])"),
        ("aiza",),
        Severity.MEDIUM,
        "Restrict or regenerate the key in Google Cloud console > APIs & Services > Credentials "
        "(browser keys must carry HTTP referrer and API restrictions)." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "azure-storage-key",
        "Azure storage account key",
        _re(r"AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)"),
        ("accountkey",),
        Severity.BLOCKER,
        "Rotate the storage account key (az storage account keys renew --key key1) after moving "
        "clients to the other key." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "azure-client-secret",
        "Azure AD (Entra ID) client secret",
        _re(r"(?<![A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?![A-Za-z0-9_~.\-])"),
        ("q~",),
        Severity.BLOCKER,
        "Delete the client secret in Entra ID > App registrations > Certificates & secrets and "
        "create a new one." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "github-token",
        "GitHub token",
        _re(r"\b(?P<secret>(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{80,255}))\b"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        Severity.BLOCKER,
        "Revoke the token at https://github.com/settings/tokens (or the app's installation) and "
        "issue a new one with the least scopes." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "gitlab-token",
        "GitLab token",
        _re(r"\b(?P<secret>gl(?:pat|rt|dt|ptt)-[A-Za-z0-9_\-]{20,255})(?![A-Za-z0-9_\-])"),
        ("glpat-", "glrt-", "gldt-", "glptt-"),
        Severity.BLOCKER,
        "Revoke the token in GitLab (User settings > Access tokens, or the runner/deploy token page) "
        "and create a new one." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "slack-token",
        "Slack token",
        _re(r"\b(?P<secret>xox[abposr]-[0-9A-Za-z]{8,64}-[0-9A-Za-z-]{8,255})"),
        ("xox",),
        Severity.HIGH,
        "Revoke the token (api.slack.com/apps > your app > OAuth & Permissions > Revoke, or "
        "auth.revoke) and reinstall the app to get a new one." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "slack-webhook",
        "Slack incoming webhook URL",
        _re(
            r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{1,32}/[A-Z0-9]{1,32}/[A-Za-z0-9]{20,64})"
        ),
        ("hooks.slack.com",),
        Severity.HIGH,
        "Delete the webhook in Slack (your app > Incoming Webhooks) and create a new one." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "stripe-live-key",
        "Stripe live secret or restricted key",
        _re(r"\b(?P<secret>(?:sk|rk)_live_[0-9A-Za-z]{20,247})\b"),
        ("sk_live_", "rk_live_"),
        Severity.BLOCKER,
        "Roll the key in the Stripe dashboard (Developers > API keys > Roll key) with an expiry on the "
        "old one, deploy the new key, and review recent API requests for misuse." + ROTATE_THEN_PURGE,
        impact=Impact.PAYMENTS,
    ),
    Rule(
        "stripe-test-key",
        "Stripe test-mode secret key",
        _re(r"\b(?P<secret>(?:sk|rk)_test_[0-9A-Za-z]{20,247})\b"),
        ("sk_test_", "rk_test_"),
        Severity.LOW,
        "Roll the test key in the Stripe dashboard (test mode) and read it from the environment; test "
        "keys move no money but let anyone act on your test account.",
        kind=Kind.TEST,
        impact=Impact.PAYMENTS,
    ),
    Rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        _re(r"\b(?P<secret>whsec_[0-9A-Za-z+/=]{24,255})"),
        ("whsec_",),
        Severity.HIGH,
        "Roll the endpoint's signing secret in the Stripe dashboard (Developers > Webhooks > endpoint "
        "> Roll secret); anyone holding it can forge payment events." + ROTATE_THEN_PURGE,
        impact=Impact.PAYMENTS,
    ),
    Rule(
        "twilio-api-key",
        "Twilio API key or auth token",
        _re(
            r"\b(?P<secret>SK[0-9a-fA-F]{32})\b|(?i:twilio[a-z_]{0,40}?auth_?token)\\?[\"']?\s{0,20}(?::=|=>|=|:)\s{0,20}\\?[\"']?"
            r"(?P<token>[0-9a-f]{32})\b"
        ),
        ("twilio",),
        Severity.HIGH,
        "Delete the API key (Twilio Console > Account > API keys) or rotate the auth token "
        "(Console > Account > Auth tokens > Request a secondary token, then promote it)." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "sendgrid-api-key",
        "SendGrid API key",
        _re(r"\b(?P<secret>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?![A-Za-z0-9_\-])"),
        ("sg.",),
        Severity.BLOCKER,
        "Delete the key in SendGrid (Settings > API Keys) and create a new one with only Mail Send; "
        "a leaked sending key is used for spam within hours and gets your domain blocked." + ROTATE_THEN_PURGE,
        impact=Impact.EMAIL,
    ),
    Rule(
        "mailgun-api-key",
        "Mailgun API key",
        _re(r"\b(?P<secret>key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b"),
        ("mailgun", "key-"),
        Severity.BLOCKER,
        "Delete the key in Mailgun (API Security > API keys) and create a new one." + ROTATE_THEN_PURGE,
        impact=Impact.EMAIL,
        requires=(_re(r"(?i)mailgun|\bkey-[0-9a-f]{32}\b"),),
    ),
    Rule(
        "postmark-token",
        "Postmark server or account token",
        _re(
            r"(?i:postmark[a-z_]{0,40}?(?:token|key))\\?[\"']?\s{0,20}(?::=|=>|=|:)\s{0,20}\\?[\"']?"
            r"(?P<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
        ),
        ("postmark",),
        Severity.BLOCKER,
        "Reset the server token in Postmark (Server > API Tokens > Reset) and deploy the new one." + ROTATE_THEN_PURGE,
        impact=Impact.EMAIL,
    ),
    Rule(
        "resend-api-key",
        "Resend API key",
        _re(r"\b(?P<secret>re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24})\b"),
        ("re_",),
        Severity.BLOCKER,
        "Delete the key at resend.com/api-keys and create a new one with sending access only." + ROTATE_THEN_PURGE,
        impact=Impact.EMAIL,
    ),
    Rule(
        "openai-api-key",
        "OpenAI API key",
        _re(
            r"\b(?P<secret>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200}"
            r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|proj-[A-Za-z0-9_\-]{80,300}))(?![A-Za-z0-9_\-])"
        ),
        ("t3blbkfj", "sk-proj-"),
        Severity.BLOCKER,
        "Revoke the key at platform.openai.com/api-keys and create a new one; set a usage limit." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "anthropic-api-key",
        "Anthropic API key",
        _re(r"\b(?P<secret>sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,300})(?![A-Za-z0-9_\-])"),
        ("sk-ant-",),
        Severity.BLOCKER,
        "Delete the key in the Anthropic Console (Settings > API keys) and create a new one." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "supabase-service-key",
        "Supabase secret or service_role key",
        _re(
            r"\b(?P<secret>sb_secret_[A-Za-z0-9_\-]{20,255})|(?i:service_?role[a-z_]{0,40})\\?[\"']?\s{0,20}(?::=|=>|=|:)\s{0,20}\\?[\"']?"
            r"(?P<token>eyJ[A-Za-z0-9_\-]{10,4096}\.eyJ[A-Za-z0-9_\-]{10,8192}\.[A-Za-z0-9_\-]{10,1024})"
        ),
        ("sb_secret_", "service_role", "servicerole"),
        Severity.BLOCKER,
        "Rotate the key in Supabase (Project settings > API keys: roll the secret key / JWT secret); "
        "the service role bypasses row-level security on every table." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "firebase-fcm-server-key",
        "Firebase Cloud Messaging server key",
        _re(r"\b(?P<secret>AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{120,400})"),
        ("apa91b",),
        Severity.HIGH,
        "Delete the legacy server key in Firebase console > Project settings > Cloud Messaging and move "
        "to the HTTP v1 API with a service account." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "shopify-token",
        "Shopify access token or shared secret",
        _re(r"\b(?P<secret>shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})\b"),
        ("shpat_", "shpss_", "shpca_", "shppa_"),
        Severity.BLOCKER,
        "Rotate the token in Shopify admin (Apps > Develop apps > API credentials > Rotate) or "
        "uninstall and reinstall the custom app." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "npm-token",
        "npm access token",
        _re(r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b"),
        ("npm_",),
        Severity.BLOCKER,
        "Revoke the token (npm token revoke ID, or npmjs.com > Access Tokens) and create a granular "
        "token for CI only." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "pypi-token",
        "PyPI upload token",
        _re(r"\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,400})"),
        ("pypi-ageichlwas5vcmc",),
        Severity.BLOCKER,
        "Delete the token at pypi.org > Account settings > API tokens; prefer trusted publishing from "
        "CI." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "private-key",
        "Private key (PEM, OpenSSH or PGP)",
        _re(
            # The body up to the END line (or the end of what is there: a key cut off by a diff hunk
            # or a one-line JSON value is still a key).
            r"-----BEGIN[ A-Z0-9]{0,20} PRIVATE KEY(?: BLOCK)?-----(?:\\n|\s){1,8}"
            r"(?:Proc-Type:[^\n]{0,200}\n|DEK-Info:[^\n]{0,200}\n|\s){0,8}(?P<secret>(?:[A-Za-z0-9+/=]|\\n|\s){64,16384})"
        ),
        ("private key",),
        Severity.BLOCKER,
        "Treat the key as compromised: issue a new key pair (new certificate, new SSH/deploy key, new "
        "signing key), install it, and revoke or remove the old public key everywhere it is trusted."
        + ROTATE_THEN_PURGE,
    ),
    Rule(
        "database-url",
        "Database or message broker URL with a password",
        _re(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|cockroachdb)"
            r"(?:\+[a-z0-9]{1,20})?://[^:/\s@'\"]{0,256}:(?P<secret>[^@/\s'\"]{4,256})@(?P<host>[^\s'\"/:?]{1,255})"
        ),
        ("postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver", "cockroach"),
        Severity.HIGH,
        "Change the database user's password (ALTER USER ... PASSWORD '...'), update the connection "
        "string in the platform's environment, and restrict the database to your app's network." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "salesforce-token",
        "Salesforce access or session token",
        _re(r"\b(?P<secret>00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,120})"),
        ("00d",),
        Severity.HIGH,
        "Revoke the session (Setup > Session Management > Remove) or the connected app's OAuth token, and "
        "reset the integration user's password and security token." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "twitter-bearer-token",
        "Twitter/X API bearer token",
        _re(r"\b(?P<secret>A{21}[A-Za-z0-9%]{30,150})"),
        ("aaaaaaaaaaaaaaaaaaaaa",),
        Severity.HIGH,
        "Regenerate the bearer token in the X developer portal (Projects & Apps > your app > Keys and "
        "tokens > Bearer Token > Regenerate)." + ROTATE_THEN_PURGE,
        entropy=3.5,
    ),
    Rule(
        "facebook-access-token",
        "Facebook (Meta) access token",
        _re(r"\b(?P<secret>EAA[A-Za-z0-9]{88,248})(?![A-Za-z0-9])"),
        ("eaa",),
        Severity.HIGH,
        "Invalidate the token (reset the app secret in Meta for Developers > App settings > Basic, which "
        "revokes the tokens issued with it) and issue a new one." + ROTATE_THEN_PURGE,
        entropy=4.0,
    ),
    Rule(
        "mailchimp-api-key",
        "Mailchimp API key",
        _re(r"\b(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})\b"),
        ("-us",),
        Severity.HIGH,
        "Disable the key in Mailchimp (Account > Extras > API keys) and create a new one." + ROTATE_THEN_PURGE,
        impact=Impact.EMAIL,
        requires=(_re(r"-us\d"),),
    ),
    Rule(
        "heroku-api-key",
        "Heroku API key",
        _re(
            r"\b(?P<secret>HRKU-[A-Za-z0-9_\-]{60})(?![A-Za-z0-9_\-])|(?i:heroku[a-z_]{0,40}?(?:api_?key|token))\\?[\"']?"
            r"\s{0,20}(?::=|=>|=|:)\s{0,20}\\?[\"']?(?P<token>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
        ),
        ("hrku-", "heroku"),
        Severity.BLOCKER,
        "Regenerate the key (heroku authorizations:rotate, or Account settings > API Key > Regenerate) and "
        "update CI and deploy settings." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "digitalocean-token",
        "DigitalOcean personal access, OAuth or refresh token",
        _re(r"\b(?P<secret>do[opr]_v1_[a-f0-9]{64})\b"),
        ("_v1_",),
        Severity.BLOCKER,
        "Delete the token in the DigitalOcean control panel (API > Tokens) and create a new one with the "
        "least scopes." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "square-token",
        "Square access token or OAuth secret",
        _re(r"\b(?P<secret>sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,43})(?![0-9A-Za-z_\-])"),
        ("sq0",),
        Severity.BLOCKER,
        "Revoke the token or replace the application secret in the Square Developer Dashboard (Credentials) "
        "and deploy the new one." + ROTATE_THEN_PURGE,
        impact=Impact.PAYMENTS,
    ),
    Rule(
        "paypal-braintree-token",
        "PayPal/Braintree production access token",
        _re(r"\b(?P<secret>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})\b"),
        ("access_token$production$",),
        Severity.BLOCKER,
        "Revoke the access token in the Braintree control panel (Settings > API > API keys) or the PayPal "
        "developer dashboard, and create a new one." + ROTATE_THEN_PURGE,
        impact=Impact.PAYMENTS,
    ),
    Rule(
        "algolia-admin-key",
        "Algolia admin or write API key",
        _re(
            r"(?i:algolia[a-z_]{0,30}?(?:admin|write)[a-z_]{0,10}?key)\\?[\"']?\s{0,20}(?::=|=>|=|:)\s{0,20}\\?[\"']?"
            r"(?P<secret>[a-f0-9]{32})\b"
        ),
        ("algolia",),
        Severity.HIGH,
        "Delete or regenerate the key in the Algolia dashboard (Settings > API Keys); only the search-only "
        "key belongs in client code." + ROTATE_THEN_PURGE,
        anchored=True,
    ),
    Rule(
        "sentry-auth-token",
        "Sentry auth token",
        _re(r"\b(?P<secret>sntry[su]_[A-Za-z0-9+/=_\-]{40,300})"),
        ("sntry",),
        Severity.HIGH,
        "Revoke the token in Sentry (Settings > Auth Tokens, or the organization's token page) and create "
        "a new one for CI only." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "putty-private-key",
        "PuTTY private key (.ppk)",
        _re(
            r"PuTTY-User-Key-File-\d: [^\n]{1,80}\n(?:[^\n]{0,200}\n){0,60}?Private-Lines: \d{1,4}\n(?P<secret>(?:[A-Za-z0-9+/=]{1,128}\r?\n){1,64})"
        ),
        ("putty-user-key-file",),
        Severity.BLOCKER,
        "Treat the key as compromised: create a new key pair in PuTTYgen, install its public key, and "
        "remove the old public key from every authorized_keys it is in." + ROTATE_THEN_PURGE,
    ),
    Rule(
        "url-password",
        "URL with a password (user:password@host)",
        # Starts at "://" (a literal the engine jumps between); the scheme is read back in code.
        _re(r"://(?P<user>[^:/\s@'\"<>{}]{0,100}):(?P<secret>[^@/\s'\"<>{}]{3,100})@(?P<host>[^\s'\"/:?#<>]{1,255})"),
        ("://",),
        Severity.HIGH,
        "Change the account's password at the service (FTP, SMTP, HTTP basic auth, broker...), update "
        "where it is configured from the environment, and never put credentials in URLs committed to git."
        + ROTATE_THEN_PURGE,
        kind=Kind.CREDENTIAL,
    ),
    Rule(
        "connection-string-password",
        "Password in a JDBC/ODBC/ADO.NET connection string",
        _re(r"(?i)(?:password|pwd)\s{0,3}=\s{0,3}(?P<secret>[^;&\s\"'<>]{1,200})"),
        ("passw", "pwd"),  # shared with generic-secret: one prefilter check for both
        Severity.HIGH,
        "Change the database user's password, move the connection string into the environment or a "
        "secret store, and restrict the database to your app's network." + ROTATE_THEN_PURGE,
        kind=Kind.CREDENTIAL,
        anchored=True,
    ),
    Rule(
        "password-hash-dump",
        "Password hashes of user accounts (database dump, shadow or htpasswd file)",
        _re(
            r"(?P<secret>\$(?:2[abxy]|argon2(?:id|i|d)|[156]|apr1|y)\$[A-Za-z0-9./$=,+]{20,200}"
            r"|pbkdf2_sha256\$\d{4,7}\$[A-Za-z0-9./+=]{8,64}\$[A-Za-z0-9./+=]{20,100}"
            r"|\{SSHA?\}[A-Za-z0-9+/=]{20,100})"
        ),
        ("$2", "$argon2", "$1$", "$5$", "$6$", "$apr1$", "$y$", "pbkdf2_sha256$", "{sha}", "{ssha}"),
        Severity.HIGH,
        "Force a password reset for every account in the file (hashes are cracked offline, weak ones in "
        "minutes), then delete the dump or hash file from the repository and purge it from history "
        "(git filter-repo --path FILE --invert-paths); keep dumps out of git (.gitignore *.sql).",
        kind=Kind.CREDENTIAL,
    ),
    Rule(
        "config-credential",
        "Credential under a password/secret/token name (config or credential file, or code)",
        # Found by the format-aware readers (formats.py), which parse the file and judge each key and
        # value; the regex is never run (no keywords).
        _re(r"(?!)"),
        (),
        Severity.HIGH,
        "Change the password or rotate the secret at the service it belongs to: it is in git history "
        "forever, so changing it is the only fix, however weak or strong it was (and a weak one is guessed "
        "even without the repository: pick a long random one). Then read it from the environment or a "
        "secret store, and purge the file from history (git filter-repo --replace-text).",
        kind=Kind.CREDENTIAL,
    ),
    Rule(
        "framework-secret",
        "Framework secret key (Django, Laravel, Rails, Symfony, WordPress, Express session)",
        _re(r"(?!)"),
        (),
        Severity.HIGH,
        "Generate a new key (Django get_random_secret_key, php artisan key:generate, rails credentials:edit "
        "with a new master.key, Symfony secrets:generate-keys, new WordPress salts from "
        "api.wordpress.org/secret-key/1.1/salt/), deploy it from the environment, and expect sessions and "
        "signed cookies to be invalidated; anyone holding the old key can forge them." + ROTATE_THEN_PURGE,
        kind=Kind.CREDENTIAL,
    ),
    Rule(
        "credential-file",
        "Credential file committed (netrc, pgpass, git-credentials, docker/npm/pypi auth, cloud credentials, htpasswd...)",
        _re(r"(?!)"),
        (),
        Severity.HIGH,
        "Rotate every credential in the file, delete it from the repository (git rm --cached FILE), add "
        "it to .gitignore and purge it from history (git filter-repo --path FILE --invert-paths); these "
        "files belong in the home directory or CI secret store, never in the project.",
        kind=Kind.CREDENTIAL,
    ),
    Rule(
        "jwt",
        "Hard-coded JSON Web Token",
        _re(r"\b(?P<secret>eyJ[A-Za-z0-9_\-]{10,4096}\.eyJ[A-Za-z0-9_\-]{10,8192}\.[A-Za-z0-9_\-]{20,1024})"),
        ("eyj",),
        Severity.MEDIUM,
        "Revoke the token (or rotate the key that signed it) and load tokens at run time; a JWT "
        "grants its claims to whoever holds it until it expires." + ROTATE_THEN_PURGE,
        kind=Kind.GENERIC,
    ),
    Rule(
        "generic-secret",
        "High-entropy value assigned to a secret-looking name",
        _re(
            r"(?i)(?P<kw>"
            + _SECRET_KEYWORD
            + r")(?P<suffix>[a-z0-9_.\-]{0,80})\\?[\"']?\s{0,20}(?::=|=>|=|:)\s{0,20}(?:[a-z]{1,30}\()?"
            r"\\?[\"'`]?(?P<secret>[A-Za-z0-9+/=_\-.~!@#%^&*]{12,200})"
        ),
        (
            "secret",
            "token",
            "passw",
            "pwd",
            "api_key",
            "apikey",
            "access_key",
            "accesskey",
            "private_key",
            "privatekey",
            "auth_key",
            "authkey",
            "credential",
            "signing_key",
            "encryption_key",
        ),
        Severity.MEDIUM,
        "Find which service the value belongs to and rotate it there; if it was never a credential, mark the "
        "line with `launchready:allow`." + ROTATE_THEN_PURGE,
        kind=Kind.GENERIC,
        entropy=3.7,
        anchored=True,
    ),
)

# Documentation example values that every scanner must accept (AWS's own docs keys and friends).
KNOWN_EXAMPLES: frozenset[str] = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)

# Markers of a value written as a stand-in; a provider-format hit containing one is not a secret.
PLACEHOLDER_MARKERS: tuple[str, ...] = (
    "example",
    "xxxxxx",
    "your_",
    "your-",
    "changeme",
    "change_me",
    "placeholder",
    "dummy",
    "redacted",
    "<",
    ">",
    "${",
    "{{",
    "*****",
    "0000000000",
    "replace",
    "insert",
)
# Stand-ins that only disqualify generic hits (real provider keys may contain these letters).
GENERIC_PLACEHOLDER_MARKERS: tuple[str, ...] = ("test", "fake", "sample", "mock", "secret", "password", "token")


def rule_by_id(rule_id: str) -> Rule:
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)
