from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from reports import metrics
from reports.models import METRIC_KEYS, RollupRow


class RollupRowSerializer(serializers.ModelSerializer):
    month = serializers.DateField(format="%Y-%m")

    class Meta:
        model = RollupRow
        fields = ["month", "region_code", "region_name", "level", *METRIC_KEYS, "findings_by_rule", "own_level"]


class RollupRowViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored monthly rollups inside the caller's jurisdiction.

    Filters: `month=YYYY-MM`, `level=township|county|city|province`, `region=CODE` (subtree).
    """

    serializer_class = RollupRowSerializer
    filterset_fields = {"level": ["exact"]}

    def get_queryset(self):
        qs = RollupRow.objects.for_user(self.request.user).order_by("month", "region_code")
        month = self.request.query_params.get("month")
        if month:
            try:
                qs = qs.filter(month=metrics.parse_month(month))
            except ValueError as exc:
                raise ValidationError({"month": str(exc)})
        region = self.request.query_params.get("region")
        if region:
            qs = qs.filter(region_code__startswith=region)
        return qs
