from django.urls import path

from . import signing_views, views

app_name = "signatories"

urlpatterns = [
    path("partners/", views.partners, name="partners"),
    path("partners/add/", views.add_partner, name="add"),
    path("partners/add/new/", views.add_new_organisation, name="add_new"),
    path("partners/import/", views.import_partners, name="import"),
    path("partners/import/confirm/", views.confirm_import, name="confirm_import"),
    path("partners/<id:partner_id>/", views.partner, name="partner"),
    path("partners/<id:partner_id>/status/", views.partner_status, name="partner_status"),
    path("partners/<id:partner_id>/withdraw/", views.withdraw, name="withdraw"),
    path("partners/<id:partner_id>/signatories/", views.signatories, name="signatories"),
    path(
        "partners/<id:partner_id>/signatories/<id:signatory_id>/",
        views.signatory,
        name="signatory",
    ),
    path("signing/", signing_views.tasks, name="tasks"),
    path("signing/<id:request_id>/", signing_views.sign_in_app, name="sign"),
    path("signing/requests/<id:request_id>/resend/", signing_views.resend, name="resend"),
]
