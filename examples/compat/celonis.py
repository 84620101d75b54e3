#!/usr/bin/env python3
"""Celonis profile, end to end (docs/compat-celonis.md), against a fresh Grantory server.

    GRANTORY_URL=http://localhost:8080 GRANTORY_ADMIN_KEY=gty_... python3 examples/compat/celonis.py

An extractor's OAuth client gets tokens from /oauth2/token (HTTP Basic, form) with both
spellings of the vendor's scopes, exports the team's permissions, pages the audit log and
the login history; an application key made with authorization.permissions exports the team.
"""
from _client import basic, call, expect, native, suffix

s = suffix()
app = native("POST", "/applications", {"name": f"Celonis Studio {s}"})
perm = native("POST", f"/applications/{app['id']}/permissions", {"name": "EDIT"})
person = native("POST", "/identities", {"subject": f"celonis:{s}", "username": f"analyst-{s}", "email": f"analyst-{s}@example.com"})
native("POST", "/assignments", {"assignee": {"type": "identity", "id": person["id"]}, "resource": {"type": "permission", "id": perm["id"]}})

client = native("POST", "/clients", {"name": f"SIEM extractor {s}", "scopes": ["authorization.permissions", "audit.log"]})
auth = {"Authorization": basic(client["clientId"], client["clientSecret"])}


def token(scope):
    status, _, answer = call("POST", "/oauth2/token", form={"grant_type": "client_credentials", "scope": scope}, headers=auth)
    expect(status == 200 and answer["scope"] == scope, f"POST /oauth2/token scope={scope} (client registered with the other spelling too)")
    return {"Authorization": f"Bearer {answer['access_token']}"}


permissions_token = token("authorization.permissions:read")
status, _, export = call("GET", "/api/authorization/external/permissions", headers=permissions_token)
expect(status == 200 and isinstance(export["permissions"], list), "GET /api/authorization/external/permissions: {permissions: [...]}")
item = next(p for p in export["permissions"] if p["service"] == app["name"])
expect(sorted(item) == sorted(["subjectName", "subjectType", "subjectId", "groups", "role", "service", "objectName", "objectType", "objectId", "actions"]), "PermissionExportItem fields")
expect(item["actions"] == ["EDIT"] and isinstance(item["groups"], str), "actions is a list, groups one string")

audit_token = token("audit.log:read")
status, _, page = call("GET", "/log/api/external/audit?pageNumber=0&pageSize=200", headers=audit_token)
expect(status == 200 and {"content", "pageNumber", "pageSize", "totalCount"} <= set(page), "GET /log/api/external/audit: {content, pageNumber, pageSize, totalCount}")
first = page["content"][0]
expect({"userId", "userRole", "event", "timestamp", "message", "ipAddress", "port", "diffPayload"} <= set(first), "audit item fields")
issued = [e for e in page["content"] if e["event"] == "oauth_token.issue"]
expect(issued and issued[-1]["userRole"] == "Admin", "userRole is the user's role (the client acts as the administrator: Admin)")
expect(isinstance(issued[-1]["port"], int) and 0 < issued[-1]["port"] < 65536 and issued[-1]["ipAddress"],
       "ipAddress and port: the caller's address and TCP source port (null only when unknown)")

status, _, page = call("GET", "/log/api/external/v2/audit?pageSize=50", headers=audit_token)
expect(status == 200 and "content" in page, "GET /log/api/external/v2/audit (cursor form)")
status, _, logins = call("GET", "/api/external/authentication-events?pageSize=200", headers=audit_token)
expect(status == 200 and any(e["authenticationEventType"] == "TOKEN_ISSUED" and e["success"] for e in logins["content"]), "login history lists token issues")
status, _, members = call("GET", "/api/external/members?includeInternal=true", headers=permissions_token)
expect(status == 200 and any(m["email"] == f"analyst-{s}@example.com" for m in members), "GET /api/external/members?includeInternal=true")

key = native("POST", f"/applications/{app['id']}/keys", {"name": f"team key {s}", "scopes": ["authorization.permissions"]})
status, _, team = call("GET", "/api/authorization/external/permissions", headers={"Authorization": f"AppKey {key['secret']}"})
expect(status == 200 and len({p["service"] for p in team["permissions"]}) > 1, "Authorization: AppKey (made with authorization.permissions) exports the team's permissions")

status, _, body = call("GET", "/log/api/external/audit?pageSize=500", headers=audit_token)
expect(status == 400 and body["frontendErrorKey"] == "INVALID_PARAMETER", "400 {frontendErrorKey, errorInformation}")
status, _, body = call("GET", "/api/authorization/external/permissions")
expect(status == 401 and body is None, "401 with no body")
print("Celonis profile: all documented calls answered")
