"""Types every domain uses: languages and translations."""

from enum import Enum
from typing import Any

import strawberry

from app.core.i18n import FALLBACK_LANGUAGE
from app.core.i18n import Translations as TranslationsModel


@strawberry.enum(description="A content language.")
class Lang(Enum):
    FI = "fi"
    SV = "sv"
    EN = "en"


@strawberry.type(description="A translatable text in every language it has.")
class Translations:
    fi: str
    sv: str | None
    en: str | None

    @classmethod
    def from_model(cls, value: TranslationsModel) -> "Translations":
        return cls(fi=value.fi, sv=value.sv, en=value.en)


def text(value: TranslationsModel | None, lang: Lang) -> str | None:
    """The text in `lang`, falling back to Finnish."""
    return None if value is None else value.get(lang.value)


def doc_text(value: dict[str, str] | None, lang: Lang) -> str | None:
    """A translations document (as the read paths build them) in `lang`, else Finnish."""
    if value is None:
        return None
    return value.get(lang.value) or value.get(FALLBACK_LANGUAGE)


def doc_translations(value: dict[str, str] | None) -> Translations | None:
    """A translations document as the `…I18n` GraphQL type."""
    if value is None:
        return None
    return Translations(fi=value["fi"], sv=value.get("sv"), en=value.get("en"))


def graphql_id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type
class Titled:
    """A type whose document has a required translatable `title`: `title(lang:)` and
    `titleI18n`, as API.md spells them, written once for every such type."""

    _doc: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def title(self, lang: Lang = Lang.FI) -> str:
        return doc_text(self._doc["title"], lang) or ""

    @strawberry.field
    def title_i18n(self) -> Translations:
        found = doc_translations(self._doc["title"])
        assert found is not None
        return found
