#!/usr/bin/env python3
"""Permission Assist profile, end to end (docs/compat-permission-assist.md), against a fresh server.

    GRANTORY_URL=http://localhost:8080 GRANTORY_ADMIN_KEY=gty_... python3 examples/compat/permission-assist.py

The vendor's getting-started steps: the API feature is enabled (on by default), an
administrator generates the token "HR Integration", and a script calls /api with it.
"""
import re

from _client import ADMIN, call, expect, native, suffix

s = suffix()
settings = native("GET", "/settings")
expect(settings["compatibility"]["permissionAssist"] is True, "the API feature is enabled (default)")
token = native("POST", "/api-keys", {"name": f"HR Integration {s}", "expiresAt": "2099-01-01T00:00:00Z"})
bearer = {"Authorization": f"Bearer {token['secret']}"}
actor = f"API Token - HR Integration {s}"

status, _, page = call("GET", "/api/identities?page=1", headers=bearer)
expect(status == 200 and page["page"] == 1 and page["pageSize"] == 50 and {"items", "totalCount", "totalPages"} <= set(page), "GET /api/identities?page=1: the page envelope")

status, _, event = call("POST", "/api/personnel-events/onboard", {
    "identity": {"firstName": "Lin", "lastName": f"Ng {s}", "email": f"lin-{s}@example.com", "department": "Finance", "title": "Analyst", "identityType": "Employee"},
    "effectiveDate": "2099-03-15", "comment": "Starts in March",
}, bearer)
expect(status == 201 and event["kind"] == "Personnel Event" and event["type"] == "Onboard", "POST /api/personnel-events/onboard: 201")
expect(event["reporter"] == actor, f'the act is recorded as "{actor}"')
status, _, one = call("GET", f"/api/personnel-events/{event['id']}", headers=bearer)
expect(status == 200 and one["number"] == event["number"], "GET /api/personnel-events/{id}")
audit = native("GET", f"/audit-events?action=personnelEvent.create&targetId={event['id']}")
expect(audit["items"][0]["actor"]["name"] == actor, "the audit trail names the same actor")

status, _, error = call("GET", "/api/no-such-route", headers=bearer)
expect(status == 404 and error["error"] == "not_found" and re.fullmatch(r"[0-9a-f]{32}", error["correlationId"]), "unknown route: not_found with a correlationId")
status, _, error = call("POST", "/api/personnel-events/onboard", {"effectiveDate": "2099-03-15"}, bearer)
expect(status == 400 and error["error"] == "validation_error" and error["errors"], "validation_error naming the field")

native("PATCH", "/settings", {"compatibility": {"permissionAssist": False}})
try:
    status, _, error = call("GET", "/api/identities", headers=bearer)
    expect(status == 403 and error["error"] == "forbidden", "API feature off: 403 forbidden in the envelope")
finally:
    native("PATCH", "/settings", {"compatibility": {"permissionAssist": True}})
status, _, _ = call("GET", "/api/identities", headers=bearer)
expect(status == 200, "API feature on again")

status, _, _ = call("DELETE", f"/api/v1/api-keys/{token['id']}", headers=ADMIN)
status, _, error = call("GET", "/api/identities", headers=bearer)
expect(status == 401 and error["error"] == "unauthorized", "a deleted token stops working at once (401 unauthorized)")
print("Permission Assist profile: all documented calls answered")
