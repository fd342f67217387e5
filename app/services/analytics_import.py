"""Reading import files for analytics snapshots: Google Analytics 4 Data API
`runReport` responses and the CSV template. A file with any bad row is refused
whole, with every problem located, so a snapshot is never half-imported."""

import csv
import io
import re
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.core.errors import FieldProblem, ValidationFailed
from app.core.validation import Hashtag
from app.models.analytics import MAX_COUNT, PageViews, Platform, SearchTerm, SocialFigure

IMPORT_REJECTED = "import-rejected"
TOP_N = 20
MAX_PROBLEMS = 100
MAX_CSV_LINES = 10_000

# GA4 API names → the snapshot's website figures.
GA4_TOTALS = {"sessions": "sessions", "screenPageViews": "page_views", "totalUsers": "users"}
GA4_USER_FALLBACK = "activeUsers"
GA4_PAGE_DIMENSIONS = ("pagePath", "pagePathPlusQueryString", "unifiedPagePathScreen")
GA4_SEARCH_DIMENSION = "searchTerm"
GA4_SEARCH_COUNTS = ("eventCount", "sessions", "screenPageViews", "totalUsers", "activeUsers")
Sections = dict[str, Any]


class _Problems:
    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field: str, message: str, code: str = "invalid") -> None:
        self.items.append(FieldProblem(field, message, code))

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS]
        more = len(self.items) - len(shown)
        detail = f"The {what} was rejected whole; nothing was imported. Fix the rows in `errors`"
        detail += f" ({more} more not listed)." if more else "."
        raise ValidationFailed(
            detail, code=IMPORT_REJECTED, errors=shown, extra={"problem_count": len(self.items)}
        )


def _count(value: Any) -> int | None:
    """A GA4 metric value (a string) as a whole number 0 to MAX_COUNT, else None: a
    larger one failed the snapshot's own validation later, as a 500."""
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,15}(\.0+)?\s*", value):
        number = int(float(value))
    return number if number is not None and 0 <= number <= MAX_COUNT else None


def _names(headers: Any, where: str, problems: _Problems) -> list[str] | None:
    if not isinstance(headers, list):
        problems.add(where, "must be a list of {name: ...} headers", "type")
        return None
    names = []
    for i, header in enumerate(headers):
        name = header.get("name") if isinstance(header, dict) else None
        if not isinstance(name, str) or not name:
            problems.add(f"{where}[{i}].name", "a header needs a name", "missing")
            return None
        names.append(name)
    return names


