"""Search normalisation shared by PostgreSQL and SQLite: text and queries become plain terms.

Neither database analyses language. PostgreSQL (the 'simple' text-search configuration) and
SQLite FTS5 only ever see the output of this module: index text as space-separated terms and
queries as AND-ed groups of OR-ed terms. Both therefore match exactly alike, and every term is
letters only or digits only, so it is safe inside a tsquery or an FTS5 query without escaping.

Pipeline for a text in a known language (`index_terms`):

1. NFC, ``str.lower``, NFC again. Letters keep their diacritics: ä, ö and å are never folded
   into a and o. Combining marks left over after NFC and invisible characters (soft hyphen,
   zero-width joiners) are dropped; every other non-letter, non-digit separates words.
2. Words are runs of letters and digits, optionally joined by hyphens ("TE-toimisto"). A run
   of letters and a run of digits are separate tokens ("covid19" -> "covid", "19"). A word of
   letter parts joined by hyphens yields the joined form ("tetoimisto") and then each part.
   Tokens are cut at 40 characters; one-character tokens and stop words are dropped.
3. Digits are kept as they are. Letters get the Snowball stem of the language; Finnish stems
   are then folded (below) so that the forms of one word meet.

Finnish fold (`_fold_fi`), applied to the end of the Snowball stem, the same way for index text
and queries. The canonical form is often not a real word; it only has to be the same for all
forms of a word. V is a vowel (a e i o u y ä ö å), "strip" removes trailing vowels but keeps
at least three characters and one vowel.

  a. Strip trailing vowels: koulu -> koul, päiväko(teja) -> päiväk.
  b. Derivational endings lose the consonant Snowball keeps only in some cases:
     -in/-is (suomalainen, suomalaisen, suomalaista) and -us/-ys/-os/-ös with their -ks-
     forms (sopimus, sopimuksen, sopimusta; terveys; laitos, laitoksen): drop the
     consonants, strip again.
  c. A lone t, d or j at the very end of the stem is dropped and the rest stripped again:
     Snowball removes such a t as a plural ending from some forms only (päiväkot(i),
     päiväkod(issa) and päiväko(teja) all become päiväk; työt -> työ; kotej(a) -> kot). So is
     the t of a partitive -tA that Snowball leaves on a short word after a long vowel or a
     diphthong (työtä -> työ, muuta -> muu). A t uncovered by stripping any other vowel stays,
     which keeps muutto (muut) apart from muu.
  d. Doubled letters in the final consonant cluster collapse (tt -> t, nn -> n), and the
     weak grade maps to one canonical grade:

     =========  =========  ==========================================
     cluster    canonical  joins
     =========  =========  ==========================================
     d          t          katu / kadun (short stems, where d is kept)
     v          p          tapa / tavan, kauppa / kaupan (pp -> p)
     nt         n          asunto / asunnon, kunta / kunnan
     lt         l          silta / sillan
     rt         r          parta / parran, kortti / kortin
     mp         m          kampa / kamman
     ng         nk         kenkä / kengän
     lk, lj     l          jalka / jalan, kylki / kyljen
     rk, rj     r          järki / järjen
     hk         h          vihko / vihon
     hd         ht         lehti / lehden
     lv         lp         halpa / halvan
     rv         rp         turpa / turvan
     =========  =========  ==========================================

Known gaps, where forms of one word do not meet: a lost k (joki / joen, tuki / tuen), k -> v
(puku / puvun), vowel changes (työ / töitä), -in/-ime- nouns (puhelin / puhelimen), very short
words whose case ending Snowball leaves on (apu / avun), and words Snowball misreads as an
ending (lapsi -> lap, which also meets Lappi; laajakaista -> laajak, laajakaistan -> laajakaist).

A query's language is unknown, so each query word yields its Finnish, English and Swedish
normal forms, plus those of its synonyms from app/seed/data/search_synonyms.yaml.
"""

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Final

import snowballstemmer  # type: ignore[import-untyped]
import yaml

