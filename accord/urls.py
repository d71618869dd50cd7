from django.contrib import admin
from django.urls import include, path

from signatories.urls import organisation_urlpatterns
from tenancy import views as tenancy_views

from . import views

# Every page of a partnership lives under /p/<slug>/, where tenancy's middleware admits it.
partnership_pages = [
    # Partners (partners/...) and signing tasks (signing/...).
    path("", include("signatories.urls")),
    path("protocols/", include("protocols.urls")),
    path("agreements/", include("agreements.urls")),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("organisations/", include(organisation_urlpatterns)),
    path("", include("tenancy.urls")),
    path("p/<slug:partnership_slug>/", include(partnership_pages)),
    # Reached by e-mailed links and by the public: no membership needed.
    path("", include("signatories.signing_urls")),
    path("public/<slug:slug>/", include("protocols.public_urls")),
    path("admin/", admin.site.urls),
]
