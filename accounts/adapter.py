from typing import Any

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter

from accord.kernel import outbox


def sign_in_code_minutes() -> int:
    """How long an e-mailed sign-in code works, in whole minutes, as the pages and e-mail say."""
    return max(1, app_settings.LOGIN_BY_CODE_TIMEOUT // 60)


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by accepting an invitation into a partnership, never by open sign-up."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Shown when a second step (a security code, a sign-in code) has been got wrong too
        # often. The sign-in form and the code request say more: see accounts/forms.py.
        "too_many_login_attempts": "Too many failed attempts. Wait a few minutes, then try again.",
        "incorrect_code": "The code is not correct. Check the e-mail and try again.",
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Through the outbox, like every e-mail: a down broker or mail server delays a
        password reset or a sign-in code, never loses it."""
        message = self.render_mail(
            template_prefix, email, {"code_minutes": sign_in_code_minutes(), **context}
        )
        html = next(
            (body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"),
            "",
        )
        if message.content_subtype == "html":
            html = message.body
        outbox.enqueue(
            to=message.to,
            subject=message.subject,
            text=message.body if message.content_subtype != "html" else "",
            html=html,
            template=template_prefix.rsplit("/", 1)[-1],
        )
