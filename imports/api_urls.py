from django.urls import path

from imports import api

urlpatterns = [
    path("imports/", api.ImportJobListView.as_view(), name="api_import_list"),
    path("imports/<int:pk>/", api.ImportJobDetailView.as_view(), name="api_import_detail"),
    path("imports/<int:pk>/confirm/", api.ImportJobConfirmView.as_view(), name="api_import_confirm"),
    path("registry-exports/<str:kind>/", api.RegistryExportView.as_view(), name="api_registry_export"),
]
