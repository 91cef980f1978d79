"""API-wide error handling: every error is JSON with a message, never a stack trace."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from exchanges.adapters.errors import (
    BadSymbol,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
)

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    """DRF's handler; a service's Django ValidationError becomes a 400 naming its fields;
    anything else unexpected is a clean 500 without a stack trace."""
    if isinstance(exc, ExchangeError):
        return _exchange_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail=detail)
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    view = context.get("view")
    logger.exception("Unhandled API error in %s", type(view).__name__ if view else "unknown view")
    return Response(
        {"detail": "Internal server error.", "code": "server_error"},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _exchange_error_response(exc: ExchangeError) -> Response:
    """An exchange's refusal, as the user should read it: bad input is a 400 naming the field;
    a temporary problem a 503 with Retry-After; a failure at the exchange a 502."""
    body = {"detail": str(exc), "code": exc.code, "exchange": exc.exchange}
    if isinstance(exc, BadSymbol):
        return Response({"symbol": [str(exc)], "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidOrder | InsufficientFunds | OrderNotFound | NotSupported):
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if exc.temporary:
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    return Response(body, status=status.HTTP_502_BAD_GATEWAY)


def json_ready(value):
    """Dataclass values -> JSON: Decimals as exact plain strings ("25000", "0.00000001"),
    tuples as lists. Money never passes through a float on its way out."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _wants_json(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.5"})
class MoneyField(serializers.Field):
    """A Decimal out as a plain exact string ("0.5", "65000"); read-only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return json_ready(Decimal(value))
