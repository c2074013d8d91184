"""A fake of Google's OAuth 2.0 / OpenID Connect endpoints, as allauth's Google provider uses them.

Authorization (auto-consents as the identity the test chose), the token endpoint (checks
the client credentials, the code, the redirect URI and the PKCE verifier, and returns an
RS256-signed ID token), userinfo and the signing certificates.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.http import FakeHTTPServer, FakeRequest, FakeResponse


@dataclass
class GoogleIdentity:
    sub: str
    email: str
    name: str = "Grace Google"
    email_verified: bool = True


@dataclass
class _Grant:
    identity: GoogleIdentity
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    nonce: str | None


@dataclass
class FakeGoogle:
    client_id: str
    client_secret: str
    port: int
    identity: GoogleIdentity = field(
        default_factory=lambda: GoogleIdentity(sub="1001", email="grace@gmail.example")
    )

    def __post_init__(self) -> None:
        self.server = FakeHTTPServer(port=self.port)
        self.issuer = self.server.base_url
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.grants: dict[str, _Grant] = {}
        self.access_tokens: dict[str, GoogleIdentity] = {}
        self.server.routes.update(
            {
                ("GET", "/o/oauth2/v2/auth"): self.authorize,
                ("POST", "/token"): self.token,
                ("GET", "/oauth2/v2/userinfo"): self.userinfo,
            }
        )

    def start(self) -> FakeGoogle:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def authorize(self, request: FakeRequest) -> FakeResponse:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return FakeResponse(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self.grants[code] = _Grant(
            identity=self.identity,
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            code_challenge=q.get("code_challenge"),
            nonce=q.get("nonce"),
        )
        location = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
        return FakeResponse(302, headers={"Location": location})

    def token(self, request: FakeRequest) -> FakeResponse:
        form = request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return FakeResponse(401, {"error": "invalid_client"})
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return FakeResponse(400, {"error": "invalid_grant"})
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.code_challenge:
                return FakeResponse(400, {"error": "invalid_grant", "error_description": "PKCE"})
        access_token = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[access_token] = grant.identity
        return FakeResponse(
            200,
            {
                "access_token": access_token,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "openid email profile",
                "id_token": self.id_token(grant.identity, grant.nonce),
            },
        )

    def userinfo(self, request: FakeRequest) -> FakeResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        identity = self.access_tokens.get(token)
        if identity is None:
            return FakeResponse(401, {"error": "invalid_token"})
        return FakeResponse(200, self._claims(identity))

    def _claims(self, identity: GoogleIdentity) -> dict[str, object]:
        first, _, last = identity.name.partition(" ")
        return {
            "sub": identity.sub,
            "id": identity.sub,
            "email": identity.email,
            "email_verified": identity.email_verified,
            "verified_email": identity.email_verified,
            "name": identity.name,
            "given_name": first,
            "family_name": last,
        }

    def id_token(self, identity: GoogleIdentity, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            **self._claims(identity),
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 3600,
        }
        if nonce:
            claims["nonce"] = nonce
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": self.kid})
