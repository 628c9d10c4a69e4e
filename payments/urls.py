from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("", views.roll_list, name="roll_list"),
    path("rolls/create/", views.roll_create, name="roll_create"),
    path("rolls/<int:pk>/", views.roll_detail, name="roll_detail"),
    path("rolls/<int:pk>/approve/", views.roll_approve, name="roll_approve"),
    path("rolls/<int:pk>/export/", views.roll_export, name="roll_export"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/export/", views.reconciliation_export, name="reconciliation_export"),
    path("verification/", views.verification_list, name="verification_list"),
    path("verification/draw/", views.verification_draw, name="verification_draw"),
    path("verification/<int:pk>/", views.verification_detail, name="verification_detail"),
    path("verification/visits/<int:pk>/record/", views.visit_record, name="visit_record"),
]
