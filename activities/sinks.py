"""Where notifications go: a Slack-compatible webhook, SMTP, and the log (the default).

A sink only sends; deciding whether a message was already delivered is the notify
activity's job (one `notification_deliveries` row per dedup key and sink).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

import httpx
from pydantic import BaseModel

from infra.settings import Settings

log = logging.getLogger("handoff.notify")


class Message(BaseModel):
    """A rendered notification, ready for any sink."""

    dedup_key: str
    lead_id: str
    kind: str
    recipient_role: str
    recipient: str | None = None
    subject: str
    body: str
    email_to: list[str] = []  # from the roster: the named rep's, or everyone's in the role


class PermanentDeliveryError(Exception):
    """The sink refused this message for good; sending it again cannot succeed."""


class Sink(Protocol):
    name: str

    def accepts(self, message: Message) -> bool: ...

    async def send(self, message: Message) -> None: ...


class LogSink:
    name = "log"

    def accepts(self, message: Message) -> bool:
        return True

    async def send(self, message: Message) -> None:
        log.info("notify %s %s: %s", message.recipient_role, message.recipient or "", message.subject)


class SlackSink:
    """Posts `{"text": ...}` to an incoming-webhook URL (Slack, Mattermost, Rocket.Chat...)."""

    name = "slack"

    def __init__(self, url: str, *, timeout: float = 10.0):
        self._url = url
        self._timeout = timeout

    def accepts(self, message: Message) -> bool:
        return True

    async def send(self, message: Message) -> None:
        who = message.recipient_role + (f" {message.recipient}" if message.recipient else "")
        text = f"*{message.subject}*\n(for {who})\n{message.body}".rstrip()
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(self._url, json={"text": text})
        if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
            raise PermanentDeliveryError(f"webhook answered {response.status_code}: {response.text[:200]}")
        response.raise_for_status()  # 5xx, 408, 429: fail the activity; Temporal retries it


class SmtpSink:
    """Mails the recipients the roster has addresses for, else the fallback address.
    Messages nobody can receive are not sent."""

    name = "smtp"

    def __init__(self, host: str, port: int, sender: str, fallback_to: str | None = None,
                 *, timeout: float = 10.0):
        self._host, self._port, self._sender = host, port, sender
        self._fallback = fallback_to
        self._timeout = timeout

    def _to(self, message: Message) -> list[str]:
        return message.email_to or ([self._fallback] if self._fallback else [])

    def accepts(self, message: Message) -> bool:
        return bool(self._to(message))

    async def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = ", ".join(self._to(message))
        mail["Subject"] = message.subject
        # Stable per notification, so a receiving system can drop a rare resend itself.
        mail["Message-ID"] = f"<{message.dedup_key.replace(':', '.')}@handoff>"
        mail.set_content(message.body + "\n")
        await asyncio.to_thread(self._deliver, mail)

    def _deliver(self, mail: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            try:
                smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                permanent = all(code >= 500 for code, _ in exc.recipients.values())
                if permanent:
                    raise PermanentDeliveryError(f"recipients refused: {exc.recipients}") from None
                raise


def sinks_from_settings(settings: Settings) -> list[Sink]:
    """The log always; the webhook and SMTP when configured."""
    sinks: list[Sink] = [LogSink()]
    if settings.slack_webhook_url:
        sinks.append(SlackSink(settings.slack_webhook_url))
    if settings.smtp_host:
        sinks.append(SmtpSink(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_to))
    return sinks
