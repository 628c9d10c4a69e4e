from rest_framework.routers import DefaultRouter

from reports.api import RollupRowViewSet

router = DefaultRouter()
router.register("rollups", RollupRowViewSet, basename="rollup")
urlpatterns = router.urls
