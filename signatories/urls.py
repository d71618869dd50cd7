from django.urls import path

from . import views

app_name = "signatories"

urlpatterns = [
    path("", views.partners, name="partners"),
    path("add/", views.add_partner, name="add"),
    path("add/new/", views.add_new_organisation, name="add_new"),
    path("import/", views.import_partners, name="import"),
    path("import/confirm/", views.confirm_import, name="confirm_import"),
    path("<int:partner_id>/", views.partner, name="partner"),
    path("<int:partner_id>/status/", views.partner_status, name="partner_status"),
]

organisation_urlpatterns = (
    [
        path("", views.my_organisations, name="mine"),
        path("<int:organisation_id>/", views.organisation, name="detail"),
        path("<int:organisation_id>/edit/", views.edit_organisation, name="edit"),
    ],
    "organisations",
)
