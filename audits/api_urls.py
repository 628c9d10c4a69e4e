from django.urls import path
from rest_framework.routers import SimpleRouter

from audits.api import BatchViewSet, EntryCheckView, FindingViewSet, TaskViewSet

router = SimpleRouter()
router.register("rescreen-batches", BatchViewSet, basename="rescreen-batch")
router.register("findings", FindingViewSet, basename="finding")
router.register("verification-tasks", TaskViewSet, basename="verification-task")
urlpatterns = [path("entry-check/", EntryCheckView.as_view(), name="entry-check"), *router.urls]
