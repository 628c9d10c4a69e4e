from rest_framework.routers import SimpleRouter

from cases import api
from cases.application_api import ApplicationViewSet
from cases.dynamic_api import ChangeViewSet, ReviewViewSet

router = SimpleRouter()
router.register("households", api.HouseholdViewSet, basename="household")
router.register("members", api.MemberViewSet, basename="member")
router.register("staff", api.StaffViewSet, basename="staff")
router.register("relative-filings", api.RelativeFilingViewSet, basename="relative-filing")
router.register("applications", ApplicationViewSet, basename="application")
router.register("reviews", ReviewViewSet, basename="review")
router.register("changes", ChangeViewSet, basename="change")
urlpatterns = router.urls
