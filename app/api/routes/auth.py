"""Staff sign-in: the OAuth2 password flow, so Swagger's Authorize button works."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import Response

from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.api.schemas import plain, problems
from app.core.errors import Unauthorized
from app.core.ratelimit import enforce
from app.core.security import create_access_token
from app.models.user import TokenResponse, UserPublic
from app.services import auth as auth_service
from app.services import user as user_service

router = APIRouter(prefix="/auth", tags=["auth"])


class SignInForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form with bounded fields: the username becomes part of a
    rate-limit key (in memory or Redis), so an unbounded one let a client grow that store
    by megabytes a request; no email is longer than 320 characters."""

    def __init__(
        self,
        *,
        username: Annotated[str, Form(max_length=320)],
        password: Annotated[str, Form(max_length=1024, json_schema_extra={"format": "password"})],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form(max_length=1000)] = "",
        client_id: Annotated[str | None, Form(max_length=200)] = None,
        client_secret: Annotated[
            str | None, Form(max_length=200, json_schema_extra={"format": "password"})
        ] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=problems(401, 422, 429),
    summary="Sign in and get a bearer token",
)
async def issue_token(
    request: Request,
    form: Annotated[SignInForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Exchange email (as `username`) and password for a JWT."""
    # The client is the TCP peer, or what a proxy in FORWARDED_ALLOW_IPS reported.
    client = request.client.host if request.client else "unknown"
    limiter = request.app.state.rate_limiter
    # Per email first: retries already refused for one email (a colleague mistyping)
    # then do not use up the address's allowance the rest of an office NAT shares.
    await enforce(
        limiter,
        f"login:{client}:{form.username.strip().lower()}",
        limit=settings.login_rate_limit_per_minute,
    )
    # Per address over all emails: one password sprayed across many accounts.
    await enforce(
        limiter, f"login-address:{client}", limit=settings.login_rate_limit_per_address_per_minute
    )
    user = await auth_service.authenticate(
        session=session, email=form.username, password=form.password
    )
    if user is None:
        raise Unauthorized(
            "Wrong email or password.",
            code="invalid-credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, expires_in = create_access_token(
        str(user.id), settings, token_version=user.token_version
    )
    return plain(
        TokenResponse(access_token=token, expires_in=expires_in).model_dump(),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/me", response_model=UserPublic, responses=problems(401), summary="Who am I")
async def me(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """The signed-in account with its roles."""
    (public,) = await user_service.to_public(
        session=session, users=[principal.user], grants={principal.user.id: principal.grants}
    )
    return plain(public.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
