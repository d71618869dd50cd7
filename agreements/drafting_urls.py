"""Drafting pages (drafting_views.py): the task list, sections, data items, editors, the
lifecycle steps, the PDF and the template."""

from django.urls import path

from . import contact_views
from . import drafting_views as views

agreement = "<id:agreement_id>/"
item = agreement + "items/<id:item_id>/"

urlpatterns = [
    path("drafts/", views.drafts, name="drafts"),
    path("new/", views.create, name="create"),
    path("template/", views.template_edit, name="template"),
    path(agreement, views.detail, name="detail"),
    path(agreement + "preview/", views.preview, name="preview"),
    path(agreement + "sections/<slug:section_key>/", views.section, name="section"),
    path(agreement + "sections/<slug:section_key>/autosave/", views.autosave, name="autosave"),
    path(agreement + "items/add/", views.item_add, name="item_add"),
    path(item, views.item_edit, name="item_edit"),
    path(item + "delete/", views.item_delete, name="item_delete"),
    path(agreement + "editors/", views.editors, name="editors"),
    path(agreement + "submit/", views.submit, name="submit"),
    path(agreement + "return/", views.return_to_draft, name="return"),
    path(agreement + "send/", views.send, name="send"),
    path(agreement + "signatories/", views.signatories, name="signatories"),
    path(agreement + "pdf/", views.pdf, name="pdf"),
    path(agreement + "terminate/", views.terminate, name="terminate"),
    path(agreement + "new-version/", views.new_version, name="new_version"),
    path(
        agreement + "parties/<id:party_id>/ask-for-details/",
        contact_views.ask_for_details,
        name="ask_for_details",
    ),
]
