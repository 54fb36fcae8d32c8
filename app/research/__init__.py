"""Research data: the export bundle, anonymisation (pseudonyms, suppression, redaction), retention and
the audit log."""
