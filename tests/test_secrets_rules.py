"""Each rule: a true and a false example, rotation steps, and a regex that cannot backtrack without bound.

The provider rules' true examples are in secrets_corpus (one per rule); here each rule this scanner
judges by context gets examples of both kinds, written as they appear in real files.
"""

from __future__ import annotations

import random
import re
import string
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchready.core.severity import Severity
from launchready.secrets import detector as detector_module
from launchready.secrets import formats
from launchready.secrets.detector import Detector
from launchready.secrets.formats import credential_name, file_context
from launchready.secrets.rules import RULES

_RNG = random.Random(99)


def r(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


# rule id -> (true examples, false examples); each example is (path, text).
EXAMPLES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "config-credential": (
        [
            (".env", "DB_PASSWORD=admin123\n"),
            ("config/app.ini", "[db]\npassword = hunter22\n"),
            ("config/database.yml", "production:\n  password: Welcome1\n"),
            ("config/prod.json", '{"smtp": {"pass": "mail2024"}}\n'),
            ("conf/server.xml", '<Connector keystorePass="tomcat2024" />\n'),
            ("app/db.py", 'DB_PASSWORD = "pa55word"\n'),
            (".pgpass", "db.internal:5432:shop:shop:pgpass99\n"),
        ],
        [
            (".env", "DB_PASSWORD=\nREDIS_PASSWORD=null\nSECRET=${SECRET}\n"),
            (".env.example", "DB_PASSWORD=secret\nAPI_TOKEN=your-token\n"),
            ("config/app.ini", "[db]\npassword = %(DB_PASSWORD)s\npassword_file = /run/secrets/db\n"),
            ("config/database.yml", "production:\n  password: <%= ENV['DB_PASSWORD'] %>\n"),
            ("locales/en.json", '{"password": "Password", "forgot_password": "Forgot your password?"}\n'),
            ("app/db.py", 'DB_PASSWORD = os.environ["DB_PASSWORD"]\nprint("password: %s" % x)\n'),
        ],
    ),
    "framework-secret": (
        [
            ("shop/settings.py", f"SECRET_KEY = 'django-insecure-{r(40)}'\n"),
            (".env", f"APP_KEY=base64:{r(43)}=\n"),
            ("config/master.key", r(32, "0123456789abcdef") + "\n"),
            ("wp-config.php", f"define('AUTH_SALT', '{r(64, string.ascii_letters + '!@#%^&*(){{}}<>')}');\n"),
            ("server/app.js", "app.use(session({ secret: 'keyboard cat' }));\n"),
        ],
        [
            ("shop/settings.py", "SECRET_KEY = os.environ['SECRET_KEY']\n"),
            ("wp-config.php", "define('AUTH_KEY', 'put your unique phrase here');\n"),
            ("config/master.key.example", "\n"),
        ],
    ),
    "url-password": (
        [
            ("deploy.sh", f"curl -T site.tgz ftp://backup:{r(10)}@ftp.shop-host.net/\n"),
            (".git-credentials", f"https://bot:{r(20)}@git.shop-host.net\n"),
        ],
        [
            ("README.md", "git clone https://user:password@git.example.com/repo.git\n"),
            ("app/urls.py", "URL = f'https://{user}:{password}@{host}/'\nFMT = 'smtp://%s:%s@%s'\n"),
            ("docs/api.md", "see https://example.com/a:b@c and http://:8080@localhost\n"),
        ],
    ),
    "connection-string-password": (
        [
            ("Web.config", '<add connectionString="Server=db;User Id=sa;Password=Sql2024x;" />\n'),
            ("db.properties", "url=jdbc:mysql://db/shop?user=app&password=jdbc2024\n"),
        ],
        [
            ("Web.config", '<add connectionString="Server=db;Password=${DB_PASSWORD};" />\n'),
            (".env", "DB_PASSWORD=\n"),
        ],
    ),
    "password-hash-dump": (
        [
            ("dump.sql", f"INSERT INTO users VALUES (1,'a@b.test','$2y$10${r(53, string.ascii_letters + './')}');\n"),
            ("etc/shadow", f"root:$6${r(16)}${r(86, string.ascii_letters + './')}:19000:0:99999:7:::\n"),
        ],
        [
            ("dump.sql", "INSERT INTO users VALUES (1,'a@b.test',NULL);\n"),
            ("etc/shadow", "daemon:*:19000:0:99999:7:::\n"),
        ],
    ),
    "credential-file": (
        [(".netrc", "machine api.shop-host.net login ci password cipass2024\n")],
        [(".netrc", "machine api.shop-host.net login ci\n"), ("docs/netrc.md", "password cipass2024\n")],
    ),
    "salesforce-token": ([("sf.py", f"T = '00D{r(12)}!{r(96)}'\n")], [("sf.py", "ORG = '00D000000000001'\n")]),
    "twitter-bearer-token": (
        [("x.js", f"const b = '{'A' * 21}{r(60)}';\n")],
        [("x.js", "const pad = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';\n")],
    ),
    "facebook-access-token": ([("fb.js", f"t = 'EA{'AB'}{r(150)}'\n")], [("fb.js", "t = 'EAA_TOKEN'\n")]),
    "mailchimp-api-key": (
        [("mc.rb", f"key = '{r(32, '0123456789abcdef')}-us6'\n")],
        [("mc.rb", "region = 'us6'\nurl = 'https://us6.api.mailchimp.com'\n")],
    ),
    "heroku-api-key": (
        [("ci.sh", f"export HEROKU_API_KEY=HR{'KU'}-{r(60)}\n")],
        [("ci.sh", "export HEROKU_APP=shop-prod\n")],
    ),
    "digitalocean-token": (
        [("main.tf", f'token = "do{"p"}_v1_{r(64, "0123456789abcdef")}"\n')],
        [("main.tf", "token = var.do_token\n")],
    ),
    "square-token": ([("sq.py", f"T = 'sq0{'atp'}-{r(22)}'\n")], [("sq.py", "T = 'sq0atp-'\n")]),
    "paypal-braintree-token": (
        [("bt.js", f"t = 'access_token$production${r(16, string.ascii_lowercase)}${r(32, '0123456789abcdef')}'\n")],
        [("bt.js", "t = 'access_token$sandbox$abc'\n")],
    ),
    "algolia-admin-key": (
        [("search.js", f"const ALGOLIA_ADMIN_KEY = '{r(32, '0123456789abcdef')}';\n")],
        [("search.js", f"const ALGOLIA_SEARCH_KEY = '{r(32, '0123456789abcdef')}';\n")],
    ),
    "sentry-auth-token": ([("ci.sh", f"SENTRY_AUTH_TOKEN=sn{'trys'}_{r(100)}\n")], [("ci.sh", "SENTRY_ORG=shop\n")]),
    "putty-private-key": (
        [
            (
                "k.ppk",
                f"PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPublic-Lines: 1\n{r(64)}\n"
                f"Private-Lines: 2\n{r(64)}\n{r(64)}\nPrivate-MAC: {r(40, '0123456789abcdef')}\n",
            )
        ],
        [("doc.md", "Save the key as a PuTTY-User-Key-File-2 (.ppk).\n")],
    ),
}


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_true_and_false_examples(rule_id: str) -> None:
    true_examples, false_examples = EXAMPLES[rule_id]
    # Failure messages name the example, never its text (a fake secret is printed no more than a real one).
    for number, (path, text) in enumerate(true_examples):
        assert rule_id in {m.rule.id for m in Detector().scan(text, path)}, f"true example {number} ({path})"
    for number, (path, text) in enumerate(false_examples):
        assert rule_id not in {m.rule.id for m in Detector().scan(text, path)}, f"false example {number} ({path})"


