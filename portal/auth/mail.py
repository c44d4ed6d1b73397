"""The mail that carries a password link (an invitation or a reset), written in the
recipient's language: their preference, or both Chinese and English when they have none.
Pure text; `portal.auth.recovery` queues it."""

from __future__ import annotations

from portal.auth.tokens import INVITATION
from portal.config import Settings
from portal.i18n import MailText, in_languages, mail_translations
from portal.models import User


def password_link_mail(settings: Settings, user: User, purpose: str, link: str) -> MailText:
    """The invitation (``purpose`` INVITATION) or reset mail for ``user`` with ``link``."""

    def write(locale: str) -> MailText:
        _ = mail_translations(locale).gettext
        greeting = (_("Hello %(name)s,") % {"name": user.name}) if user.name else _("Hello,")
        if purpose == INVITATION:
            subject = _("Your account on the receipt feedback portal")
            lead = _(
                "An account was opened for you on the receipt feedback portal. You sign in "
                "with your e-mail address, %(email)s. Choose your password with this link "
                "within %(days)d days; it works once:"
            ) % {"email": user.email, "days": settings.invitation_days}
            tail = _("If you did not expect this message, you can ignore it.")
        else:
            subject = _("Reset your password")
            lead = _(
                "Someone (you, or an administrator on your behalf) asked to reset the "
                "password of your account %(email)s. Choose a new password with this link "
                "within %(minutes)d minutes; it works once:"
            ) % {"email": user.email, "minutes": settings.reset_minutes}
            tail = _(
                "If you did not ask for this, ignore this message: your password stays as it is."
            )
        return MailText(subject, "\n\n".join([greeting, lead, link, tail]))

    return in_languages(user, write)
