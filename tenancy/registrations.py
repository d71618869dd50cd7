from . import dashboard, navigation
from .mail_views import failed_count
from .roles import Perm

navigation.register("Dashboard", "tenancy:dashboard", Perm.VIEW, 0)
navigation.register("People", "tenancy:people", Perm.VIEW, 90, prefixes=("invitations/",))
navigation.register("Audit log", "tenancy:audit", Perm.VIEW_AUDIT, 95)
navigation.register("Settings", "tenancy:settings", Perm.MANAGE_PARTNERSHIP, 99)

dashboard.register(
    "E-mails not delivered", failed_count, "tenancy:mail", Perm.MANAGE_PARTNERSHIP, 95
)
