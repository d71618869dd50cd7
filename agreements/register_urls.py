"""The register of agreements, its downloads and the data-flow map (register_views.py)."""

from django.urls import path

from . import register_views

urlpatterns = [
    path("", register_views.register, name="register"),
    path("export.csv", register_views.register_csv, name="register_csv"),
    path("export.xlsx", register_views.register_xlsx, name="register_xlsx"),
    path("map/", register_views.flow_map, name="map"),
]
