from django.urls import include, path

from . import mail_views, views

app_name = "tenancy"

partnership_urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.partnership_settings, name="settings"),
    path("people/", views.people, name="people"),
    path("people/invite/", views.invite, name="invite"),
    path("people/<id:membership_id>/", views.membership, name="membership"),
    path("people/<id:membership_id>/remove/", views.remove_membership, name="remove_membership"),
    path(
        "invitations/<id:invitation_id>/resend/",
        views.invitation_action,
        {"action": "resend"},
        name="resend_invitation",
    ),
    path(
        "invitations/<id:invitation_id>/revoke/",
        views.invitation_action,
        {"action": "revoke"},
        name="revoke_invitation",
    ),
    path("mail/", mail_views.undelivered_mail, name="mail"),
    path("mail/<id:message_id>/resend/", mail_views.resend, name="resend_mail"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path(
        "audit/<id:content_type_id>/<text:object_id>/", views.object_history, name="object_history"
    ),
]

urlpatterns = [
    path("partnerships/", views.choose, name="choose"),
    path("partnerships/new/", views.create, name="create"),
    path("invitations/<text:token>/", views.accept_invitation, name="accept_invitation"),
    path("p/<slug:partnership_slug>/", include(partnership_urlpatterns)),
]
