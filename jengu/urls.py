from django.contrib import admin
from django.urls import include, path

from jengu.api import api
from jengu.monitoring import health_view, metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("health", health_view, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("", include("outreach.urls")),
    path("", include("outreach.dashboard.urls")),
]

handler400 = "jengu.error_views.bad_request"
handler404 = "jengu.error_views.page_not_found"
handler500 = "jengu.error_views.server_error"
