from rest_framework.routers import SimpleRouter

from reports.api import ExportJobViewSet, RollupRowViewSet

router = SimpleRouter()
router.register("rollups", RollupRowViewSet, basename="rollup")
router.register("export-jobs", ExportJobViewSet, basename="export-job")
urlpatterns = router.urls
