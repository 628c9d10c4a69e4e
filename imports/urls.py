from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("jobs/<int:pk>/file/", views.job_file, name="job_file"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job_confirm"),
    path("templates/<str:kind>.xlsx", views.template_download, name="template"),
    path("exports/<str:kind>.xlsx", views.export_download, name="export"),
]
