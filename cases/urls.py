from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/reveal/", views.household_reveal, name="household_reveal"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("filings/", views.filing_list, name="filing_list"),
    path("filings/new/", views.filing_create, name="filing_create"),
    path("filings/<int:pk>/edit/", views.filing_edit, name="filing_edit"),
]