def _ga4_report(report: Any, where: str, problems: _Problems, sections: Sections) -> int:
    """One runReport response into `sections`; returns its row count."""
    if not isinstance(report, dict):
        problems.add(where, "not a runReport response object", "type")
        return 0
    dimensions = _names(report.get("dimensionHeaders", []), f"{where}.dimensionHeaders", problems)
    metrics = _names(report.get("metricHeaders"), f"{where}.metricHeaders", problems)
    if dimensions is None or metrics is None:
        return 0
    rows = report.get("rows", [])
    if not isinstance(rows, list):
        problems.add(f"{where}.rows", "must be a list", "type")
        return 0
    if dimensions == []:
        kind = "totals"
        wanted = {name: i for i, name in enumerate(metrics)}
        columns = {field: wanted[api] for api, field in GA4_TOTALS.items() if api in wanted}
        if "users" not in columns and GA4_USER_FALLBACK in wanted:
            columns["users"] = wanted[GA4_USER_FALLBACK]
        if not columns:
            problems.add(
                f"{where}.metricHeaders",
                "a totals report needs sessions, screenPageViews or totalUsers/activeUsers",
                "unsupported",
            )
            return 0
        if len(rows) > 1:
            problems.add(f"{where}.rows", "a report without dimensions has one row", "invalid")
            return 0
    elif len(dimensions) == 1 and dimensions[0] in GA4_PAGE_DIMENSIONS:
        kind = "pages"
        if "screenPageViews" not in metrics:
            problems.add(
                f"{where}.metricHeaders", "a page report needs screenPageViews", "unsupported"
            )
            return 0
        columns = {"count": metrics.index("screenPageViews")}
    elif dimensions == [GA4_SEARCH_DIMENSION]:
        kind = "search"
        found = [name for name in GA4_SEARCH_COUNTS if name in metrics]
        if not found:
            problems.add(
                f"{where}.metricHeaders",
                f"a search report needs one of {', '.join(GA4_SEARCH_COUNTS)}",
                "unsupported",
            )
            return 0
        columns = {"count": metrics.index(found[0])}
    else:
        problems.add(
            f"{where}.dimensionHeaders",
            "supported reports: no dimension (totals), one of "
            f"{', '.join(GA4_PAGE_DIMENSIONS)} (top pages), or searchTerm (search terms)",
            "unsupported",
        )
        return 0
    parsed: list[tuple[str, dict[str, int]]] = []
    for i, row in enumerate(rows):
        at = f"{where}.rows[{i}]"
        if not isinstance(row, dict):
            problems.add(at, "a row is an object", "type")
            continue
        dimension_values = row.get("dimensionValues", [])
        metric_values = row.get("metricValues")
        if not isinstance(dimension_values, list) or len(dimension_values) != len(dimensions):
            problems.add(
                f"{at}.dimensionValues", f"expected {len(dimensions)} dimension values", "shape"
            )
            continue
        if not isinstance(metric_values, list) or len(metric_values) != len(metrics):
            problems.add(f"{at}.metricValues", f"expected {len(metrics)} metric values", "shape")
            continue
        label = ""
        if dimensions:
            cell = dimension_values[0]
            given = cell.get("value") if isinstance(cell, dict) else None
            if not isinstance(given, str) or not given.strip() or len(given) > 2000:
                problems.add(f"{at}.dimensionValues[0].value", "missing or too long", "invalid")
                continue
            label = given
        values: dict[str, int] = {}
        for field, index in columns.items():
            cell = metric_values[index]
            value = _count(cell.get("value") if isinstance(cell, dict) else None)
            if value is None:
                problems.add(
                    f"{at}.metricValues[{index}].value",
                    f"{metrics[index]} must be a whole number from 0 to {MAX_COUNT}",
                    "number",
                )
                continue
            values[field] = value
        if len(values) == len(columns):
            parsed.append((label.strip(), values))
    if kind == "totals":
        totals = parsed[0][1] if parsed else dict.fromkeys(columns, 0)
        sections.update(totals)
    elif kind == "pages":
        sections["top_pages"] = _top(
            parsed, lambda path, n: PageViews(path=path, views=n), problems, f"{where}.rows"
        )
    else:
        terms = [(term, v) for term, v in parsed if term not in ("(not set)", "(other)")]
        sections["top_search_terms"] = _top(
            terms, lambda term, n: SearchTerm(term=term, count=n), problems, f"{where}.rows"
        )
    return len(rows)


def _top(
    parsed: list[tuple[str, dict[str, int]]],
    make: Callable[[str, int], Any],
    problems: _Problems,
    where: str,
) -> list[Any]:
    """The TOP_N largest, summing repeats (GA4 can list a path twice across hosts); a
    sum past MAX_COUNT is a problem with the file (and capped so that `make` accepts it
    until the file is refused)."""
    totals: dict[str, int] = {}
    for label, values in parsed:
        totals[label] = totals.get(label, 0) + values["count"]
    for label, total in totals.items():
        if total > MAX_COUNT:
            problems.add(where, f"the rows of {label[:200]!r} add up to more than {MAX_COUNT}")
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:TOP_N]
    return [make(label, min(count, MAX_COUNT)) for label, count in ranked]


def parse_ga4(body: Any) -> tuple[Sections, int]:
    """A runReport response, or a batchRunReports response (`{"reports": [...]}`)."""
    problems = _Problems()
    sections: Sections = {}
    rows = 0
    if isinstance(body, dict) and "reports" in body:
        reports = body["reports"]
        if not isinstance(reports, list) or not reports:
            problems.add("body.reports", "a non-empty list of runReport responses", "type")
        else:
            for i, report in enumerate(reports):
                rows += _ga4_report(report, f"body.reports[{i}]", problems, sections)
    else:
        rows = _ga4_report(body, "body", problems, sections)
    problems.raise_if_any("GA4 report")
    return sections, rows


# ---- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "item", "platform", "hashtag", "metric", "value")
CSV_METRICS = {
    "website": ("sessions", "page_views", "users"),
    "top_page": ("views",),
    "search_term": ("count",),
    "social": ("posts", "clicks", "likes", "reposts"),
}
CSV_TEMPLATE = (
    "section,item,platform,hashtag,metric,value\r\n"
    "website,,,,sessions,1520\r\n"
    "website,,,,page_views,4310\r\n"
    "website,,,,users,1105\r\n"
    "top_page,/asettautuminen,,,views,640\r\n"
    "search_term,vuokra-asunnot,,,count,37\r\n"
    "social,,instagram,#kemijärvi,posts,14\r\n"
    "social,,instagram,#kemijärvi,likes,820\r\n"
    "social,,facebook,#tuhannenjayhdentyönmatkatoimisto,posts,12\r\n"
    "social,,facebook,#tuhannenjayhdentyönmatkatoimisto,clicks,95\r\n"
)
_hashtag: TypeAdapter[str] = TypeAdapter(Hashtag)
_platform: TypeAdapter[str] = TypeAdapter(Platform)


