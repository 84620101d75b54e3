#!/usr/bin/env python3
"""CoreOne profile, end to end (docs/compat-coreone.md), against a fresh Grantory server.

    GRANTORY_URL=http://localhost:8080 GRANTORY_ADMIN_KEY=gty_... python3 examples/compat/coreone.py

Sets up the seed's example (company 5445, user 17175, application trusteeApp with
TrusteeApp_AddBill), then calls the API exactly as the CoreOne documentation shows: a client
with the cos_auth_api scope gets a token from /connect/token and reads /api/permission by
organization unit, by user, by user subject and without parameters (following the Link
header page by page), an application's client reads /api/permission/myapplication, and a
user signs in through that client with the password grant and reads it too.
"""
import urllib.parse

from _client import ADMIN, basic, call, expect, native, suffix

s = suffix()
app_name = f"trusteeApp-{s}"
company = native("POST", "/org-units", {"name": f"Trustee Ltd {s}", "externalId": f"5445-{s}"})
user = native("POST", "/identities", {"subject": f"c1s:17175-{s}", "username": f"asmith-{s}", "email": f"asmith-{s}@example.com"})
# "managed": Grantory itself provisions it, so assignments are provisioned at once.
app = native("POST", "/applications", {"name": app_name, "kind": "managed"})
add_bill = native("POST", f"/applications/{app['id']}/permissions", {"name": "TrusteeApp_AddBill"})
assignment = native("POST", "/assignments", {
    "assignee": {"type": "identity", "id": user["id"]},
    "resource": {"type": "permission", "id": add_bill["id"]},
    "context": {"type": "orgUnit", "id": company["id"]},
})
# ... and may add bills concerning their own user record (a right held in the context of user 17175).
own_context = native("POST", "/assignments", {
    "assignee": {"type": "identity", "id": user["id"]},
    "resource": {"type": "permission", "id": add_bill["id"]},
    "context": {"type": "identity", "id": user["id"]},
})
revision = max(assignment["revision"], own_context["revision"])

# A client of the API reader, with the vendor's scopes; its token from /connect/token.
reader = native("POST", "/clients", {"name": f"coreone reader {s}", "scopes": ["cos_auth_api", "email"]})
status, _, token = call("POST", "/connect/token", form={"grant_type": "client_credentials", "scope": "cos_auth_api email"},
                        headers={"Authorization": basic(reader["clientId"], reader["clientSecret"])})
expect(status == 200 and token["token_type"] == "Bearer", "POST /connect/token (client credentials, scope cos_auth_api email)")
bearer = {"Authorization": f"Bearer {token['access_token']}"}

external_id = f"5445-{s}"
q = urllib.parse.urlencode({"contextType": "OrganizationUnit", "contextObjectIdentifier": external_id, "application": app_name, "minRevision": revision})
status, _, rows = call("GET", f"/api/permission?{q}", headers=bearer)
expect(status == 200 and len(rows) == 1, "GET /api/permission?contextType=OrganizationUnit&contextObjectIdentifier=...&application=...")
row = rows[0]
expect(row["role"] == "TrusteeApp_AddBill" and row["application"] == app_name and row["contextType"] == "OrganizationUnit", "row: role, application, contextType")
expect(row["contextObjectIdentifier"] == external_id, f"contextObjectIdentifier echoed as sent ({external_id})")
expect(row["userEmail"] == f"asmith-{s}@example.com", "userEmail with the email scope")

mail = f"ASMITH-{s}@EXAMPLE.COM"
q = urllib.parse.urlencode({"contextType": "User", "contextObjectIdentifier": mail, "application": app_name.upper()})
status, _, rows = call("GET", f"/api/permission?{q}", headers=bearer)
expect(status == 200 and [(r["contextType"], r["contextObjectIdentifier"]) for r in rows] == [("User", mail)],
       "GET /api/permission?contextType=User&contextObjectIdentifier=<e-mail, any case>&application=<name, any case>")

