"""A labelled corpus for the secret scanner: true secrets per rule, and decoys that must stay quiet.

Values are generated from a seeded RNG (realistic entropy, stable across runs) and assembled from
pieces, so no provider's push protection mistakes this file for a leak.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_RNG = random.Random(20240501)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "/+"


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Sample:
    name: str
    path: str
    text: str
    rule: str | None  # None: a decoy, nothing above low may be reported
    secret: str = ""  # the planted value (outputs are grepped for it)


AWS_ID = "AK" + "IA" + r(16, string.ascii_uppercase + "234567")
AWS_SECRET = r(36, B64) + "k9Q2"
STRIPE_LIVE = "sk_" + "live_" + r(32)
STRIPE_TEST = "sk_" + "test_" + r(32)
GITHUB = "gh" + "p_" + r(36)
GITLAB = "gl" + "pat-" + r(20)
SLACK = "xo" + "xb-" + r(11, string.digits) + "-" + r(12, string.digits) + "-" + r(24)
SLACK_HOOK = (
    "https://hooks.slack.com/services/T"
    + r(8, string.ascii_uppercase + string.digits)
    + "/B"
    + r(8, string.ascii_uppercase + string.digits)
    + "/"
    + r(24)
)
SENDGRID = "S" + "G." + r(22) + "." + r(43)
MAILGUN = "key" + "-" + r(32, HEX)
POSTMARK = "-".join(r(n, HEX) for n in (8, 4, 4, 4, 12))
RESEND = "r" + "e_" + r(8) + "_" + r(24)
OPENAI = "sk-" + "proj-" + r(20) + "T3Blbk" + "FJ" + r(20)
ANTHROPIC = "sk-" + "ant-api03-" + r(93)
SUPABASE = "sb_" + "secret_" + r(32)
GCP_API = "AI" + "za" + r(35)
SHOPIFY = "shp" + "at_" + r(32, HEX)
NPM = "np" + "m_" + r(36)
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + r(60)
TWILIO = "S" + "K" + r(32, HEX)
AZURE_STORAGE = r(86, B64) + "=="
AZURE_CLIENT = r(3) + "8Q~" + r(34)
FCM = "AAAA" + r(7) + ":APA91b" + r(134)
WHSEC = "wh" + "sec_" + r(32)
DB_PASSWORD = r(18)
JWT_SECRET = r(40, ALNUM + "_-")
PEM_BODY = "\n".join(r(64, B64) for _ in range(6))
GCP_KEY_ID = r(40, HEX)

SALESFORCE = "00D" + r(12) + "!" + r(96, ALNUM + ".")
TWITTER_BEARER = "A" * 21 + r(60, ALNUM + "%")
FACEBOOK = "EA" + "AB" + r(150)
MAILCHIMP = r(32, HEX) + "-us" + "14"
HEROKU = "HR" + "KU-" + r(60, ALNUM + "_")
DIGITALOCEAN = "do" + "p_v1_" + r(64, HEX)
SQUARE = "sq0" + "atp-" + r(22)
BRAINTREE = "access_token$production$" + r(16, string.ascii_lowercase + string.digits) + "$" + r(32, HEX)
ALGOLIA_ADMIN = r(32, HEX)
SENTRY = "sn" + "trys_" + r(120, ALNUM)
PPK_BODY = "\n".join(r(64, B64) for _ in range(4))
FTP_PASSWORD = "Ftp" + r(9)
JDBC_PASSWORD = "Jd" + r(10)
BCRYPT = "$2y$10$" + r(53, ALNUM + "./")
WEAK_PASSWORD = "Admin#" + r(3, string.digits)
DJANGO_KEY = "django-insecure-" + r(40, string.ascii_lowercase + string.digits + "!@#%^&*-_=+")
NETRC_PASSWORD = "Nt" + r(10)

SECRETS: tuple[Sample, ...] = (
    Sample(
        "aws pair",
        "config/aws.py",
        f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\nAWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n',
        "aws-secret-access-key",
        AWS_SECRET,
    ),
    Sample(
        "aws pair split in .env",
        ".env.production",
        f"KEY_ID={AWS_ID}\n\n# the secret\nKEY_SECRET={AWS_SECRET}\n",
        "aws-secret-access-key",
        AWS_SECRET,
    ),
    Sample(
        "gcp service account json",
        "deploy/sa.json",
        '{\n  "type": "service_account",\n  "project_id": "market",\n  "private_key_id": "'
        + GCP_KEY_ID
        + '",\n  "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        + r(64, B64)
        + "\\n"
        + r(64, B64)
        + '\\n-----END PRIVATE KEY-----\\n"\n}\n',
        "gcp-service-account",
        GCP_KEY_ID,
    ),
    Sample("gcp api key", "web/maps.js", f'const MAPS_KEY = "{GCP_API}";\n', "gcp-api-key", GCP_API),
    Sample(
        "azure storage",
        "settings.py",
        f'CONN = "DefaultEndpointsProtocol=https;AccountName=market;AccountKey={AZURE_STORAGE};EndpointSuffix=core.windows.net"\n',
        "azure-storage-key",
        AZURE_STORAGE,
    ),
    Sample(
        "azure client secret",
        "infra/app.tf",
        f'client_secret = "{AZURE_CLIENT}"\n',
        "azure-client-secret",
        AZURE_CLIENT,
    ),
    Sample("github token yaml", ".github/bot.yml", f"token: {GITHUB}\n", "github-token", GITHUB),
    Sample("gitlab token", "scripts/release.sh", f"export GITLAB_TOKEN={GITLAB}\n", "gitlab-token", GITLAB),
    Sample("slack token", "bot/config.toml", f'slack_bot = "{SLACK}"\n', "slack-token", SLACK),
    Sample("slack webhook", "alerts.py", f'WEBHOOK = "{SLACK_HOOK}"\n', "slack-webhook", SLACK_HOOK),
    Sample("stripe live", "app/payments.py", f'stripe.api_key = "{STRIPE_LIVE}"\n', "stripe-live-key", STRIPE_LIVE),
    Sample("stripe webhook secret", "app/hooks.py", f'ENDPOINT_SECRET = "{WHSEC}"\n', "stripe-webhook-secret", WHSEC),
    Sample("twilio", "sms.py", f'TWILIO_API_KEY = "{TWILIO}"\n', "twilio-api-key", TWILIO),
    Sample(
        "sendgrid in Dockerfile",
        "Dockerfile",
        f"FROM python:3.12\nENV SENDGRID_API_KEY={SENDGRID}\n",
        "sendgrid-api-key",
        SENDGRID,
    ),
    Sample("mailgun", "mail.py", f'MAILGUN_KEY = "{MAILGUN}"\n', "mailgun-api-key", MAILGUN),
    Sample("postmark", "mail.rb", f'POSTMARK_API_TOKEN = "{POSTMARK}"\n', "postmark-token", POSTMARK),
    Sample("resend", "emails.ts", f'const resend = new Resend("{RESEND}");\n', "resend-api-key", RESEND),
    Sample(
        "openai in notebook",
        "analysis.ipynb",
        '{"cells": [{"source": ["import openai\\n", "openai.api_key = \\"' + OPENAI + '\\"\\n"]}]}\n',
        "openai-api-key",
        OPENAI,
    ),
    Sample("anthropic", "ai.py", f'client = Anthropic(api_key="{ANTHROPIC}")\n', "anthropic-api-key", ANTHROPIC),
    Sample(
        "supabase", "supabase.ts", f'const admin = createClient(url, "{SUPABASE}");\n', "supabase-service-key", SUPABASE
    ),
    Sample("firebase fcm", "push.py", f'FCM_SERVER_KEY = "{FCM}"\n', "firebase-fcm-server-key", FCM),
    Sample("shopify", "shop.py", f'SHOPIFY_TOKEN = "{SHOPIFY}"\n', "shopify-token", SHOPIFY),
    Sample("npmrc", ".npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n", "npm-token", NPM),
    Sample("pypirc", ".pypirc", f"[pypi]\nusername = __token__\npassword = {PYPI}\n", "pypi-token", PYPI),
    Sample(
        "private key split across lines",
        "deploy/id_rsa",
        "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "\n-----END RSA PRIVATE KEY-----\n",
        "private-key",
        PEM_BODY,
    ),
    Sample(
        "database url in compose",
        "docker-compose.yml",
        f"services:\n  web:\n    environment:\n      DATABASE_URL: postgres://market:{DB_PASSWORD}@db.prod.example-host.net:5432/market\n",
        "database-url",
        DB_PASSWORD,
    ),
    Sample("salesforce", "sf/client.py", f'SF_SESSION = "{SALESFORCE}"\n', "salesforce-token", SALESFORCE),
    Sample(
        "twitter bearer", "social.js", f'const bearer = "{TWITTER_BEARER}";\n', "twitter-bearer-token", TWITTER_BEARER
    ),
    Sample("facebook token", "fb.php", f'$fb = new Facebook("{FACEBOOK}");\n', "facebook-access-token", FACEBOOK),
    Sample("mailchimp", "newsletter.rb", f'Gibbon::Request.api_key = "{MAILCHIMP}"\n', "mailchimp-api-key", MAILCHIMP),
    Sample("heroku", "deploy.sh", f"export HEROKU_API_KEY={HEROKU}\n", "heroku-api-key", HEROKU),
    Sample("digitalocean", "infra/main.tf", f'do_token = "{DIGITALOCEAN}"\n', "digitalocean-token", DIGITALOCEAN),
    Sample("square", "pay/square.py", f'client = Client(access_token="{SQUARE}")\n', "square-token", SQUARE),
    Sample("braintree", "pay/bt.js", f'const gateway = connect("{BRAINTREE}");\n', "paypal-braintree-token", BRAINTREE),
    Sample(
        "algolia admin key",
        "search/index.js",
        f'const ALGOLIA_ADMIN_KEY = "{ALGOLIA_ADMIN}";\n',
        "algolia-admin-key",
        ALGOLIA_ADMIN,
    ),
    Sample("sentry auth token", "sentry.properties", f"auth.token={SENTRY}\n", "sentry-auth-token", SENTRY),
    Sample(
        "putty key",
        "deploy/server.ppk",
        "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n"
        + r(64, B64)
        + "\nPrivate-Lines: 4\n"
        + PPK_BODY
        + "\nPrivate-MAC: "
        + r(40, HEX)
        + "\n",
        "putty-private-key",
        PPK_BODY,
    ),
    Sample(
        "ftp url",
        "scripts/upload.sh",
        f"lftp ftp://deploy:{FTP_PASSWORD}@ftp.shop-host.net/www\n",
        "url-password",
        FTP_PASSWORD,
    ),
    Sample(
        "jdbc connection string",
        "src/main/resources/db.xml",
        f'<bean><property name="url" value="jdbc:sqlserver://db.corp;databaseName=shop;user=app;password={JDBC_PASSWORD};"/></bean>\n',
        "connection-string-password",
        JDBC_PASSWORD,
    ),
    Sample(
        "sql dump with password hashes",
        "backup/users.sql",
        f"INSERT INTO `users` VALUES (1,'admin@shop.test','{BCRYPT}','2024-01-02');\n",
        "password-hash-dump",
        BCRYPT,
    ),
    Sample(
        "weak password in yaml config",
        "config/database.yml",
        f"production:\n  adapter: mysql2\n  username: shop\n  password: {WEAK_PASSWORD}\n",
        "config-credential",
        WEAK_PASSWORD,
    ),
    Sample("django secret key", "shop/settings.py", f"SECRET_KEY = '{DJANGO_KEY}'\n", "framework-secret", DJANGO_KEY),
    Sample(
        "netrc credential file",
        ".netrc",
        f"machine api.shop-host.net\n  login deploy\n  password {NETRC_PASSWORD}\n",
        "credential-file",
        NETRC_PASSWORD,
    ),
    Sample(
        "jwt signing secret toml", "config.toml", f'[auth]\njwt_secret = "{JWT_SECRET}"\n', "generic-secret", JWT_SECRET
    ),
    Sample(
        "generic token json",
        "config/prod.json",
        '{"api": {"token": "' + (GENERIC := r(32)) + '"}}\n',
        "generic-secret",
        GENERIC,
    ),
)

TEST_KEYS: tuple[Sample, ...] = (
    Sample("stripe test key", "tests/conftest_like.py", f'STRIPE = "{STRIPE_TEST}"\n', "stripe-test-key", STRIPE_TEST),
)

DECOYS: tuple[Sample, ...] = (
    Sample(
        "aws docs keys",
        "README.md",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        None,
    ),
    Sample(
        "env lookups",
        "app/settings.py",
        'SECRET_KEY = os.environ["SECRET_KEY"]\nAPI_TOKEN = os.getenv("API_TOKEN")\npassword = settings.DB_PASSWORD\nstripe.api_key = process.env.STRIPE_SECRET_KEY\n',
        None,
    ),
    Sample(
        "placeholders",
        ".env.example",
        "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\nAPI_TOKEN=your-api-token-here\nDB_PASSWORD=changeme\nSECRET_KEY=<generate one>\n",
        None,
    ),
    Sample(
        "lock file hashes",
        "package-lock.json",
        '{"integrity": "sha512-' + r(86, B64) + '==", "token": "' + r(40, HEX) + '"}\n',
        None,
    ),
    Sample("poetry lock", "poetry.lock", f'hash = "sha256:{r(64, HEX)}"\n', None),
    Sample(
        "uuids",
        "app/ids.py",
        'REQUEST_TOKEN = "550e8400-e29b-41d4-a716-446655440000"\nsession_id = "'
        + "-".join(r(n, HEX) for n in (8, 4, 4, 4, 12))
        + '"\n',
        None,
    ),
    Sample(
        "base64 image", "web/logo.css", ".logo { background: url(data:image/png;base64," + r(400, B64) + "); }\n", None
    ),
    Sample("git sha and checksums", "CHANGELOG.md", f"Fixed in commit {r(40, HEX)} (sha256 {r(64, HEX)}).\n", None),
    Sample(
        "test fixture password",
        "tests/fixtures/users.py",
        'password = "test-password-123"\ntoken = "fake-token-for-tests-0001"\n',
        None,
    ),
    Sample(
        "token urls and names",
        "app/oauth.py",
        'TOKEN_URL = "https://oauth2.googleapis.com/token"\ntoken_type = "Bearer"\npassword_field = "password1"\n',
        None,
    ),
    Sample("inline allow", "app/demo.py", f'DEMO_KEY = "{r(28)}"  # launchready:allow (public demo key)\n', None),
    Sample(
        "local dev database",
        "docker-compose.dev.yml",
        "DATABASE_URL: postgres://postgres:postgres@localhost:5432/dev\n",
        None,
    ),
    Sample(
        "code identifiers",
        "app/auth.py",
        "def refresh_token(self, access_token_expires_in_seconds: int) -> str:\n    return self.tokenizer.encode(password_hasher.hash(secret_box))\n",
        None,
    ),
)
