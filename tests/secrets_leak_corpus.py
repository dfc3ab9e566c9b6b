"""A labelled corpus of the files small teams' repositories leak credentials in, one class at a time.

Each file is written the way real projects write it (framework defaults, deploy tools, editor
plugins, dumps), with every credential fake: generated from a seeded RNG and, for provider
formats, assembled from pieces so no push protection mistakes this file for a leak. ``lines`` are
the 1-based lines that hold a credential (what the scanner must report); any other reported line
is a false positive. Files of the ``decoy`` class hold none; files of the ``fixture`` class hold
test credentials that must be reported low, never above.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_RNG = random.Random(1502)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class LeakFile:
    cls: str
    path: str
    text: str
    lines: frozenset[int]


def leak(cls: str, path: str, text: str, *lines: int) -> LeakFile:
    return LeakFile(cls, path, text, frozenset(lines))


WEAK = "admin123"
SHARED = "Sh4red" + r(6)

FILES: tuple[LeakFile, ...] = (
    # -- committed .env files -----------------------------------------------------------------
    leak(
        "dotenv",
        ".env",
        "APP_NAME=Shop\n"
        "APP_ENV=production\n"
        f"APP_KEY=base64:{r(43, B64)}=\n"
        "APP_DEBUG=false\n"
        "APP_URL=https://shop.example-host.net\n"
        "\n"
        "DB_CONNECTION=mysql\n"
        "DB_HOST=10.0.3.12\n"
        "DB_PORT=3306\n"
        "DB_DATABASE=shop\n"
        "DB_USERNAME=shop\n"
        f"DB_PASSWORD={WEAK}\n"
        "\n"
        "REDIS_PASSWORD=null\n"
        "MAIL_MAILER=smtp\n"
        "MAIL_USERNAME=no-reply@shop.test\n"
        f'MAIL_PASSWORD="{SHARED}"\n'
        f"MAIL_BACKUP_PASSWORD={SHARED}\n",
        3,
        12,
        17,
        18,
    ),
    leak(
        "dotenv",
        "api/.env.production",
        "NODE_ENV=production\n"
        "PORT=8080\n"
        "JWT_SECRET=supersecret2024\n"
        f"SESSION_SECRET='{r(24)}'\n"
        "JWT_EXPIRES_IN=7d\n"
        "export ADMIN_PASSWORD=Welcome1\n",
        3,
        4,
        6,
    ),
    leak(
        "dotenv",
        "symfony/.env.local",
        f"APP_ENV=prod\nAPP_SECRET={r(32, HEX)}\nMESSENGER_TRANSPORT_DSN=doctrine://default\n",
        2,
    ),
    # -- INI and properties --------------------------------------------------------------------
    leak(
        "ini",
        "config/app.ini",
        "[app]\nname = shop\ndebug = false\n\n[database]\nhost = db.internal\nuser = shop\n"
        "password = Passw0rd!\n\n[smtp]\nhost = smtp.mailhost.test\nport = 587\npass = mailpass99\n",
        8,
        13,
    ),
    leak(
        "ini",
        "src/main/resources/application.properties",
        "server.port=8080\n"
        "spring.datasource.url=jdbc:mysql://db.internal:3306/shop\n"
        "spring.datasource.username=shop\n"
        "spring.datasource.password=Spring" + r(5, string.digits) + "\n"
        "spring.mail.host=smtp.mailhost.test\n"
        "spring.mail.password=" + r(16) + "\n"
        "logging.level.root=INFO\n",
        4,
        6,
    ),
    leak(
        "ini",
        "ops/my.cnf",
        "[client]\nuser=backup\npassword=" + r(12) + "\nhost=db.internal\n",
        3,
    ),
    leak(
        "ini",
        "tools/WinSCP.ini",
        "[Sessions\\deploy@shop]\nHostName=ftp.shop-host.net\nUserName=deploy\nPassword="
        + r(40, "ABCDEF0123456789")
        + "\n",
        4,
    ),
    # -- YAML --------------------------------------------------------------------------------
    leak(
        "yaml",
        "config/database.yml",
        "default: &default\n  adapter: postgresql\n  pool: 5\n\n"
        "development:\n  <<: *default\n  database: shop_dev\n\n"
        "production:\n  <<: *default\n  database: shop\n  username: shop\n  password: railsprod2023\n",
        13,
    ),
    leak(
        "yaml",
        "docker-compose.prod.yml",
        "services:\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_USER=shop\n"
        "      - POSTGRES_PASSWORD=pg" + r(10) + "\n  web:\n    build: .\n    environment:\n"
        "      SECRET_KEY_BASE: " + r(64, HEX) + "\n      RAILS_ENV: production\n",
        6,
        10,
    ),
    leak(
        "yaml",
        "k8s/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop\ntype: Opaque\nstringData:\n"
        "  DB_PASSWORD: k8s" + r(9) + "\n  API_TOKEN: " + r(30) + "\n",
        7,
        8,
    ),
    leak(
        "yaml",
        "deploy/app.yaml",
        "env:\n  - name: SMTP_PASSWORD\n    value: mail" + r(8) + "\n  - name: LOG_LEVEL\n    value: info\n",
        3,
    ),
    # -- JSON --------------------------------------------------------------------------------
    leak(
        "json",
        "config/production.json",
        '{\n  "port": 8080,\n  "db": {\n    "host": "db.internal",\n    "user": "shop",\n'
        '    "password": "' + WEAK + '"\n  },\n  "mail": {"apiKey": "' + r(32) + '"}\n}\n',
        6,
        8,
    ),
    leak(
        "json",
        "home/.docker/config.json",
        '{\n\t"auths": {\n\t\t"registry.example-host.net": {\n\t\t\t"auth": "' + r(28, B64) + '="\n\t\t}\n\t}\n}\n',
        4,
    ),
    leak(
        "json",
        "sftp-config.json",
        '{\n    "type": "sftp",\n    "host": "ftp.shop-host.net",\n    "user": "deploy",\n'
        '    "password": "ftp2023!",\n    "remote_path": "/var/www/shop"\n}\n',
        5,
    ),
    leak(
        "json",
        ".vscode/sftp.json",
        '{\n  "name": "prod",\n  "host": "203.0.113.10",\n  "protocol": "ftp",\n  "username": "web",\n'
        '  "password": "' + r(14) + '",\n  "uploadOnSave": true\n}\n',
        6,
    ),
    leak(
        "json",
        ".dbeaver/data-sources.json",
        '{"connections": {"mysql-1": {"configuration": {"host": "db.internal", "user": "root",\n'
        '"password": "root' + r(4, string.digits) + '"}}}}\n',
        2,
    ),
    # -- XML ---------------------------------------------------------------------------------
    leak(
        "xml",
        "backup/sitemanager.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n<FileZilla3>\n  <Servers>\n    <Server>\n'
        "      <Host>ftp.shop-host.net</Host>\n      <Port>21</Port>\n      <User>shop</User>\n"
        '      <Pass encoding="base64">' + r(16, B64) + "</Pass>\n    </Server>\n  </Servers>\n</FileZilla3>\n",
        8,
    ),
    leak(
        "xml",
        "maven/settings.xml",
        "<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>deploy</username>\n"
        "      <password>" + r(18) + "</password>\n    </server>\n  </servers>\n</settings>\n",
        6,
    ),
    leak(
        "xml",
        "conf/tomcat-users.xml",
        '<tomcat-users>\n  <role rolename="manager-gui"/>\n  <user username="admin" password="tomcat'
        + r(3, string.digits)
        + '" roles="manager-gui"/>\n</tomcat-users>\n',
        3,
    ),
    leak(
        "xml",
        "Web.config",
        "<configuration>\n  <appSettings>\n"
        '    <add key="PaymentApiSecret" value="' + r(24) + '" />\n'
        '    <add key="Theme" value="dark" />\n  </appSettings>\n  <connectionStrings>\n'
        '    <add name="Shop" connectionString="Server=db;Database=shop;User Id=sa;Password=Sql' + r(8) + ';" />\n'
        "  </connectionStrings>\n</configuration>\n",
        3,
        7,
    ),
    leak(
        "xml",
        ".idea/WebServers.xml",
        '<project version="4">\n  <component name="WebServers">\n    <option name="servers">\n'
        '      <webServer id="1" name="prod">\n        <fileTransfer host="ftp.shop-host.net" port="21" '
        'username="deploy" password="'
        + r(20, HEX)
        + '" />\n      </webServer>\n    </option>\n  </component>\n</project>\n',
        5,
    ),
    # -- PHP define (WordPress) ----------------------------------------------------------------
    leak(
        "php",
        "wp-config.php",
        "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wp' );\n"
        f"define( 'DB_PASSWORD', 'wp{r(6)}' );\ndefine( 'DB_HOST', 'localhost' );\n"
        + "".join(
            f"define( '{name}', '{r(64, ALNUM + '!@#%^&*()-_[]{{}}<>~+=,.;:/?|')}' );\n"
            for name in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "NONCE_SALT")
        )
        + "$table_prefix = 'wp_';\n",
        4,
        6,
        7,
        8,
        9,
        10,
        11,
    ),
    # -- framework secrets in code -----------------------------------------------------------------
    leak(
        "framework",
        "shop/settings.py",
        "import os\n\nDEBUG = False\n"
        f"SECRET_KEY = 'django-insecure-{r(40, string.ascii_lowercase + string.digits + '!@#%^&*-_=+')}'\n"
        "ALLOWED_HOSTS = ['shop.example-host.net']\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'shop', "
        "'PASSWORD': 'djangodb1'}}\n",
        4,
        6,
    ),
    leak(
        "framework",
        "blog/settings/production.py",
        "DATABASES = {\n    'default': {\n        'USER': 'blog',\n        'PASSWORD': 'bloggerpass',\n    }\n}\n",
        4,
    ),
    leak(
        "framework",
        "server/app.js",
        "const session = require('express-session');\napp.use(session({\n  secret: 'keyboard cat',\n"
        "  resave: false,\n  saveUninitialized: true,\n}));\n",
        3,
    ),
    leak(
        "framework",
        "app/__init__.py",
        f"app = Flask(__name__)\napp.secret_key = '{r(12)}'\n",
        2,
    ),
    leak("framework", "config/master.key", r(32, HEX) + "\n", 1),
    # -- credential files ---------------------------------------------------------------------
    leak(
        "credential-file",
        ".netrc",
        "machine api.heroku.com\n  login dev@shop.test\n  password "
        + r(36, HEX)
        + "\nmachine git.shop-host.net login ci password cipass2024\n",
        3,
        4,
    ),
    leak(
        "credential-file",
        ".pgpass",
        "# host:port:db:user:password\ndb.internal:5432:shop:shop:" + r(14) + "\n*:*:*:postgres:pgroot\n",
        2,
        3,
    ),
    leak("credential-file", ".git-credentials", f"https://deploy:{r(20)}@git.shop-host.net\n", 1),
    leak(
        "credential-file",
        ".npmrc",
        "registry=https://registry.npmjs.org/\n//npm.shop-host.net/:_authToken=" + r(36) + "\n"
        "//npm.shop-host.net/:_password=" + r(16, B64) + "\n",
        2,
        3,
    ),
    leak(
        "credential-file",
        "public/.htpasswd",
        "admin:$apr1$" + r(8) + "$" + r(22, ALNUM + "./") + "\nstaff:$2y$05$" + r(53, ALNUM + "./") + "\n",
        1,
        2,
    ),
    leak(
        "credential-file",
        "etc/shadow",
        "root:$6$" + r(16) + "$" + r(86, ALNUM + "./") + ":19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
        1,
    ),
    leak(
        "credential-file",
        ".msmtprc",
        "defaults\nauth on\ntls on\naccount shop\nhost smtp.mailhost.test\nuser shop\npassword msmtp" + r(6) + "\n",
        7,
    ),
    leak(
        "credential-file",
        "aws/.aws/credentials",
        "[default]\naws_access_key_id = "
        + "AK"
        + "IA"
        + r(16, string.ascii_uppercase + "234567")
        + "\naws_secret_access_key = "
        + r(36, B64)
        + "k9Q2\n",
        3,
    ),
    leak(
        "credential-file",
        "dotfiles/.bashrc",
        "alias ll='ls -la'\nexport PATH=$HOME/bin:$PATH\nexport DIGITAL_OCEAN_API_KEY=" + r(40, HEX) + "\n"
        "export MYSQL_PWD=mysql" + r(5, string.digits) + "\n",
        3,
        4,
    ),
    leak(
        "credential-file",
        "cloud/.tugboat",
        "---\nauthentication:\n  client_key: " + r(32, HEX) + "\n  api_key: " + r(32, HEX) + "\n"
        "defaults:\n  region: nyc3\n",
        3,
        4,
    ),
    leak(
        "credential-file",
        "home/hub",
        "github.com:\n- user: shopdev\n  oauth_token: " + r(40, HEX) + "\n  protocol: https\n",
        3,
    ),
    leak(
        "credential-file",
        "cloud/.credentials",
        "[default]\naws_access_key_id = "
        + "AK"
        + "IA"
        + r(16, string.ascii_uppercase + "234567")
        + "\naws_secret_access_key = "
        + r(40, B64)
        + "\n",
        3,
    ),
    leak(
        "credential-file",
        "db/robomongo.json",
        '{\n    "connections" : [{\n        "serverHost" : "db.internal",\n        "credentials" : [{\n'
        '            "userName" : "admin",\n            "userPassword" : "mongo' + r(6) + '"\n        }]\n    }]\n}\n',
        6,
    ),
    leak(
        "credential-file",
        "ftp/proftpdpasswd",
        "shop:$1$" + r(8) + "$" + r(22, ALNUM + "./") + ":1001:1001::/var/www:/bin/false\n",
        1,
    ),
    leak(
        "credential-file",
        "home/.esmtprc",
        'identity "shop@mailhost.test"\n    hostname smtp.mailhost.test:587\n    username "shop"\n'
        '    password "esmtp' + r(6) + '"\n    starttls required\n',
        4,
    ),
    leak(
        "ini",
        "ventrilo_srv.ini",
        "[Server]\nName=Shop guild\nPhonetic=shop\nAuth=1\nDuplicates=1\nAdminPassword=vent"
        + r(6)
        + "\nPassword=guild"
        + r(4, string.digits)
        + "\n",
        6,
        7,
    ),
    leak(
        "php",
        "public_html/config.php",
        "<?php\n$dbhost = 'localhost';\n$dbuser = 'shop';\n$dbpass = 'shop" + r(5) + "';\n"
        "define('DB_PASS', 'sh0p" + r(5) + "');\n",
        4,
        5,
    ),
    leak(
        "yaml",
        "config/mongoid.yml",
        "production:\n  clients:\n    default:\n      database: shop\n      hosts:\n        - db.internal:27017\n"
        "      options:\n        user: shop\n        password: mongoid" + r(4, string.digits) + "\n",
        9,
    ),
    leak(
        "credential-file",
        "vpn/ipsec.secrets",
        '# /etc/ipsec.secrets\n%any 203.0.113.7 : PSK "' + r(24) + '"\n',
        2,
    ),
    leak(
        "ini",
        "dotfiles/.gitconfig",
        "[user]\n    name = Shop Dev\n    email = dev@shop.test\n[github]\n    user = shopdev\n    token = gh"
        + r(14)
        + "\n",
        6,
    ),
    leak("ini", "dotfiles/.wgetrc", "http_user = shop\nhttp_password = wget" + r(6) + "\n", 2),
    leak(
        "ini",
        "router/wpa_supplicant.conf",
        'ctrl_interface=/var/run/wpa_supplicant\nnetwork={\n    ssid="shop-office"\n    psk="wifi' + r(8) + '"\n}\n',
        4,
    ),
    leak(
        "json",
        "sublime/sftp-config.json",
        '{\n    // The tab key will cycle through the settings when first created\n    "type": "sftp",\n'
        '    "host": "ftp.shop-host.net",\n    "user": "deploy",\n    "password": "subl' + r(8) + '",\n'
        '    "remote_path": "/var/www/",\n}\n',
        6,
    ),
    leak(
        "credential-file",
        "keys/deploy.ppk",
        "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: deploy@shop\nPublic-Lines: 6\n"
        + "".join(r(64, B64) + "\n" for _ in range(6))
        + "Private-Lines: 14\n"
        + "".join(r(64, B64) + "\n" for _ in range(14))
        + "Private-MAC: "
        + r(64, HEX)
        + "\n",
        12,
    ),
    # -- URLs with credentials -----------------------------------------------------------------
    leak(
        "url",
        "deploy/git-config",
        '[remote "origin"]\n\turl = https://ci-bot:' + r(16) + "@git.shop-host.net/shop/app.git\n"
        "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
        2,
    ),
    leak(
        "url",
        "scripts/backup.sh",
        "#!/bin/sh\ntar czf /tmp/site.tgz /var/www\ncurl -T /tmp/site.tgz ftp://backup:bk"
        + r(8)
        + "@ftp.shop-host.net/\n",
        3,
    ),
    leak(
        "url",
        "worker/celery.py",
        "BROKER_URL = 'amqp://shop:" + r(12) + "@mq.internal:5672//'\n"
        "CACHE = 'redis://:" + r(14) + "@cache.internal:6379/0'\n"
        "MONGO = 'mongodb+srv://app:" + r(12) + "@cluster0.mongo.example-host.net/shop'\n",
        1,
        2,
        3,
    ),
    # -- database dumps -----------------------------------------------------------------------
    leak(
        "sql-dump",
        "db/backup-2024-03-01.sql",
        "-- MySQL dump 10.13\nCREATE TABLE `users` (`id` int, `email` varchar(255), `password` varchar(255));\n"
        "INSERT INTO `users` VALUES\n"
        + ",\n".join(f"({i},'user{i}@shop.test','$2y$10${r(53, ALNUM + './')}')" for i in range(1, 4))
        + ";\n",
        4,
        5,
        6,
    ),
    leak(
        "sql-dump",
        "db/shop.sql",
        "CREATE TABLE `api_clients` (\n  `id` int NOT NULL,\n  `name` varchar(80),\n  `api_token` char(40),\n"
        "  `token_expires_at` datetime,\n  PRIMARY KEY (`id`)\n);\n"
        f"INSERT INTO `api_clients` VALUES (1,'mobile','{r(40, HEX)}','2025-01-01 00:00:00'),"
        f"(2,'partner','{r(40, HEX)}',NULL);\n"
        f"INSERT INTO accounts (id, login, plain_password) VALUES (7, 'ops', 'opsLegacy{r(3, string.digits)}');\n",
        8,
        9,
    ),
    leak(
        "sql-dump",
        "backups/pg.sql",
        "COPY public.users (id, email, encrypted_password, otp_secret) FROM stdin;\n"
        f"1\tann@shop.test\tpbkdf2_sha256$600000${r(12)}${r(44, B64)}\t{r(32, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\n"
        "2\tbob@shop.test\t\\N\t\\N\n\\.\n",
        2,
    ),
    # -- shell, server configs, code-held configs ----------------------------------------------------
    leak(
        "shell",
        "scripts/deploy.sh",
        "#!/bin/bash\nset -e\nexport DB_PASSWORD=deploy" + r(4, string.digits) + '\nAPI_TOKEN="' + r(24) + '"\n'
        'if [ -z "$APP_ENV" ]; then APP_ENV=production; fi\nmysqldump -u root --password="$DB_PASSWORD" shop\n',
        3,
        4,
    ),
    leak(
        "ini",
        "server/server.cfg",
        'hostname "Shop LAN party"\nrcon_password "rc' + r(8) + '"\nsv_password ""\nmaxplayers 16\n',
        2,
    ),
    leak(
        "php",
        "phpmyadmin/config.inc.php",
        "<?php\n$i = 1;\n$cfg['Servers'][$i]['user'] = 'root';\n$cfg['Servers'][$i]['password'] = 'pma"
        + r(6)
        + "';\n$cfg['blowfish_secret'] = '"
        + r(32)
        + "';\n",
        4,
        5,
    ),
    leak(
        "json",
        "infra/terraform.tfstate",
        '{\n  "version": 4,\n  "resources": [{"type": "aws_db_instance", "instances": [{"attributes": {\n'
        '    "username": "shop",\n    "password": "' + r(20) + '"\n  }}]}]\n}\n',
        5,
    ),
    # -- less common provider tokens ----------------------------------------------------------------
    leak(
        "provider",
        "web/src/integrations.js",
        "export const config = {\n"
        f"  salesforce: '{'00D' + r(12) + '!' + r(96, ALNUM + '.')}',\n"
        f"  twitterBearer: '{'A' * 21 + r(60)}',\n"
        f"  facebook: '{'EA' + 'AB' + r(150)}',\n"
        f"  mailchimp: '{r(32, HEX)}-us{_RNG.randint(1, 20)}',\n"
        f"  square: '{'sq0' + 'atp-' + r(22)}',\n"
        f"  braintree: 'access_token$production${r(16, string.ascii_lowercase + string.digits)}${r(32, HEX)}',\n"
        "};\n",
        2,
        3,
        4,
        5,
        6,
        7,
    ),
    leak(
        "provider",
        "ops/tokens.sh",
        f"export HEROKU_API_KEY={'HR' + 'KU-' + r(60)}\n"
        f"export DIGITALOCEAN_TOKEN={'do' + 'p_v1_' + r(64, HEX)}\n"
        f"export SENTRY_AUTH_TOKEN={'sn' + 'trys_' + r(120)}\n"
        f"export ALGOLIA_ADMIN_API_KEY={r(32, HEX)}\n"
        "export ALGOLIA_APP_ID=HX7QF0W2LS\n",
        1,
        2,
        3,
        4,
    ),
    # -- test fixtures: reported, but low --------------------------------------------------------
    leak(
        "fixture",
        "tests/fixtures/config.yml",
        "database:\n  password: fixturepass1\nsmtp:\n  password: mailfixture2\n",
        2,
        4,
    ),
    leak("fixture", "spec/support/.env.test", "DB_PASSWORD=testing123\nSECRET_KEY_BASE=" + r(40, HEX) + "\n", 1, 2),
    # -- decoys: nothing may be reported ----------------------------------------------------------
    leak(
        "decoy",
        ".env.example",
        "APP_KEY=\nDB_PASSWORD=secret\nMAIL_PASSWORD=null\nSTRIPE_SECRET=sk_live_your_key_here\n"
        "JWT_SECRET=changeme\nADMIN_PASSWORD=<set me>\nSESSION_SECRET=${SESSION_SECRET}\n",
    ),
    leak(
        "decoy",
        "config/settings.py",
        "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDB_PASSWORD = os.getenv('DB_PASSWORD', '')\n"
        "PASSWORD_HASHERS = ['django.contrib.auth.hashers.Argon2PasswordHasher']\n"
        "AUTH_PASSWORD_VALIDATORS = []\nPASSWORD_RESET_TIMEOUT = 3600\n",
    ),
    leak(
        "decoy",
        "config/database.php",
        "<?php\nreturn [\n  'mysql' => [\n    'password' => env('DB_PASSWORD', ''),\n"
        "    'username' => env('DB_USERNAME', 'forge'),\n  ],\n];\n",
    ),
    leak(
        "decoy",
        "docs/deploy.md",
        "Clone with `git clone https://user:password@git.example.com/repo.git` and set\n"
        "`DATABASE_URL=postgres://user:pass@host:5432/db` in the platform.\n",
    ),
    leak(
        "decoy",
        "locales/en.yml",
        'en:\n  login:\n    password: "Password"\n    forgot_password: "Forgot your password?"\n'
        '    password_hint: "At least 12 characters"\n    token_expired: "Your link has expired."\n',
    ),
    leak(
        "decoy",
        "openapi.yaml",
        "components:\n  securitySchemes:\n    bearerAuth:\n      type: http\n      scheme: bearer\n"
        "  schemas:\n    Login:\n      properties:\n        password:\n          type: string\n"
        "          format: password\n",
    ),
    leak(
        "decoy",
        ".github/workflows/deploy.yml",
        "jobs:\n  deploy:\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: ./deploy.sh\n        env:\n          API_TOKEN: ${{ secrets.API_TOKEN }}\n"
        "          DB_PASSWORD: ${{ secrets.DB_PASSWORD }}\n",
    ),
    leak(
        "decoy",
        "src/components/LoginForm.tsx",
        'export function LoginForm() {\n  const [password, setPassword] = useState("");\n'
        '  return <input type="password" name="password" placeholder="Password" />;\n}\n',
    ),
    leak(
        "decoy",
        "ansible/group_vars/all.yml",
        'db_password: "{{ vault_db_password }}"\napi_token: !vault |\n'
        "  $ANSIBLE_VAULT;1.1;AES256\n  " + r(64, HEX) + "\n",
    ),
    leak(
        "decoy",
        "charts/shop/values.yaml",
        'postgresql:\n  auth:\n    existingSecret: shop-db-credentials\n    password: ""\n'
        "ingress:\n  tls:\n    - secretName: shop-tls\n      hosts: [shop.example-host.net]\n",
    ),
    leak(
        "decoy",
        "web/locales/de.json",
        '{"login": {"password": "Passwort", "token": "Zugangscode", "submit": "Anmelden"}}\n',
    ),
    leak(
        "decoy",
        "lib/registry.py",
        '_DEFAULT_TOKEN = "_sa_default"\nSERVER_AUTH = "1.3.6.1.5.5.7.3.1"\n'
        'def sign(secret_key: "Optional[str]" = None, upgrade_token: str = "upgrades") -> None:\n'
        '    self.webhook_secret = "whsec_" + secrets.token_urlsafe(24)\n'
        '    engine = create_engine("oracle://scott:tiger@db"); connect(password="tiger")\n'
        '    url = f"https://{host}:{port},{host2}:{port}@x"\n',
    ),
    leak(
        "decoy",
        "docs/proxies.md",
        "Use http://proxyuser:proxypass@proxy.example:3128, `new URL('https://abc:xyz@example.com')` or\n"
        "cvs -d :pserver:anoncvs@cvs.example.org:/cvs co src; anonymous FTP: passwd=anonymous@shop.test\n",
    ),
    leak(
        "decoy",
        "conf/net.properties",
        "#jdk.http.ntlm.transparentAuth=disabled\nhttp.auth.preference=basic\n",
    ),
    leak(
        "decoy",
        "sdk/data/paginators-1.json",
        '{"pagination": {"ListThings": {"input_token": "NextToken", "output_token": "Shards[-1].ShardId",\n'
        '"limit_key": "MaxResults"}, "ListOther": {"output_token": "position", "ChangeToken": '
        '"abcd12f2-46da-4fdb-b8d5-fbd4c466928f", "SecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x",\n'
        '"PolicyArn": "arn:aws:iam::aws:policy/SecretsManagerReadWrite"}}}\n',
    ),
    leak(
        "decoy",
        "lint/providers.py",
        'TYPES = {\n    "AWS::SecretsManager::Secret": "c85175a4ebcce361",\n    "AWS::IAM::AccessKey": "9f1e2d3c4b5a6978",\n}\n',
    ),
    leak(
        "decoy",
        "pom.xml",
        "<project>\n  <properties>\n    <db.password>${env.DB_PASSWORD}</db.password>\n  </properties>\n</project>\n",
    ),
)

CLASSES: tuple[str, ...] = tuple(dict.fromkeys(f.cls for f in FILES))
