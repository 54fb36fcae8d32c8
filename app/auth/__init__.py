"""Accounts, roles, password hashing, login cookies with CSRF, and bearer tokens."""
