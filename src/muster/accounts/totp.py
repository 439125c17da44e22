"""The optional second factor: a TOTP code (RFC 6238) from an authenticator app.

Offered to armorers, regional administrators and HQ staff. Enrolment is in two steps (a secret
is shown, then confirmed with a code); once confirmed, signing in asks for a code after the
password, a wrong code counts as a failed sign-in, and each code is accepted only once.
"""

from __future__ import annotations

import datetime as dt

import pyotp
import segno
from django.db import transaction
from django.utils import timezone

from muster.accounts import throttle
from muster.accounts.choices import Role
from muster.accounts.models import RoleGrant, TotpDevice, User
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, DomainError
from muster.journal.services import Change, record_change

ISSUER = "Muster"
OFFERED_TO = frozenset({Role.ARMORER, Role.REGIONAL_ADMIN, Role.HQ_STAFF})


class SecondFactorError(DomainError):
    """Enrolling or disabling a second factor was refused."""


def may_enrol(user: User) -> bool:
    """Whether the second factor is offered to `user` (by the roles they hold)."""
    return RoleGrant.objects.filter(user=user, role__in=OFFERED_TO).exists()


def has_second_factor(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def device_of(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user).first()


def provisioning_uri(device: TotpDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(
        name=device.user.get_username(), issuer_name=ISSUER
    )


def qr_svg(device: TotpDevice) -> str:
    """The provisioning URI as an inline SVG QR code, for an authenticator app to scan."""
    return str(segno.make(provisioning_uri(device), error="m").svg_inline(scale=4, border=2))


@transaction.atomic
def start_enrolment(*, user: User) -> TotpDevice:
    """A fresh, unconfirmed secret for `user` (replacing any earlier unconfirmed one)."""
    record = f"user {user.get_username()}"
    if not may_enrol(user):
        raise SecondFactorError.single(
            record, "role", "a second factor is offered to armorers, administrators and HQ staff"
        )
    device = device_of(user)
    if device is not None and device.confirmed_at is not None:
        raise SecondFactorError.single(record, "totp", "a second factor is already enabled")
    if device is None:
        device = TotpDevice(user=user)
    device.secret = pyotp.random_base32()
    device.last_step = None
    device.save()
    return device


@transaction.atomic
def confirm_enrolment(*, actor: Actor, user: User, code: str) -> TotpDevice:
    """Enable the second factor once the user proves their app shows the right code."""
    record = f"user {user.get_username()}"
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is not None:
        raise SecondFactorError.single(record, "totp", "no enrolment is waiting to be confirmed")
    if not _accept(device, code):
        raise SecondFactorError.single(record, "code", "wrong or expired code")
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at", "last_step"])
    record_change(actor=actor, change=Change("user.totp_enabled", "user", user.get_username(), {}))
    return device


@transaction.atomic
def disable_second_factor(*, actor: Actor, user: User, code: str) -> None:
    """Remove the second factor; a valid code is required, so a stolen session cannot."""
    record = f"user {user.get_username()}"
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is None:
        raise SecondFactorError.single(record, "totp", "no second factor is enabled")
    if not _accept(device, code):
        raise SecondFactorError.single(record, "code", "wrong or expired code")
    device.delete()
    record_change(actor=actor, change=Change("user.totp_disabled", "user", user.get_username(), {}))


def check_code(*, user: User, code: str) -> None:
    """The second step of signing in: a right code completes it (the failure count resets);
    a wrong one counts as a failed sign-in and may lock the account."""
    if throttle.locked_until(user.get_username()) is not None:
        raise throttle.record_failure(user=user, reason="code")
    with transaction.atomic():
        device = (
            TotpDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        ok = device is not None and _accept(device, code)
        if ok and device is not None:
            device.save(update_fields=["last_step"])
    if not ok:
        raise throttle.record_failure(user=user, reason="code")
    throttle.record_success(user=user)


def current_code(device: TotpDevice, at: dt.datetime | None = None) -> str:
    """The code an authenticator app shows now (for tests and the demo)."""
    return pyotp.TOTP(device.secret).at(at or timezone.now())


def _accept(device: TotpDevice, code: str) -> bool:
    """Whether `code` is right for this or an adjacent 30-second step and newer than the last
    one accepted; records the step so that the same code is never accepted twice."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    step = totp.timecode(now)
    for offset in (0, -1, 1):
        if step + offset <= (device.last_step if device.last_step is not None else -1):
            continue
        if totp.verify(code, for_time=now + dt.timedelta(seconds=offset * totp.interval)):
            device.last_step = step + offset
            return True
    return False


def require_code(user: User, code: str | None) -> None:
    """For the CLI: a user with a second factor must give a code."""
    if code is None:
        raise AuthenticationFailed.single(
            f"user {user.get_username()}",
            "code",
            "this account has a second factor: run the command interactively to enter the code",
        )
    check_code(user=user, code=code)
