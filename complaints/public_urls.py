from django.urls import path

from complaints import public_views

app_name = "complaints_public"
urlpatterns = [
    path("complaint/", public_views.complaint_form, name="complaint"),
    path("complaint/status/", public_views.complaint_status, name="status"),
    path("complaint/regions/", public_views.region_options, name="regions"),
    path("hotlines/", public_views.hotlines, name="hotlines"),
    path("typical-cases/", public_views.typical_cases, name="typical_cases"),
]
