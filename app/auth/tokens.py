"""Who is calling: owners (Supabase JWTs), widget visitors (askbase tokens), or nobody.

Owner tokens are Supabase access tokens: HS256 with the project JWT secret, or ES256/RS256
through the project's JWKS. Visitor tokens are minted by `startSession`, signed with a key
of their own and a distinct audience, so one can never be taken for the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from askbase.app.core.errors import Unauthenticated
from askbase.app.core.settings import Settings

VISITOR_AUDIENCE = "askbase-visitor"
ISSUER = "askbase"
TOKEN_LEEWAY_SECONDS = 10  # clock skew allowed between a token's issuer and us
_ASYMMETRIC = ("ES256", "RS256")


@dataclass(frozen=True, slots=True)
class Owner:
    user_id: uuid.UUID
    claims: dict[str, Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Visitor:
    visitor_id: uuid.UUID
    website_id: uuid.UUID
    claims: dict[str, Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Anonymous:
    pass


Principal = Owner | Visitor | Anonymous


def db_role(principal: Principal) -> tuple[str, dict[str, Any]]:
    """The Supabase role and JWT claims that row-level security sees for `principal`."""
    match principal:
        case Owner(user_id=uid):
            return "authenticated", {"sub": str(uid), "role": "authenticated"}
        case Visitor(visitor_id=vid, website_id=wid):
            return "anon", {"sub": str(vid), "role": "anon", "website_id": str(wid)}
        case _:
            return "anon", {"role": "anon"}


@dataclass(frozen=True, slots=True)
class Keys:
    # Secrets stay out of reprs, so a logged object never carries them.
    owner_secret: bytes | None = field(repr=False)  # HS256 key for owner tokens
    visitor_secret: bytes = field(repr=False)
    jwks_url: str | None = None
    owner_issuer: str | None = None  # the `iss` owner tokens must carry, when pinned
    jwks_cache_seconds: float = 300

    @property
    def download_secret(self) -> bytes:
        """Signs download links: a key of their own, derived from the visitor key, so a
        link's signature is never a valid token signature and the other way round."""
        return hmac.new(self.visitor_secret, b"askbase download links", hashlib.sha256).digest()

    @property
    def client_secret(self) -> bytes:
        """Keys the hashes of client addresses (auth/clients.py `client_digest`): derived
        from the visitor key like the download key, so every instance hashes alike."""
        return hmac.new(self.visitor_secret, b"askbase client addresses", hashlib.sha256).digest()


def local_secret(data_dir: Path) -> bytes:
    """The embedded mode's signing secret, created once in the data dir (mode 0600)."""
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        # Private from its creation: never readable by others, not even for a moment.
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        tmp.replace(path)
    return path.read_text().strip().encode()


def load_keys(settings: Settings) -> Keys:
    owner: bytes | None
    if settings.supabase_jwt_secret is not None:
        owner = settings.supabase_jwt_secret.get_secret_value().encode()
    elif settings.embedded:
        owner = local_secret(settings.data_dir)
    else:
        owner = None
    if settings.session_secret is not None:
        visitor = settings.session_secret.get_secret_value().encode()
    else:
        assert owner is not None, "settings validation guarantees one secret"
        visitor = hmac.new(owner, b"askbase visitor tokens", hashlib.sha256).digest()
    return Keys(
        owner_secret=owner,
        visitor_secret=visitor,
        jwks_url=settings.supabase_jwks_url,
        owner_issuer=settings.owner_issuer,
        jwks_cache_seconds=settings.jwks_cache_seconds,
    )


