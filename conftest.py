"""Fixtures every test may use: the owner / member / outsider trio and API clients."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tenancy.models import Role
from tenancy.tests.factories import MembershipFactory, TenantFactory, UserFactory

pytest_plugins = ["tests.fixtures.services", "exchanges.simulator.pytest_plugin"]


@pytest.fixture(autouse=True)
def fresh_exchange_state(settings):
    """Breakers, budgets, health, cached prices and cached values start empty for every test."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    # By prefix: cache.clear() would flush the whole database, the Celery broker's keys too.
    for prefix in (
        settings.RESILIENCE_KEY_PREFIX,
        settings.MARKET_KEY_PREFIX,
        settings.CACHES["default"]["KEY_PREFIX"],
    ):
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    client.close()


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Acme Capital", slug="acme")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Globex Trading", slug="globex")


@pytest.fixture
def owner(tenant):
    """Owns ``tenant``."""
    return MembershipFactory(tenant=tenant, user=UserFactory(username="olivia"), role=Role.OWNER).user


@pytest.fixture
def member(tenant):
    """A viewer in ``tenant``: sees it, changes nothing."""
    return MembershipFactory(tenant=tenant, user=UserFactory(username="mike"), role=Role.VIEWER).user


@pytest.fixture
def outsider(other_tenant):
    """Owns ``other_tenant`` and has nothing to do with ``tenant``."""
    return MembershipFactory(tenant=other_tenant, user=UserFactory(username="oscar"), role=Role.OWNER).user


@pytest.fixture
def staff_owner(owner):
    """``owner`` with admin access (staff); their rights there come from their role."""
    owner.is_staff = True
    owner.save()
    return owner


@pytest.fixture
def staff_viewer(member):
    member.is_staff = True
    member.save()
    return member


@pytest.fixture
def superuser(db):
    """A platform operator: sees every tenant in the admin."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def api():
    """``api(user)``: an API client authenticated with the user's token, as a script would be."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
