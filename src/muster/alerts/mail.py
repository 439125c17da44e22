"""E-mail digests of new alerts: one message per user who must act on some of them.

Sent through Django's e-mail backend (settings.EMAIL_BACKEND, from MUSTER_EMAIL_BACKEND: the
console backend by default and in the demo, SMTP in production, locmem in tests), from
MUSTER_EMAIL_FROM, in the site's language, with links under MUSTER_SITE_URL. A user without
an e-mail address gets none and is counted; the alerts are on their dashboard all the same.
A digest lists at most DIGEST_LINES alerts and links to the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from muster.alerts.audience import Recipients
from muster.alerts.choices import AlertKind
from muster.alerts.models import Alert

DIGEST_LINES = 100
CHUNK = 1000


@dataclass(frozen=True)
class Mailed:
    sent: int
    """Digests handed to the backend."""
    without_address: int
    """Users who must act on a new alert but have no e-mail address: skipped."""
    error: str = ""
    recipients: tuple[str, ...] = ()


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def digest_body(alerts: Sequence[Alert]) -> str:
    """The text of one digest: the new alerts by kind, each with its link."""
    labels = dict(AlertKind.choices)
    by_kind: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_kind[alert.kind].append(alert)
    lines = [
        ngettext(
            "%(n)s new alert needs you to act:",
            "%(n)s new alerts need you to act:",
            len(alerts),
        )
        % {"n": len(alerts)},
        "",
    ]
    shown = 0
    for kind in AlertKind.values:
        found = by_kind.get(kind, [])
        if not found:
            continue
        lines.append(f"{labels[kind]} ({len(found)})")
        for alert in found:
            if shown >= DIGEST_LINES:
                break
            lines.append(f"  - {alert.message}")
            lines.append(f"    {_link(reverse('web:alert', args=[alert.pk]))}")
            shown += 1
        lines.append("")
    if shown < len(alerts):
        lines.append(
            _("… and %(n)s more: %(url)s")
            % {"n": len(alerts) - shown, "url": _link(reverse("web:alerts"))}
        )
    lines.append(
        _("Acknowledge or resolve each one at %(url)s") % {"url": _link(reverse("web:alerts"))}
    )
    return "\n".join(lines) + "\n"


def send_digests(alert_ids: Sequence[int]) -> Mailed:
    """Mail each user who must act on some of `alert_ids` one digest of those alerts."""
    alerts: list[Alert] = []
    ids = sorted(alert_ids)
    for start in range(0, len(ids), CHUNK):
        alerts.extend(Alert.objects.filter(pk__in=ids[start : start + CHUNK]))
    alerts.sort(key=lambda a: (a.raised_at, a.pk))
    recipients = Recipients()
    mine: dict[int, list[Alert]] = defaultdict(list)
    for alert in alerts:
        for user_id in recipients.of(alert):
            mine[user_id].append(alert)
    messages = []
    without = 0
    addressed = []
    with translation.override(settings.LANGUAGE_CODE):
        for user_id in sorted(mine):
            user = recipients.users[user_id]
            if not user.email:
                without += 1
                continue
            found = mine[user_id]
            subject = ngettext(
                "Muster: %(n)s new alert", "Muster: %(n)s new alerts", len(found)
            ) % {"n": len(found)}
            messages.append(
                EmailMessage(
                    subject=subject,
                    body=digest_body(found),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[user.email],
                )
            )
            addressed.append(user.get_username())
    if not messages:
        return Mailed(0, without)
    try:
        sent = get_connection(fail_silently=False).send_messages(messages) or 0
    except Exception as error:  # the alerts stand; the run reports the failed delivery
        return Mailed(0, without, f"{type(error).__name__}: {error}", tuple(addressed))
    return Mailed(sent, without, "", tuple(addressed))
