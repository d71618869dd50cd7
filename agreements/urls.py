"""Agreements' pages under /p/<slug>/agreements/: drafting, and the register and map."""

from django.urls import include, path

app_name = "agreements"

urlpatterns = [
    path("", include("agreements.register_urls")),
    path("", include("agreements.drafting_urls")),
]
