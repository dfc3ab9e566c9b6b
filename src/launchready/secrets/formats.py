"""Format-aware credential readers: parse config and credential files, judge each key and its value.

A value under a credential-named key (``password``, ``secret``, ``token``, ``api_key``, ``salt``...)
is a credential whatever its entropy: a weak password committed to git is a real exposure. What
stays silent is what is not a value: placeholders, references to the environment (``${VAR}``,
``%(x)s``, ``os.environ[...]``, ``env('X')``), empty values, paths, and prose.

Each format is read by its library: dotenv by python-dotenv, INI/properties/npmrc by configparser,
YAML (and JSON, which YAML reads with line numbers) by PyYAML's composer (nodes only, nothing
constructed, aliases walked once), JSON that YAML refuses by ``json``, XML by expat with entity
declarations refused (no expansion, no external entities), netrc-style files (netrc, msmtp,
fetchmail, esmtp, ipsec.secrets) by ``shlex`` in POSIX mode (the stdlib ``netrc`` module reads
files only), pgpass/htpasswd/shadow and SQL dump rows by ``csv``. Code is read from each string
literal assigned to a name (one regex pass), PHP ``define()`` by a bounded regex. A block that does
not parse (a fragment of a file, as history and staged scans see it) falls back to one bounded line
regex for ``name = value`` / ``name: value`` lines, so a diff that adds ``password: x`` to a YAML
file is still judged.

Where a file sits decides how bad a credential in it is (``file_context``): a committed ``.env``
or a production-looking or credential file is a blocker, a test fixture or an example file low.
"""

from __future__ import annotations

import configparser
import csv
import io
import json
import re
import shlex
import xml.parsers.expat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import PurePosixPath

from launchready.core.severity import Severity


class Format(str, Enum):
    DOTENV = "dotenv"
    INI = "ini"
    NPMRC = "npmrc"
    YAML = "yaml"
    JSON = "json"
    XML = "xml"
    NETRC = "netrc"
    PGPASS = "pgpass"
    HTPASSWD = "htpasswd"
    MASTER_KEY = "master-key"
    SQL = "sql"
    SHELL = "shell"
    CODE = "code"
    OTHER = "other"


@dataclass(frozen=True)
class FileContext:
    """What a path says about the file: its format, and how exposed a credential in it is."""

    format: Format
    credential_file: bool  # a file whose purpose is to hold credentials (.netrc, .pgpass, docker auths...)
    dotenv: bool  # a real .env (not an example)
    example: bool  # .example / .sample / .dist / .template: values are meant to be stand-ins
    test: bool  # under a test or fixture directory, or a test-environment file
    production: bool  # names production (prod, production, live)
    dev: bool  # names a development or local environment
    ci: bool = False  # a CI pipeline (its service containers' databases are throwaway)
    data_file: bool = False  # a dump or data export (.sql, .csv, .json...): where user tables end up
    translation: bool = False  # a locale file: `password: "Passwort"` is a label

    def severity(self, base: Severity) -> Severity:
        """The severity of a credential found here (a rule's own severity where the place says nothing)."""
        if self.test or self.example:
            return Severity.LOW
        if self.dotenv or self.credential_file or self.production:
            return Severity.BLOCKER
        if self.dev:
            return Severity.MEDIUM
        return base


