"""The core's own pages: sign-in, the region picker, the audit log, the health check."""
from django.urls import path

from dibao import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("regions/options/", views.region_options, name="region_options"),
    path("audit/", views.audit_list, name="audit_list"),
]
