from django.urls import path

from . import views

app_name = "protocols"

version = "<id:protocol_id>/versions/<id:version_id>/"
section = version + "sections/<id:section_id>/"

urlpatterns = [
    path("", views.protocol_list, name="list"),
    path("new/", views.create, name="create"),
    path("legislation/", views.legislation, name="legislation"),
    path("legislation/add/", views.legislation_add, name="legislation_add"),
    path("legislation/<id:legislation_id>/", views.legislation_edit, name="legislation_edit"),
    path(
        "legislation/<id:legislation_id>/delete/",
        views.legislation_delete,
        name="legislation_delete",
    ),
    path("<id:protocol_id>/", views.detail, name="detail"),
    path("<id:protocol_id>/settings/", views.protocol_settings, name="settings"),
    path("<id:protocol_id>/retire/", views.retire, name="retire"),
    path("<id:protocol_id>/versions/", views.versions, name="versions"),
    path("<id:protocol_id>/versions/new/", views.new_version, name="new_version"),
    path("<id:protocol_id>/compare/", views.compare, name="compare"),
    path(version, views.version_detail, name="version"),
    path(version + "submit/", views.submit, name="submit"),
    path(version + "approve/", views.approve, name="approve"),
    path(version + "return/", views.return_to_draft, name="return"),
    path(version + "send/", views.send, name="send"),
    path(version + "issue/", views.issue, name="issue"),
    path(version + "signatories/", views.signatories, name="signatories"),
    path(version + "signatories/ask/", views.ask_to_sign, name="ask"),
    path(version + "pdf/", views.pdf, name="pdf"),
    path(version + "sections/add/", views.section_add, name="section_add"),
    path(section, views.section_edit, name="section_edit"),
    path(section + "delete/", views.section_delete, name="section_delete"),
    path(section + "move/", views.section_move, name="section_move"),
]