# Files whose purpose is holding credentials, by name (lower-cased base name).
_CREDENTIAL_NAMES: dict[str, Format] = {
    ".netrc": Format.NETRC,
    "_netrc": Format.NETRC,
    ".fetchmailrc": Format.NETRC,
    ".msmtprc": Format.NETRC,
    "msmtprc": Format.NETRC,
    ".esmtprc": Format.NETRC,
    "ipsec.secrets": Format.NETRC,
    ".pgpass": Format.PGPASS,
    ".git-credentials": Format.OTHER,
    ".npmrc": Format.NPMRC,
    ".yarnrc": Format.NPMRC,
    ".pypirc": Format.INI,
    ".s3cfg": Format.INI,
    ".boto": Format.INI,
    "winscp.ini": Format.INI,
    ".dockercfg": Format.JSON,
    ".htpasswd": Format.HTPASSWD,
    "htpasswd": Format.HTPASSWD,
    "shadow": Format.HTPASSWD,
    "proftpdpasswd": Format.HTPASSWD,
    "ftpd.passwd": Format.HTPASSWD,
    "sitemanager.xml": Format.XML,
    "recentservers.xml": Format.XML,
    "filezilla.xml": Format.XML,
    "webservers.xml": Format.XML,
    "datasources.xml": Format.XML,
    "datasources.local.xml": Format.XML,
    "data-sources.xml": Format.XML,
    "data-sources.json": Format.JSON,
    "sftp-config.json": Format.JSON,
    "sftp.json": Format.JSON,
    ".ftpconfig": Format.JSON,
    ".remote-sync.json": Format.JSON,
    "robomongo.json": Format.JSON,
    "robo3t.json": Format.JSON,
    "master.key": Format.MASTER_KEY,
    ".tugboat": Format.YAML,
    "hub": Format.YAML,
    ".credentials": Format.INI,
    "credentials": Format.INI,
    "heroku.json": Format.JSON,
    "terraform.tfstate": Format.JSON,
    "terraform.tfstate.backup": Format.JSON,
}
# Credential files known by their directory and name.
_CREDENTIAL_PATHS: dict[str, Format] = {
    ".aws/credentials": Format.INI,
    ".aws/config": Format.INI,
    ".docker/config.json": Format.JSON,
    ".vscode/sftp.json": Format.JSON,
    ".config/hub": Format.YAML,
    ".config/gh/hosts.yml": Format.YAML,
}
# Config files known by name whose format their suffix does not say (credentials may be in them).
_NAMED_FORMATS: dict[str, Format] = {
    ".gitconfig": Format.INI,
    ".hgrc": Format.INI,
    ".wgetrc": Format.INI,
    ".pip.conf": Format.INI,
    "pip.conf": Format.INI,
    ".condarc": Format.YAML,
    ".yarnrc.yml": Format.YAML,
}
# Shell start-up files: `export AWS_SECRET_ACCESS_KEY=...` is how keys end up in dotfiles repositories.
_SHELL_NAMES = frozenset(
    ".bashrc .bash_profile .bash_login .bash_aliases .profile .zshrc .zprofile .zshenv .kshrc .mkshrc".split()
)
_BY_SUFFIX: dict[str, Format] = {
    ".ini": Format.INI,
    ".cfg": Format.INI,
    ".conf": Format.INI,
    ".cnf": Format.INI,
    ".properties": Format.INI,
    ".yml": Format.YAML,
    ".yaml": Format.YAML,
    ".json": Format.JSON,
    ".xml": Format.XML,
    ".config": Format.XML,
    ".htpasswd": Format.HTPASSWD,
    ".key": Format.MASTER_KEY,
    ".sql": Format.SQL,
    ".dump": Format.SQL,
    ".tfstate": Format.JSON,
    ".sh": Format.SHELL,
    ".bash": Format.SHELL,
    ".zsh": Format.SHELL,
    ".ksh": Format.SHELL,
}
_CODE_SUFFIXES = frozenset(
    ".py .pyw .js .mjs .cjs .jsx .ts .tsx .vue .svelte .rb .php .java .kt .kts .scala .groovy .gradle .go .cs "
    ".swift .dart .ex .exs .erl .rs .c .cc .cpp .h .sh .bash .zsh .ps1 .tf .hcl .tfvars .toml .pl .pm .lua .r "
    ".m .mm .coffee .cr .nim .clj .cljs .jl .rake .gemspec .env.js".split()
)
_LOCALE_DIRS = frozenset("locale locales i18n l10n lang langs language languages translations".split())
_LANGUAGES = (
    "en|fr|de|es|it|pt|nl|ru|ja|zh|ko|pl|sv|da|fi|nb|nn|cs|tr|ar|he|el|hu|ro|uk|vi|th|id|ms|bg|hr|sk|sl|lt|lv|et|"
    "fa|hi|bn|ca|eu|gl|sr|is|ga|cy|af|sw|ta|te|ur"
)
_LOCALE_NAME = re.compile(r"^(?:" + _LANGUAGES + r")(?:[-_][a-z]{2,4})?$")
_CI_NAMES = frozenset(
    ".gitlab-ci.yml .travis.yml bitbucket-pipelines.yml azure-pipelines.yml .drone.yml cloudbuild.yaml "
    "buildspec.yml appveyor.yml".split()
)
_DATA_SUFFIXES = frozenset(".sql .dump .bak .csv .tsv .json .jsonl .ndjson .yml .yaml .xml .ldif .txt".split())
_TEST_PARTS = frozenset(
    "test tests spec specs __tests__ __mocks__ fixture fixtures testdata test_data test-data mocks mock e2e "
    "cypress testing".split()
)
_EXAMPLE_WORDS = ("example", "sample", "dist", "template", "tmpl", "default", "defaults", "skel", "tpl")
_WORDS = re.compile(r"[a-z0-9]{1,100}")
_PRODUCTION_WORDS = frozenset({"prod", "production", "live", "prd"})
_DEV_WORDS = frozenset({"dev", "development", "local", "localhost", "docker", "compose"})
_TEST_WORDS = frozenset({"test", "tests", "testing", "ci", "spec", "e2e"})


@lru_cache(maxsize=4096)
def file_context(path: str) -> FileContext:
    posix = path.replace("\\", "/").removeprefix("./")
    pure = PurePosixPath(posix)
    name = pure.name.lower()
    dirs = [p.lower() for p in pure.parts[:-1]]
    words = set(_WORDS.findall(name))
    example = any(w in words for w in _EXAMPLE_WORDS)
    test = (
        any(d in _TEST_PARTS for d in dirs)
        or name.startswith("test_")
        or bool(re.search(r"[._-](?:test|spec)\.[a-z]{1,4}$", name))
    )
    dotenv_name = name == ".env" or name.startswith(".env.") or name.endswith(".env") or name == ".envrc"
    if dotenv_name and words & _TEST_WORDS:
        test = True
    tail = "/".join([*dirs[-1:], name])
    fmt = _CREDENTIAL_PATHS.get(tail)
    credential = fmt is not None or name in _CREDENTIAL_NAMES or name.endswith(".htpasswd")
    if fmt is None:
        fmt = _CREDENTIAL_NAMES.get(name)
    if fmt is None and name in _SHELL_NAMES:
        fmt = Format.SHELL
    if fmt is None:
        fmt = _NAMED_FORMATS.get(name)
    if fmt is None:
        if dotenv_name and not name.endswith((".js", ".ts", ".py")):
            fmt = Format.DOTENV
        else:
            suffix = pure.suffix.lower()
            fmt = _BY_SUFFIX.get(suffix) or (Format.CODE if suffix in _CODE_SUFFIXES else Format.OTHER)
    if fmt is Format.OTHER and name.endswith(".properties.example"):
        fmt = Format.INI
    production = bool(words & _PRODUCTION_WORDS) or any(d in ("prod", "production") for d in dirs)
    dev = bool(words & _DEV_WORDS)
    ci = (
        any(d in (".github", ".circleci", ".gitlab", ".buildkite") for d in dirs)
        or name in _CI_NAMES
        or name.startswith("jenkinsfile")
    )
    stem = name.split(".", 1)[0]
    translation = bool(set(dirs) & _LOCALE_DIRS) or bool(_LOCALE_NAME.match(stem)) or stem.startswith("messages")
    return FileContext(
        ci=ci,
        translation=translation,
        data_file=pure.suffix.lower() in _DATA_SUFFIXES,
        format=fmt,
        credential_file=credential and not example,
        dotenv=dotenv_name and not example and not test,
        example=example,
        test=test,
        production=production and not example and not test,
        dev=dev,
    )