def test_every_rule_says_how_to_rotate_or_remove() -> None:
    for rule in RULES:
        assert len(rule.rotate) > 60, rule.id
    weak = next(r for r in RULES if r.id == "config-credential")
    assert "in git history" in weak.rotate or "known forever" in weak.rotate


def _repeats(items: object, outer_bounded: bool = True) -> list[tuple[int, int, bool]]:
    """(min, max, inside another repeat) of every repetition in a parsed pattern."""
    out: list[tuple[int, int, bool]] = []
    for op, av in items:  # type: ignore[attr-defined]
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, high, sub = av
            out.append((low, high, not outer_bounded))
            out += _repeats(sub, False)
        elif op is sre_constants.SUBPATTERN:
            out += _repeats(av[-1], outer_bounded)
        elif op is sre_constants.BRANCH:
            for branch in av[1]:
                out += _repeats(branch, outer_bounded)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            out += _repeats(av[1], outer_bounded)
    return out


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = [(rule.id, rule.regex) for rule in RULES]
    for module in (formats, detector_module):
        found += [(f"{module.__name__}.{n}", v) for n, v in vars(module).items() if isinstance(v, re.Pattern)]
    return found


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_repetition_is_bounded(name: str, pattern: re.Pattern[str]) -> None:
    """Bounded repetitions keep every regex linear in the text it scans (no catastrophic backtracking)."""
    unbounded = [
        rep for rep in _repeats(sre_parse.parse(pattern.pattern, pattern.flags)) if rep[1] == sre_constants.MAXREPEAT
    ]
    assert unbounded == [], name