LANGS: Final = ("fi", "en", "sv")
MAX_TOKEN_LENGTH: Final = 40
MIN_TOKEN_LENGTH: Final = 2
MAX_QUERY_WORDS: Final = 32
"""Query words beyond this many are ignored, so a pasted essay cannot make a huge tsquery."""

STOP_WORDS: Final = frozenset(
    {
        # Finnish
        "ja",
        "tai",
        "sekä",
        "eli",
        "on",
        "ovat",
        "ei",
        "se",
        "ne",
        "kuin",
        "että",
        # English
        "the",
        "and",
        "or",
        "of",
        "for",
        "in",
        "to",
        "an",
        "at",
        "by",
        "is",
        "are",
        # Swedish
        "och",
        "att",
        "eller",
        "som",
        "är",
        "en",
        "ett",
        "av",
        "för",
        "på",
        "med",
        "till",
    }
)
"""Words dropped from index text and queries alike: too common to narrow a search."""

SYNONYMS_FILE: Final = "search_synonyms.yaml"

_STEMMERS: Final = {"fi": "finnish", "en": "english", "sv": "swedish"}
_HYPHENS: Final = frozenset("-\u2010\u2011")
_INVISIBLE: Final = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_WORD_RE: Final = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_RUN_RE: Final = re.compile(r"[^\W\d_]+|\d+")

_FI_VOWELS: Final = frozenset("aeiouyäöå")
_FI_MIN_STEM: Final = 3
_FI_DERIVATIONAL: Final = (
    ("uks", 2),
    ("yks", 2),
    ("oks", 2),
    ("öks", 2),
    ("us", 1),
    ("ys", 1),
    ("os", 1),
    ("ös", 1),
    ("is", 1),
    ("in", 1),
)
_FI_DROPPED: Final = frozenset({"t", "d", "j"})
_FI_GRADES: Final = {
    "d": "t",
    "v": "p",
    "nt": "n",
    "lt": "l",
    "rt": "r",
    "mp": "m",
    "ng": "nk",
    "lk": "l",
    "lj": "l",
    "rk": "r",
    "rj": "r",
    "hk": "h",
    "hd": "ht",
    "lv": "lp",
    "rv": "rp",
}


def index_terms(text: str, lang: str) -> list[str]:
    """Normalised terms of a text written in `lang` ('fi', 'en' or 'sv'), in order, for indexing."""
    _check_lang(lang)
    terms: list[str] = []
    for word in _words(text):
        tokens = ((word.joined,) if word.joined else ()) + word.pieces
        terms.extend(term for token in tokens if (term := _normal_form(token, lang)))
    return terms


def index_text(text: str, lang: str) -> str:
    """' '.join(index_terms(...)) — what gets stored in the search column."""
    return " ".join(index_terms(text, lang))


def query_groups(q: str) -> list[list[str]]:
    """The query as AND-ed groups of OR-ed alternative terms. The query language is unknown, so
    each query word yields its Finnish, English and Swedish normal forms plus the normal forms of
    its synonyms; duplicates removed, stable order. Empty list for a query with no usable words.

    A synonym written as several words matches where all of its words appear consecutively in
    the query; those query words then form one group. A member of several words contributes the
    forms of its longest word (the first one on a tie), since a group cannot hold a phrase.
    """
    units = [unit for word in _words(q) for unit in word.units][:MAX_QUERY_WORDS]
    keys = [_forms(unit) for unit in units]
    synonyms = _synonyms()
    groups: list[list[str]] = []
    i = 0
    while i < len(units):
        length, matched = synonyms.match(keys, i)
        if length == 0:
            alternatives = list(_dedupe(keys[i]))
            i += 1
        else:
            own = keys[_representative(units[i : i + length]) + i]
            expansions = (form for group in matched for form in synonyms.expansions[group])
            alternatives = list(_dedupe((*own, *expansions)))
            i += length
        alternatives = [term for term in alternatives if _is_safe(term)]
        if alternatives and alternatives not in groups:
            groups.append(alternatives)
    return groups


