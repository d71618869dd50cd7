from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as accounts_views
from tenancy import views as tenancy_views

from . import views

# The site administration has no sign-in of its own: it sends people to allauth's, which is
# throttled and asks for the two-factor code of anyone who has an authenticator. (Before
# `admin.site.urls` below, which reads it.)
admin.site.login = secure_admin_login(admin.site.login)

# Every page of a partnership lives under /p/<slug>/, where tenancy's middleware admits it.
partnership_pages = [
    # Partners (partners/...) and signing tasks (signing/...).
    path("", include("signatories.urls")),
    path("protocols/", include("protocols.urls")),
    path("agreements/", include("agreements.urls")),
    path("reviews/", include("reviews.urls")),
    path("breaches/", include("breaches.urls")),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("healthz/details", views.health_details, name="health_details"),
    # Nobody changes their own sign-in address (it names them in the audit trail and on
    # signatures): allauth's e-mail management page is not offered.
    path("accounts/email/", accounts_views.no_email_management),
    # allauth sends a signed-in visitor of /accounts/ to its e-mail page: the profile instead.
    path("accounts/", RedirectView.as_view(pattern_name="accounts:profile"), name="accounts_home"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("organisations/", include("signatories.organisation_urls")),
    path("", include("tenancy.urls")),
    path("p/<slug:partnership_slug>/", include(partnership_pages)),
    # Reached by e-mailed links and by the public: no membership needed.
    path("", include("signatories.signing_urls")),
    path("", include("breaches.link_urls")),
    path("", include("reviews.link_urls")),
    path("", include("reviews.monitoring_link_urls")),
    path("", include("reviews.calendar_urls")),
    path("public/<slug:slug>/", include("protocols.public_urls")),
    path("admin/", admin.site.urls),
]
