from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by accepting an invitation into a partnership, never by open sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False
