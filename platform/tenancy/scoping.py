"""The one scoping helper: every selector, API view, admin queryset and consumer that
reads tenant-owned rows goes through ``scoped`` or ``get_scoped_or_404``.

A model says how it reaches its tenant with a ``tenant_field`` attribute ("tenant" by
default, "pk" for Tenant itself, "connection__tenant" for a row owned through another).
An object of another tenant is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


def _queryset(source: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
    if isinstance(source, models.QuerySet):
        return source
    return source._default_manager.all()


def scoped(source: type[M] | models.QuerySet[M], *, tenant) -> models.QuerySet[M]:
    """The rows of ``tenant`` only. No tenant means no rows."""
    queryset = _queryset(source)
    if tenant is None:
        return queryset.none()
    field = getattr(queryset.model, "tenant_field", "tenant")
    return queryset.filter(**{field: tenant.pk})


def get_scoped_or_404(source: type[M] | models.QuerySet[M], *, tenant, **lookup) -> M:
    """One row of ``tenant``; anything else (missing, another tenant's, malformed id) is a 404."""
    queryset = scoped(source, tenant=tenant)
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None
