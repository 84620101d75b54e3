#!/usr/bin/env python3
"""Checkmarx Access Control profile, end to end (docs/compat-checkmarx.md), against a fresh server.

    GRANTORY_URL=http://localhost:8080 GRANTORY_ADMIN_KEY=gty_... python3 examples/compat/checkmarx.py

A client registered with the vendor's scopes gets a token from
/cxrestapi/auth/identity/connect/token (scope "access_control_api sast_rest_api") and calls
the Access Control API with `Accept: application/json;v=1.0`, as the vendor documents.
"""
from _client import call, expect, native, suffix

CX = "/cxrestapi/auth"
V1 = "application/json;v=1.0"
s = suffix()

client = native("POST", "/clients", {"name": f"cx automation {s}", "scopes": ["access_control_api", "sast_rest_api"]})
status, _, token = call("POST", f"{CX}/identity/connect/token", form={
    "grant_type": "client_credentials", "client_id": client["clientId"], "client_secret": client["clientSecret"],
    "scope": "access_control_api sast_rest_api",
})
expect(status == 200 and token["scope"] == "access_control_api sast_rest_api", "POST /identity/connect/token (scope access_control_api sast_rest_api)")
headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": V1}

status, answer_headers, permissions = call("GET", f"{CX}/Permissions", headers=headers)
expect(status == 200 and answer_headers["Content-Type"] == V1, "GET /Permissions: 200, Content-Type application/json;v=1.0")
expect(permissions[:4] == [
    {"id": 1, "serviceProviderId": 1, "name": "manage-users", "category": None},
    {"id": 2, "serviceProviderId": 1, "name": "manage-authentication-providers", "category": None},
    {"id": 3, "serviceProviderId": 1, "name": "manage-clients", "category": None},
    {"id": 4, "serviceProviderId": 1, "name": "manage-system-settings", "category": None},
], "the documented sample response, id for id")

status, _, permission = call("GET", f"{CX}/Permissions/4", headers=headers)
expect(status == 201 and permission["name"] == "manage-system-settings", "GET /Permissions/4: 201 (as documented), manage-system-settings")
status, _, error = call("GET", f"{CX}/Permissions/999", headers=headers)
expect(status == 404 and error["messageCode"] == 40401, "GET /Permissions/999: 404 in the Checkmarx error body")
status, _, error = call("GET", f"{CX}/Permissions/abc", headers=headers)
expect(status == 400 and "messageDetails" in error, "GET /Permissions/abc: 400")

write = {**headers, "Content-Type": V1}
status, answer_headers, role = call("POST", f"{CX}/Roles", {"name": f"User Manager {s}", "description": "Manages users", "permissionIds": [1, 3]}, write)
expect(status == 201 and role["permissionIds"] == [1, 3], "POST /Roles: 201 with permissionIds [1, 3]")
status, _, _ = call("PUT", f"{CX}/Roles/{role['id']}", {"name": f"Access Control Manager {s}", "permissionIds": [1, 2]}, write)
expect(status == 204, "PUT /Roles/{id}: 204")
status, _, again = call("GET", f"{CX}/Roles/{role['id']}", headers=headers)
expect(again["permissionIds"] == [1, 2, 4], "manage-authentication-providers stands for manage-system-settings: the role lists ids 2 and 4")
status, _, _ = call("DELETE", f"{CX}/Roles/{role['id']}", headers=headers)
expect(status == 204, "DELETE /Roles/{id}: 204")

status, answer_headers, error = call("GET", f"{CX}/AuthenticationProviders", headers=headers)
expect(status == 404 and error["code"] == "route_not_found" and answer_headers["Content-Type"] == V1, "an unknown route under /cxrestapi/auth: 404 in the Checkmarx error body")
status, _, error = call("DELETE", f"{CX}/Permissions/1", headers=headers)
expect(status == 405 and error["messageCode"] == 40501, "an unknown method: 405 in the Checkmarx error body")
status, _, _ = call("GET", f"{CX}/Permissions", headers={"Accept": V1})
expect(status == 401, "no token: 401")
print("Checkmarx profile: all documented calls answered")
