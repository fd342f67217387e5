"""Types every domain uses: languages and translations."""

from enum import Enum

import strawberry

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
