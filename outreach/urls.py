from django.urls import include, path

from outreach import views
from outreach.replies import webhooks

app_name = "outreach"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("webhooks/inbound/raw", webhooks.inbound_raw, name="inbound_raw"),
    path("anymail/", include("anymail.urls")),
]
