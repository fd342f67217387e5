"""SQLModel tables and their schemas. Importing this package registers every table."""

from app.models.analytics import AnalyticsSnapshot
from app.models.booking import Booking, InfoPackageRequest, Message
from app.models.change import ChangeEvent
from app.models.comms_plan import CommsPlan, CommsPlanEvent, CommsPlanRow
from app.models.content_revision import ContentRevision
from app.models.content_version import ContentVersion
from app.models.fund import FundEntry, FundExperiment, FundIdea, FundRound, FundScore
from app.models.guide import Guide, Slot, SlotRule
from app.models.journey import Journey
from app.models.landing import LandingConfig
from app.models.municipality import Municipality
from app.models.outbox import OutboxEmail
from app.models.persona import Persona, ServicePromise
from app.models.roadmap import RoadmapPhase, RoadmapReview
from app.models.service_card import (
    CardEntry,
    CardSection,
    ServiceCard,
    ServiceCardRevision,
    Topic,
)
from app.models.story import Story
from app.models.user import RoleGrant, User
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "Booking",
    "Guide",
    "InfoPackageRequest",
    "Message",
    "OutboxEmail",
    "Slot",
    "SlotRule",
    "AnalyticsSnapshot",
    "CardEntry",
    "ChangeEvent",
    "CardSection",
    "CommsPlan",
    "CommsPlanEvent",
    "CommsPlanRow",
    "ContentRevision",
    "ContentVersion",
    "FundEntry",
    "FundExperiment",
    "FundIdea",
    "FundRound",
    "FundScore",
    "Journey",
    "LandingConfig",
    "Persona",
    "ServicePromise",
    "Story",
    "Municipality",
    "RoadmapPhase",
    "RoadmapReview",
    "RoleGrant",
    "ServiceCard",
    "ServiceCardRevision",
    "Topic",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
