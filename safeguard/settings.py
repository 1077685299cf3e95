"""Settings from the environment (prefix SAFEGUARD_). Built when asked for, never at import."""

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.errors import InputError

NOTIFY_KEY = re.compile(r"^.+-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")  # fmt: skip


class Settings(BaseSettings):
    """Where the system keeps its data and which policy it follows."""

    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_", extra="ignore")

    home: Path = Field(default=Path(".safeguard"), description="our files and the local Prefect")
    database_url: str | None = Field(default=None, description="default: SQLite under home")
    migration_database_url: str | None = Field(
        default=None, description="PostgreSQL: the owner's URL, for migrations (db upgrade)"
    )
    app_role: str | None = Field(
        default=None, description="PostgreSQL: the role the application connects as"
    )
    timezone: str = Field(default="Europe/London", description="deadlines end at local midnight")
    policy_file: Path | None = Field(default=None, description="the authority's policy override")
    prefect_port: int = Field(default=4200, ge=1, le=65535, description="local Prefect server port")
    serve_limit: int = Field(
        default=8,
        ge=1,
        le=200,
        description="flow runs the serve process runs at once (each is a process)",
    )

    web_port: int = Field(default=8000, ge=1, le=65535, description="the browser app's port")
    web_secret: str | None = Field(
        default=None,
        min_length=32,
        description="signs the session cookies (default: one made once under home)",
    )
    web_url: str | None = Field(
        default=None,
        description="the web app's address as people reach it (the links in invitations and notices)",
    )
    metrics_token: str | None = Field(
        default=None,
        description="the bearer token Prometheus sends for /metrics (unset: /metrics is off)",
    )
    web_secure_cookies: bool = Field(
        default=False, description="send the session cookie over HTTPS only (behind HTTPS)"
    )
    sign_in: Literal["password", "oidc", "both"] = Field(
        default="password",
        description="how staff sign in: a password, the council's identity provider, or either",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="the identity provider's issuer URL (its discovery document is under it)",
    )
    oidc_client_id: str | None = Field(default=None, description="this service's client id there")
    oidc_client_secret: str | None = Field(
        default=None, description="this service's client secret there (a confidential client)"
    )
    oidc_claim: Literal["email", "preferred_username", "oid"] = Field(
        default="email",
        description="the ID token's claim a staff member's sign-in id is matched to",
    )
    oidc_name: str = Field(
        default="your council account",
        min_length=1,
        max_length=80,
        description="the button's words: 'Sign in with ...'",
    )

    notify_api_key: str | None = Field(
        default=None,
        description="a GOV.UK Notify API key (notify-email: and notify-sms: addresses go through it)",
    )
    notify_base_url: str = Field(
        default="https://api.notifications.service.gov.uk", description="GOV.UK Notify's API"
    )
    notify_templates: str = Field(
        default="",
        description="each notice kind's Notify template: kind=template-id,... (*= any other)",
    )

    sweep_every_minutes: int = Field(
        default=15, ge=1, le=1440, description="how often the scheduled sweep runs"
    )
    stuck_after_seconds: int = Field(
        default=600,
        ge=0,
        le=86400,
        description="a case's run Pending/Running this long, or a record unapplied, is repaired",
    )
    processes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="modules declaring further processes (each defines PROCESS), comma-separated",
    )

    @field_validator("processes", mode="before")
    @classmethod
    def _modules(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(",") if m.strip())
        return value

    @model_validator(mode="after")
    def _provider_given(self) -> "Settings":
        if self.sign_in != "password":
            missing = [
                f"SAFEGUARD_{name.upper()}"
                for name in ("oidc_issuer", "oidc_client_id")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(
                    f"signing in with the council's identity provider needs {' and '.join(missing)} "
                    "(the README's 'Signing in' section shows them for Microsoft Entra ID)"
                )
            if not (self.oidc_issuer or "").startswith(("https://", "http://127.0.0.1", "http://localhost")):  # fmt: skip
                raise ValueError(
                    "SAFEGUARD_OIDC_ISSUER must be an https:// address (plain http only on this "
                    "machine, for testing)"
                )
        return self

    @field_validator("notify_api_key")
    @classmethod
    def _notify_key(cls, value: str | None) -> str | None:
        if value is not None and not NOTIFY_KEY.match(value.strip()):
            raise ValueError(
                "not a GOV.UK Notify API key: copy the whole key from Notify's API integration "
                "page (its name, the service id and the secret, joined by hyphens)"
            )
        return value.strip() if value else None

    @field_validator("notify_templates")
    @classmethod
    def _notify_templates(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",") if p.strip()):
            kind, sep, template = part.partition("=")
            if not sep or not kind.strip() or not template.strip():
                raise ValueError(
                    f"{part!r} is not kind=template-id (e.g. lapsed=8d1c...,*=f3a2...)"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name such as Europe/London") from None
        return value

    @property
    def database(self) -> str:
        """Return the database URL in force (the SQLite file under home when none is set)."""
        return self.database_url or f"sqlite:///{(self.home / 'safeguard.db').resolve()}"

    def web_address(self) -> str:
        """Return the web app's address as people reach it (the links notices and invitations
        carry): SAFEGUARD_WEB_URL, else this machine's web port."""
        return (self.web_url or f"http://127.0.0.1:{self.web_port}").rstrip("/")


def get_settings() -> Settings:
    """Return the settings, or raise InputError naming the bad SAFEGUARD_ variable."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:  # a rule over several settings names them itself
            raise InputError(message) from None
        name = "SAFEGUARD_" + str(error["loc"][0]).upper()
        raise InputError(f"{name}: {message}") from None
