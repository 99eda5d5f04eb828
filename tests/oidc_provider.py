"""A small but real OpenID Provider for the tests, on a loopback port in a
thread: discovery, JWKS, authorize (consent given at once: it redirects back
with a code), token (client secret and PKCE checked), userinfo and
end-session. ID tokens are RS256-signed with a key made at start.

The person "logged in at the provider" is ``op.login(sub, **claims)``; a
test bends the next ID token with ``op.next_token`` (extra or changed claims;
``None`` as a value removes the claim), signs it with another key
(``op.sign_with_foreign_key``) or tampers with it after signing
(``op.tamper``).
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlparse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class OpenIDProvider:
    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.user: dict | None = None
        self.disabled: set[str] = set()
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.next_token: dict = {}
        self.sign_with_foreign_key = False
        self.tamper = False
        self.ended_sessions: list[dict] = []
        self.authorize_requests: list[dict] = []
        self.server: WSGIServer | None = None

    # --- running ---------------------------------------------------------------

    def start(self) -> "OpenIDProvider":
        self.server = make_server("127.0.0.1", 0, self.app, handler_class=_QuietHandler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def login(self, sub: str, **claims) -> None:
        """The person logged in at the provider (the next authorize is theirs)."""
        self.user = {"sub": sub, **claims}

    # --- protocol ----------------------------------------------------------------

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
        else:
            form = {}
        handler = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
            "/logout": self.end_session,
        }.get(path)
        if handler is None:
            return self._reply(start_response, "404 Not Found", {"error": "not_found"})
        return handler(environ, start_response, query, form)

    def _reply(self, start_response, status, data, headers=()):
        body = json.dumps(data).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers],
        )
        return [body]

    def _redirect(self, start_response, url):
        start_response("302 Found", [("Location", url), ("Content-Length", "0")])
        return [b""]

    def discovery(self, environ, start_response, query, form):
        return self._reply(
            start_response,
            "200 OK",
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            },
        )

    def jwks(self, environ, start_response, query, form):
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return self._reply(start_response, "200 OK", {"keys": [jwk]})

    def authorize(self, environ, start_response, query, form):
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != (
            self.redirect_uri
        ):
            return self._reply(start_response, "400 Bad Request", {"error": "invalid_client"})
        if query.get("response_type") != "code" or "openid" not in query.get("scope", ""):
            return self._reply(start_response, "400 Bad Request", {"error": "invalid_request"})
        back = {"state": query.get("state", "")}
        if self.user is None or self.user["sub"] in self.disabled:
            back["error"] = "access_denied"
            return self._redirect(start_response, f"{self.redirect_uri}?{urlencode(back)}")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "user": dict(self.user),
            "nonce": query.get("nonce"),
            "code_challenge": query.get("code_challenge"),
            "acr_values": query.get("acr_values"),
        }
        back["code"] = code
        return self._redirect(start_response, f"{self.redirect_uri}?{urlencode(back)}")

    def token(self, environ, start_response, query, form):
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if client_id != self.client_id or secret != self.client_secret:
            return self._reply(start_response, "401 Unauthorized", {"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != self.redirect_uri
        ):
            return self._reply(start_response, "400 Bad Request", {"error": "invalid_grant"})
        if grant["code_challenge"]:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != grant["code_challenge"]:
                return self._reply(start_response, "400 Bad Request", {"error": "invalid_grant"})
        user = grant["user"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": grant["nonce"],
            **user,
        }
        for name, value in self.next_token.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        self.next_token = {}
        key = self.key
        if self.sign_with_foreign_key:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
        if self.tamper:
            header, payload, signature = id_token.split(".")
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            data["sub"] = "someone-else"
            payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
            id_token = f"{header}.{payload}.{signature}"
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = dict(user)
        return self._reply(
            start_response,
            "200 OK",
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
            headers=[("Cache-Control", "no-store")],
        )

    def userinfo(self, environ, start_response, query, form):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        user = self.access_tokens.get(auth.removeprefix("Bearer "))
        if user is None:
            return self._reply(start_response, "401 Unauthorized", {"error": "invalid_token"})
        return self._reply(start_response, "200 OK", user)

    def end_session(self, environ, start_response, query, form):
        hint = query.get("id_token_hint", "")
        claims = jwt.decode(
            hint, self.key.public_key(), algorithms=["RS256"], audience=self.client_id
        )
        self.ended_sessions.append({"sub": claims["sub"], **query})
        target = query.get("post_logout_redirect_uri") or self.issuer
        return self._redirect(start_response, target)


def follow_to_provider(location: str):
    """The browser's visit to the provider's authorize URL: its redirect back
    (the callback URL with a code or an error) as path + query for the
    Django test client."""
    import requests

    response = requests.get(location, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    back = urlparse(response.headers["Location"])
    return f"{back.path}?{back.query}"
