"""Tiny HTTP helpers shared by the compatibility examples (Python standard library only)."""
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ.get("GRANTORY_URL", "http://localhost:8080").rstrip("/")
ADMIN_KEY = os.environ.get("GRANTORY_ADMIN_KEY", "")
if not ADMIN_KEY:
    sys.exit("set GRANTORY_ADMIN_KEY to the administrator API key printed on first start (or GRANTORY_BOOTSTRAP_ADMIN_KEY)")
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def call(method, path, body=None, headers=None, form=None):
    """Sends a request; returns (status, headers, parsed body or text or None)."""
    data = None
    hdrs = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request) as response:
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    text = raw.decode()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, answer_headers, parsed


def expect(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")
    print(f"ok  {message}")


def native(method, path, body=None):
    """A native API call as the administrator; fails loudly on an error status."""
    status, _, answer = call(method, "/api/v1" + path, body, ADMIN)
    if status >= 400:
        sys.exit(f"FAILED: {method} /api/v1{path} answered {status}: {answer}")
    return answer


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def suffix():
    return os.urandom(3).hex()
