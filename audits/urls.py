from django.urls import path

from audits import views

app_name = "audits"
urlpatterns = [
    path("", views.index, name="index"),
    path("batches/start/", views.batch_start, name="batch_start"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/resume/", views.batch_resume, name="batch_resume"),
    path("batches/<int:pk>/export/", views.batch_export, name="batch_export"),
    path("findings/", views.review_queue, name="review_queue"),
    path("findings/bulk/", views.bulk_decide, name="bulk_decide"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("entry-check/", views.entry_check, name="entry_check"),
]
