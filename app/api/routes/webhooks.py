"""Webhook subscriptions (Standard Webhooks), managed by a municipality's admins, with
their delivery log; and the payloads, documented as OpenAPI 3.1 `webhooks`."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, status
from starlette.responses import Response

from app.api.deps import (
    CurrentPrincipal,
    IfMatch,
    MunicipalityDep,
    Paging,
    SessionDep,
    SettingsDep,
    check_if_match,
    resource_etag,
)
from app.api.schemas import Collection, plain, problems
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.models.user import Role
from app.models.webhook import (
    DeliveryPublic,
    DeliveryStatus,
    WebhookCreate,
    WebhookEvent,
    WebhookPublic,
    WebhookSubscription,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.services import webhooks as webhook_service
from app.services.auth import Principal, require_read, require_write

router = APIRouter(prefix="/municipalities/{slug}/webhooks", tags=["webhooks"])
KIND = "webhook"
ADMINS = (Role.municipality_admin,)
NO_STORE = {"Cache-Control": "no-store"}
# The delivery log is a log, not a collection to mirror: pages, but no modified_since.
LogLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
LogCursor = Annotated[str | None, Query(max_length=1000)]


def _location(slug: str, subscription_id: uuid.UUID) -> str:
    return f"/api/v1/municipalities/{slug}/webhooks/{subscription_id}"


def _send(
    subscription: WebhookSubscription,
    slug: str,
    *,
    secret: bool = False,
    status_code: int = 200,
) -> Response:
    public = webhook_service.to_public(subscription, slug)
    data = public.model_dump(mode="json")
    if secret:
        data["secret"] = subscription.secret
    headers = {**NO_STORE, "ETag": resource_etag(KIND, subscription.id, subscription.version, None)}
    if status_code == 201:
        headers["Location"] = _location(slug, subscription.id)
    return plain(data, status_code=status_code, headers=headers)


async def _readable(
    session: SessionDep,
    municipality: MunicipalityDep,
    principal: Principal,
    subscription_id: uuid.UUID,
) -> WebhookSubscription:
    require_read(principal, municipality.id, *ADMINS)
    return await webhook_service.get(
        session=session, municipality_id=municipality.id, subscription_id=subscription_id
    )


async def _writable(
    session: SessionDep,
    municipality: MunicipalityDep,
    principal: Principal,
    subscription_id: uuid.UUID,
) -> WebhookSubscription:
    require_write(principal, municipality.id, *ADMINS)
    return await webhook_service.get(
        session=session, municipality_id=municipality.id, subscription_id=subscription_id
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookWithSecret,
    responses=problems(401, 403, 404, 422),
    summary="Subscribe a URL to this municipality's change events",
)
async def create_webhook(
    data: WebhookCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Response:
    """Municipality admins. `events` defaults to every event type. The answer carries the
    signing `secret` (`whsec_…`) this once: verify deliveries with it (README,
    "Webhooks"). In production the URL must be https and resolve to public addresses
    only (422 otherwise)."""
    require_write(principal, municipality.id, *ADMINS)
    subscription = await webhook_service.create(
        session=session,
        municipality_id=municipality.id,
        actor_id=principal.user.id,
        data=data,
        settings=settings,
    )
    return _send(subscription, municipality.slug, secret=True, status_code=201)


@router.get(
    "",
    response_model=Collection[WebhookPublic],
    responses=problems(401, 403, 404, 422),
    summary="This municipality's webhook subscriptions",
)
async def list_webhooks(
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: Paging,
) -> Response:
    """Municipality admins; the secrets are never shown again."""
    require_read(principal, municipality.id, *ADMINS)
    page = await webhook_service.list_page(
        session=session,
        municipality_id=municipality.id,
        limit=paging.limit,
        cursor=paging.cursor,
        modified_since=paging.modified_since,
    )
    items = [
        webhook_service.to_public(item, municipality.slug).model_dump(mode="json")
        for item in page.items
    ]
    body: dict[str, Any] = {
        "items": items,
        "next_cursor": page.next_cursor,
        "total": page.total,
        "meta": {"language": None, "fallback_fields": []},
    }
    return plain(body, headers=NO_STORE)


@router.get(
    "/{webhook_id}",
    response_model=WebhookPublic,
    responses=problems(401, 403, 404, 422),
    summary="A webhook subscription",
)
async def get_webhook(
    webhook_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    subscription = await _readable(session, municipality, principal, webhook_id)
    return _send(subscription, municipality.slug)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Change a webhook subscription, or enable it again",
)
async def update_webhook(
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. `enabled: true` resumes a subscription that
    was disabled after failed deliveries (its pending deliveries go out again)."""
    subscription = await _writable(session, municipality, principal, webhook_id)
    check_if_match(if_match, kind=KIND, resource_id=subscription.id, version=subscription.version)
    subscription = await webhook_service.update(
        session=session, subscription=subscription, data=data, settings=settings
    )
    return _send(subscription, municipality.slug)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=problems(401, 403, 404, 412, 422),
    summary="Replace the signing secret; the old one signs too for 24 hours",
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """The new secret is shown this once. For 24 hours every delivery carries two
    signatures (`webhook-signature: v1,… v1,…`), so the receiver can switch at leisure.
    If-Match is optional here; when sent it must be current."""
    subscription = await _writable(session, municipality, principal, webhook_id)
    if if_match:
        check_if_match(
            if_match, kind=KIND, resource_id=subscription.id, version=subscription.version
        )
    subscription = await webhook_service.rotate_secret(session=session, subscription=subscription)
    return _send(subscription, municipality.slug, secret=True)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412, 428),
    summary="Delete a webhook subscription and its delivery log",
)
async def delete_webhook(
    webhook_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    subscription = await _writable(session, municipality, principal, webhook_id)
    check_if_match(if_match, kind=KIND, resource_id=subscription.id, version=subscription.version)
    await webhook_service.remove(session=session, subscription=subscription)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Collection[DeliveryPublic],
    responses=problems(401, 403, 404, 422),
    summary="The delivery log of a webhook subscription",
)
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LogLimit = DEFAULT_LIMIT,
    cursor: LogCursor = None,
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only deliveries in this state")
    ] = None,
) -> Response:
    """The newest event first; each delivery with its `webhook-id`, state, attempts and
    every attempt's time, status code, error and the first 1 kB of the answer."""
    subscription = await _readable(session, municipality, principal, webhook_id)
    page = await webhook_service.list_deliveries(
        session=session,
        subscription=subscription,
        limit=limit,
        cursor=cursor,
        status=delivery_status,
    )
    body: dict[str, Any] = {
        "items": [item.model_dump(mode="json") for item in page.items],
        "next_cursor": page.next_cursor,
        "total": page.total,
        "meta": {"language": None, "fallback_fields": []},
    }
    return plain(body, headers=NO_STORE)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryPublic,
    responses=problems(401, 403, 404, 422),
    summary="One delivery with its attempts",
)
async def get_webhook_delivery(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    subscription = await _readable(session, municipality, principal, webhook_id)
    delivery = await webhook_service.get_delivery(
        session=session, subscription=subscription, delivery_id=delivery_id
    )
    public = await webhook_service.delivery_with_log(session=session, delivery=delivery)
    return plain(public.model_dump(mode="json"), headers=NO_STORE)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Send a delivery again",
)
async def redeliver_webhook_delivery(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Queued at once with the same `webhook-id` and body, and a fresh set of retries; the
    worker sends it on its next round. 409 while the subscription is disabled."""
    subscription = await _writable(session, municipality, principal, webhook_id)
    delivery = await webhook_service.get_delivery(
        session=session, subscription=subscription, delivery_id=delivery_id
    )
    delivery = await webhook_service.redeliver(
        session=session, subscription=subscription, delivery=delivery
    )
    public = await webhook_service.delivery_with_log(session=session, delivery=delivery)
    return plain(public.model_dump(mode="json"), status_code=202, headers=NO_STORE)


# ---- the payloads, as OpenAPI 3.1 `webhooks` --------------------------------------------------


def document_events(app: FastAPI) -> None:
    """One OpenAPI `webhooks` entry per event type: what a subscriber receives."""
    for event_type in webhook_service.EVENT_TYPES:

        async def receive(body: WebhookEvent) -> None:  # pragma: no cover - documentation
            """Verify with the `standardwebhooks` library and your `whsec_` secret before
            trusting the body; answer 2xx within 10 s (anything else is retried)."""

        app.webhooks.add_api_route(
            event_type,
            receive,
            methods=["POST"],
            name=f"webhook_{event_type.replace('.', '_')}",
            operation_id=f"webhook_{event_type.replace('.', '_')}",
            response_description="Received: any 2xx within 10 s; anything else is retried.",
            summary=f"{event_type}: the event POSTed to subscribers",
            status_code=200,
            tags=["webhooks"],
        )