q = urllib.parse.urlencode({"application": app_name, "userSubject": f"c1s:17175-{s}"})
status, _, rows = call("GET", f"/api/permission?{q}", headers=bearer)
expect(status == 200 and sorted(r["contextType"] for r in rows) == ["OrganizationUnit", "User"], "GET /api/permission?application=...&userSubject=c1s:... (the holder's rights, every context)")

status, _, rows = call("GET", "/api/permission", headers=bearer)
expect(status == 200 and any(r["application"] == app_name for r in rows), "GET /api/permission without parameters: every provisioned row")

# Bounded answers: at most pageSize rows (1000 by default); Link: <...>; rel="next" names the next page.
paged, url = [], f"/api/permission?application={urllib.parse.quote(app_name)}&pageSize=1"
while url:
    status, headers, page = call("GET", url, headers=bearer)
    expect(status == 200 and len(page) <= 1, f"GET {url.split('&pageToken')[0]}... (one page)")
    paged.extend(page)
    link = headers.get("Link")
    url = link[1:link.index(">")] if link else None
status, _, whole = call("GET", f"/api/permission?application={urllib.parse.quote(app_name)}", headers=bearer)
expect(paged == whole and len(whole) == 2, "the pages put together are the whole answer")

# The application's own client: /myapplication answers for trusteeApp only.
own = native("POST", "/clients", {"name": f"{app_name} client", "applicationId": app["id"], "scopes": ["cos_auth_api"]})
status, _, token = call("POST", "/connect/token", form={"grant_type": "client_credentials", "client_id": own["clientId"], "client_secret": own["clientSecret"], "scope": "cos_auth_api"})
expect(status == 200, "token of the application's client (client_secret_post)")
q = urllib.parse.urlencode({"contextType": "OrganizationUnit", "contextObjectIdentifier": external_id})
status, _, rows = call("GET", f"/api/permission/myapplication?{q}", headers={"Authorization": f"Bearer {token['access_token']}"})
expect(status == 200 and [r["application"] for r in rows] == [app_name], "GET /api/permission/myapplication?contextType=OrganizationUnit&...")
expect("userEmail" not in rows[0], "no userEmail without the email scope")

# A user's token: the password grant through the application's client, for a user holding
# "API read permissions for my application" (a Grantory right) and a local password.
reader_user = native("POST", "/identities", {"subject": f"c1s:reader-{s}", "username": f"reader-{s}"})
right = [p for p in native("GET", "/permissions?q=read-permissions-my-application")["items"] if p["name"] == "read-permissions-my-application"][0]
granted = native("POST", "/assignments", {"assignee": {"type": "identity", "id": reader_user["id"]}, "resource": {"type": "permission", "id": right["id"]}})
status, _, _ = call("PUT", f"/api/v1/identities/{reader_user['id']}/password", {"password": f"Reader password {s}"}, ADMIN)
expect(status == 204, "PUT /api/v1/identities/{id}/password (the user's local password)")
status, _, token = call("POST", "/connect/token", form={"grant_type": "password", "username": f"reader-{s}", "password": f"Reader password {s}", "scope": "cos_auth_api"},
                        headers={"Authorization": basic(own["clientId"], own["clientSecret"])})
expect(status == 200 and token["token_type"] == "Bearer", "POST /connect/token (password grant through the application's client)")
q = urllib.parse.urlencode({"contextType": "OrganizationUnit", "contextObjectIdentifier": external_id, "minRevision": granted["revision"]})
status, _, rows = call("GET", f"/api/permission/myapplication?{q}", headers={"Authorization": f"Bearer {token['access_token']}"})
expect(status == 200 and [r["application"] for r in rows] == [app_name], "GET /api/permission/myapplication with the user's token: the client's application")

status, _, _ = call("GET", "/api/permission/myapplication?userSubject=x", headers=bearer)
expect(status == 403, "/myapplication refuses a client that belongs to no application (403)")
print("CoreOne profile: all documented calls answered")
