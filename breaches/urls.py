"""The breach log's pages, under /p/<slug>/breaches/ (views.py)."""

from django.urls import path

from . import pack_views, views

app_name = "breaches"
breach = "<id:breach_id>/"

urlpatterns = [
    # The ICO report pack, the figures and the register's downloads (pack_views.py).
    path(f"{breach}ico-report/", pack_views.pack_page, name="pack"),
    path(f"{breach}ico-report.pdf", pack_views.pack_pdf, name="pack_pdf"),
    path("figures/", pack_views.figures_page, name="figures"),
    path("export.csv", pack_views.register_csv, name="register_csv"),
    path("export.xlsx", pack_views.register_xlsx, name="register_xlsx"),
    path("", views.register, name="register"),
    path("new/", views.log, name="log"),
    path("settings/", views.breach_settings, name="settings"),
    path(breach, views.detail, name="detail"),
    path(f"{breach}report/", views.edit, name="edit"),
    path(f"{breach}tell-partners/", views.tell, name="tell"),
    path(f"{breach}obligations/<id:obligation_id>/told/", views.told, name="told"),
    path(f"{breach}assessment/", views.assess, name="assess"),
    path(f"{breach}view/", views.give_view, name="view"),
    path(f"{breach}lead-decision/", views.lead, name="lead"),
    path(f"{breach}individuals/", views.individuals, name="individuals"),
    path(f"{breach}individuals/view/", views.individuals_view, name="individuals_view"),
    path(f"{breach}individuals/lead/", views.lead_individuals, name="lead_individuals"),
    path(f"{breach}follow-ups/new/", views.follow_up, name="follow_up"),
    path(f"{breach}close/", views.close, name="close"),
]