# -- which names hold credentials -----------------------------------------------------------------

_NAME_WORD = re.compile(r"[A-Z]{2,100}(?=[A-Z][a-z]|\b|[0-9_]|$)|[A-Z]?[a-z]{1,100}|[A-Z]{1,100}|[0-9]{1,100}")
_CREDENTIAL_LAST = frozenset(
    "password passwd pwd pass passphrase passwort secret token salt credentials credential auth apikey "
    "secretkey accesskey privatekey authkey authtoken accesstoken identitytoken keystorepass storepass "
    "keypass pw psk".split()
)
_CREDENTIAL_PAIRS = frozenset(
    {
        ("api", "key"),
        ("secret", "key"),
        ("app", "key"),
        ("auth", "key"),
        ("access", "key"),
        ("private", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("nonce", "key"),
        ("in", "key"),  # WordPress LOGGED_IN_KEY
        ("session", "key"),
        ("client", "key"),
        ("license", "key"),
        ("admin", "key"),
        ("write", "key"),
        ("service", "key"),
        ("account", "key"),
        ("shared", "key"),
        ("hmac", "key"),
        ("jwt", "key"),
    }
)
# Framework keys that sign sessions and cookies: Django, Laravel, Symfony, Rails, WordPress, Express.
_FRAMEWORK_NAMES = frozenset(
    {
        "secret_key",
        "app_key",
        "app_secret",
        "secret_key_base",
        "auth_key",
        "secure_auth_key",
        "logged_in_key",
        "nonce_key",
        "auth_salt",
        "secure_auth_salt",
        "logged_in_salt",
        "nonce_salt",
        "session_secret",
        "cookie_secret",
        "master_key",
        "django_secret_key",
        "flask_secret_key",
        "nextauth_secret",
        "rails_master_key",
    }
)


def name_words(name: str) -> list[str]:
    """``DB_PASSWORD`` -> [db, password]; ``clientSecret`` -> [client, secret]; the last dotted part only."""
    last = re.split(r"[./\\:\[\]]", name.strip("'\"` []$@:"))
    tail = next((part for part in reversed(last) if part), "")
    return [w.lower() for w in _NAME_WORD.findall(tail)]


def credential_name(name: str) -> str | None:
    """``framework`` for a framework signing key, ``credential`` for another credential name, else None."""
    words = name_words(name)
    if not words:
        return None
    joined = "_".join(words)
    if joined in _FRAMEWORK_NAMES:
        return "framework"
    last = words[-1]
    if last in _CREDENTIAL_LAST or (len(words) >= 2 and (words[-2], last) in _CREDENTIAL_PAIRS):
        return "credential"
    # Run-together names: `$dbpass`, `mysqlpassword`, `adminpwd`, `rootsecret` (not `bypass`, `compass`).
    if last.endswith(_JOINED_SUFFIXES) or (last.endswith("pass") and last[:-4] in _PASS_PREFIXES):
        return "credential"
    return None


_JOINED_SUFFIXES = ("password", "passwd", "pwd", "secret", "apikey", "passphrase", "authtoken", "accesstoken")
_PASS_PREFIXES = frozenset(
    "db sql mysql pg psql mongo redis root admin user usr ftp sftp smtp mail imap pop ldap app api web site "
    "master sys su db_ rcon server srv vnc".split()
)


# -- which values are values ----------------------------------------------------------------------

_NOT_VALUES = frozenset(
    "true false yes no on off null none nil undefined nan bearer basic digest string str text varchar char bool "
    "boolean int integer number object array required optional hidden secret password passwd pwd token "
    "changeme change_me changeit replaceme replace_me placeholder dummy example todo tbd fixme xxx redacted "
    "masked sensitive empty default env auto random generated secretkey apikey pass disabled enabled".split()
)
_REFERENCE = re.compile(
    r"^(?:\$|%\(|%env\(|%[a-z_]{1,60}%|\{\{|\{%|<%|#\{|@\{|!env|!secret|!vault|env\(|env\.|envs?\[|getenv|os\.|"
    r"process\.|import\.meta|environ|config\(|settings\.|secrets\.|vars\.|self\.|this\.|vault:|secret:|ref\+|"
    r"arn:|projects/[^/]{1,80}/secrets/|sm://|awssm|ssm:|op://|keychain:|file:)",
    re.IGNORECASE,
)
_PLACEHOLDER_PARTS = (
    "${",
    "{{",
    "%s",
    "%(",
    "xxxx",
    "****",
    "••",
    "your_",
    "your-",
    "your ",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "replace",
    "insert_",
    "insert-",
    "example",
    "dummy",
    "redacted",
    "not-set",
    "notset",
    "n/a",
)
_PATH_VALUE = re.compile(r"^(?:/|\./|\.\./|~/|[A-Za-z]:\\)|\.(?:pem|key|crt|cer|p12|pfx|jks|json|txt|env|ya?ml)$")
# `<your password>`, `[password]`: a slot to fill in.
_SLOT = re.compile(r"^(?:<[^<>]{0,80}>|\[[^\[\]]{0,80}\])$")
# Code that builds the value rather than holding it: format fields, calls.
_BUILT = re.compile(r"\{[A-Za-z0-9_.]{0,40}\}|%[sd]|[A-Za-z_][(\[]|\$\{|#\{")
# In code, a lower-case word or dotted/underscored name is an identifier or a label ("upgrades",
# "_sa_default", "gen_ai.first_token"), not a password; one with digits, capitals or symbols may be.
_IDENTIFIER_VALUE = re.compile(r"^[a-z_][a-z_.\-]{0,100}$|^_?[A-Z][a-z]{1,30}(?:[A-Z][a-z0-9]{0,30}){1,10}$")
# Versions, OIDs, addresses: `1.3.6.1.5.5.7.3.1`.
_NUMERIC_DOTTED = re.compile(r"^[0-9][0-9.]{0,60}$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]{0,40}(?:_[A-Z0-9]{1,40}){1,8}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def credential_value(
    value: str, name: str, context: FileContext, *, code: bool = False, framework: bool = False
) -> str | None:
    """The value to report (stripped), or None when it is not a credential value."""
    v = value.strip().strip("'\"`").strip()
    if len(v) < 4 or len(v) > 1000:
        return None
    lowered = v.lower()
    if framework and len(v) >= 32 and not any(c.isspace() for c in v) and not context.example:
        # A long framework key or salt is random punctuation by design (WordPress salts hold `{`, `%`,
        # `<`): only a reference to the environment is not the key itself.
        return None if _REFERENCE.match(v) or "${" in v or "{{" in v else v
    if lowered in _NOT_VALUES or _REFERENCE.match(v) or any(p in lowered for p in _PLACEHOLDER_PARTS):
        return None
    if _SLOT.match(v) or v.startswith("#") or lowered.startswith("anonymous"):
        return None  # a slot to fill in, an inline comment (`secret = # disabled`), anonymous FTP
    if _PATH_VALUE.search(v) or lowered.startswith(("http://", "https://", "data:")):
        return None
    if _NUMERIC_DOTTED.match(v) and "." in v:
        return None
    if _names_a_stored_secret(name) and _KEBAB.match(v):
        return None  # `existingSecret: db-credentials`: the name of a Kubernetes/CI secret, not its value
    if _ENV_NAME.match(v):
        return None  # the name of the variable that holds it
    if context.format in _SCHEMA_FORMATS and not context.credential_file:
        # API descriptions and schemas name fields and give examples: `"input_token": "NextToken"`,
        # `"output_token": "Shards[-1].ShardId"`, `"ChangeToken": "<uuid>"`. A password is still a password.
        if _FIELD_NAME.match(v) or _FIELD_PATH.match(v) or _UUID.match(v):
            return None
        last = (name_words(name) or [""])[-1]
        if _IDENTIFIER_VALUE.match(v) and last not in _PASSWORD_WORDS:
            return None
    if set(v) <= {"*", "x", "X", ".", "-", "_", "0", "•"}:
        return None
    words = name_words(name)
    if lowered.replace("-", "_") in ("_".join(words), "".join(words)):
        return None  # `password: password`: a label or a stand-in
    if any(c.isspace() for c in v):
        # Prose (labels, messages) is not a password; a session secret such as "keyboard cat" is.
        if not (words and words[-1] == "secret" and len(v.split()) <= 4 and not v.endswith((".", "?", "!", ":"))):
            return None
    if code and not framework and _IDENTIFIER_VALUE.match(v):
        # A password may well be one lower-case word ('PASSWORD': 'postgres'); a token or key is not.
        if not (
            words and words[-1] in _PASSWORD_WORDS and v.isalpha() and v.islower() and lowered not in _CODE_STAND_INS
        ):
            return None
    if code and (_BUILT.search(v) or v.startswith(("\\", "#")) or _UUID.match(v)):
        return None  # format strings, expressions, request ids
    if context.example and not _looks_random(v):
        return None  # an example file's stand-ins ("secret", "root", "admin123")
    return v


_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passwort", "pw"})
# Documentation's passwords in code (scott/tiger, every driver's example), and test stand-ins.
_CODE_STAND_INS = frozenset({"tiger", "test", "foo", "bar", "baz", "hunter", "secret"})


# Formats that also carry schemas and API descriptions, where a value may be a field's name.
_SCHEMA_FORMATS = frozenset({Format.JSON, Format.YAML, Format.XML})
# PascalCase or camelCase words without a digit: `NextToken`, `nextToken`, `Marker`, `SecretString`.
_FIELD_NAME = re.compile(r"^(?:[A-Z][a-z]{1,30}){1,8}$|^[a-z]{1,30}(?:[A-Z][a-z]{0,30}){1,8}$")
_FIELD_PATH = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]{0,60}(?:\[-?\d{1,4}\])?(?:\.[A-Za-z_][A-Za-z0-9_]{0,60}(?:\[-?\d{1,4}\])?){1,8}$"
)
_KEBAB = re.compile(r"^[a-z][a-z0-9]{0,40}(?:-[a-z0-9]{1,40}){1,8}$")


