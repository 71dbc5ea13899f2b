"""The audit trail: every change, login, import and download, recorded."""
