"""The bots admin: the operator approves bots for the marketplace; tenant staff see their own
bots and subscriptions only, pause and resume them with the trader role, never approve."""

import pytest

from bots.models import Subscription
from bots.tests.factories import BotFactory, SubscriptionFactory
from tenancy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def action(client, model, name, ids):
    return client.post(f"/admin/bots/{model}/", {"action": name, "_selected_action": ids}, follow=True)


def test_the_operator_approves_a_pending_bot(client, tenant, django_capture_on_commit_callbacks):
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    bot = BotFactory(author=tenant, visibility="published", review_status="pending", name="Pending one")
    client.force_login(operator)
    page = client.get("/admin/bots/bot/?review_status__exact=pending").content.decode()
    assert "Pending one" in page and "Approve for the marketplace" in page
    with django_capture_on_commit_callbacks():
        action(client, "bot", "approve", [bot.pk])
    bot.refresh_from_db()
    assert bot.review_status == "approved" and bot.listed and bot.reviewed_by == operator


def test_tenant_staff_see_their_own_rows_and_cannot_approve(client, staff_owner, tenant, other_tenant):
    mine = BotFactory(author=tenant, name="Acme bot", review_status="pending", visibility="published")
    BotFactory(author=other_tenant, name="Globex bot")
    SubscriptionFactory(connection__tenant=other_tenant, name="Globex instance")
    client.force_login(staff_owner)
    page = client.get("/admin/bots/bot/").content.decode()
    assert "Acme bot" in page and "Globex bot" not in page
    assert "Approve for the marketplace" not in page
    action(client, "bot", "approve", [mine.pk])
    mine.refresh_from_db()
    assert mine.review_status == "pending"
    assert "Globex instance" not in client.get("/admin/bots/subscription/").content.decode()


def test_pause_and_resume_need_the_trader_role(client, staff_owner, staff_viewer, tenant):
    sub = SubscriptionFactory(connection__tenant=tenant)
    client.force_login(staff_viewer)
    action(client, "subscription", "pause", [sub.pk])
    assert Subscription.objects.get(pk=sub.pk).status == "running"
    client.force_login(staff_owner)
    action(client, "subscription", "pause", [sub.pk])
    assert Subscription.objects.get(pk=sub.pk).status == "paused"
    action(client, "subscription", "resume", [sub.pk])
    assert Subscription.objects.get(pk=sub.pk).status == "running"