def _names_a_stored_secret(name: str) -> bool:
    words = name_words(name)
    return bool(words) and words[-1] in ("secret", "secrets", "credentials", "credential")


def _looks_random(value: str) -> bool:
    return len(value) >= 12 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


# -- readers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A credential-looking (name, value) and the 1-based line of the block it is on."""

    name: str
    value: str
    line: int
    framework: bool = False


# Parsed whole up to this size (a tree of YAML/XML nodes costs many times the text); bigger config
# files are read line by line. Dumps, shell and code are read line by line at any size.
_MAX_PARSE = 2 * 1024 * 1024
# Fallback for fragments: `name = value`, `name: value`, `"name": "value",`, `export NAME=value`.
_ASSIGN_LINE = re.compile(
    r"^[ \t]{0,40}(?:-[ \t]{1,4})?(?:export[ \t]{1,4}|set[ \t]{1,4})?[\"']?(?P<name>[A-Za-z_@$/][A-Za-z0-9_.\-/:@$]{0,120})"
    r"[\"']?[ \t]{0,10}(?::=|=>|=|:)[ \t]{0,10}(?P<value>[^\n]{1,500})$",
    re.MULTILINE,
)
_XML_ELEMENT = re.compile(r"<(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,60})(?:\s[^<>\n]{0,300})?>(?P<value>[^<\n]{1,300})</")
_XML_ATTR = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,60})\s{0,3}=\s{0,3}\"(?P<value>[^\"\n]{0,300})\"")
_PHP_DEFINE = re.compile(
    r"define\(\s{0,5}['\"](?P<name>[A-Za-z0-9_]{1,80})['\"]\s{0,5},\s{0,5}(?P<q>['\"])(?P<value>[^'\"\n]{0,300})(?P=q)"
)
# A string literal assigned to a name in code, from the name's first character (found by reading back
# from a keyword): `DB_PASSWORD = "..."`, `"password": "..."`, `password: '...'`, `:secret => "..."`,
# `password: str = "..."`.
_CODE_ASSIGN = re.compile(
    r"(?P<name>[A-Za-z_$][A-Za-z0-9_$]{0,100})['\"\]]{0,2}"
    r"(?::[ \t]{0,3}[A-Za-z_][A-Za-z0-9_\[\]|.]{0,40})?"
    r"[ \t]{0,5}(?::=|=>|\?\?=|\|\|=|=|:)[ \t]{0,5}"
    r"(?P<q>['\"])(?P<value>[^'\"\n\\]{0,300})(?P=q)"
)
# What after a literal says it is only part of the value: `"whsec_" + token`, `"%s" % x`, `"a".join(...)`.
_JOINED = frozenset("+.%[")
# A string literal after an assignment or a key: `= "`, `: '`, `=> "`, `:= "`.
_STRING_ASSIGNED = re.compile(r"[=:>][ \t]{0,5}['\"]")
_QUALIFIED = frozenset(":/\\-")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


