/* Generated from openapi.json by `npm run api-client` (scripts/cli-operations.js); do not edit. */
import type { OperationSpec } from './operation-spec.ts';

export const OPERATIONS = {
  "deleteApiKeysById": {
    "method": "DELETE",
    "path": "/api/v1/api-keys/{id}",
    "summary": "Delete an API key; it stops working on the next request",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteApplicationsById": {
    "method": "DELETE",
    "path": "/api/v1/applications/{id}",
    "summary": "Delete an application and its permissions",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteApplicationsByIdAccountsByAccountName": {
    "method": "DELETE",
    "path": "/api/v1/applications/{id}/accounts/{accountName}",
    "summary": "Remove an account and its grants",
    "pathParams": [
      "id",
      "accountName"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteApplicationsByIdKeysByKeyId": {
    "method": "DELETE",
    "path": "/api/v1/applications/{id}/keys/{keyId}",
    "summary": "Delete an application key; it stops working on the next request",
    "pathParams": [
      "id",
      "keyId"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteApprovalPoliciesById": {
    "method": "DELETE",
    "path": "/api/v1/approval-policies/{id}",
    "summary": "Delete an approval policy",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteAssignmentRulesById": {
    "method": "DELETE",
    "path": "/api/v1/assignment-rules/{id}",
    "summary": "Delete an assignment rule; its assignments are revoked",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteClientsById": {
    "method": "DELETE",
    "path": "/api/v1/clients/{id}",
    "summary": "Delete an OAuth 2.0 client (by id or client_id); its tokens stop working on the next request",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteEventSinksById": {
    "method": "DELETE",
    "path": "/api/v1/event-sinks/{id}",
    "summary": "Delete a sink (delivery stops)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteIdentitiesById": {
    "method": "DELETE",
    "path": "/api/v1/identities/{id}",
    "summary": "Delete an identity (409 naming what still refers to it)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteIdentitiesByIdPassword": {
    "method": "DELETE",
    "path": "/api/v1/identities/{id}/password",
    "summary": "Remove the identity's local password (404 when it has none)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 204,
      "mediaTypes": []
    }
  },
  "deleteOrgUnitsById": {
    "method": "DELETE",
    "path": "/api/v1/org-units/{id}",
    "summary": "Delete an organization unit (409 while it has child units, members or assignments)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deletePermissionsById": {
    "method": "DELETE",
    "path": "/api/v1/permissions/{id}",
    "summary": "Delete a permission",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteRolesById": {
    "method": "DELETE",
    "path": "/api/v1/roles/{id}",
    "summary": "Delete a role",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "deleteSessionsById": {
    "method": "DELETE",
    "path": "/api/v1/sessions/{id}",
    "summary": "End a session: one of the caller's identity's own, or any of the tenant's with manage-users",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 204,
      "mediaTypes": []
    }
  },
  "deleteSessionsCurrent": {
    "method": "DELETE",
    "path": "/api/v1/sessions/current",
    "summary": "Sign out: end the signed-in session and clear its cookie",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 204,
      "mediaTypes": []
    }
  },
  "deleteSodPoliciesById": {
    "method": "DELETE",
    "path": "/api/v1/sod-policies/{id}",
    "summary": "Delete a separation-of-duties policy (and the exceptions recorded against it)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessAt": {
    "method": "GET",
    "path": "/api/v1/access/at",
    "summary": "What an identity held at a past instant (identity=…), or who held a permission then (permission=…, cursor-paged), each with why as it was then",
    "pathParams": [],
    "query": [
      {
        "name": "at",
        "type": "string",
        "required": true,
        "description": "An instant (RFC 3339 date-time), not in the future and not before the tenant existed"
      },
      {
        "name": "identity",
        "type": "string"
      },
      {
        "name": "permission",
        "type": "string"
      },
      {
        "name": "space",
        "type": "string",
        "enum": [
          "assigned",
          "provisioned"
        ],
        "description": "assigned (IAM) or provisioned (IdP) space; default assigned"
      },
      {
        "name": "limit",
        "type": "integer"
      },
      {
        "name": "cursor",
        "type": "string"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessDrift": {
    "method": "GET",
    "path": "/api/v1/access/drift",
    "summary": "Assigned but not provisioned, and provisioned but not assigned, per connected application",
    "pathParams": [],
    "query": [
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "limit",
        "type": "integer"
      },
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessExplain": {
    "method": "GET",
    "path": "/api/v1/access/explain",
    "summary": "Why does the identity hold (or not hold) the permission? The chains of assignments behind it",
    "pathParams": [],
    "query": [
      {
        "name": "identity",
        "type": "string",
        "required": true
      },
      {
        "name": "permission",
        "type": "string",
        "required": true
      },
      {
        "name": "application",
        "type": "string"
      },
      {
        "name": "contextType",
        "type": "string",
        "enum": [
          "all",
          "orgUnit",
          "identity",
          "object"
        ]
      },
      {
        "name": "contextId",
        "type": "string"
      },
      {
        "name": "space",
        "type": "string",
        "enum": [
          "assigned",
          "provisioned"
        ],
        "description": "assigned (IAM) or provisioned (IdP) space; default assigned"
      },
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessRequests": {
    "method": "GET",
    "path": "/api/v1/access-requests",
    "summary": "List access requests (newest first, cursor-paged)",
    "pathParams": [],
    "query": [
      {
        "name": "status",
        "type": "string",
        "enum": [
          "pending",
          "open",
          "scheduled",
          "completed",
          "rejected",
          "canceled",
          "failed"
        ]
      },
      {
        "name": "targetIdentityId",
        "type": "string"
      },
      {
        "name": "targetOrgUnitId",
        "type": "string"
      },
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "requesterId",
        "type": "string"
      },
      {
        "name": "action",
        "type": "string",
        "enum": [
          "add",
          "change",
          "remove",
          "suspend",
          "restore"
        ]
      },
      {
        "name": "limit",
        "type": "integer"
      },
      {
        "name": "cursor",
        "type": "string"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getAccessRequestsById": {
    "method": "GET",
    "path": "/api/v1/access-requests/{id}",
    "summary": "One access request with its steps, comments, activity and provisioning",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessReviews": {
    "method": "GET",
    "path": "/api/v1/access-reviews",
    "summary": "List access review campaigns",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "status",
        "type": "string",
        "enum": [
          "draft",
          "active",
          "closed"
        ]
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getAccessReviewsById": {
    "method": "GET",
    "path": "/api/v1/access-reviews/{id}",
    "summary": "Get an access review campaign",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessReviewsByIdItems": {
    "method": "GET",
    "path": "/api/v1/access-reviews/{id}/items",
    "summary": "A campaign's items: the caller's own, or (with approve-requests or read-audit) anyone's",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "reviewerId",
        "type": "string"
      },
      {
        "name": "state",
        "type": "string",
        "enum": [
          "open",
          "decided",
          "certify",
          "revoke",
          "modify"
        ]
      },
      {
        "name": "flag",
        "type": "string",
        "enum": [
          "drift",
          "sod",
          "orphan"
        ]
      },
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "identityId",
        "type": "string"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getAccessReviewsByIdProgress": {
    "method": "GET",
    "path": "/api/v1/access-reviews/{id}/progress",
    "summary": "Decided and open items, in total and per reviewer",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAccessReviewsByIdReport": {
    "method": "GET",
    "path": "/api/v1/access-reviews/{id}/report",
    "summary": "The auditor's report: CSV (every item) or PDF",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "format",
        "type": "string",
        "enum": [
          "csv",
          "pdf"
        ],
        "description": "Default csv"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "text/csv",
        "application/pdf"
      ]
    }
  },
  "getApiKeys": {
    "method": "GET",
    "path": "/api/v1/api-keys",
    "summary": "List API keys (never their secrets)",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getApplications": {
    "method": "GET",
    "path": "/api/v1/applications",
    "summary": "List applications",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "q",
        "type": "string",
        "description": "Case-insensitive part of the name"
      },
      {
        "name": "kind",
        "type": "string",
        "enum": [
          "managed",
          "connected"
        ],
        "description": "`managed`: Grantory is its identity provider; `connected`: an external system observed by imports"
      },
      {
        "name": "archived",
        "type": "boolean"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getApplicationsById": {
    "method": "GET",
    "path": "/api/v1/applications/{id}",
    "summary": "Get an application (with its ETag)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getApplicationsByIdAccounts": {
    "method": "GET",
    "path": "/api/v1/applications/{id}/accounts",
    "summary": "A connected application's accounts and grants, with how imports matched each to an identity",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "state",
        "type": "string",
        "enum": [
          "matched",
          "linked",
          "service",
          "ignored",
          "orphan",
          "ambiguous",
          "unmatched"
        ],
        "description": "Only accounts in this matching state"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getApplicationsByIdConnector": {
    "method": "GET",
    "path": "/api/v1/applications/{id}/connector",
    "summary": "The application's connector configuration",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getApplicationsByIdKeys": {
    "method": "GET",
    "path": "/api/v1/applications/{id}/keys",
    "summary": "List an application's keys (never their secrets)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getApplicationsByIdPermissions": {
    "method": "GET",
    "path": "/api/v1/applications/{id}/permissions",
    "summary": "List an application's permissions",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "q",
        "type": "string",
        "description": "Case-insensitive part of the name"
      },
      {
        "name": "category",
        "type": "string"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getApprovalPolicies": {
    "method": "GET",
    "path": "/api/v1/approval-policies",
    "summary": "List approval policies (by name, cursor-paged)",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer"
      },
      {
        "name": "cursor",
        "type": "string"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getApprovalPoliciesById": {
    "method": "GET",
    "path": "/api/v1/approval-policies/{id}",
    "summary": "Get an approval policy",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getApprovals": {
    "method": "GET",
    "path": "/api/v1/approvals",
    "summary": "The caller's open approval tasks, oldest due first",
    "pathParams": [],
    "query": [
      {
        "name": "kind",
        "type": "string",
        "enum": [
          "access_request",
          "personnel_event"
        ]
      },
      {
        "name": "limit",
        "type": "integer"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAssignmentRules": {
    "method": "GET",
    "path": "/api/v1/assignment-rules",
    "summary": "List assignment rules",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAssignmentRulesById": {
    "method": "GET",
    "path": "/api/v1/assignment-rules/{id}",
    "summary": "An assignment rule",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAssignments": {
    "method": "GET",
    "path": "/api/v1/assignments",
    "summary": "List assignments (cursor-paged, ordered by id)",
    "pathParams": [],
    "query": [
      {
        "name": "assigneeType",
        "type": "string",
        "enum": [
          "identity",
          "orgUnit"
        ]
      },
      {
        "name": "assigneeId",
        "type": "string"
      },
      {
        "name": "resourceType",
        "type": "string",
        "enum": [
          "permission",
          "role"
        ]
      },
      {
        "name": "resourceId",
        "type": "string"
      },
      {
        "name": "state",
        "type": "string",
        "enum": [
          "active",
          "paused",
          "revoked"
        ]
      },
      {
        "name": "source",
        "type": "string",
        "enum": [
          "direct",
          "rule",
          "delegation",
          "request"
        ]
      },
      {
        "name": "ruleId",
        "type": "string"
      },
      {
        "name": "delegatedFromId",
        "type": "string"
      },
      {
        "name": "limit",
        "type": "integer"
      },
      {
        "name": "cursor",
        "type": "string"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getAssignmentsById": {
    "method": "GET",
    "path": "/api/v1/assignments/{id}",
    "summary": "An assignment (managers, readers of access, or its delegator)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAuditCheckpoints": {
    "method": "GET",
    "path": "/api/v1/audit-checkpoints",
    "summary": "Signed checkpoints of the audit chain (newest first) with the public key; save it for `grantory audit verify --checkpoints`",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "required": true
      },
      {
        "name": "beforeSeq",
        "type": "integer"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getAuditEvents": {
    "method": "GET",
    "path": "/api/v1/audit-events",
    "summary": "The audit trail, filtered and cursor-paged (oldest first unless order=desc)",
    "pathParams": [],
    "query": [
      {
        "name": "from",
        "type": "string",
        "description": "Events at or after this time"
      },
      {
        "name": "to",
        "type": "string",
        "description": "Events before this time"
      },
      {
        "name": "actorId",
        "type": "string"
      },
      {
        "name": "authorityId",
        "type": "string",
        "description": "Events of credentials acting for another identity on this identity's authority"
      },
      {
        "name": "action",
        "type": "string",
        "description": "Exact action, or a prefix ending in * (identity.*)"
      },
      {
        "name": "targetType",
        "type": "string"
      },
      {
        "name": "targetId",
        "type": "string"
      },
      {
        "name": "order",
        "type": "string",
        "enum": [
          "asc",
          "desc"
        ]
      },
      {
        "name": "limit",
        "type": "integer",
        "required": true
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The nextCursor of the previous page"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getClients": {
    "method": "GET",
    "path": "/api/v1/clients",
    "summary": "List OAuth 2.0 clients (never their secrets)",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getEventSinks": {
    "method": "GET",
    "path": "/api/v1/event-sinks",
    "summary": "List sinks with their delivery state",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getEventSinksById": {
    "method": "GET",
    "path": "/api/v1/event-sinks/{id}",
    "summary": "A sink: status, cursor, the head of the trail, last error and dead letters",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getExportsAuditEvents": {
    "method": "GET",
    "path": "/api/v1/exports/audit-events",
    "summary": "Export the audit events of a time range, with the signed checkpoints that cover them (NDJSON, CSV or JSON)",
    "pathParams": [],
    "query": [
      {
        "name": "from",
        "type": "string",
        "description": "Events at or after this time"
      },
      {
        "name": "to",
        "type": "string",
        "description": "Events before this time"
      },
      {
        "name": "actorId",
        "type": "string"
      },
      {
        "name": "authorityId",
        "type": "string",
        "description": "Events of credentials acting for another identity on this identity's authority"
      },
      {
        "name": "action",
        "type": "string",
        "description": "Exact action, or a prefix ending in * (identity.*)"
      },
      {
        "name": "targetType",
        "type": "string"
      },
      {
        "name": "targetId",
        "type": "string"
      },
      {
        "name": "format",
        "type": "string",
        "enum": [
          "ndjson",
          "csv",
          "json"
        ],
        "description": "Wins over the Accept header; default ndjson"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/x-ndjson",
        "text/csv",
        "application/json"
      ]
    }
  },
  "getExportsEffectivePermissions": {
    "method": "GET",
    "path": "/api/v1/exports/effective-permissions",
    "summary": "Export effective permissions per identity (assigned or provisioned space, as the check API answers), whole tenant or filtered",
    "pathParams": [],
    "query": [
      {
        "name": "space",
        "type": "string",
        "enum": [
          "assigned",
          "provisioned"
        ],
        "required": true
      },
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "orgUnitId",
        "type": "string",
        "description": "Members of this unit and its descendants"
      },
      {
        "name": "identityId",
        "type": "string"
      },
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      },
      {
        "name": "format",
        "type": "string",
        "enum": [
          "ndjson",
          "csv",
          "json"
        ],
        "description": "Wins over the Accept header; default ndjson"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/x-ndjson",
        "text/csv",
        "application/json"
      ]
    }
  },
  "getExportsPermissionConfiguration": {
    "method": "GET",
    "path": "/api/v1/exports/permission-configuration",
    "summary": "Export applications, permissions, roles and assignment rules (NDJSON or JSON)",
    "pathParams": [],
    "query": [
      {
        "name": "format",
        "type": "string",
        "enum": [
          "ndjson",
          "csv",
          "json"
        ],
        "description": "Wins over the Accept header; default ndjson"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/x-ndjson",
        "application/json"
      ]
    }
  },
  "getIdentities": {
    "method": "GET",
    "path": "/api/v1/identities",
    "summary": "List identities in number order (cursor-paged)",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "status",
        "type": "string",
        "enum": [
          "active",
          "on_leave",
          "terminated"
        ],
        "description": "active, on_leave or terminated"
      },
      {
        "name": "orgUnitId",
        "type": "string",
        "description": "Members of this unit (not of its descendants)"
      },
      {
        "name": "managerId",
        "type": "string",
        "description": "Direct reports of this identity"
      },
      {
        "name": "q",
        "type": "string",
        "description": "Case-insensitive search in names, e-mail, username and employee number"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getIdentitiesById": {
    "method": "GET",
    "path": "/api/v1/identities/{id}",
    "summary": "Get an identity (with its ETag)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getIdentitiesByIdAccess": {
    "method": "GET",
    "path": "/api/v1/identities/{id}/access",
    "summary": "An identity's effective permissions, each with the assignments (or account grants) behind it",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "space",
        "type": "string",
        "enum": [
          "assigned",
          "provisioned"
        ],
        "description": "assigned (IAM) or provisioned (IdP) space; default assigned"
      },
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getIdentitiesByIdAccessHistory": {
    "method": "GET",
    "path": "/api/v1/identities/{id}/access/history",
    "summary": "Every change of an identity's effective access in a window, with the audit events behind each",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "from",
        "type": "string",
        "description": "An instant (RFC 3339 date-time), not in the future and not before the tenant existed"
      },
      {
        "name": "to",
        "type": "string",
        "description": "An instant (RFC 3339 date-time), not in the future and not before the tenant existed"
      },
      {
        "name": "space",
        "type": "string",
        "enum": [
          "assigned",
          "provisioned"
        ],
        "description": "assigned (IAM) or provisioned (IdP) space; default assigned"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getImports": {
    "method": "GET",
    "path": "/api/v1/imports",
    "summary": "List imports, newest first",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "status",
        "type": "string",
        "enum": [
          "Pending",
          "Running",
          "Held",
          "Finished",
          "Failed",
          "Canceling",
          "Canceled"
        ]
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getImportsById": {
    "method": "GET",
    "path": "/api/v1/imports/{id}",
    "summary": "An import: status, progress, files, log, metrics",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getImportsByIdChanges": {
    "method": "GET",
    "path": "/api/v1/imports/{id}/changes",
    "summary": "The import's per-account diff",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "op",
        "type": "string",
        "enum": [
          "add",
          "remove",
          "update"
        ]
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getMe": {
    "method": "GET",
    "path": "/api/v1/me",
    "summary": "The caller: credential, identity, scopes and effective rights",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getOrgUnits": {
    "method": "GET",
    "path": "/api/v1/org-units",
    "summary": "List organization units in number order (cursor-paged)",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "parentId",
        "type": "string",
        "description": "Children of this unit"
      },
      {
        "name": "root",
        "type": "boolean",
        "description": "true: only units without a parent"
      },
      {
        "name": "q",
        "type": "string",
        "description": "Case-insensitive search in name and path"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getOrgUnitsById": {
    "method": "GET",
    "path": "/api/v1/org-units/{id}",
    "summary": "Get an organization unit (with its ETag)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getOrphans": {
    "method": "GET",
    "path": "/api/v1/orphans",
    "summary": "Accounts the last import of their application could not match (orphan) or matched to several identities (ambiguous)",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "state",
        "type": "string",
        "enum": [
          "orphan",
          "ambiguous"
        ]
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getPermissions": {
    "method": "GET",
    "path": "/api/v1/permissions",
    "summary": "List permissions of every application",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "q",
        "type": "string",
        "description": "Case-insensitive part of the name"
      },
      {
        "name": "category",
        "type": "string"
      },
      {
        "name": "applicationId",
        "type": "string",
        "description": "An application id"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getPermissionsById": {
    "method": "GET",
    "path": "/api/v1/permissions/{id}",
    "summary": "Get a permission (with its ETag)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getPermissionsByIdHolders": {
    "method": "GET",
    "path": "/api/v1/permissions/{id}/holders",
    "summary": "Every identity that holds the permission, with why (cursor-paged, ordered by identity id)",
    "pathParams": [
      "id"
    ],
    "query": [
      {
        "name": "space",
        "type": "string",
        "enum": [
          "assigned",
          "provisioned"
        ],
        "description": "assigned (IAM) or provisioned (IdP) space; default assigned"
      },
      {
        "name": "limit",
        "type": "integer"
      },
      {
        "name": "cursor",
        "type": "string"
      },
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getPersonnelEvents": {
    "method": "GET",
    "path": "/api/v1/personnel-events",
    "summary": "List personnel events in number order (cursor-paged)",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "identityId",
        "type": "string",
        "description": "Events of this identity"
      },
      {
        "name": "type",
        "type": "string",
        "enum": [
          "onboard",
          "offboard",
          "role_transition",
          "leave_of_absence"
        ]
      },
      {
        "name": "status",
        "type": "string",
        "enum": [
          "pending_approval",
          "scheduled",
          "in_progress",
          "completed",
          "canceled",
          "failed"
        ]
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getPersonnelEventsById": {
    "method": "GET",
    "path": "/api/v1/personnel-events/{id}",
    "summary": "Get a personnel event with its stages, comments, activity and the preview it was created with",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getPersonnelEventsByIdPreview": {
    "method": "GET",
    "path": "/api/v1/personnel-events/{id}/preview",
    "summary": "What the event will change",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getRoles": {
    "method": "GET",
    "path": "/api/v1/roles",
    "summary": "List roles",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "q",
        "type": "string",
        "description": "Case-insensitive part of the name"
      },
      {
        "name": "permissionId",
        "type": "string",
        "description": "Only roles that hold this permission directly"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getRolesById": {
    "method": "GET",
    "path": "/api/v1/roles/{id}",
    "summary": "Get a role (with its ETag)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getSessions": {
    "method": "GET",
    "path": "/api/v1/sessions",
    "summary": "The caller's identity's console sessions",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getSessionsCurrent": {
    "method": "GET",
    "path": "/api/v1/sessions/current",
    "summary": "The signed-in session (with its CSRF token, so a reloaded page can write again)",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getSessionsMethods": {
    "method": "GET",
    "path": "/api/v1/sessions/methods",
    "summary": "How one may sign in to the console",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getSessionsOidcCallback": {
    "method": "GET",
    "path": "/api/v1/sessions/oidc/callback",
    "summary": "Where the OIDC provider sends the browser back: sets the session cookie and redirects to returnTo",
    "pathParams": [],
    "query": [
      {
        "name": "code",
        "type": "string"
      },
      {
        "name": "state",
        "type": "string"
      },
      {
        "name": "error",
        "type": "string"
      },
      {
        "name": "error_description",
        "type": "string"
      },
      {
        "name": "session_state",
        "type": "string"
      },
      {
        "name": "iss",
        "type": "string"
      }
    ],
    "response": {
      "status": 204,
      "mediaTypes": []
    }
  },
  "getSessionsOidcStart": {
    "method": "GET",
    "path": "/api/v1/sessions/oidc/start",
    "summary": "Sign in through the configured OIDC provider: redirects to its authorization endpoint (code flow with PKCE)",
    "pathParams": [],
    "query": [
      {
        "name": "returnTo",
        "type": "string"
      }
    ],
    "response": {
      "status": 204,
      "mediaTypes": []
    }
  },
  "getSettings": {
    "method": "GET",
    "path": "/api/v1/settings",
    "summary": "The tenant's settings",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getSodPolicies": {
    "method": "GET",
    "path": "/api/v1/sod-policies",
    "summary": "List separation-of-duties policies",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "enabled",
        "type": "boolean"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ],
      "paged": true
    }
  },
  "getSodPoliciesById": {
    "method": "GET",
    "path": "/api/v1/sod-policies/{id}",
    "summary": "Get a separation-of-duties policy (with its ETag)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "getSodViolations": {
    "method": "GET",
    "path": "/api/v1/sod-violations",
    "summary": "Current separation-of-duties violations in the tenant",
    "pathParams": [],
    "query": [
      {
        "name": "limit",
        "type": "integer",
        "description": "Page size (1-500)"
      },
      {
        "name": "cursor",
        "type": "string",
        "description": "The `nextCursor` of the previous page"
      },
      {
        "name": "policyId",
        "type": "string"
      },
      {
        "name": "identityId",
        "type": "string"
      },
      {
        "name": "minRevision",
        "type": "integer"
      }
    ],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchApplicationsById": {
    "method": "PATCH",
    "path": "/api/v1/applications/{id}",
    "summary": "Change an application",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "description": "Not blank; at most 200 characters"
        },
        {
          "name": "kind",
          "type": "string",
          "enum": [
            "managed",
            "connected"
          ],
          "description": "`managed`: Grantory is its identity provider; `connected`: an external system observed by imports"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "ownerIds",
          "type": "string[]",
          "description": "Identities that own the application (at most 50)"
        },
        {
          "name": "priority",
          "type": "string",
          "enum": [
            "None",
            "Low",
            "Medium",
            "High",
            "Critical"
          ]
        },
        {
          "name": "archived",
          "type": "boolean"
        },
        {
          "name": "connector",
          "type": "json",
          "description": "Import configuration (see the imports documentation), at most 64 KiB of JSON: validated as imports read it (a 400 names each bad field) and stored normalised, with defaults and file group ids."
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchApprovalPoliciesById": {
    "method": "PATCH",
    "path": "/api/v1/approval-policies/{id}",
    "summary": "Change an approval policy",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string"
        },
        {
          "name": "appliesTo",
          "type": "json"
        },
        {
          "name": "steps",
          "type": "json"
        },
        {
          "name": "autoApprove",
          "type": "string",
          "enum": [
            "low",
            "medium",
            "high",
            "critical"
          ]
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchAssignmentRulesById": {
    "method": "PATCH",
    "path": "/api/v1/assignment-rules/{id}",
    "summary": "Change an assignment rule (re-evaluated at once)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "condition",
          "type": "json"
        },
        {
          "name": "resources",
          "type": "json"
        },
        {
          "name": "context",
          "type": "json"
        },
        {
          "name": "enabled",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchIdentitiesById": {
    "method": "PATCH",
    "path": "/api/v1/identities/{id}",
    "summary": "Change an identity (If-Match: 412 when it changed since read)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "subject",
          "type": "string",
          "description": "Unique; the prefix \"grantory:\" is reserved for generated subjects"
        },
        {
          "name": "username",
          "type": "string",
          "description": "Unique login name"
        },
        {
          "name": "email",
          "type": "string"
        },
        {
          "name": "firstName",
          "type": "string",
          "description": "Given name"
        },
        {
          "name": "lastName",
          "type": "string",
          "description": "Family name"
        },
        {
          "name": "displayName",
          "type": "string",
          "description": "Name to show"
        },
        {
          "name": "employeeNumber",
          "type": "string",
          "description": "Unique employee number from HR"
        },
        {
          "name": "type",
          "type": "string",
          "enum": [
            "employee",
            "contractor",
            "vendor",
            "partner",
            "service",
            "other"
          ],
          "description": "employee, contractor, vendor, partner, service, other"
        },
        {
          "name": "status",
          "type": "string",
          "enum": [
            "active",
            "on_leave",
            "terminated"
          ],
          "description": "active, on_leave or terminated"
        },
        {
          "name": "managerId",
          "type": "string",
          "description": "The manager (an identity of the tenant); no cycles"
        },
        {
          "name": "orgUnitId",
          "type": "string",
          "description": "The primary organization unit"
        },
        {
          "name": "attributes",
          "type": "json",
          "description": "Free text attributes (department, title, location...): at most 50, keys ^[A-Za-z][A-Za-z0-9_.-]{0,63}$, values up to 500 characters"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchOrgUnitsById": {
    "method": "PATCH",
    "path": "/api/v1/org-units/{id}",
    "summary": "Rename or move an organization unit (409 on a cycle; If-Match: 412 when it changed since read)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "description": "Unique among siblings; no \"/\""
        },
        {
          "name": "parentId",
          "type": "string",
          "description": "The parent unit; null for a root"
        },
        {
          "name": "externalId",
          "type": "string",
          "description": "Unique id in the source system (e.g. HR)"
        },
        {
          "name": "managerId",
          "type": "string",
          "description": "The unit's manager, an identity of the tenant; null for none"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchPermissionsById": {
    "method": "PATCH",
    "path": "/api/v1/permissions/{id}",
    "summary": "Change a permission",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "description": "Not blank; at most 200 characters"
        },
        {
          "name": "category",
          "type": "string"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "risk",
          "type": "string",
          "enum": [
            "low",
            "medium",
            "high",
            "critical"
          ]
        },
        {
          "name": "requestable",
          "type": "boolean"
        },
        {
          "name": "delegable",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchRolesById": {
    "method": "PATCH",
    "path": "/api/v1/roles/{id}",
    "summary": "Change a role",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "description": "Not blank; at most 200 characters"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "permissionIds",
          "type": "string[]",
          "description": "At most 1,000, each once"
        },
        {
          "name": "includedRoleIds",
          "type": "string[]",
          "description": "At most 100, each once; no cycles"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchSettings": {
    "method": "PATCH",
    "path": "/api/v1/settings",
    "summary": "Change the tenant's settings",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "timeZone",
          "type": "string",
          "description": "IANA time zone: a plain date such as 2026-03-15 is midnight here"
        },
        {
          "name": "personnelEvents",
          "type": "json"
        },
        {
          "name": "provisioning",
          "type": "json"
        },
        {
          "name": "compatibility",
          "type": "json"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "patchSodPoliciesById": {
    "method": "PATCH",
    "path": "/api/v1/sod-policies/{id}",
    "summary": "Change a separation-of-duties policy",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "conflicting",
          "type": "json",
          "description": "At least two sets of resources; holding one resource of every set (in contexts that meet) is a conflict"
        },
        {
          "name": "mode",
          "type": "string",
          "enum": [
            "block",
            "require_exception"
          ],
          "description": "`block`: a write that would create the conflict is refused (409); `require_exception`: refused unless it carries an approved exception"
        },
        {
          "name": "severity",
          "type": "string",
          "enum": [
            "low",
            "medium",
            "high",
            "critical"
          ]
        },
        {
          "name": "enabled",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessRequests": {
    "method": "POST",
    "path": "/api/v1/access-requests",
    "summary": "Request access (add, change, remove, suspend, restore)",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "action",
          "type": "string",
          "enum": [
            "add",
            "change",
            "remove",
            "suspend",
            "restore"
          ],
          "required": true
        },
        {
          "name": "targetIdentityId",
          "type": "string"
        },
        {
          "name": "targetOrgUnitId",
          "type": "string"
        },
        {
          "name": "resource",
          "type": "json"
        },
        {
          "name": "assignmentId",
          "type": "string"
        },
        {
          "name": "context",
          "type": "json"
        },
        {
          "name": "validFrom",
          "type": "string"
        },
        {
          "name": "validTo",
          "type": "string"
        },
        {
          "name": "justification",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessRequestsByIdApprove": {
    "method": "POST",
    "path": "/api/v1/access-requests/{id}/approve",
    "summary": "Approve the caller's task in the open step",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessRequestsByIdCancel": {
    "method": "POST",
    "path": "/api/v1/access-requests/{id}/cancel",
    "summary": "Cancel a pending or scheduled request",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessRequestsByIdComments": {
    "method": "POST",
    "path": "/api/v1/access-requests/{id}/comments",
    "summary": "Comment on a request",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string",
          "required": true
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessRequestsByIdReject": {
    "method": "POST",
    "path": "/api/v1/access-requests/{id}/reject",
    "summary": "Reject the request",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessReviews": {
    "method": "POST",
    "path": "/api/v1/access-reviews",
    "summary": "Create an access review campaign (a draft)",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "scope",
          "type": "json"
        },
        {
          "name": "space",
          "type": "string",
          "enum": [
            "provisioned",
            "assigned"
          ],
          "description": "`provisioned` (default): what applications really hold, drift and orphan accounts included; `assigned`: what assignments give"
        },
        {
          "name": "reviewer",
          "type": "json",
          "required": true
        },
        {
          "name": "fallbackReviewerId",
          "type": "string",
          "description": "Reviews the items whose reviewer is missing or is the identity under review; default: the caller's identity"
        },
        {
          "name": "dueAt",
          "type": "string",
          "description": "The deadline; or give dueDays (default 14) counted from the start"
        },
        {
          "name": "dueDays",
          "type": "integer"
        },
        {
          "name": "defaultDecision",
          "type": "string",
          "enum": [
            "none",
            "revoke",
            "certify"
          ],
          "description": "What open items get at the deadline (default none: they stay undecided)"
        },
        {
          "name": "reminderDays",
          "type": "json",
          "description": "Days before the due date to remind reviewers with open items (default [7, 1]); the last one also escalates to the fallback reviewer"
        },
        {
          "name": "schedule",
          "type": "string",
          "description": "Cron (UTC, 5 fields): a copy of this campaign is started on each occurrence, e.g. quarterly `0 6 1 1,4,7,10 *`"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessReviewsByIdClose": {
    "method": "POST",
    "path": "/api/v1/access-reviews/{id}/close",
    "summary": "Close an active campaign",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "applyDefaultDecision",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAccessReviewsByIdStart": {
    "method": "POST",
    "path": "/api/v1/access-reviews/{id}/start",
    "summary": "Start a campaign: snapshot its items",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApiKeys": {
    "method": "POST",
    "path": "/api/v1/api-keys",
    "summary": "Create an API key (the secret is shown once)",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "scopes",
          "type": "string[]",
          "description": "Narrow the key to these scopes (e.g. grantory:manage-users); null keeps every right of the identity"
        },
        {
          "name": "expiresAt",
          "type": "string"
        },
        {
          "name": "identityId",
          "type": "string",
          "description": "Defaults to the caller's identity; another identity needs manage-credentials-of-others"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApplications": {
    "method": "POST",
    "path": "/api/v1/applications",
    "summary": "Create an application",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true,
          "description": "Not blank; at most 200 characters"
        },
        {
          "name": "kind",
          "type": "string",
          "enum": [
            "managed",
            "connected"
          ],
          "description": "`managed`: Grantory is its identity provider; `connected`: an external system observed by imports"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "ownerIds",
          "type": "string[]",
          "description": "Identities that own the application (at most 50)"
        },
        {
          "name": "priority",
          "type": "string",
          "enum": [
            "None",
            "Low",
            "Medium",
            "High",
            "Critical"
          ]
        },
        {
          "name": "archived",
          "type": "boolean"
        },
        {
          "name": "connector",
          "type": "json",
          "description": "Import configuration (see the imports documentation), at most 64 KiB of JSON: validated as imports read it (a 400 names each bad field) and stored normalised, with defaults and file group ids."
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApplicationsByIdKeys": {
    "method": "POST",
    "path": "/api/v1/applications/{id}/keys",
    "summary": "Create an application key (the secret is shown once); it reads its application's permissions",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "scopes",
          "type": "string[]",
          "description": "Narrow the key further (e.g. add email to see e-mail addresses where a profile offers them); null: not narrowed"
        },
        {
          "name": "expiresAt",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApplicationsByIdPermissions": {
    "method": "POST",
    "path": "/api/v1/applications/{id}/permissions",
    "summary": "Add a permission to an application's catalog",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true,
          "description": "Not blank; at most 200 characters"
        },
        {
          "name": "category",
          "type": "string"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "risk",
          "type": "string",
          "enum": [
            "low",
            "medium",
            "high",
            "critical"
          ]
        },
        {
          "name": "requestable",
          "type": "boolean"
        },
        {
          "name": "delegable",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApprovalPolicies": {
    "method": "POST",
    "path": "/api/v1/approval-policies",
    "summary": "Create an approval policy",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "appliesTo",
          "type": "json"
        },
        {
          "name": "steps",
          "type": "json",
          "required": true
        },
        {
          "name": "autoApprove",
          "type": "string",
          "enum": [
            "low",
            "medium",
            "high",
            "critical"
          ],
          "description": "Items at or below this risk are approved at once"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApprovalsByIdApprove": {
    "method": "POST",
    "path": "/api/v1/approvals/{id}/approve",
    "summary": "Approve one of the caller's tasks",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postApprovalsByIdReject": {
    "method": "POST",
    "path": "/api/v1/approvals/{id}/reject",
    "summary": "Reject one of the caller's tasks",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAssignmentRules": {
    "method": "POST",
    "path": "/api/v1/assignment-rules",
    "summary": "Create an assignment rule (applied at once to matching identities)",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "condition",
          "type": "json",
          "required": true
        },
        {
          "name": "resources",
          "type": "json",
          "required": true
        },
        {
          "name": "context",
          "type": "json"
        },
        {
          "name": "enabled",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAssignments": {
    "method": "POST",
    "path": "/api/v1/assignments",
    "summary": "Assign a permission or role to an identity or organization unit",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "assignee",
          "type": "json",
          "required": true
        },
        {
          "name": "resource",
          "type": "json",
          "required": true
        },
        {
          "name": "context",
          "type": "json"
        },
        {
          "name": "source",
          "type": "string",
          "enum": [
            "direct",
            "request"
          ]
        },
        {
          "name": "validFrom",
          "type": "string"
        },
        {
          "name": "validTo",
          "type": "string"
        },
        {
          "name": "reason",
          "type": "string"
        },
        {
          "name": "sodException",
          "type": "json",
          "description": "An approved exception for the require_exception policies this write would break (the caller needs approve-requests)"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAssignmentsByIdDelegate": {
    "method": "POST",
    "path": "/api/v1/assignments/{id}/delegate",
    "summary": "Delegate what this assignment gives the caller's identity to another identity",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "assigneeId",
          "type": "string",
          "required": true
        },
        {
          "name": "resource",
          "type": "json"
        },
        {
          "name": "context",
          "type": "json"
        },
        {
          "name": "validFrom",
          "type": "string"
        },
        {
          "name": "validTo",
          "type": "string"
        },
        {
          "name": "reason",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAssignmentsByIdPause": {
    "method": "POST",
    "path": "/api/v1/assignments/{id}/pause",
    "summary": "Pause an assignment (manage-users, or the delegator of a delegation)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "reason",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAssignmentsByIdResume": {
    "method": "POST",
    "path": "/api/v1/assignments/{id}/resume",
    "summary": "Resume an assignment (manage-users, or the delegator of a delegation)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "reason",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAssignmentsByIdRevoke": {
    "method": "POST",
    "path": "/api/v1/assignments/{id}/revoke",
    "summary": "Revoke an assignment (manage-users, or the delegator of a delegation)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "reason",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postAuditCheckpoints": {
    "method": "POST",
    "path": "/api/v1/audit-checkpoints",
    "summary": "Sign and keep a checkpoint of the chain's head now",
    "pathParams": [],
    "query": [],
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postCheck": {
    "method": "POST",
    "path": "/api/v1/check",
    "summary": "Does the identity hold the permission (in the context)?",
    "pathParams": [],
    "query": [
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      }
    ],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "identity",
          "type": "string",
          "required": true,
          "description": "Identity id or subject"
        },
        {
          "name": "application",
          "type": "string",
          "description": "Application id or name (needed when permission is a name)"
        },
        {
          "name": "permission",
          "type": "string",
          "required": true,
          "description": "Permission id, or name within the application"
        },
        {
          "name": "context",
          "type": "json"
        },
        {
          "name": "space",
          "type": "string",
          "enum": [
            "assigned",
            "provisioned"
          ],
          "description": "assigned (IAM) or provisioned (IdP) space; default assigned"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postCheckBatch": {
    "method": "POST",
    "path": "/api/v1/check/batch",
    "summary": "Up to 1,000 checks in one call, answered at one revision",
    "pathParams": [],
    "query": [
      {
        "name": "minRevision",
        "type": "integer",
        "description": "Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422"
      }
    ],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "checks",
          "type": "json",
          "required": true
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postClients": {
    "method": "POST",
    "path": "/api/v1/clients",
    "summary": "Create an OAuth 2.0 client (the secret is shown once)",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "scopes",
          "type": "string[]",
          "description": "Scopes the client may ask for (grantory:*, grantory:<right>, or a vendor scope such as cos_auth_api); default grantory:*"
        },
        {
          "name": "applicationId",
          "type": "string",
          "description": "The application that \"my application\" reads mean"
        },
        {
          "name": "identityId",
          "type": "string",
          "description": "Whose rights the client uses; another identity than the caller's needs manage-credentials-of-others. Default: none when applicationId is given (the client acts as no identity, with read-permissions-my-application), else the caller's identity"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postEventSinks": {
    "method": "POST",
    "path": "/api/v1/event-sinks",
    "summary": "Configure a sink that receives every audit event (a webhook secret is shown once)",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "type",
          "type": "string",
          "enum": [
            "webhook",
            "syslog"
          ],
          "required": true
        },
        {
          "name": "format",
          "type": "string",
          "enum": [
            "grantory",
            "ocsf"
          ],
          "description": "grantory: the audit event as in GET /audit-events; ocsf: an OCSF 1.3 event (docs/siem.md)"
        },
        {
          "name": "webhook",
          "type": "json"
        },
        {
          "name": "syslog",
          "type": "json"
        },
        {
          "name": "startAt",
          "type": "string",
          "enum": [
            "now",
            "beginning"
          ],
          "description": "now (default): events from now on; beginning: the whole trail"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postEventSinksByIdRetry": {
    "method": "POST",
    "path": "/api/v1/event-sinks/{id}/retry",
    "summary": "Resume a suspended or retrying sink now and re-queue its dead letters",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postIdentities": {
    "method": "POST",
    "path": "/api/v1/identities",
    "summary": "Create an identity",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "subject",
          "type": "string",
          "description": "Unique; the prefix \"grantory:\" is reserved for generated subjects"
        },
        {
          "name": "username",
          "type": "string",
          "description": "Unique login name"
        },
        {
          "name": "email",
          "type": "string"
        },
        {
          "name": "firstName",
          "type": "string",
          "description": "Given name"
        },
        {
          "name": "lastName",
          "type": "string",
          "description": "Family name"
        },
        {
          "name": "displayName",
          "type": "string",
          "description": "Name to show"
        },
        {
          "name": "employeeNumber",
          "type": "string",
          "description": "Unique employee number from HR"
        },
        {
          "name": "type",
          "type": "string",
          "enum": [
            "employee",
            "contractor",
            "vendor",
            "partner",
            "service",
            "other"
          ],
          "description": "employee, contractor, vendor, partner, service, other"
        },
        {
          "name": "status",
          "type": "string",
          "enum": [
            "active",
            "on_leave",
            "terminated"
          ],
          "description": "active, on_leave or terminated"
        },
        {
          "name": "managerId",
          "type": "string",
          "description": "The manager (an identity of the tenant); no cycles"
        },
        {
          "name": "orgUnitId",
          "type": "string",
          "description": "The primary organization unit"
        },
        {
          "name": "attributes",
          "type": "json",
          "description": "Free text attributes (department, title, location...): at most 50, keys ^[A-Za-z][A-Za-z0-9_.-]{0,63}$, values up to 500 characters"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postImportsByIdApprove": {
    "method": "POST",
    "path": "/api/v1/imports/{id}/approve",
    "summary": "Approve a held import: its reviewed diff is applied",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "note",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postImportsByIdCancel": {
    "method": "POST",
    "path": "/api/v1/imports/{id}/cancel",
    "summary": "Cancel a Pending, Running or Held import (409 otherwise)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postImportsByIdReject": {
    "method": "POST",
    "path": "/api/v1/imports/{id}/reject",
    "summary": "Reject a held import: nothing of it is applied",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "reason",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postImportsDryRun": {
    "method": "POST",
    "path": "/api/v1/imports/dry-run",
    "summary": "Stage a dry run: the full result (metrics, diff) with nothing applied",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "applicationId",
          "type": "string",
          "required": true
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postImportsStage": {
    "method": "POST",
    "path": "/api/v1/imports/stage",
    "summary": "Stage an import from the application's folder of the import directory",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "applicationId",
          "type": "string",
          "required": true
        },
        {
          "name": "dryRun",
          "type": "boolean",
          "description": "Compute the full result, apply nothing"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postImportsUpload": {
    "method": "POST",
    "path": "/api/v1/imports/upload",
    "summary": "Upload an import: multipart/form-data with applicationId and one file part per file group, named by its id",
    "pathParams": [],
    "query": [
      {
        "name": "applicationId",
        "type": "string"
      },
      {
        "name": "dryRun",
        "type": "boolean"
      }
    ],
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postOrgUnits": {
    "method": "POST",
    "path": "/api/v1/org-units",
    "summary": "Create an organization unit",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true,
          "description": "Unique among siblings; no \"/\""
        },
        {
          "name": "parentId",
          "type": "string",
          "description": "The parent unit; null for a root"
        },
        {
          "name": "externalId",
          "type": "string",
          "description": "Unique id in the source system (e.g. HR)"
        },
        {
          "name": "managerId",
          "type": "string",
          "description": "The unit's manager, an identity of the tenant; null for none"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postPersonnelEventsByIdCancel": {
    "method": "POST",
    "path": "/api/v1/personnel-events/{id}/cancel",
    "summary": "Cancel a personnel event before its effective date",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string",
          "description": "Shown in the activity log"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postPersonnelEventsByIdComments": {
    "method": "POST",
    "path": "/api/v1/personnel-events/{id}/comments",
    "summary": "Comment on a personnel event",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "comment",
          "type": "string",
          "required": true,
          "description": "The comment"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postPersonnelEventsLeaveOfAbsence": {
    "method": "POST",
    "path": "/api/v1/personnel-events/leave-of-absence",
    "summary": "Create a leave of absence event",
    "pathParams": [],
    "query": [
      {
        "name": "dryRun",
        "type": "boolean",
        "description": "true: validate and return the preview; nothing is written"
      }
    ],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "identityId",
          "type": "string",
          "required": true,
          "description": "Who goes on leave"
        },
        {
          "name": "effectiveDate",
          "type": "string",
          "required": true,
          "description": "When the event takes effect: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time"
        },
        {
          "name": "endDate",
          "type": "string",
          "description": "The expected return: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time"
        },
        {
          "name": "comment",
          "type": "string",
          "description": "Shown in the activity log"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postPersonnelEventsOffboard": {
    "method": "POST",
    "path": "/api/v1/personnel-events/offboard",
    "summary": "Create a offboard event",
    "pathParams": [],
    "query": [
      {
        "name": "dryRun",
        "type": "boolean",
        "description": "true: validate and return the preview; nothing is written"
      }
    ],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "identityId",
          "type": "string",
          "required": true,
          "description": "The leaver"
        },
        {
          "name": "effectiveDate",
          "type": "string",
          "required": true,
          "description": "When the event takes effect: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time"
        },
        {
          "name": "comment",
          "type": "string",
          "description": "Shown in the activity log"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postPersonnelEventsOnboard": {
    "method": "POST",
    "path": "/api/v1/personnel-events/onboard",
    "summary": "Create a onboard event",
    "pathParams": [],
    "query": [
      {
        "name": "dryRun",
        "type": "boolean",
        "description": "true: validate and return the preview; nothing is written"
      }
    ],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "identity",
          "type": "json",
          "required": true,
          "description": "The joiner"
        },
        {
          "name": "effectiveDate",
          "type": "string",
          "required": true,
          "description": "When the event takes effect: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time"
        },
        {
          "name": "comment",
          "type": "string",
          "description": "Shown in the activity log"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postPersonnelEventsRoleTransition": {
    "method": "POST",
    "path": "/api/v1/personnel-events/role-transition",
    "summary": "Create a role transition event",
    "pathParams": [],
    "query": [
      {
        "name": "dryRun",
        "type": "boolean",
        "description": "true: validate and return the preview; nothing is written"
      }
    ],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "identityId",
          "type": "string",
          "required": true,
          "description": "The mover"
        },
        {
          "name": "effectiveDate",
          "type": "string",
          "required": true,
          "description": "When the event takes effect: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time"
        },
        {
          "name": "endDate",
          "type": "string",
          "description": "End of the review period of access the move no longer justifies: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time"
        },
        {
          "name": "changes",
          "type": "json",
          "required": true,
          "description": "The identity fields that change (at least one)"
        },
        {
          "name": "comment",
          "type": "string",
          "description": "Shown in the activity log"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postReviewItemsByIdDecide": {
    "method": "POST",
    "path": "/api/v1/review-items/{id}/decide",
    "summary": "Decide a review item: certify, revoke or modify",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "decision",
          "type": "string",
          "enum": [
            "certify",
            "revoke",
            "modify"
          ],
          "required": true
        },
        {
          "name": "comment",
          "type": "string"
        },
        {
          "name": "validTo",
          "type": "string",
          "description": "With modify: the new end of validity"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postReviewItemsByIdDelegate": {
    "method": "POST",
    "path": "/api/v1/review-items/{id}/delegate",
    "summary": "Hand a review item to another reviewer",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "to",
          "type": "string",
          "required": true
        },
        {
          "name": "comment",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postReviewItemsDecisions": {
    "method": "POST",
    "path": "/api/v1/review-items/decisions",
    "summary": "Decide many review items at once",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "itemIds",
          "type": "string[]",
          "required": true
        },
        {
          "name": "decision",
          "type": "string",
          "enum": [
            "certify",
            "revoke",
            "modify"
          ],
          "required": true
        },
        {
          "name": "comment",
          "type": "string"
        },
        {
          "name": "validTo",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postRoles": {
    "method": "POST",
    "path": "/api/v1/roles",
    "summary": "Create a role",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true,
          "description": "Not blank; at most 200 characters"
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "permissionIds",
          "type": "string[]",
          "description": "At most 1,000, each once"
        },
        {
          "name": "includedRoleIds",
          "type": "string[]",
          "description": "At most 100, each once; no cycles"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postSessions": {
    "method": "POST",
    "path": "/api/v1/sessions",
    "summary": "Sign in: exchange an API key or a username and password for a session cookie",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "postSodPolicies": {
    "method": "POST",
    "path": "/api/v1/sod-policies",
    "summary": "Create a separation-of-duties policy",
    "pathParams": [],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "name",
          "type": "string",
          "required": true
        },
        {
          "name": "description",
          "type": "string"
        },
        {
          "name": "conflicting",
          "type": "json",
          "required": true,
          "description": "At least two sets of resources; holding one resource of every set (in contexts that meet) is a conflict"
        },
        {
          "name": "mode",
          "type": "string",
          "enum": [
            "block",
            "require_exception"
          ],
          "description": "`block`: a write that would create the conflict is refused (409); `require_exception`: refused unless it carries an approved exception"
        },
        {
          "name": "severity",
          "type": "string",
          "enum": [
            "low",
            "medium",
            "high",
            "critical"
          ]
        },
        {
          "name": "enabled",
          "type": "boolean"
        }
      ],
      "required": true
    },
    "response": {
      "status": 201,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "putApplicationsByIdAccountResolutionsByAccountName": {
    "method": "PUT",
    "path": "/api/v1/applications/{id}/account-resolutions/{accountName}",
    "summary": "Resolve an orphan or ambiguous account: link it to an identity, or mark it service or ignored (kept across imports)",
    "pathParams": [
      "id",
      "accountName"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "resolution",
          "type": "string",
          "enum": [
            "linked",
            "service",
            "ignored"
          ],
          "required": true
        },
        {
          "name": "identityId",
          "type": "string"
        },
        {
          "name": "note",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "putApplicationsByIdAccountsByAccountName": {
    "method": "PUT",
    "path": "/api/v1/applications/{id}/accounts/{accountName}",
    "summary": "Record an account of a connected application and the grants it holds (replaces the account's grants)",
    "pathParams": [
      "id",
      "accountName"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "identityId",
          "type": "string",
          "description": "The identity the account belongs to; null for an orphan"
        },
        {
          "name": "status",
          "type": "string",
          "enum": [
            "active",
            "disabled"
          ]
        },
        {
          "name": "grants",
          "type": "json",
          "required": true
        },
        {
          "name": "importId",
          "type": "string"
        },
        {
          "name": "observedAt",
          "type": "string"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "putApplicationsByIdConnector": {
    "method": "PUT",
    "path": "/api/v1/applications/{id}/connector",
    "summary": "Set the connector configuration (file groups get GUID ids when they have none)",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "type",
          "type": "string",
          "enum": [
            "file"
          ],
          "required": true
        },
        {
          "name": "directory",
          "type": "string",
          "description": "Folder inside GRANTORY_IMPORT_DIR; defaults to the application's id"
        },
        {
          "name": "fileGroups",
          "type": "json",
          "required": true
        },
        {
          "name": "matching",
          "type": "json",
          "description": "Ordered matching rules"
        },
        {
          "name": "unknownPermissions",
          "type": "string",
          "enum": [
            "create",
            "report"
          ]
        },
        {
          "name": "disabledStatuses",
          "type": "string[]",
          "description": "accountStatus values that mean disabled (case-insensitive)"
        },
        {
          "name": "thresholds",
          "type": "json"
        },
        {
          "name": "maxBadRows",
          "type": "integer",
          "description": "Bad rows tolerated before the import fails"
        },
        {
          "name": "schedule",
          "type": "string",
          "description": "Five-field cron, UTC"
        }
      ],
      "required": true
    },
    "response": {
      "status": 200,
      "mediaTypes": [
        "application/json"
      ]
    }
  },
  "putIdentitiesByIdPassword": {
    "method": "PUT",
    "path": "/api/v1/identities/{id}/password",
    "summary": "Set the identity's local password (argon2id); ends the sessions opened with the old one",
    "pathParams": [
      "id"
    ],
    "query": [],
    "body": {
      "contentType": "application/json",
      "fields": [
        {
          "name": "password",
          "type": "string",
          "required": true
        }
      ],
      "required": true
    },
    "response": {
      "status": 204,
      "mediaTypes": []
    }
  }
} as const satisfies Record<string, OperationSpec>;

export type OperationId = keyof typeof OPERATIONS;
