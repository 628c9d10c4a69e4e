from django.urls import path

from cases import application_views, benefit_views, document_views, dynamic_views, views

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
    # benefit standards and 调标
    path("standards/", benefit_views.standard_list, name="standard_list"),
    path("rerates/", benefit_views.rerate_list, name="rerate_list"),
    path("rerates/<int:pk>/", benefit_views.rerate_detail, name="rerate_detail"),
    path("rerates/<int:pk>/confirm/", benefit_views.rerate_confirm, name="rerate_confirm"),
    # applications (低保申请)
    path("applications/", application_views.application_list, name="application_list"),
    path("applications/new/", application_views.application_intake, name="application_intake"),
    path("applications/amount/", application_views.application_amount_preview, name="application_amount"),
    path("households/<int:pk>/apply/", application_views.application_accept, name="household_apply"),
    path("applications/<int:pk>/", application_views.application_detail, name="application_detail"),
    path("applications/<int:pk>/attach/", application_views.application_attach, name="application_attach"),
    path("applications/<int:pk>/files/<int:attachment_pk>/", application_views.application_attachment,
         name="application_attachment"),
    *application_views.step_urlpatterns(),
    # standard documents (规范文书): A4 print page and Word download
    path("applications/<int:pk>/documents/<slug:key>/", document_views.document_print, name="document_print"),
    path("applications/<int:pk>/documents/<slug:key>.docx", document_views.document_docx, name="document_docx"),
    # dynamic management (定期核查, 变更)
    path("reviews/", dynamic_views.review_list, name="review_list"),
    path("households/<int:pk>/review/", dynamic_views.review_record, name="review_record"),
    path("changes/", dynamic_views.change_list, name="change_list"),
    path("households/<int:pk>/change/", dynamic_views.change_propose, name="change_propose"),
    path("changes/<int:pk>/", dynamic_views.change_detail, name="change_detail"),
    path("changes/<int:pk>/documents/<slug:key>/", dynamic_views.change_document_print, name="change_document_print"),
    path("changes/<int:pk>/documents/<slug:key>.docx", dynamic_views.change_document_docx,
         name="change_document_docx"),
]