class _LineAt:
    """Line numbers of increasing offsets in one text, counted from the last one asked (linear overall)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def __call__(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _from_assign_lines(text: str) -> Iterator[Found]:
    line_at = _LineAt(text)
    for m in _ASSIGN_LINE.finditer(text):
        value = m.group("value").strip()
        if value[:1] in "\"'" and value[-1:] in (",", ";"):
            value = value[:-1].rstrip()
        if value[:1] in "\"'":
            quote = value[0]
            end = value.find(quote, 1)
            value = value[1:end] if end > 0 else value[1:]
        elif " #" in value:
            value = value.split(" #", 1)[0]
        yield Found(m.group("name"), value.rstrip(",;"), line_at(m.start()))


def _from_dotenv(text: str) -> Iterator[Found]:
    from dotenv.parser import parse_stream

    from launchready.secrets.envfile import first_line_of as first_line

    for binding in parse_stream(io.StringIO(text)):
        if binding.error or binding.key is None or binding.value is None:
            continue
        yield Found(binding.key, binding.value, first_line(binding))


class _Locator:
    """Lines of (name, value) pairs a parser returned without positions, searched in document order."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.cursor = 0

    def find(self, name: str, value: str) -> int:
        probe = value.splitlines()[0] if value else value
        for start in (self.cursor, 0):
            for index in range(start, len(self.lines)):
                line = self.lines[index]
                if probe in line and name.lower() in line.lower() and not line.lstrip().startswith(("#", ";")):
                    self.cursor = index + 1
                    return index + 1
        return 1