def mint_owner_token(secret: bytes, user_id: uuid.UUID, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_visitor_token(
    keys: Keys, website_id: uuid.UUID, visitor_id: uuid.UUID, ttl_seconds: int
) -> tuple[str, datetime]:
    now = int(time.time())
    exp = now + ttl_seconds
    claims = {
        "sub": str(visitor_id),
        "website_id": str(website_id),
        "role": "anon",
        "aud": VISITOR_AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": exp,
    }
    token = jwt.encode(claims, keys.visitor_secret, algorithm="HS256")
    return token, datetime.fromtimestamp(exp, tz=UTC)


class JwksKeys(jwt.PyJWKClient):
    """The project's signing keys from its JWKS URL, trusted for `ttl_seconds`.

    PyJWT's own per-kid cache would keep a key forever, revoked or not: here keys live
    only as long as the fetched set. A `kid` that is not in the set fetches it again at
    most every REFETCH_SECONDS, so forged key ids cannot turn requests into fetches.
    """

    REFETCH_SECONDS = 30.0

    def __init__(self, url: str, ttl_seconds: float) -> None:
        super().__init__(url, cache_keys=False, cache_jwk_set=True, lifespan=ttl_seconds, timeout=5)
        self._refetched = -self.REFETCH_SECONDS

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        key = self.match_kid(self.get_signing_keys(), kid)
        if key is None and time.monotonic() - self._refetched >= self.REFETCH_SECONDS:
            self._refetched = time.monotonic()
            key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None:
            raise jwt.PyJWKClientError(f"no signing key with kid {kid!r}")
        return key


class TokenVerifier:
    def __init__(self, keys: Keys, audience: str) -> None:
        self.keys = keys
        self.audience = audience
        self._jwks = JwksKeys(keys.jwks_url, keys.jwks_cache_seconds) if keys.jwks_url else None

    async def principal_from_header(self, authorization: str | None) -> Principal:
        if not authorization:
            return Anonymous()
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <token>'.")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Owner | Visitor:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("Malformed token.") from None
        alg = header.get("alg")
        try:
            if alg == "HS256" and unverified.get("aud") == VISITOR_AUDIENCE:
                return self._visitor(token)
            if alg == "HS256" and self.keys.owner_secret is not None:
                return _owner(self._decode(token, self.keys.owner_secret, ["HS256"]))
            if alg in _ASYMMETRIC and self._jwks is not None:
                key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                if key.algorithm_name not in _ASYMMETRIC:
                    raise Unauthenticated("Token algorithm is not accepted.")
                return _owner(self._decode(token, key.key, [key.algorithm_name]))
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Token has expired.") from None
        except jwt.PyJWKClientError:
            raise Unauthenticated("Token signing key is unknown.") from None
        except jwt.PyJWTError:
            raise Unauthenticated("Invalid token.") from None
        raise Unauthenticated("Token algorithm is not accepted.")

    def _decode(self, token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=self.audience,
            issuer=self.keys.owner_issuer,
            leeway=TOKEN_LEEWAY_SECONDS,
            options={
                "require": ["exp", "sub", "aud", *(["iss"] if self.keys.owner_issuer else [])]
            },
        )
        return claims

    def _visitor(self, token: str) -> Visitor:
        claims: dict[str, Any] = jwt.decode(
            token,
            self.keys.visitor_secret,
            algorithms=["HS256"],
            audience=VISITOR_AUDIENCE,
            issuer=ISSUER,
            leeway=TOKEN_LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "aud", "website_id"]},
        )
        try:
            return Visitor(
                visitor_id=uuid.UUID(claims["sub"]),
                website_id=uuid.UUID(claims["website_id"]),
                claims=claims,
            )
        except (ValueError, TypeError, AttributeError):
            raise Unauthenticated("Invalid token.") from None


def _owner(claims: dict[str, Any]) -> Owner:
    if claims.get("role", "authenticated") != "authenticated":
        raise Unauthenticated("Only user tokens (role authenticated) are accepted.")
    try:
        return Owner(user_id=uuid.UUID(str(claims["sub"])), claims=claims)
    except ValueError:
        raise Unauthenticated("Token subject must be a user id.") from None


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Whether a visitor call from `origin` may reach a website allowing `allowed`.

    A call without an Origin header (a server-side caller) passes only with "*".
    """
    if "*" in allowed:
        return True
    if not origin:
        return False
    return normalize_origin(origin) in {normalize_origin(a) for a in allowed}
