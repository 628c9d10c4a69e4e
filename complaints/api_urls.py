from rest_framework.routers import SimpleRouter

from complaints import api

router = SimpleRouter()
router.register("complaints", api.ComplaintViewSet, basename="complaint")
router.register("clues", api.ClueViewSet, basename="clue")
router.register("typical-cases", api.TypicalCaseViewSet, basename="typical-case")
router.register("rectifications", api.RectificationViewSet, basename="rectification")
router.register("hotlines", api.HotlineViewSet, basename="hotline")
router.register("dial-tests", api.DialTestViewSet, basename="dial-test")
router.register("inspections", api.InspectionViewSet, basename="inspection")
router.register("home-visits", api.HomeVisitViewSet, basename="home-visit")
urlpatterns = [*api.ledger_export_urls(), *router.urls]
