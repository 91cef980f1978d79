from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.services import health_report, health_summary


class HealthApi(APIView):
    """Database, Redis, channel layer and Celery worker status: 200 when all answer, else 503.

    Anyone (a load balancer) gets the status and each part's ok flag; staff also get the
    details (worker names, queue lengths, versions, errors).
    """

    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiResponse(description="all parts answer"), 503: OpenApiResponse()})
    def get(self, request):
        report = health_report()
        body = report if request.user.is_staff else health_summary(report)
        return Response(body, status=200 if report["status"] == "ok" else 503)
