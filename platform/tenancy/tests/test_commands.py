import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from exchanges.models import ExchangeConnection
from tenancy.models import Membership, Role, Tenant

pytestmark = pytest.mark.django_db


def test_create_tenant_makes_tenant_owner_and_membership(capsys):
    call_command("create_tenant", "Acme Capital", "--owner", "alice", "--password", "s3cret-pass")
    tenant = Tenant.objects.get(name="Acme Capital")
    assert tenant.region == "global"
    assert tenant.slug == "acme-capital"
    membership = Membership.objects.get(tenant=tenant)
    assert (membership.user.username, membership.role) == ("alice", Role.OWNER)
    assert authenticate(username="alice", password="s3cret-pass") == membership.user
    assert "Created tenant 'Acme Capital'" in capsys.readouterr().out


def test_create_tenant_with_a_region_and_an_existing_user():
    call_command("create_tenant", "First", "--owner", "bob", "--password", "pw-one-1234")
    call_command("create_tenant", "Second", "--owner", "bob", "--password", "ignored", "--region", "us")
    second = Tenant.objects.get(name="Second")
    assert second.region == "us"
    assert Membership.objects.filter(user__username="bob").count() == 2
    assert authenticate(username="bob", password="pw-one-1234") is not None


def test_create_tenant_refuses_a_duplicate_name_and_a_bad_region():
    call_command("create_tenant", "Acme", "--owner", "alice", "--password", "pw-123456")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", "acme", "--owner", "carol", "--password", "pw-123456")
    with pytest.raises(CommandError):
        call_command("create_tenant", "Other", "--owner", "carol", "--password", "pw-123456", "--region", "mars")
    assert not Tenant.objects.filter(name="Other").exists()
    assert Tenant.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_demo_setup_prints_a_login_that_works(client, capsys):
    call_command("demo_setup")
    out = capsys.readouterr().out
    password = next(line for line in out.splitlines() if "Tenant login" in line).split("/")[1].split()[0]
    assert client.login(username="demo", password=password)
    assert "Demo Trading" in client.get("/dashboard/").content.decode()
    call_command("demo_setup", "--password", "second-run-pass")  # refreshes, never duplicates
    assert Tenant.objects.filter(name="Demo Trading").count() == 1
    assert client.login(username="demo", password="second-run-pass")
    paper = ExchangeConnection.objects.get(tenant__name="Demo Trading")
    assert (paper.exchange, paper.status) == ("paper", "connected")
    balance = client.get(f"/api/v1/exchanges/connections/{paper.pk}/balance/").json()
    assert {a["asset"]: a["total"] for a in balance["assets"]}["USDT"].startswith("100000"), balance
