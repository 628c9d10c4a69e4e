from rest_framework.routers import DefaultRouter

from cases import api

router = DefaultRouter()
router.register("households", api.HouseholdViewSet, basename="household")
router.register("members", api.MemberViewSet, basename="member")
router.register("staff", api.StaffViewSet, basename="staff")
router.register("relative-filings", api.RelativeFilingViewSet, basename="relative-filing")
urlpatterns = router.urls
