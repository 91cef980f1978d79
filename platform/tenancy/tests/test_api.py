"""The tenancy API with an owner, a member (viewer) and an outsider."""

import pytest

from tenancy.models import Membership, Role
from tenancy.tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestTokenAuth:
    def test_username_and_password_give_a_token_that_authenticates(self, api, owner):
        response = api().post("/api/v1/auth/token/", {"username": "olivia", "password": PASSWORD}, format="json")
        assert response.status_code == 200
        token = response.json()["token"]
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        me = client.get("/api/v1/me/")
        assert me.status_code == 200
        assert me.json()["username"] == "olivia"

    def test_wrong_password_is_a_400_naming_the_problem(self, api, owner):
        response = api().post("/api/v1/auth/token/", {"username": "olivia", "password": "nope"}, format="json")
        assert response.status_code == 400
        assert "Unable to log in" in response.json()["non_field_errors"][0]

    def test_the_token_and_the_tenant_are_one_query(self, api, owner, tenant, other_tenant):
        """A token call finds its user and its membership (header or first) in one query."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        MembershipFactory(tenant=other_tenant, user=owner, role=Role.VIEWER)
        client = api(owner)
        for header, slug, role in ((None, "acme", "owner"), ("globex", "globex", "viewer"),
                                   (str(tenant.pk), "acme", "owner")):  # fmt: skip
            extra = {"HTTP_X_TENANT": header} if header else {}
            with CaptureQueriesContext(connection) as queries:
                me = client.get("/api/v1/me/", **extra)
            assert me.status_code == 200
            assert (me.json()["current_tenant"]["slug"], me.json()["current_role"]) == (slug, role)
            reads = [q["sql"] for q in queries.captured_queries if "authtoken_token" in q["sql"]]
            assert len(reads) == 1 and "tenancy_membership" in reads[0]
            sql = [q["sql"] for q in queries.captured_queries]
            picks = [q for q in sql if "tenancy_membership" in q and "LIMIT 1" in q]
            assert picks == reads  # no second lookup of the membership

    def test_a_token_keeps_its_answers_outside_the_one_query(self, api, owner, outsider, tenant, other_tenant):
        """A bad key and an inactive user are 401; a tenant the user is not in is 404; a
        superuser acts as owner of any tenant; a user without a tenant is refused (403)."""
        bad = api()
        bad.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert bad.get("/api/v1/me/", HTTP_X_TENANT="acme").status_code == 401
        client = api(owner)
        owner.is_active = False
        owner.save()
        assert client.get("/api/v1/me/", HTTP_X_TENANT="acme").status_code == 401
        assert api(outsider).get("/api/v1/me/", HTTP_X_TENANT="acme").status_code == 404
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        me = api(root).get("/api/v1/me/", HTTP_X_TENANT="globex").json()
        assert (me["current_tenant"]["slug"], me["current_role"]) == ("globex", "owner")
        loner = UserFactory(username="loner")
        assert api(loner).get("/api/v1/orders/").status_code == 403

    def test_session_auth_works_too(self, client, owner):
        client.force_login(owner)
        assert client.get("/api/v1/me/").json()["current_tenant"]["name"] == "Acme Capital"


class TestBadInput:
    def test_missing_token_is_401_json(self, api):
        response = api().get("/api/v1/me/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Token")
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    def test_bad_token_is_401_json(self, api):
        client = api()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        response = client.get("/api/v1/tenants/")
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid token."

    def test_unknown_route_is_404_json(self, api, owner):
        response = api(owner).get("/api/v1/does-not-exist/")
        assert response.status_code == 404
        assert response.json()["detail"] == "Not found."

    def test_malformed_json_is_400_json(self, api, owner, tenant):
        response = api(owner).post(
            f"/api/v1/tenants/{tenant.pk}/members/", data='{"username": ', content_type="application/json"
        )
        assert response.status_code == 400
        assert "JSON parse error" in response.json()["detail"]

    def test_unknown_role_names_the_field(self, api, owner, tenant):
        UserFactory(username="newbie")
        response = api(owner).post(
            f"/api/v1/tenants/{tenant.pk}/members/", {"username": "newbie", "role": "god"}, format="json"
        )
        assert response.status_code == 400
        assert "role" in response.json()
        assert not Membership.objects.filter(user__username="newbie").exists()


class TestTenantIsolation:
    def test_each_user_lists_only_their_tenants(self, api, owner, member, outsider, tenant, other_tenant):
        assert [t["name"] for t in api(owner).get("/api/v1/tenants/").json()] == ["Acme Capital"]
        assert [t["name"] for t in api(member).get("/api/v1/tenants/").json()] == ["Acme Capital"]
        assert [t["name"] for t in api(outsider).get("/api/v1/tenants/").json()] == ["Globex Trading"]
        listed = api(member).get("/api/v1/tenants/").json()[0]
        assert listed["my_role"] == "viewer"
        assert listed["member_count"] == 2

    @pytest.mark.parametrize("path", ["/api/v1/tenants/{id}/", "/api/v1/tenants/{id}/members/"])
    def test_outsider_gets_404_on_another_tenants_objects(self, api, owner, member, outsider, tenant, path):
        url = path.format(id=tenant.pk)
        assert api(owner).get(url).status_code == 200
        assert api(member).get(url).status_code == 200
        response = api(outsider).get(url)
        assert response.status_code == 404
        assert "Acme" not in response.content.decode()

    def test_outsider_cannot_change_or_remove_members_of_another_tenant(self, api, owner, outsider, tenant):
        membership = Membership.objects.get(user=owner)
        url = f"/api/v1/tenants/{tenant.pk}/members/{membership.pk}/"
        assert api(outsider).patch(url, {"role": "viewer"}, format="json").status_code == 404
        assert api(outsider).delete(url).status_code == 404
        assert api(outsider).patch(f"/api/v1/tenants/{tenant.pk}/", {"name": "Pwned"}, format="json").status_code == 404
        membership.refresh_from_db()
        assert membership.role == Role.OWNER
        tenant.refresh_from_db()
        assert tenant.name == "Acme Capital"

    def test_a_membership_id_of_another_tenant_is_404_even_for_an_owner(self, api, owner, outsider, tenant):
        foreign = Membership.objects.get(user=outsider)
        response = api(owner).patch(f"/api/v1/tenants/{tenant.pk}/members/{foreign.pk}/", {"role": "viewer"})
        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.role == Role.OWNER

    def test_x_tenant_header_of_another_tenant_is_404(self, api, owner, outsider, other_tenant):
        response = api(owner).get("/api/v1/me/", HTTP_X_TENANT=str(other_tenant.pk))
        assert response.status_code == 404
        response = api(owner).get("/api/v1/me/", HTTP_X_TENANT="globex")
        assert response.status_code == 404

    def test_x_tenant_header_picks_among_own_tenants(self, api, owner, other_tenant):
        MembershipFactory(tenant=other_tenant, user=owner, role=Role.TRADER)
        me = api(owner).get("/api/v1/me/", HTTP_X_TENANT="globex").json()
        assert me["current_tenant"]["slug"] == "globex"
        assert me["current_role"] == "trader"
        assert api(owner).get("/api/v1/me/").json()["current_tenant"]["slug"] == "acme"

    def test_superuser_sees_every_tenant(self, api, tenant, other_tenant):
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        assert {t["name"] for t in api(root).get("/api/v1/tenants/").json()} == {"Acme Capital", "Globex Trading"}


class TestMembershipManagement:
    def test_owner_adds_a_member(self, api, owner, tenant):
        UserFactory(username="newbie")
        response = api(owner).post(
            f"/api/v1/tenants/{tenant.pk}/members/", {"username": "newbie", "role": "trader"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["role"] == "trader"
        assert Membership.objects.get(user__username="newbie").tenant == tenant

    def test_viewer_cannot_add_members(self, api, member, tenant):
        UserFactory(username="newbie")
        response = api(member).post(
            f"/api/v1/tenants/{tenant.pk}/members/", {"username": "newbie", "role": "viewer"}, format="json"
        )
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]
        assert not Membership.objects.filter(user__username="newbie").exists()

    def test_unknown_username_names_the_field(self, api, owner, tenant):
        response = api(owner).post(f"/api/v1/tenants/{tenant.pk}/members/", {"username": "ghost"}, format="json")
        assert response.status_code == 400
        assert "ghost" in response.json()["username"][0]

    def test_admin_cannot_grant_owner(self, api, tenant):
        admin = MembershipFactory(tenant=tenant, user=UserFactory(username="ada"), role=Role.ADMIN).user
        target = MembershipFactory(tenant=tenant, role=Role.VIEWER)
        response = api(admin).patch(f"/api/v1/tenants/{tenant.pk}/members/{target.pk}/", {"role": "owner"})
        assert response.status_code == 403
        target.refresh_from_db()
        assert target.role == Role.VIEWER

    def test_the_last_owner_stays(self, api, owner, tenant):
        membership = Membership.objects.get(user=owner)
        url = f"/api/v1/tenants/{tenant.pk}/members/{membership.pk}/"
        response = api(owner).patch(url, {"role": "viewer"}, format="json")
        assert response.status_code == 400
        assert "at least one owner" in response.json()["role"][0]
        assert api(owner).delete(url).status_code == 400
        assert Membership.objects.filter(pk=membership.pk, role=Role.OWNER).exists()

    def test_owner_removes_a_member(self, api, owner, member, tenant):
        membership = Membership.objects.get(user=member)
        assert api(owner).delete(f"/api/v1/tenants/{tenant.pk}/members/{membership.pk}/").status_code == 204
        assert not Membership.objects.filter(pk=membership.pk).exists()
        assert api(member).get(f"/api/v1/tenants/{tenant.pk}/").status_code == 404

    def test_only_the_owner_changes_the_region(self, api, owner, tenant):
        admin = MembershipFactory(tenant=tenant, user=UserFactory(username="ada"), role=Role.ADMIN).user
        assert api(admin).patch(f"/api/v1/tenants/{tenant.pk}/", {"region": "us"}, format="json").status_code == 403
        response = api(owner).patch(f"/api/v1/tenants/{tenant.pk}/", {"region": "us"}, format="json")
        assert response.status_code == 200
        assert response.json()["region"] == "us"

    def test_a_deactivated_tenant_disappears_for_its_members(self, api, owner, tenant):
        tenant.is_active = False
        tenant.save()
        assert api(owner).get("/api/v1/tenants/").json() == []
        assert api(owner).get(f"/api/v1/tenants/{tenant.pk}/").status_code == 404
        assert api(owner).get("/api/v1/me/").json()["current_tenant"] is None


class TestApiSchema:
    def test_schema_and_docs_are_served_without_a_cdn(self, client):
        schema = client.get("/api/schema/")
        assert schema.status_code == 200
        assert b"/api/v1/tenants/" in schema.content
        docs = client.get("/api/docs/")
        assert docs.status_code == 200
        assert b"cdn." not in docs.content and b"jsdelivr" not in docs.content

    def test_schema_generates_without_warnings(self, tmp_path):
        from django.core.management import call_command

        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
        assert "/api/v1/health/" in (tmp_path / "schema.yml").read_text()
