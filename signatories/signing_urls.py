"""Pages reached by e-mailed links and by the public: no sign-in or membership needed."""

from django.urls import path

from . import signing_views

app_name = "signing"

urlpatterns = [
    path("sign/<text:token>/", signing_views.sign, name="sign"),
    path("signed/<text:token>/", signing_views.done, name="done"),
    path("signed/<text:token>/pdf/", signing_views.copy, name="copy"),
    path("verify/", signing_views.verify, name="verify"),
]
