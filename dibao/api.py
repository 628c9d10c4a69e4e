from rest_framework import serializers, viewsets

from dibao.models import Region


class RegionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "level_display", "parent"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Regions inside the caller's jurisdiction; `?parent=CODE` lists one node's children."""

    serializer_class = RegionSerializer
    lookup_field = "code"
    filterset_fields = {"parent": ["exact"], "level": ["exact"], "code": ["startswith"]}

    def get_queryset(self):
        return Region.objects.for_user(self.request.user).order_by("code")