def _from_ini(text: str, delimiters: tuple[str, ...] = ("=", ":")) -> Iterator[Found]:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, delimiters=delimiters, allow_no_value=True, comment_prefixes=("#", ";")
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    body = text if text.lstrip().startswith("[") else "[__top__]\n" + text
    try:
        parser.read_string(body)
    except configparser.Error:
        yield from _from_assign_lines(text)
        return
    locate = _Locator(text)
    found = False
    for section in parser.sections():
        for key, value in parser.items(section, raw=True):
            name = key
            if value is None:
                # `rcon_password "x"`, `auth-user-pass x`: game-server and VPN configs separate by a space.
                name, _, value = key.partition(" ")
                if not value.strip():
                    continue
            if credential_name(name) is None:
                continue
            found = True
            yield Found(name, value, locate.find(name, value.strip()))
    if not found and "=" in text:
        # Indented lines are INI continuations, so `network={ psk="..." }` blocks (wpa_supplicant) and
        # similar .conf files hide their keys from configparser: read their lines too.
        yield from _from_assign_lines(text)


def _from_yaml_nodes(text: str) -> Iterator[Found] | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = list(yaml.compose_all(text, Loader=loader))
    except yaml.YAMLError:
        return None
    return _walk_yaml(documents)


def _walk_yaml(documents: Sequence[object]) -> Iterator[Found]:
    import yaml

    seen: set[int] = set()
    stack: list[object] = [d for d in documents if d is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # an alias: its node was walked already (no billion laughs)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            pairs = {
                k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
            }
            label = pairs.get("name") or pairs.get("key")
            if label is not None and "value" in pairs and credential_name(str(label.value)) is not None:
                value = pairs["value"]
                yield Found(str(label.value), str(value.value), value.start_mark.line + 1)
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode):
                    if credential_name(str(key.value)) is not None:
                        yield Found(str(key.value), str(value.value), value.start_mark.line + 1)
                else:
                    stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.ScalarNode):
                    name, sep, assigned = str(item.value).partition("=")
                    if sep and credential_name(name) is not None:
                        yield Found(name, assigned, item.start_mark.line + 1)
                else:
                    stack.append(item)


def _from_yaml(text: str) -> Iterator[Found]:
    found = _from_yaml_nodes(text)
    if found is None:
        yield from _from_assign_lines(text)
    else:
        yield from found


def _from_json(text: str) -> Iterator[Found]:
    found = _from_yaml_nodes(text)  # YAML reads most JSON with line numbers
    if found is not None:
        yield from found
        return
    try:
        data = json.loads(text)
    except ValueError:
        yield from _from_assign_lines(text)
        return
    locate = _Locator(text)
    stack: list[object] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str | int) and credential_name(str(key)) is not None:
                    yield Found(str(key), str(value), locate.find(str(key), str(value)))
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


class _XmlRefused(Exception):
    """The document declares entities: not parsed (no expansion, no external entities)."""


def _from_xml(text: str) -> Iterator[Found]:
    found = _parse_xml(text)
    if found is None:
        found = _parse_xml(f"<fragment>{text}</fragment>")
    if found is None:
        yield from _from_xml_regex(text)
    else:
        yield from found


def _parse_xml(text: str) -> list[Found] | None:
    out: list[Found] = []
    stack: list[tuple[str, int, list[str]]] = []
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> int:
        raise _XmlRefused

    def start(tag: str, attrs: dict[str, str]) -> None:
        line = parser.CurrentLineNumber
        for name, value in attrs.items():
            if credential_name(name) is not None:
                out.append(Found(name, value, line))
        label = attrs.get("key") or attrs.get("name")
        if label is not None and "value" in attrs and credential_name(label) is not None:
            out.append(Found(label, attrs["value"], line))
        stack.append((tag, line, []))

    def data(chunk: str) -> None:
        if stack:
            stack[-1][2].append(chunk)

    def end(tag: str) -> None:
        name, line, chunks = stack.pop()
        if credential_name(name) is not None:
            out.append(Found(name, "".join(chunks), line))

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.CharacterDataHandler = data
    parser.EndElementHandler = end
    try:
        parser.Parse(text, True)
    except (xml.parsers.expat.ExpatError, _XmlRefused):
        return None
    return out


def _from_xml_regex(text: str) -> Iterator[Found]:
    for pattern in (_XML_ELEMENT, _XML_ATTR):
        line_at = _LineAt(text)
        for m in pattern.finditer(text):
            if credential_name(m.group("name")) is not None:
                yield Found(m.group("name"), m.group("value"), line_at(m.start()))


_PASSWORD_TOKENS = frozenset({"password", "passwd", "pass", "passphrase", "psk"})


def _from_netrc(text: str) -> Iterator[Found]:
    """netrc, msmtp, fetchmail, esmtp: `password VALUE` (or `password = VALUE`) among other tokens.

    Tokenised by shlex in POSIX mode (quoted values with spaces, as the mail tools read them); a `#`
    starts a comment only at the start of a line, as in netrc (passwords may hold one).
    """
    uncommented = "\n".join("" if line.lstrip().startswith("#") else line for line in text.split("\n"))
    lexer = shlex.shlex(io.StringIO(uncommented), posix=True)
    lexer.commenters = ""
    lexer.whitespace_split = True
    found: list[Found] = []
    try:
        token = lexer.get_token()
        while token:
            keyword, sep, inline = token.partition("=")
            if keyword.lower() in _PASSWORD_TOKENS:
                line = lexer.lineno  # the keyword's line: reading the value may step past its newline
                value = inline if sep else lexer.get_token() or ""
                if not sep and value == "=":
                    value = lexer.get_token() or ""
                found.append(Found(keyword, value, line))
            token = lexer.get_token()
    except ValueError:
        yield from _from_assign_lines(text)
        return
    yield from found


