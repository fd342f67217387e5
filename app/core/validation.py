"""Reusable input types: phone numbers, web links, hashtags, slugs."""

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, StringConstraints


def _e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, "FI")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be an http(s) URL")
    return value


def _hashtag(value: str) -> str:
    tag = value if value.startswith("#") else f"#{value}"
    # Letters include ä, ö and å: #kemijärvi and #kemijarvi are different tags.
    if not re.fullmatch(r"#\w{1,100}", tag):
        raise ValueError("a hashtag is # followed by letters, digits or underscores")
    return tag.lower()


PhoneNumber = Annotated[str, StringConstraints(max_length=40), AfterValidator(_e164)]
"""Any reasonable notation in, E.164 (`+358401234567`) out; Finnish numbers by default."""

HttpUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(_http_url)
]
Hashtag = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_hashtag)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