@dataclass(frozen=True, slots=True)
class _Word:
    """A word of the text: a hyphenated compound written as one term, and its tokens."""

    joined: str | None
    pieces: tuple[str, ...]

    @property
    def units(self) -> tuple[str, ...]:
        """What a query searches for: the compound as a whole, or else each token."""
        return (self.joined,) if self.joined else self.pieces


def _check_lang(lang: str) -> None:
    """Fail loudly, since text stemmed in the wrong language would silently never match."""
    if lang not in _STEMMERS:
        raise ValueError(f"unsupported search language {lang!r}; expected one of {LANGS}")


def _prepare(text: str) -> str:
    """Lowercase NFC text in which only letters, digits and '-' remain between spaces."""
    lowered = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    chars: list[str] = []
    for ch in lowered:
        if ch.isalpha() or ch.isdecimal():
            chars.append(ch)
        elif ch in _HYPHENS:
            chars.append("-")
        elif ch not in _INVISIBLE and not unicodedata.combining(ch):
            chars.append(" ")
    return "".join(chars)


def _usable(token: str) -> bool:
    """One-letter tokens and stop words would match almost everything."""
    return len(token) >= MIN_TOKEN_LENGTH and token not in STOP_WORDS


def _words(text: str) -> Iterator[_Word]:
    """The text's words, tokens cut to MAX_TOKEN_LENGTH, unusable tokens dropped."""
    for match in _WORD_RE.finditer(_prepare(text)):
        parts = match.group().split("-")
        runs = [_RUN_RE.findall(part) for part in parts]
        pieces = tuple(
            token
            for part_runs in runs
            for run in part_runs
            if _usable(token := run[:MAX_TOKEN_LENGTH])
        )
        joined: str | None = None
        if len(parts) > 1 and all(len(r) == 1 and r[0].isalpha() for r in runs):
            candidate = "".join(parts)[:MAX_TOKEN_LENGTH]
            joined = candidate if _usable(candidate) else None
        if joined or pieces:
            yield _Word(joined, pieces)


def _is_safe(term: str) -> bool:
    """Letters only or digits only: nothing a tsquery or FTS5 query could read as syntax."""
    return term.isalpha() or term.isdecimal()


@lru_cache(maxsize=65536)
def _normal_form(token: str, lang: str) -> str:
    """The token's term in `lang`, or '' if it could not be made safe (never expected)."""
    if token.isdecimal():
        return token
    # A fresh stemmer per call: Snowball stemmers keep state, and this may run in threads.
    stem = str(snowballstemmer.stemmer(_STEMMERS[lang]).stemWord(token))
    if lang == "fi":
        stem = _fold_fi(stem)
    return stem if _is_safe(stem) else ""


def _strip_vowels(stem: str) -> tuple[str, str]:
    """Remove trailing vowels while three characters and one vowel remain: (rest, removed)."""
    end = len(stem)
    while (
        end > _FI_MIN_STEM
        and stem[end - 1] in _FI_VOWELS
        and any(ch in _FI_VOWELS for ch in stem[: end - 1])
    ):
        end -= 1
    return stem[:end], stem[end:]


def _split_cluster(stem: str) -> tuple[str, str]:
    """The stem up to its last vowel, and the consonants after it."""
    end = len(stem)
    while end and stem[end - 1] not in _FI_VOWELS:
        end -= 1
    return stem[:end], stem[end:]


def _undouble(cluster: str) -> str:
    """Collapse doubled consonants (tt -> t), as Snowball does only for some forms."""
    return "".join(ch for i, ch in enumerate(cluster) if i == 0 or ch != cluster[i - 1])


def _drops_final(prefix: str, cluster: str, stripped: str) -> bool:
    """Whether the stem's last consonant is an ending Snowball removes only from some forms.

    A lone t, d or j right at the end of the stem (päiväkot, päiväkod vs päiväko(teja); työt
    vs työ; kotej vs kot), or a partitive -tA that Snowball leaves on a short word after a long
    vowel or diphthong (työtä, muuta), but not a t exposed by stripping another vowel (muutto
    stays apart from muu).
    """
    if cluster not in _FI_DROPPED or len(prefix) < _FI_MIN_STEM:
        return False
    if not stripped:
        return True
    return cluster == "t" and stripped in ("a", "ä") and prefix[-2] in _FI_VOWELS


