"""Labels this app adds to the audit log's filter."""

from tenancy.audit import describe_actions

describe_actions({"document.frozen": "Document version frozen"})
