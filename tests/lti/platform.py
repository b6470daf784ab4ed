"""A simulated LMS (LTI 1.3 platform) on a real local HTTP server: its key set, its OAuth2 token endpoint
(client_credentials with a JWT assertion, IMS Security Framework §4.1) and an AGS line item's score
endpoint (LTI AGS 2.0 §3.4). It signs id_tokens like Moodle or Canvas would."""
from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def rsa_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = JWK.from_pem(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return pem, public


class Platform:
    """Start with `start()`, stop with `stop()`. `down = True` makes every endpoint answer 503."""

    def __init__(self, client_id: str = "academy-tool-1", deployment_id: str = "deploy-1"):
        self.private_pem, public = rsa_key()
        self.kid = public.thumbprint()
        self.jwks = {"keys": [{**json.loads(public.export_public()), "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        self.client_id, self.deployment_id = client_id, deployment_id
        self.tool_jwks: dict | None = None  # what the LMS admin's "public keyset URL" of the tool returned
        self.tokens: dict[str, str] = {}  # access token -> scope
        self.scores: list[dict] = []  # (line item path, bearer scope, body) of every accepted score
        self.token_requests: list[dict] = []
        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.url  # an issuer is an https URL in real life; loopback http is allowed for tests
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- the platform's side of the OIDC flow ------------------------------------------------------

    def id_token(self, nonce: str, target_link_uri: str, *, sub: str = "moodle-user-42", key_pem: bytes | None = None,
                 kid: str | None = None, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": sub, "nonce": nonce, "iat": now, "exp": now + 300,
            "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id, LTI + "target_link_uri": target_link_uri,
            LTI + "resource_link": {"id": "resource-7", "title": "PACS lab"},
            LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "context": {"id": "course-3", "title": "Radiology IT onboarding"},
            AGS: {"scope": [SCORE_SCOPE, LINEITEM_SCOPE], "lineitem": f"{self.url}/courses/3/lineitems/9/lineitem",
                  "lineitems": f"{self.url}/courses/3/lineitems"},
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key_pem or self.private_pem, algorithm="RS256", headers={"kid": kid or self.kid})

    # --- HTTP ----------------------------------------------------------------------------------------

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict | None = None, content_type: str = "application/json"):
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if platform.down:
                    return self._reply(503, {"error": "down"})
                if self.path == "/jwks":
                    return self._reply(200, platform.jwks)
                return self._reply(404)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if platform.down:
                    return self._reply(503, {"error": "down"})
                if self.path == "/token":
                    return self._token(parse_qs(body.decode()))
                if urlsplit(self.path).path.endswith("/lineitem/scores"):
                    return self._score(body)
                return self._reply(404)

            def _token(self, form):
                form = {k: v[0] for k, v in form.items()}
                platform.token_requests.append(form)
                if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                    return self._reply(400, {"error": "unsupported_grant_type"})
                try:  # the tool's assertion, checked with the key the tool publishes
                    kid = jwt.get_unverified_header(form["client_assertion"])["kid"]
                    jwk = next(k for k in platform.tool_jwks["keys"] if k["kid"] == kid)
                    key = jwt.PyJWK(jwk).key
                    claims = jwt.decode(form["client_assertion"], key, algorithms=["RS256"],
                                        audience=f"{platform.url}/token", options={"require": ["exp", "iat", "jti"]})
                    assert claims["iss"] == claims["sub"] == platform.client_id
                except Exception as exc:  # noqa: BLE001 - any failure is an invalid client
                    return self._reply(401, {"error": "invalid_client", "error_description": str(exc)})
                token = secrets.token_urlsafe(24)
                platform.tokens[token] = form.get("scope", "")
                return self._reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                                         "scope": form.get("scope", "")})

            def _score(self, body: bytes):
                auth = self.headers.get("Authorization", "")
                scope = platform.tokens.get(auth.removeprefix("Bearer "))
                if scope is None or SCORE_SCOPE not in scope.split():
                    return self._reply(401, {"error": "invalid_token"})
                if self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                    return self._reply(415)
                platform.scores.append({"path": urlsplit(self.path).path, "body": json.loads(body)})
                return self._reply(200)

        return Handler

    def start(self) -> "Platform":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def new_sub() -> str:
    return f"lms-user-{uuid.uuid4().hex[:8]}"
