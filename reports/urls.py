from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("region/<str:code>/", views.dashboard, name="dashboard"),
    path("compute/", views.compute, name="compute"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/", views.job, name="job"),
    path("exports/<int:pk>/status/", views.job_status, name="job_status"),
    path("exports/<int:pk>/download/", views.job_download, name="job_download"),
    path("notices/", views.notice_releases, name="notice_releases"),
]
