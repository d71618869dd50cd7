from django.urls import path

from . import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.partnership_page, name="partnership"),
    path("protocols/<id:protocol_id>/pdf/", public_views.protocol_pdf, name="protocol_pdf"),
]
