from rest_framework.routers import DefaultRouter

from complaints import api

router = DefaultRouter()
router.register("complaints", api.ComplaintViewSet, basename="complaint")
router.register("clues", api.ClueViewSet, basename="clue")
router.register("rectifications", api.RectificationViewSet, basename="rectification")
router.register("hotlines", api.HotlineViewSet, basename="hotline")
router.register("dial-tests", api.DialTestViewSet, basename="dial-test")
urlpatterns = router.urls
