"""The person's calendar: the feed at its secret address (no sign-in: calendar apps read it),
and the page that gives and resets that address."""

from django.urls import path

from . import calendar_views

urlpatterns = [
    path("calendar/<text:token>.ics", calendar_views.feed, name="calendar_feed"),
    path("account/calendar/", calendar_views.calendar_page, name="calendar"),
]
