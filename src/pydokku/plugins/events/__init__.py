"""The events plugin: the audit trail of commands that changed state (pydokku.audit writes it)."""
