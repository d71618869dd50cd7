"""Organisation records (global, kept by their own verified people) and the e-mailed links
that confirm an address or vouch for a person."""

from django.urls import path

from . import organisation_views as views

app_name = "organisations"

urlpatterns = [
    path("", views.my_organisations, name="mine"),
    path("<id:organisation_id>/", views.organisation, name="detail"),
    path("<id:organisation_id>/edit/", views.edit_organisation, name="edit"),
    path("<id:organisation_id>/domains/", views.domains, name="domains"),
    path("people/<id:affiliation_id>/", views.decide, name="decide"),
    path("approve/<text:token>/", views.decide_by_link, name="decide_by_link"),
    path("confirm-address/<text:token>/", views.confirm_address, name="confirm_address"),
]
