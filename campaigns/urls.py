from django.urls import path

from campaigns import views
from campaigns.dispatch_urls import urlpatterns as dispatch_urlpatterns  # progress, bulletins, reports owed

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/recompute/", views.campaign_recompute, name="recompute"),
    path("<int:pk>/close/", views.campaign_close, name="close"),
    path("<int:pk>/townships/<str:township>/", views.township_detail, name="township"),
    path("<int:pk>/townships/<str:township>/submit/", views.signoff_submit, name="signoff_submit"),
    path("<int:pk>/townships/<str:township>/accept/", views.signoff_decide, {"decision": "accept"},
         name="signoff_accept"),
    path("<int:pk>/townships/<str:township>/return/", views.signoff_decide, {"decision": "return"},
         name="signoff_return"),
    path("<int:pk>/villages/<str:village>/", views.village_worklist, name="worklist"),
    path("<int:pk>/entries/<int:entry>/record/", views.record_save, name="record_save"),
    *dispatch_urlpatterns,
]