def _colon_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text), delimiter=":", escapechar="\\", quoting=csv.QUOTE_NONE)
    try:
        for row in reader:
            if row and not row[0].lstrip().startswith("#"):
                yield reader.line_num, row
    except csv.Error:
        return


def _from_pgpass(text: str) -> Iterator[Found]:
    for line, row in _colon_rows(text):
        if len(row) >= 5:
            yield Found("password", ":".join(row[4:]), line)


def _from_htpasswd(text: str) -> Iterator[Found]:
    for line, row in _colon_rows(text):
        if len(row) >= 2 and len(row[1]) >= 13 and row[1][:1] not in ("!", "*"):
            yield Found("password", row[1], line)


_MASTER_KEY = re.compile(r"\A\s{0,20}(?P<value>[0-9a-f]{32}|[0-9a-f]{64})\s{0,20}\Z")


def _from_master_key(text: str) -> Iterator[Found]:
    m = _MASTER_KEY.match(text)
    if m is not None:
        yield Found("master_key", m.group("value"), 1, framework=True)


def _name_before(text: str, end: int) -> int:
    """Where the name that ends at ``end`` starts (skipping blanks and a closing quote and bracket:
    `$cfg['password'] = '...'`)."""
    pos = end
    while pos > 0 and text[pos - 1] in " \t":
        pos -= 1
    for _ in range(2):
        if pos > 0 and text[pos - 1] in "'\"]":
            pos -= 1
    start = pos
    while start > 0 and text[start - 1] in _NAME_CHARS and pos - start < 100:
        start -= 1
    return start if start < pos else -1


def _from_code(text: str, lowered: str) -> Iterator[Found]:
    # Start from each string literal assigned to something (one C-speed pass; code assigns few), then
    # read back the name it is assigned to; only credential names go on to the full regex.
    line_at = _LineAt(text)
    for delimiter in _STRING_ASSIGNED.finditer(text):
        end = delimiter.start()
        while end > 0 and text[end - 1] in "=:?|" and delimiter.start() - end < 3:
            end -= 1  # `=>`, `:=`, `??=`, `||=`
        start = _name_before(text, end)
        if start < 0 or (start > 0 and text[start - 1] in _QUALIFIED):
            continue  # `"AWS::SecretsManager::Secret": "..."`, `a/b/secret = "..."`: a path, not a name
        name = text[start:end].strip(" \t'\"]`")
        if credential_name(name) is None:
            # `password: str = "..."`: the name is right before the annotation.
            colon = start
            while colon > 0 and text[colon - 1] in " \t":
                colon -= 1
            if colon < 2 or text[colon - 1] != ":" or text[colon - 2] in " \t":
                continue
            start = _name_before(text, colon - 1)
            if start < 0 or credential_name(text[start : colon - 1].strip(" \t'\"]`")) is None:
                continue
        m = _CODE_ASSIGN.match(text, start)
        if m is not None and text[m.end() : m.end() + 3].lstrip(" \t")[:1] not in _JOINED:
            name = m.group("name")
            # Express: `session({ secret: '...' })` signs the session cookies.
            framework = name.lower() == "secret" and "session(" in lowered[max(0, start - 300) : start]
            yield Found(name, m.group("value"), line_at(m.start("value")), framework)
    if "define(" in lowered:
        line_at = _LineAt(text)
        for m in _PHP_DEFINE.finditer(text):
            yield Found(m.group("name"), m.group("value"), line_at(m.start()))


_CREATE_TABLE = re.compile(r"^\s{0,10}CREATE TABLE\b", re.IGNORECASE)
_COLUMN = re.compile(r"^\s{1,20}[`\"\[]?(?P<name>[A-Za-z_][A-Za-z0-9_]{0,80})[`\"\]]?\s{1,20}[A-Za-z]")
_NOT_COLUMNS = frozenset({"primary", "key", "unique", "constraint", "index", "foreign", "check", "fulltext"})
_INSERT = re.compile(
    r"^\s{0,10}INSERT\s{1,5}INTO\s{1,5}[`\"\[]?(?P<table>[A-Za-z0-9_.]{1,120})[`\"\]]?\s{0,5}"
    r"(?:\((?P<columns>[^)\n]{1,4000})\))?\s{0,5}VALUES\s{0,5}(?P<rows>[^\n]{0,16000000})$",
    re.IGNORECASE,
)
_COPY = re.compile(
    r"^COPY\s{1,5}\S{1,200}\s{1,5}\((?P<columns>[^)\n]{1,4000})\)\s{1,5}FROM\s{1,5}stdin;", re.IGNORECASE
)
_SQL_CREDENTIAL_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "salt", "apikey", "passphrase"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _column_names(listed: str) -> list[str]:
    return [c.strip().strip('`"[] ') for c in listed.split(",")]


def _credential_column(column: str) -> bool:
    """Users' password hashes, API tokens, OTP secrets: any credential word in the column's name."""
    words = name_words(column)
    return bool(set(words) & _SQL_CREDENTIAL_WORDS) or credential_name(column) is not None


