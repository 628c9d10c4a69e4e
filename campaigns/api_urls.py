from rest_framework.routers import SimpleRouter

from campaigns.api import CampaignViewSet, RecordViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("screening-records", RecordViewSet, basename="screening-record")
urlpatterns = router.urls
