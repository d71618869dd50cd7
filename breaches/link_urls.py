"""The link e-mailed to an involved partner: acknowledge and give its view, no account needed."""

from django.urls import path

from . import views

urlpatterns = [
    path("breach-notice/<text:token>/", views.notice_link, name="breach_link"),
]
