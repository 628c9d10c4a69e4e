"""URLs of progress, bulletins, summons and reports owed; part of the `campaigns` namespace."""
from django.urls import path

from campaigns import bulletin_views, report_views

urlpatterns = [
    path("<int:pk>/progress/", bulletin_views.progress_page, name="progress"),
    path("<int:pk>/bulletins/", bulletin_views.bulletin_list, name="bulletin_list"),
    path("<int:pk>/bulletins/make/", bulletin_views.bulletin_make, name="bulletin_make"),
    path("<int:pk>/summons/new/", bulletin_views.summons_create, name="summons_create"),
    path("bulletins/<int:pk>/", bulletin_views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/workbook/", bulletin_views.bulletin_workbook, name="bulletin_workbook"),
    path("reports-owed/", report_views.report_list, name="report_list"),
    path("reports-owed/new/", report_views.report_create, name="report_create"),
    path("reports-owed/<int:pk>/", report_views.report_detail, name="report_detail"),
    path("reports-owed/<int:pk>/upload/", report_views.report_upload, name="report_upload"),
    path("reports-owed/files/<int:pk>/", report_views.report_file, name="report_file"),
]