def _decode(raw: bytes, problems: _Problems) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.add(f"line {line}", "the file is not UTF-8 text", "encoding")
        return None


def parse_csv(raw: bytes) -> tuple[Sections, int]:
    """The CSV template (see the README): a header line, then one figure per line."""
    problems = _Problems()
    text = _decode(raw, problems)
    problems.raise_if_any("CSV file")
    assert text is not None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    sections: Sections = {}
    website: dict[str, int] = {}
    pages: dict[str, int] = {}
    terms: dict[str, int] = {}
    social: dict[tuple[str, str], dict[str, int]] = {}
    seen: dict[tuple[str, ...], int] = {}
    header: list[str] | None = None
    count = 0
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                if sorted(header) != sorted(CSV_COLUMNS):
                    problems.add(
                        f"line {start}",
                        f"the header must name the columns {','.join(CSV_COLUMNS)}",
                        "header",
                    )
                    break
                continue
            count += 1
            if count > MAX_CSV_LINES:
                problems.add(f"line {start}", f"at most {MAX_CSV_LINES} lines", "too-long")
                break
            if len(record) != len(header):
                problems.add(
                    f"line {start}", f"expected {len(header)} columns, got {len(record)}", "shape"
                )
                continue
            cells = dict(zip(header, (cell.strip() for cell in record), strict=True))
            _csv_row(cells, start, problems, seen, website, pages, terms, social)
    except csv.Error as error:
        problems.add(f"line {reader.line_num}", f"not valid CSV: {error}", "syntax")
    if header is None and not problems.items:
        problems.add("line 1", "the file is empty; it needs the header line", "header")
    problems.raise_if_any("CSV file")
    sections.update(website)
    if pages:
        sections["top_pages"] = _top(
            [(p, {"count": n}) for p, n in pages.items()],
            lambda p, n: PageViews(path=p, views=n),
            problems,
            "body",
        )
    if terms:
        sections["top_search_terms"] = _top(
            [(t, {"count": n}) for t, n in terms.items()],
            lambda t, n: SearchTerm(term=t, count=n),
            problems,
            "body",
        )
    if social:
        sections["social"] = [
            SocialFigure(platform=platform, hashtag=hashtag, **measures)
            for (platform, hashtag), measures in social.items()
        ]
    problems.raise_if_any("CSV file")
    return sections, count


def _csv_row(
    cells: dict[str, str],
    line: int,
    problems: _Problems,
    seen: dict[tuple[str, ...], int],
    website: dict[str, int],
    pages: dict[str, int],
    terms: dict[str, int],
    social: dict[tuple[str, str], dict[str, int]],
) -> None:
    def bad(column: str, message: str, code: str = "invalid") -> None:
        problems.add(f"line {line}, column {column}", message, code)

    section = cells["section"].lower()
    if section not in CSV_METRICS:
        bad("section", f"one of {', '.join(CSV_METRICS)}", "unknown")
        return
    before = len(problems.items)
    metric = cells["metric"].lower()
    if metric not in CSV_METRICS[section]:
        bad("metric", f"for {section}: one of {', '.join(CSV_METRICS[section])}", "unknown")
    value = cells["value"].replace(" ", "")
    if not re.fullmatch(r"\d{1,15}", value) or int(value) > MAX_COUNT:
        bad("value", f"a whole number from 0 to {MAX_COUNT}", "number")
    item, platform, hashtag = cells["item"], cells["platform"], cells["hashtag"]
    if section in ("top_page", "search_term"):
        if not item or len(item) > (2000 if section == "top_page" else 200):
            bad("item", "the page path or search term is missing or too long", "missing")
    elif item:
        bad("item", f"leave empty for {section}")
    if section == "social":
        try:
            platform = _platform.validate_python(platform)
        except ValidationError:
            bad("platform", "a platform such as facebook, instagram or x", "missing")
        try:
            hashtag = _hashtag.validate_python(hashtag)
        except ValidationError:
            bad("hashtag", "a hashtag such as #kemijärvi", "missing")
    else:
        for column in ("platform", "hashtag"):
            if cells[column]:
                bad(column, f"leave empty for {section}")
    if len(problems.items) > before:
        return
    key = (section, item, platform, hashtag, metric)
    if key in seen:
        bad("metric", f"the same figure is on line {seen[key]} already", "duplicate")
        return
    seen[key] = line
    number = int(value)
    if section == "website":
        website[metric] = number
    elif section == "top_page":
        pages[item] = number
    elif section == "search_term":
        terms[item] = number
    else:
        social.setdefault((platform, hashtag), {})[metric] = number