def _sql_values(row: str, delimiter: str) -> list[str]:
    if delimiter == "\t":
        reader = csv.reader([row], delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader([row], quotechar="'", escapechar="\\", skipinitialspace=True)
    try:
        return next(reader, [])
    except csv.Error:
        return []


def _from_sql(text: str) -> Iterator[Found]:
    """Values under credential-named columns of a dump: INSERT rows (columns listed, or from the CREATE TABLE
    before them) and pg_dump COPY blocks. Rows are split by csv; one row a line, or several on one."""
    columns: dict[str, list[str]] = {}
    table: str | None = None
    copy_columns: list[str] | None = None
    last_names: list[str] | None = None  # the columns of the INSERT whose rows may follow on their own lines
    for number, line in enumerate(text.splitlines(), start=1):
        if copy_columns is not None:
            if line.startswith("\\."):
                copy_columns = None
                continue
            for index, value in enumerate(_sql_values(line, "\t")):
                if index < len(copy_columns) and value != "\\N" and _credential_column(copy_columns[index]):
                    yield Found(copy_columns[index], value, number)
            continue
        if _CREATE_TABLE.match(line):
            found = re.search(r"[`\"\[]?([A-Za-z0-9_.]{1,120})[`\"\]]?\s{0,5}\(", line)
            table = found.group(1) if found else None
            if table is not None:
                columns[table] = []
            continue
        if table is not None:
            column = _COLUMN.match(line)
            if column is not None and column.group("name").lower() not in _NOT_COLUMNS:
                columns[table].append(column.group("name"))
            elif line.lstrip().startswith(")"):
                table = None
            continue
        copy = _COPY.match(line)
        if copy is not None:
            copy_columns = _column_names(copy.group("columns"))
            continue
        insert = _INSERT.match(line)
        if insert is not None:
            listed = insert.group("columns")
            names = _column_names(listed) if listed else columns.get(insert.group("table"))
            last_names, rows = names, insert.group("rows")
        elif line.lstrip().startswith("(") and last_names is not None:
            names, rows = last_names, line  # one row a line after `INSERT INTO t VALUES`
        else:
            last_names = None
            continue
        if not names:
            continue
        body = rows.strip().rstrip(";,").strip()
        for row in body.split("),("):
            for index, value in enumerate(_sql_values(row.strip("() "), ",")):
                if index < len(names) and _credential_column(names[index]) and not _DATE.match(value):
                    yield Found(names[index], value, number)


def read_pairs(text: str, context: FileContext, lowered: str) -> list[Found]:
    """Every (name, value, line) of ``text`` whose name is credential-named (values not judged yet).

    The parsers are libraries reading whatever a repository holds; one that fails on a file in a way
    it does not document (configparser's AttributeError on a value-less key followed by an indented
    line, a RecursionError on absurd nesting) must not stop the scan: the file is then read line by
    line like a fragment.
    """
    try:
        return list(_read_pairs(text, context, lowered))
    except Exception:  # noqa: BLE001 - see above: any parser failure falls back to the line reader
        return list(_from_assign_lines(text))


def _read_pairs(text: str, context: FileContext, lowered: str) -> Iterator[Found]:
    fmt = context.format
    if len(text) > _MAX_PARSE and fmt not in (Format.CODE, Format.OTHER, Format.SQL, Format.SHELL):
        yield from _from_assign_lines(text)
        return
    if fmt is Format.DOTENV:
        yield from _from_dotenv(text)
    elif fmt is Format.INI:
        yield from _from_ini(text)
    elif fmt is Format.NPMRC:
        yield from _from_ini(text, ("=",))
    elif fmt is Format.YAML:
        yield from _from_yaml(text)
    elif fmt is Format.JSON:
        yield from _from_json(text)
    elif fmt is Format.XML:
        yield from _from_xml(text)
    elif fmt is Format.NETRC:
        yield from _from_netrc(text)
    elif fmt is Format.PGPASS:
        yield from _from_pgpass(text)
    elif fmt is Format.HTPASSWD:
        yield from _from_htpasswd(text)
    elif fmt is Format.MASTER_KEY:
        yield from _from_master_key(text)
    elif fmt is Format.SQL:
        yield from _from_sql(text)
    elif fmt is Format.SHELL:
        # Shell assignments (`export DB_PASSWORD=x`) read as dotenv (its parser skips the other lines),
        # quoted literals in commands as code.
        yield from _from_dotenv(text)
        yield from _from_code(text, lowered)
    elif fmt is Format.CODE:
        yield from _from_code(text, lowered)


@dataclass(frozen=True)
class Credential:
    value: str
    line: int  # 1-based line in the block
    framework: bool
    local_default: bool = False  # a database image's default password in a dev or CI file: low


def find_credentials(text: str, context: FileContext, lowered: str) -> list[Credential]:
    """Credential values under credential-named keys in ``text``, judged (placeholders and references dropped)."""
    if context.format is Format.OTHER or (context.translation and context.format is not Format.CODE):
        return []
    code = context.format is Format.CODE
    out: list[Credential] = []
    for found in read_pairs(text, context, lowered):
        kind = "framework" if found.framework else credential_name(found.name)
        if kind is None or (code and kind == "credential" and name_words(found.name)[-1] == "auth"):
            continue  # in code, `*_AUTH` names settings and modes (SERVER_AUTH, BASIC_AUTH); in config, `auth` is npm's
        value = credential_value(found.value, found.name, context, code=code, framework=kind == "framework")
        if value is None:
            continue
        local = (context.dev or context.ci) and value.lower() in _LOCAL_DEFAULTS
        out.append(Credential(value, found.line, kind == "framework", local))
    return out


# What docker-compose files and CI service containers set for throwaway databases.
_LOCAL_DEFAULTS = frozenset(
    "postgres root mysql mariadb admin sa guest user redis mongo rabbitmq dev development local docker "
    "example app".split()
)
