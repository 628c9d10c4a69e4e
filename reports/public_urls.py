from django.urls import path

from reports import views

app_name = "public_notice"
urlpatterns = [
    path("<str:code>/", views.public_notice, name="notice"),
    path("<str:code>/editions/<int:pk>/", views.public_notice, name="edition"),
]