def test_credential_names() -> None:
    for name in (
        "DB_PASSWORD",
        "dbPassword",
        "clientSecret",
        "API_KEY",
        "apiKey",
        "_authToken",
        "auth",
        "Pass",
        "spring.datasource.password",
        "//npm.host/:_password",
        "AUTH_SALT",
    ):
        assert credential_name(name) is not None, name
    for name in (
        "password_field",
        "PASSWORD_RESET_TIMEOUT",
        "token_url",
        "primary_key",
        "passwordHint",
        "bypass",
        "DB_PASSWORD_FILE",
        "secret_name",
        "compass",
    ):
        assert credential_name(name) is None, name
    assert credential_name("SECRET_KEY") == "framework" and credential_name("STRIPE_SECRET_KEY") == "credential"


def test_file_context_severity() -> None:
    assert file_context(".env").severity(Severity.HIGH) is Severity.BLOCKER
    assert file_context("deploy/.env.production").severity(Severity.HIGH) is Severity.BLOCKER
    assert file_context(".netrc").severity(Severity.HIGH) is Severity.BLOCKER
    assert file_context("tests/fixtures/db.yml").severity(Severity.HIGH) is Severity.LOW
    assert file_context(".env.test").severity(Severity.HIGH) is Severity.LOW
    assert file_context(".env.example").severity(Severity.HIGH) is Severity.LOW
    assert file_context("config/app.yml").severity(Severity.HIGH) is Severity.HIGH
    assert file_context("config/production.yml").severity(Severity.HIGH) is Severity.BLOCKER


def test_throwaway_database_passwords_in_compose_and_ci_are_low() -> None:
    compose = "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: postgres\n      API_SECRET: Live2024xyz\n"
    found = {m.line: m.severity_override for m in Detector().scan(compose, "docker-compose.yml")}
    assert found == {4: "low", 5: "medium"}
    ci = "jobs:\n  test:\n    services:\n      mysql:\n        env:\n          MYSQL_ROOT_PASSWORD: root\n"
    assert [m.severity_override for m in Detector().scan(ci, ".github/workflows/ci.yml")] == ["low"]
    assert [m.severity_override for m in Detector().scan(ci, "deploy/prod.yml")] == ["blocker"]


def test_a_parser_failing_outside_its_documented_errors_falls_back_to_lines() -> None:
    # configparser raises AttributeError on a value-less key followed by an indented line.
    text = "[server]\nflag\n  continued\npassword = ini2024pass\n"
    assert [(m.rule.id, m.line) for m in Detector().scan(text, "conf/app.ini")] == [("config-credential", 4)]


def test_xml_entity_declarations_are_refused_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<r><password>&c;</password>\n'
        "<password>xmlpass2024</password></r>\n"
    )
    found = Detector().scan(bomb, "conf/app.xml")
    # Not parsed as XML (entities refused); the line reader still sees the literal password.
    assert {(m.rule.id, m.line) for m in found} == {("config-credential", 4)}
    assert all("aaaaaaaaaa" not in m.secret for m in found)


_FORMAT_PATHS = (
    ".env",
    "app.ini",
    ".npmrc",
    "config.yml",
    "config.json",
    "settings.xml",
    ".netrc",
    ".pgpass",
    ".htpasswd",
    "config/master.key",
    "dump.sql",
    "deploy.sh",
    "settings.py",
)
_SNIPPETS = st.sampled_from(
    [
        "password",
        "=",
        ":",
        " ",
        "\n",
        "'",
        '"',
        "<",
        ">",
        "[",
        "]",
        "{",
        "}",
        "(",
        ")",
        ",",
        "\t",
        "\\",
        "&",
        "!",
        "%",
        "$",
        "machine",
        "INSERT INTO t VALUES (",
        "COPY t (a, password) FROM stdin;",
        "<!ENTITY a 'x'>",
        "- ",
        "*a",
        "&a",
        "s3cr3tV4lue",
        "[s]\nkey\n  indented\n",
        "[" * 30,
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(_SNIPPETS | st.text(max_size=8), max_size=40), path=st.sampled_from(_FORMAT_PATHS))
def test_readers_never_raise_on_malformed_text(pieces: list[str], path: str) -> None:
    text = "".join(pieces)
    for match in Detector().scan(text, path):
        assert 1 <= match.line <= text.count("\n") + 1
