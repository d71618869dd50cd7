"""Reached by e-mailed links: a partner's yearly confirmation (no account needed)."""

from django.urls import path

from . import monitoring_link_views

urlpatterns = [
    path(
        "confirm/<text:token>/",
        monitoring_link_views.confirmation_link,
        name="review_confirmation",
    ),
]
