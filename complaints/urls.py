from django.urls import path

from complaints import views

app_name = "complaints"
urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.complaint_list, name="complaint_list"),
    path("new/", views.complaint_create, name="complaint_create"),
    path("<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("<int:pk>/identity/", views.complaint_reveal, name="complaint_reveal"),
    path("<int:pk>/<slug:action>/", views.complaint_action, name="complaint_action"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("clues/", views.clue_list, name="clue_list"),
    path("clues/new/", views.clue_form, name="clue_create"),
    path("clues/<int:pk>/", views.clue_detail, name="clue_detail"),
    path("clues/<int:pk>/attachments/<int:attachment_pk>/", views.clue_attachment, name="clue_attachment"),
    path("clues/<int:pk>/edit/", views.clue_form, name="clue_edit"),
    path("clues/<int:pk>/<slug:action>/", views.clue_action, name="clue_action"),
    path("typical/", views.typical_list, name="typical_list"),
    path("rectification/", views.rectification_list, name="rectification_list"),
    path("rectification/new/", views.rectification_create, name="rectification_create"),
    path("rectification/<int:pk>/", views.rectification_detail, name="rectification_detail"),
    path("hotlines/", views.hotline_list, name="hotline_list"),
    path("hotlines/new/", views.hotline_form, name="hotline_create"),
    path("hotlines/<int:pk>/", views.hotline_form, name="hotline_edit"),
    path("dial-tests/", views.dial_test_list, name="dial_test_list"),
    path("dial-tests/new/", views.dial_test_create, name="dial_test_create"),
    path("inspections/", views.inspection_list, name="inspection_list"),
    path("inspections/new/", views.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("visits/<int:pk>/", views.visit_record, name="visit_record"),
    path("export/<slug:kind>.xlsx", views.export, name="export"),
]
