from django.urls import include, path

from outreach import views
from outreach.deliverability import views as deliverability
from outreach.replies import webhooks

app_name = "outreach"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("webhooks/inbound/raw", webhooks.inbound_raw, name="inbound_raw"),
    path("anymail/", include("anymail.urls")),
    path("inboxes/<int:inbox_id>/check/", deliverability.inbox_check, name="inbox_check"),
    path("inboxes/<int:inbox_id>/override/", deliverability.inbox_override, name="inbox_override"),
    path("inboxes/placement/run/", deliverability.placement_run, name="placement_run"),
    path(
        "campaigns/<int:campaign_id>/optimisation/",
        deliverability.campaign_optimisation_set,
        name="campaign_optimisation",
    ),
    path(
        "campaigns/<int:campaign_id>/steps/<int:order>/promote/",
        deliverability.variant_promote,
        name="variant_promote",
    ),
    path(
        "campaigns/<int:campaign_id>/steps/<int:order>/revert/",
        deliverability.variant_revert,
        name="variant_revert",
    ),
]
