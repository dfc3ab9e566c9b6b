"""The lab mailbox over HTTP, in the shape of Mailpit's API, so smoke flows in another process
(``launchready smoke`` against ``lab up``) can read the verification and invite mail.

Served on its own loopback port, never on a lab web host: the audit must not see it.
``GET /api/v1/search?query=to:"ADDR" subject:"TEXT"`` lists matching messages (newest first),
``GET /api/v1/message/ID`` returns one with its text body, ``GET /api/v1/message/ID/raw`` its source.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import getaddresses

from aiohttp import web

from launchready.lab.smtp import Mailbox

_TERM = re.compile(r'(\w+):(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _recipients(message: EmailMessage, envelope: tuple[str, ...]) -> list[str]:
    found = [addr for _, addr in getaddresses([str(message.get("To", ""))]) if addr]
    return list(dict.fromkeys([*found, *envelope]))


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return str(part.get_content()) if part is not None else ""


def mailpit_app(mailbox: Mailbox) -> web.Application:
    def summary(index: int) -> dict[str, object]:
        received = mailbox.messages()[index]
        message = received.message
        return {
            "ID": str(index + 1),
            "Subject": str(message.get("Subject", "")),
            "To": [{"Name": "", "Address": a} for a in _recipients(message, received.rcpt_tos)],
            "From": {"Name": "", "Address": received.mail_from},
        }

    async def search(request: web.Request) -> web.Response:
        terms = {
            m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
            for m in _TERM.finditer(request.query.get("query", ""))
        }
        to = (terms.get("to") or "").lower()
        subject = terms.get("subject")
        found = []
        for index in reversed(range(len(mailbox.messages()))):
            item = summary(index)
            addresses = [str(a["Address"]).lower() for a in item["To"]]  # type: ignore[attr-defined]
            if to and to not in addresses:
                continue
            if subject and subject.lower() not in str(item["Subject"]).lower():
                continue
            found.append(item)
        return web.json_response({"total": len(mailbox.messages()), "messages_count": len(found), "messages": found})

    async def message(request: web.Request) -> web.Response:
        ident = request.match_info["id"]
        messages = mailbox.messages()
        if not (ident.isascii() and ident.isdigit()) or not 1 <= int(ident) <= len(messages):
            return web.json_response({"error": "message not found"}, status=404)
        item = summary(int(ident) - 1)
        item["Text"] = _body(messages[int(ident) - 1].message, "plain")
        item["HTML"] = _body(messages[int(ident) - 1].message, "html")
        return web.json_response(item)

    async def raw(request: web.Request) -> web.Response:
        ident = request.match_info["id"]
        messages = mailbox.messages()
        if not (ident.isascii() and ident.isdigit()) or not 1 <= int(ident) <= len(messages):
            return web.Response(status=404, text="message not found")
        received = messages[int(ident) - 1]
        return web.Response(body=received.raw or received.message.as_bytes(), content_type="message/rfc822")

    app = web.Application()
    app.add_routes(
        [
            web.get("/api/v1/search", search),
            web.get("/api/v1/message/{id}", message),
            web.get("/api/v1/message/{id}/raw", raw),
        ]
    )
    return app
