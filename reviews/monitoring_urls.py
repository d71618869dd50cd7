"""Monitoring pages, under /p/<slug>/reviews/monitoring/ (names in the `reviews` namespace)."""

from django.urls import path

from . import monitoring_views

urlpatterns = [
    path("", monitoring_views.monitoring_page, name="monitoring"),
    path("ask/", monitoring_views.ask, name="monitoring_ask"),
    path("complaints/", monitoring_views.record_complaint, name="monitoring_complaint"),
    path("pack/", monitoring_views.pack_page, name="monitoring_pack"),
    path("pack/pdf/", monitoring_views.pack_pdf, name="monitoring_pack_pdf"),
]
