"""Localizing JSON documents whose translatable texts also come in lists
(`channels`, `successes`): `localize_document` handles single texts by key; this
turns the listed ones into strings first, recording the same fallbacks."""

from typing import Any

from app.core.i18n import Localized, localize_document


def _is_translations(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and "fi" in value
        and all(isinstance(v, str) for v in value.values())
    )


def _lists(value: Any, lang: str, keys: frozenset[str], path: str, fallbacks: list[str]) -> Any:
    if isinstance(value, dict):
        prefix = f"{path}." if path else ""
        out = {}
        for key, item in value.items():
            where = f"{prefix}{key}"
            if key in keys and isinstance(item, list) and all(map(_is_translations, item)):
                strings = []
                for index, text in enumerate(item):
                    if text.get(lang) is None:
                        fallbacks.append(f"{where}[{index}]")
                    strings.append(text.get(lang) or text["fi"])
                out[key] = strings
            else:
                out[key] = _lists(item, lang, keys, where, fallbacks)
        return out
    if isinstance(value, list):
        return [
            _lists(item, lang, keys, f"{path}[{index}]", fallbacks)
            for index, item in enumerate(value)
        ]
    return value


def localize_texts(
    data: Any,
    lang: str | None,
    keys: frozenset[str],
    list_keys: frozenset[str] = frozenset(),
    path: str = "",
) -> Localized:
    """Texts under `keys`, and lists of texts under `list_keys`, in `lang`."""
    fallbacks: list[str] = []
    if lang is not None and list_keys:
        data = _lists(data, lang, list_keys, path, fallbacks)
    return localize_document(data, lang, keys, path=path, fallbacks=fallbacks)
