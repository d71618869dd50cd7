"""The benchmark's urlconf: the whole app, plus the bare views under /bench/<slug>/.

The bare views take `slug`, not `partnership_slug`, so the partnership middleware lets them
through like any page outside a partnership.
"""

from django.urls import include, path

from . import bare

urlpatterns = [
    path("bench/<slug:slug>/", bare.dashboard, name="bench_dashboard"),
    path("bench/<slug:slug>/partners/", bare.partners, name="bench_partners"),
    path("bench/<slug:slug>/audit/", bare.audit, name="bench_audit"),
    path("bench/<slug:slug>/agreements/", bare.agreements, name="bench_agreements"),
    path("bench/<slug:slug>/breaches/", bare.breaches, name="bench_breaches"),
    path("bench/<slug:slug>/reviews/", bare.reviews, name="bench_reviews"),
    path("", include("accord.urls")),
]
