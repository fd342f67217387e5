"""GraphQL types for municipalities and staff."""

import uuid
from datetime import datetime

import strawberry

from app.core.i18n import I18nText
from app.graphql.types.common import Lang, Translations, text
from app.models.municipality import ContactChannels as ContactModel
from app.models.municipality import Municipality as MunicipalityModel
from app.models.user import UserPublic


@strawberry.type
class PhoneChannel:
    number: str
    _hours: strawberry.Private[I18nText]
    _price: strawberry.Private[I18nText]

    @strawberry.field(description="When calls are answered.")
    def hours(self, lang: Lang = Lang.FI) -> str:
        return self._hours.get(lang.value)

    @strawberry.field(description="What a call costs.")
    def price(self, lang: Lang = Lang.FI) -> str:
        return self._price.get(lang.value)


@strawberry.type
class ContactChannels:
    email: str | None
    web_site: str | None
    phone: PhoneChannel | None
    _visiting_address: strawberry.Private[I18nText | None]

    @strawberry.field
    def visiting_address(self, lang: Lang = Lang.FI) -> str | None:
        return text(self._visiting_address, lang)

    @classmethod
    def from_model(cls, contact: ContactModel) -> "ContactChannels":
        phone = contact.phone
        return cls(
            email=contact.email,
            web_site=contact.web_site,
            phone=PhoneChannel(number=phone.number, _hours=phone.hours, _price=phone.price)
            if phone
            else None,
            _visiting_address=contact.visiting_address,
        )


@strawberry.type
class Municipality:
    id: strawberry.ID
    slug: str
    code: str
    default_language: str
    enabled_languages: list[str]
    hashtags: list[str]
    contact: ContactChannels
    updated_at: datetime
    _name: strawberry.Private[I18nText]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str:
        return self._name.get(lang.value)

    @strawberry.field
    def name_i18n(self) -> Translations:
        return Translations.from_model(self._name)

    @classmethod
    def from_model(cls, row: MunicipalityModel) -> "Municipality":
        return cls(
            id=strawberry.ID(str(row.id)),
            slug=row.slug,
            code=row.code,
            default_language=row.default_language,
            enabled_languages=list(row.enabled_languages),
            hashtags=list(row.hashtags),
            contact=ContactChannels.from_model(row.contact),
            updated_at=row.updated_at,
            _name=row.name,
        )


@strawberry.type
class MunicipalityConnection:
    items: list[Municipality]
    next_cursor: str | None
    total: int


@strawberry.type
class RoleGrant:
    role: str
    municipality: str | None


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    display_name: str
    is_active: bool
    roles: list[RoleGrant]

    @classmethod
    def from_model(cls, user: UserPublic) -> "User":
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            display_name=user.display_name,
            is_active=user.is_active,
            roles=[RoleGrant(role=g.role.value, municipality=g.municipality) for g in user.roles],
        )


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
