"""Reached by e-mailed links: a party's feedback (no account needed)."""

from django.urls import path

from . import link_views

urlpatterns = [
    path("feedback/<text:token>/", link_views.feedback, name="review_feedback"),
]
