"""Secrets for e-mailed links: 256 bits each (`secrets.token_urlsafe(32)`); only the SHA-256
is stored, so a database copy opens no link."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_MAX_LENGTH = 100  # a real token is 43 characters; anything much longer is not one


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh secret for a link and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)
