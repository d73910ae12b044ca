"""Every way a token can be wrong gets UNAUTHENTICATED (or FORBIDDEN), never INTERNAL."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import JWT_SECRET, ORIGIN, Api, owner_token, visitor_session

WEBSITES = "{ websites { id } }"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_no_token_is_unauthenticated(api: Api) -> None:
    error = await api.error(WEBSITES)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("wrong secret", lambda: owner_token(secret="not-the-secret-" * 3)),
        ("expired", lambda: owner_token(ttl=-3600)),
        ("wrong audience", lambda: owner_token(aud="somebody-else")),
        ("service role", lambda: owner_token(role="service_role")),
        ("subject not a uuid", lambda: owner_token(sub="admin")),
        (
            "alg none",
            lambda: (
                f"{b64({'alg': 'none', 'typ': 'JWT'})}."
                f"{b64({'sub': str(uuid.uuid4()), 'aud': 'authenticated', 'exp': time.time() + 60})}."
            ),
        ),
        (
            "no exp",
            lambda: jwt.encode(
                {"sub": str(uuid.uuid4()), "aud": "authenticated"}, JWT_SECRET, algorithm="HS256"
            ),
        ),
        (
            "HS512 with the right secret",
            lambda: jwt.encode(
                {"sub": str(uuid.uuid4()), "aud": "authenticated", "exp": time.time() + 60},
                JWT_SECRET,
                algorithm="HS512",
            ),
        ),
        ("garbage", lambda: "not.a.jwt"),
        ("a key without a signature", lambda: owner_token().rsplit(".", 1)[0] + "."),
    ],
)
async def test_bad_owner_tokens_are_refused(api: Api, name: str, make: Callable[[], str]) -> None:
    error = await api.error(WEBSITES, headers={"authorization": f"Bearer {make()}"})
    assert error["extensions"]["code"] == "UNAUTHENTICATED", name
    assert "Internal" not in error["message"]


async def test_a_non_bearer_scheme_is_refused(api: Api) -> None:
    error = await api.error(WEBSITES, headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_valid_supabase_token_is_accepted(api: Api) -> None:
    assert await api.data(WEBSITES, token=owner_token()) == {"websites": []}


async def test_a_visitor_token_cannot_act_as_owner(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    error = await api.error(WEBSITES, token=session["token"], origin=ORIGIN)
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_tampered_visitor_token_is_refused(api: Api, tenant_factory: Any) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    session = await visitor_session(api, site_a.website_id)
    header, payload, signature = session["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["website_id"] = site_b.website_id
    forged = f"{header}.{b64(claims)}.{signature}"
    error = await api.error(
        "query($id: ID!) { website(id: $id) { id } }",
        {"id": site_b.website_id},
        token=forged,
        origin=ORIGIN,
    )
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_visitor_token_signed_with_the_owner_secret_is_refused(
    api: Api, tenant: Any
) -> None:
    """Visitor tokens use a key of their own: the Supabase secret cannot mint them."""
    claims = {
        "sub": str(uuid.uuid4()),
        "website_id": tenant.website_id,
        "aud": "askbase-visitor",
        "iss": "askbase",
        "exp": time.time() + 60,
    }
    token = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    error = await api.error(
        '{ chats(websiteId: "%s") { nodes { id } } }' % tenant.website_id,
        token=token,
        origin=ORIGIN,
    )
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"
    fetches = 0

    def do_GET(self) -> None:
        type(self).fetches += 1
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def public_jwk(key: Any, alg: str, kid: str) -> dict[str, Any]:
    algo = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algo.to_jwk(key.public_key()))  # type: ignore[attr-defined]
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
def jwks_handler() -> Iterator[tuple[str, type[_Jwks]]]:
    """A real JWKS endpoint on 127.0.0.1; set `handler.body` to change what it serves."""
    handler = type("Handler", (_Jwks,), {"body": b'{"keys": []}', "fetches": 0})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks.json", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def jwks_server(jwks_handler: tuple[str, type[_Jwks]]) -> tuple[str, Any, Any]:
    """The JWKS serving one EC and one RSA public key."""
    url, handler = jwks_handler
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = [public_jwk(ec_key, "ES256", "ec-1"), public_jwk(rsa_key, "RS256", "rsa-1")]
    handler.body = json.dumps({"keys": keys}).encode()
    return url, ec_key, rsa_key


def asymmetric_token(key: Any, alg: str, kid: str, **claims: Any) -> str:
    payload = {
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "exp": int(time.time()) + 600,
        **claims,
    }
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


async def test_jwks_tokens_are_verified_with_the_projects_keys(
    start_api: Any, jwks_server: tuple[str, Any, Any]
) -> None:
    url, ec_key, rsa_key = jwks_server
    async with start_api(SUPABASE_JWKS_URL=url) as api:
        for key, alg, kid in ((ec_key, "ES256", "ec-1"), (rsa_key, "RS256", "rsa-1")):
            assert await api.data(WEBSITES, token=asymmetric_token(key, alg, kid)) == {
                "websites": []
            }
        stranger = ec.generate_private_key(ec.SECP256R1())
        refused = [
            asymmetric_token(stranger, "ES256", "ec-1"),  # right kid, wrong key
            asymmetric_token(ec_key, "ES256", "unknown-kid"),
            asymmetric_token(ec_key, "ES256", "ec-1", exp=int(time.time()) - 600),
            asymmetric_token(rsa_key, "RS256", "rsa-1", aud="other"),
        ]
        for token in refused:
            error = await api.error(WEBSITES, token=token)
            assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_key_removed_from_the_jwks_is_refused_once_the_set_expires(
    start_api: Any, jwks_handler: tuple[str, type[_Jwks]]
) -> None:
    """A revoked signing key stays trusted no longer than JWKS_CACHE_SECONDS, and forged
    key ids do not turn requests into fetches of the set."""
    url, handler = jwks_handler
    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    handler.body = json.dumps({"keys": [public_jwk(old, "ES256", "old")]}).encode()
    async with start_api(SUPABASE_JWKS_URL=url, JWKS_CACHE_SECONDS=1) as api:
        assert await api.data(WEBSITES, token=asymmetric_token(old, "ES256", "old"))
        handler.body = json.dumps({"keys": [public_jwk(new, "ES256", "new")]}).encode()
        await asyncio.sleep(1.5)
        error = await api.error(WEBSITES, token=asymmetric_token(old, "ES256", "old"))
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert await api.data(WEBSITES, token=asymmetric_token(new, "ES256", "new"))
        fetched = handler.fetches
        for i in range(5):
            forged = asymmetric_token(new, "ES256", f"forged-{i}")
            error = await api.error(WEBSITES, token=forged)
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert handler.fetches - fetched <= 1


async def test_the_owner_issuer_is_pinned(start_api: Any) -> None:
    issuer = "https://project.supabase.co/auth/v1"
    async with start_api(JWT_ISSUER=issuer) as api:
        assert await api.data(WEBSITES, token=owner_token(iss=issuer)) == {"websites": []}
        for token in (owner_token(iss="https://other.supabase.co/auth/v1"), owner_token()):
            error = await api.error(WEBSITES, token=token)
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
