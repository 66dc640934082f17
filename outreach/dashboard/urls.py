from django.contrib.auth import views as auth_views
from django.urls import path

from outreach.dashboard import deliverability_views as deliverability
from outreach.dashboard import system_views, views

# The dashboard's pages kept the namespace they had when the dashboard lived in crm:
# templates, settings (LOGIN_URL) and tests reverse `crm:<name>`.
app_name = "crm"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("overview/panels/", views.overview_panels, name="overview_panels"),
    path("prospects/", views.prospect_list, name="prospects"),
    path("prospects/<int:prospect_id>/", views.prospect_detail, name="prospect"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("review/", views.review_queue, name="review"),
    path("review/action/", views.review_action, name="review_action"),
    path("replies/", views.reply_list, name="replies"),
    path("replies/handled/", views.replies_mark_handled, name="replies_handled"),
    path("replies/<int:reply_id>/", views.reply_detail, name="reply_detail"),
    path("replies/<int:reply_id>/relabel/", views.reply_relabel, name="reply_relabel"),
    path("inboxes/", views.inbox_list, name="inboxes"),
    path("system/", system_views.system, name="system"),
    path("system/breakers/<str:name>/reset/", system_views.breaker_reset, name="breaker_reset"),
    path("system/traces/<uuid:trace_id>/", system_views.trace, name="trace"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="dashboard/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="crm:login"), name="logout"),
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
