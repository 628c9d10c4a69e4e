from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views

api_v1 = [
    path("", include("dibao.api_urls")),
    path("", include("cases.api_urls")),
    path("", include("imports.api_urls")),
    path("", include("audits.api_urls")),
    path("", include("complaints.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("campaigns.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("dibao.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("cases/", include("cases.urls")),
    path("imports/", include("imports.urls")),
    path("audits/", include("audits.urls")),
    path("complaints/", include("complaints.urls")),
    path("reports/", include("reports.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("payments/", include("payments.urls")),
    path("public/notice/", include("reports.public_urls")),
    path("public/", include("complaints.public_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]

handler404 = "dibao.errors.page_not_found"
handler403 = "dibao.errors.permission_denied"
handler500 = "dibao.errors.server_error"
