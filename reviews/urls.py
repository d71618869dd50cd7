from django.urls import include, path

from . import views

app_name = "reviews"

cycle = "<id:cycle_id>/"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.review_settings, name="settings"),
    path(cycle, views.cycle, name="cycle"),
    path(cycle + "schedule/", views.change_schedule, name="schedule"),
    path(cycle + "bring-forward/", views.bring_forward, name="bring_forward"),
    path(cycle + "feedback/", views.open_feedback, name="open_feedback"),
    path(cycle + "record/", views.record, name="record"),
    path("monitoring/", include("reviews.monitoring_urls")),
]
