"""Signing in with the council's identity provider: OpenID Connect's authorization code flow with
PKCE, through Authlib (the request and the code exchange) and joserfc (the ID token's signature),
never hand-written JWT checks.

What is checked on the way back: the state (models/single_sign_on.py: this browser's, unused,
recent), then the ID token's signature against the provider's published keys, its issuer, its
audience (this service's client id), its expiry and issue time by the app's clock, and its nonce;
then the claim SAFEGUARD_OIDC_CLAIM names is who the person is. Anything else is a ProviderError
saying, in words, what went wrong and who to ask; its `reason` goes to the audit log.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

LEEWAY = 60  # seconds of clock difference allowed between the provider and this service
TIMEOUT = 10  # seconds to wait for the provider
SCOPE = "openid email profile"

UNREACHABLE = (
    "Safeguard cannot reach {name} just now: try again in a few minutes; if it goes on, tell "
    "whoever runs Safeguard for your council"
)
NOT_CHECKED = (
    "{name} answered, but its answer could not be checked, so you are not signed in: start "
    "again from the sign-in page; if it happens again, tell whoever runs Safeguard for your "
    "council"
)


class ProviderError(Exception):
    """The provider could not be reached, refused, or answered with a token that fails a check.
    The message is for the person; `reason` is for the audit log."""

    def __init__(self, message: str, reason: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.unreachable = unreachable  # not answering (try later), not a refusal


@dataclass(frozen=True)
class ProviderSettings:
    """Where the provider is, who this service is to it, and which claim names a person."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    claim: str = "email"
    name: str = "your council account"


@dataclass
class Provider:
    """One identity provider: its discovery document and keys are fetched when first needed and
    kept (the keys fetched again when a token names one not seen yet: the provider rotated)."""

    settings: ProviderSettings
    clock: Callable[[], datetime]
    _discovered: dict[str, Any] | None = field(default=None, repr=False)
    _keys: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.settings.name

    def authorization_url(self, *, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        """Where to send the browser: the provider's sign-in, asking for a code (with the S256
        challenge of `verifier`), the state and the nonce."""
        endpoint = self._metadata_value("authorization_endpoint")
        with self._session(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, nonce=nonce, code_verifier=verifier
            )
        return str(url)

    def identify(self, *, code: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        """Exchange the code (with the PKCE verifier) for tokens, check the ID token, and return
        the value of the claim that names the person (lower-case)."""
        token_endpoint = self._metadata_value("token_endpoint")
        try:
            with self._session(redirect_uri) as client:
                token = client.fetch_token(
                    token_endpoint, code=code, code_verifier=verifier, timeout=TIMEOUT
                )
        except OAuthError as refused:
            raise self._error(NOT_CHECKED, f"code refused: {refused.error}") from None
        except requests.RequestException:
            raise self._error(UNREACHABLE, "token endpoint unreachable") from None
        if not token.get("id_token"):
            raise self._error(NOT_CHECKED, "no ID token")
        claims = self._checked(str(token["id_token"]), nonce, str(token.get("access_token", "")))
        value = claims.get(self.settings.claim)
        if not value and token.get("access_token"):
            value = self._from_userinfo(str(token["access_token"]), str(claims["sub"]))
        if not isinstance(value, str) or not value.strip():
            raise self._error(NOT_CHECKED, f"no {self.settings.claim} claim")
        return value.strip().lower()

    def end_session_url(self, post_logout: str) -> str | None:
        """The provider's own sign-out (RP-initiated logout), where it has one; None otherwise
        (or when it cannot be reached: our own session has ended whatever happens here)."""
        try:
            endpoint = self._metadata().get("end_session_endpoint")
        except ProviderError:
            return None
        if not isinstance(endpoint, str):
            return None
        query = {"client_id": self.settings.client_id, "post_logout_redirect_uri": post_logout}
        return requests.Request("GET", endpoint, params=query).prepare().url

    def check(self) -> str:
        """What `safeguard doctor` says of the provider: its discovery and keys fetched, or a
        ProviderError."""
        keys = self._jwks().get("keys")
        count = len(keys) if isinstance(keys, list) else 0
        return f"{self._metadata()['issuer']} answers ({count} signing key(s) published)"

    # --- the parts ---------------------------------------------------------------------------

    def _checked(self, id_token: str, nonce: str, access_token: str) -> CodeIDToken:
        metadata = self._metadata()
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), registry=registry)
            except InvalidKeyIdError:  # a key not seen yet: the provider rotated its keys
                self._keys = None
                decoded = jwt.decode(id_token, self._key_set(), registry=registry)
            params: dict[str, Any] = {"nonce": nonce, "client_id": self.settings.client_id}
            if access_token:
                params["access_token"] = access_token
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.settings.client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                params,
            )
            claims.validate(now=int(self.clock().timestamp()), leeway=LEEWAY)
        except ExpiredTokenError:
            raise self._error(NOT_CHECKED, "ID token expired") from None
        except ClaimError as wrong:
            raise self._error(NOT_CHECKED, f"ID token claim {wrong.claim} wrong") from None
        except JoseError as wrong:
            raise self._error(NOT_CHECKED, f"ID token not valid: {wrong.error}") from None
        except ValueError:
            raise self._error(NOT_CHECKED, "ID token not valid: not a JWT") from None
        return claims

    def _from_userinfo(self, access_token: str, sub: str) -> Any:
        """The claim from the userinfo endpoint, when the ID token lacks it (the same `sub`)."""
        endpoint = self._metadata().get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return None
        try:
            answer = requests.get(
                endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
            )
            answer.raise_for_status()
            info = answer.json()
        except (requests.RequestException, ValueError):
            raise self._error(UNREACHABLE, "userinfo unreachable") from None
        return info.get(self.settings.claim) if info.get("sub") == sub else None

    def _metadata(self) -> dict[str, Any]:
        if self._discovered is None:
            issuer = self.settings.issuer.rstrip("/")
            found = self._get_json(f"{issuer}/.well-known/openid-configuration", "discovery")
            if str(found.get("issuer", "")).rstrip("/") != issuer:
                raise self._error(NOT_CHECKED, "discovery names another issuer")
            self._discovered = found
        return self._discovered

    def _metadata_value(self, name: str) -> str:
        value = self._metadata().get(name)
        if not isinstance(value, str):
            raise self._error(NOT_CHECKED, f"discovery has no {name}")
        return value

    def _key_set(self) -> KeySet:
        return KeySet.import_key_set(self._jwks())  # type: ignore[arg-type]

    def _jwks(self) -> dict[str, Any]:
        if self._keys is None:
            self._keys = self._get_json(self._metadata_value("jwks_uri"), "keys")
        return self._keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = requests.get(url, timeout=TIMEOUT)
            answer.raise_for_status()
            found = answer.json()
        except (requests.RequestException, ValueError):
            raise self._error(UNREACHABLE, f"{what} unreachable") from None
        if not isinstance(found, dict):
            raise self._error(NOT_CHECKED, f"{what} not an object")
        return found

    def _session(self, redirect_uri: str) -> OAuth2Session:
        secret = self.settings.client_secret
        return OAuth2Session(
            self.settings.client_id,
            secret,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )

    def _error(self, template: str, reason: str) -> ProviderError:
        said = template.format(name=self.settings.name)
        return ProviderError(said, reason, unreachable=template is UNREACHABLE)