def _fold_fi(stem: str) -> str:
    """Map a Finnish Snowball stem to the form all inflections of the word share (module doc)."""
    stem, stripped = _strip_vowels(stem)
    for ending, consonants in _FI_DERIVATIONAL:
        if stem.endswith(ending) and len(stem) - consonants >= _FI_MIN_STEM:
            stem, stripped = _strip_vowels(stem[:-consonants])
            break
    prefix, cluster = _split_cluster(stem)
    if prefix and cluster and _drops_final(prefix, cluster, stripped):
        stem, _ = _strip_vowels(prefix)
        prefix, cluster = _split_cluster(stem)
    if not prefix or not cluster:
        return stem
    cluster = _undouble(cluster)
    return prefix + _FI_GRADES.get(cluster, cluster)


@lru_cache(maxsize=16384)
def _forms(unit: str) -> tuple[str, str, str]:
    """A query word's Finnish, English and Swedish normal forms, in that order."""
    fi, en, sv = (_normal_form(unit, lang) for lang in LANGS)
    return fi, en, sv


def _same_word(a: tuple[str, str, str], b: tuple[str, str, str]) -> bool:
    """Whether two words are forms of one word in some language (compared language by language)."""
    return any(x and x == y for x, y in zip(a, b, strict=True))


def _representative(units: Sequence[str]) -> int:
    """Index of the most specific word of a phrase: the longest, the first one on a tie."""
    return max(range(len(units)), key=lambda i: (len(units[i]), -i))


def _dedupe(terms: Sequence[str]) -> Iterator[str]:
    """Terms in order, each once, empty ones dropped."""
    seen: set[str] = set()
    for term in terms:
        if term and term not in seen:
            seen.add(term)
            yield term


@dataclass(frozen=True, slots=True)
class _Synonyms:
    """Synonym groups, ready to match query words against."""

    members: tuple[tuple[tuple[tuple[str, str, str], ...], int], ...]
    """Each member as the forms of its words, with its group's index; longest members first."""
    expansions: tuple[tuple[str, ...], ...]
    """Per group, the terms a match adds to the query group."""

    def match(self, keys: Sequence[tuple[str, str, str]], start: int) -> tuple[int, list[int]]:
        """The longest member(s) matching the query words at `start`: (word count, groups)."""
        found = 0
        groups: set[int] = set()
        for member, group in self.members:
            length = len(member)
            if length < found:
                break
            if length <= len(keys) - start and all(
                _same_word(keys[start + j], word) for j, word in enumerate(member)
            ):
                found = length
                groups.add(group)
        return found, sorted(groups)


@cache
def _synonyms() -> _Synonyms:
    """Parse the synonym file once; it ships inside the package and never changes at runtime."""
    raw = files("app.seed").joinpath("data", SYNONYMS_FILE).read_text(encoding="utf-8")
    return _parse_synonyms(yaml.safe_load(raw))


def _parse_synonyms(data: object) -> _Synonyms:
    """Validate the YAML shape, so a broken file fails at the first query, not silently."""
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ValueError(f"{SYNONYMS_FILE}: expected a mapping with a 'groups' list")
    members: list[tuple[tuple[tuple[str, str, str], ...], int]] = []
    expansions: list[tuple[str, ...]] = []
    for index, group in enumerate(data["groups"]):
        if not isinstance(group, list) or not all(isinstance(m, str) for m in group):
            raise ValueError(f"{SYNONYMS_FILE}: group {index + 1} is not a list of strings")
        terms: list[str] = []
        for member in group:
            units = [unit for word in _words(member) for unit in word.units]
            if not units:
                raise ValueError(f"{SYNONYMS_FILE}: {member!r} has no searchable word")
            members.append((tuple(_forms(unit) for unit in units), index))
            terms.extend(_forms(units[_representative(units)]))
        expansions.append(tuple(_dedupe(terms)))
    members.sort(key=lambda item: -len(item[0]))
    return _Synonyms(members=tuple(members), expansions=tuple(expansions))
