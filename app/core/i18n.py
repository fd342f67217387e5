"""Translatable text and language negotiation, shared by every resource and by GraphQL.

A translatable field is stored and written as `{"fi": ..., "en": ..., "sv": ...}` with
Finnish required. Reads with a language (`?lang=` or `Accept-Language`) get plain
strings, falling back to Finnish, and the fallen-back fields are listed so a front end
can mark them ("only in Finnish").
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
FALLBACK_LANGUAGE = "fi"

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class Translations(BaseModel):
    """Base of the translatable text types; `fi` is always present."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fi: str
    sv: str | None = None
    en: str | None = None

    def get(self, lang: str) -> str:
        """The text in `lang`, or Finnish when that translation is missing."""
        text: str | None = getattr(self, lang, None)
        return text if text is not None else self.fi

    def has(self, lang: str) -> bool:
        return getattr(self, lang, None) is not None

    def as_dict(self) -> dict[str, str]:
        return {lang: text for lang in LANGUAGES if (text := getattr(self, lang)) is not None}


class I18nText(Translations):
    """A short translatable text (names, titles, labels): at most 500 characters each."""

    fi: ShortText
    sv: ShortText | None = None
    en: ShortText | None = None


class I18nLongText(Translations):
    """A long translatable text (descriptions, bodies): at most 20 000 characters each."""

    fi: LongText
    sv: LongText | None = None
    en: LongText | None = None


class UnsupportedLanguage(ValueError):
    """A `?lang=` the API does not serve."""

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self.lang = lang


def check_language(lang: str) -> str:
    """Normalise an explicit language code, refusing unsupported ones."""
    code = lang.strip().lower()
    if code not in LANGUAGES:
        raise UnsupportedLanguage(lang)
    return code


def negotiate(
    accept_language: str | None,
    available: Iterable[str] = LANGUAGES,
    default: str = FALLBACK_LANGUAGE,
) -> str | None:
    """Pick one of `available` from an Accept-Language header (RFC 9110 §12.5.4).

    Returns None when there is no header, so the caller gets every translation; a
    header naming none of `available` gets `default`.
    """
    if not accept_language:
        return None
    offered = set(available)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return default
        primary = tag.split("-")[0]
        if primary in offered:
            return primary
    return default


def served_language(
    explicit: str | None,
    accept_language: str | None,
    enabled: Iterable[str] | None = None,
    default: str = FALLBACK_LANGUAGE,
) -> str | None:
    """The language a response is in: `?lang=` wins, then Accept-Language, but only
    among the languages the municipality enables (`enabled`; None outside a
    municipality): a language it does not serve gets its default language, and the
    response says so (Content-Language), rather than claiming Swedish over Finnish.

    The REST dependency and the cache's fast lane both call this, so a cached body is
    always found under the language it was built in.
    """
    available = tuple(enabled) if enabled is not None else LANGUAGES
    if default not in available:
        default = available[0] if available else FALLBACK_LANGUAGE
    if explicit is not None:
        return explicit if explicit in available else default
    return negotiate(accept_language, available, default)


@dataclass
class Localized:
    """A response body with its translatable texts resolved for one language."""

    data: Any
    language: str | None
    fallback_fields: list[str] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        return {"language": self.language, "fallback_fields": self.fallback_fields}


def localize(value: Any, lang: str | None) -> Localized:
    """Turn models into plain data, translatable texts into strings when `lang` is given."""
    fallbacks: list[str] = []
    data = _walk(value, lang, "", fallbacks)
    return Localized(data=data, language=lang, fallback_fields=fallbacks)


def _walk(value: Any, lang: str | None, path: str, fallbacks: list[str]) -> Any:
    if isinstance(value, Translations):
        if lang is None:
            return value.as_dict()
        if not value.has(lang):
            fallbacks.append(path)
        return value.get(lang)
    if isinstance(value, BaseModel):
        prefix = f"{path}." if path else ""
        return {
            name: _walk(getattr(value, name), lang, prefix + name, fallbacks)
            for name in type(value).model_fields
        }
    if isinstance(value, dict):
        prefix = f"{path}." if path else ""
        return {key: _walk(item, lang, f"{prefix}{key}", fallbacks) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [
            _walk(item, lang, f"{path}[{index}]", fallbacks) for index, item in enumerate(value)
        ]
    return value


def languages_list(values: Iterable[str]) -> list[str]:
    """Validate a list of language codes (service languages, enabled languages)."""
    return [check_language(value) for value in values]


class ResponseMeta(BaseModel):
    """Which language a response is in and which fields fell back to Finnish."""

    language: str | None = None
    fallback_fields: list[str] = []


def localize_document(
    data: Any,
    lang: str | None,
    keys: frozenset[str],
    path: str = "",
    fallbacks: list[str] | None = None,
) -> Localized:
    """Like `localize`, for plain JSON documents: a value under one of `keys` that is a
    translations object (a dict with `fi`) becomes a string in `lang`.

    This runs on every cold public read, so it does the least it can: nothing at all
    without a language, and a path string only where a fallback is reported.
    """
    found: list[str] = [] if fallbacks is None else fallbacks
    if lang is None:
        return Localized(data=data, language=None, fallback_fields=found)
    result = _walk_document(data, lang, keys, path, found)
    return Localized(data=result, language=lang, fallback_fields=found)


def _walk_document(
    value: Any, lang: str, keys: frozenset[str], path: str, fallbacks: list[str]
) -> Any:
    if isinstance(value, list):
        return [
            _walk_document(item, lang, keys, f"{path}[{index}]", fallbacks)
            if isinstance(item, dict | list)
            else item
            for index, item in enumerate(value)
        ]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            if key in keys and "fi" in item:
                text = item.get(lang)
                if text is None:
                    fallbacks.append(f"{path}.{key}" if path else key)
                    text = item["fi"]
                out[key] = text
            else:
                out[key] = _walk_document(
                    item, lang, keys, f"{path}.{key}" if path else key, fallbacks
                )
        elif isinstance(item, list):
            out[key] = _walk_document(item, lang, keys, f"{path}.{key}" if path else key, fallbacks)
        else:
            out[key] = item
    return out
