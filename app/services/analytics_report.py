"""The quarterly report for the comms group and the municipal board (seed p. 76):
key metrics and their change since the previous quarter, eight quarters of charts,
successes, things to develop, observations on the municipality's image, and the
communication plan's tasks for the next quarter. HTML to print, or Markdown."""

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.time import utcnow
from app.models.analytics import AnalyticsSnapshot
from app.models.municipality import Municipality
from app.services import analytics, charts
from app.services import comms_plan as plan_service
from app.services.analytics import KEY_METRICS, Quarter

CHART_QUARTERS = 8
Text = dict[str, str] | None

WORDS: dict[str, dict[str, Any]] = {
    "fi": {
        "title": "Asettautumispalvelujen viestinnän neljännesvuosiraportti",
        "key_metrics": "Keskeiset mittarit ja muutos",
        "compared_to": "Verrattuna neljännekseen",
        "no_previous": "Edellisen neljänneksen koostetta ei ole: muutosta ei voi laskea.",
        "metric": "Mittari",
        "value": "Nyt",
        "previous": "Edellinen",
        "change": "Muutos",
        "target": "Tavoite",
        "new": "uusi",
        "vanished": "poistunut",
        "charts": "Kehitys kahdeksan neljänneksen ajalta",
        "no_charts": "Ei kuvattavia lukuja vielä.",
        "successes": "Onnistumiset",
        "to_develop": "Kehittämisen kohteet",
        "image": "Havainnot kuntamielikuvasta",
        "observations": "Yleiset havainnot asettautumispalveluista",
        "interviews": "Tulomuuttajahaastattelujen yhteenveto",
        "moods": "Tunnelmat",
        "expectations": "Odotukset",
        "first_impressions": "Ensivaikutelmat",
        "feedback": "Palautteet ja kyselyt",
        "responses": "vastausta",
        "social": "Some hästageittäin",
        "platform": "Kanava",
        "hashtag": "Hästagi",
        "posts": "Postaukset",
        "clicks": "Klikkaukset",
        "likes": "Tykkäykset",
        "reposts": "Uudelleenjaot",
        "top_pages": "Katsotuimmat sivut",
        "search_terms": "Haetuimmat hakusanat",
        "upcoming": "Viestintäsuunnitelman tehtävät neljänneksellä",
        "ongoing": "Jatkuvat",
        "no_plan": "Vuodelle {year} ei ole viestintäsuunnitelmaa.",
        "plan": "Suunnitelma",
        "when": "Milloin",
        "task": "Tehtävä",
        "for_whom": "Kenelle",
        "responsible": "Vastuu",
        "none": "Ei kirjattu.",
        "generated": "Laadittu",
        "data_table": "Luvut taulukkona",
        "quarter": "Neljännes",
        "chart_desc": "{label} neljänneksittäin {first}–{last}: {values}.",
        "missing": "ei tietoa",
        "trend_link": "Sarja JSON-muodossa",
        "status": {
            "draft": "luonnos",
            "submitted": "hallituksen käsittelyssä",
            "approved": "hyväksytty",
            "returned": "palautettu",
        },
    },
    "en": {
        "title": "Quarterly report on settlement-services communication",
        "key_metrics": "Key metrics and their change",
        "compared_to": "Compared with",
        "no_previous": "There is no snapshot of the previous quarter: no change to show.",
        "metric": "Metric",
        "value": "Now",
        "previous": "Previous",
        "change": "Change",
        "target": "Target",
        "new": "new",
        "vanished": "gone",
        "charts": "The last eight quarters",
        "no_charts": "No figures to chart yet.",
        "successes": "Successes",
        "to_develop": "Things to develop",
        "image": "Observations on the municipality's image",
        "observations": "General observations on settlement services",
        "interviews": "Mover interviews in summary",
        "moods": "Moods",
        "expectations": "Expectations",
        "first_impressions": "First impressions",
        "feedback": "Feedback and surveys",
        "responses": "responses",
        "social": "Social media by hashtag",
        "platform": "Platform",
        "hashtag": "Hashtag",
        "posts": "Posts",
        "clicks": "Clicks",
        "likes": "Likes",
        "reposts": "Reposts",
        "top_pages": "Most viewed pages",
        "search_terms": "Most searched terms",
        "upcoming": "Communication plan tasks in",
        "ongoing": "Ongoing",
        "no_plan": "There is no communication plan for {year}.",
        "plan": "Plan",
        "when": "When",
        "task": "Task",
        "for_whom": "For whom",
        "responsible": "Responsible",
        "none": "Nothing recorded.",
        "generated": "Generated",
        "data_table": "The figures as a table",
        "quarter": "Quarter",
        "chart_desc": "{label} per quarter {first}–{last}: {values}.",
        "missing": "no data",
        "trend_link": "The series as JSON",
        "status": {
            "draft": "draft",
            "submitted": "with the board",
            "approved": "approved",
            "returned": "returned",
        },
    },
}

_environment = Environment(
    loader=PackageLoader("app", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def text(value: Any, lang: str) -> str:
    """A translations object in `lang`, falling back to Finnish."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.get(lang) or value.get("fi") or "")


@dataclass
class Chart:
    key: str
    label: str
    quarters: list[str]
    values: list[float | None]
    svg: str = ""
    description: str = ""


@dataclass
class Report:
    lang: str
    municipality: str
    quarter: str
    period: tuple[date, date]
    snapshot: dict[str, Any]
    comparison: dict[str, Any]
    charts: list[Chart]
    next_quarter: str
    plan: dict[str, Any] | None
    tasks: list[dict[str, Any]]
    ongoing: list[dict[str, Any]]
    trend_base: str
    generated: str
    words: dict[str, Any] = field(default_factory=dict)


def _format(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u00a0")
    return f"{value:,.1f}".replace(",", "\u00a0")


def _signed(value: float | None, suffix: str = "") -> str:
    """A change with an arrow and a sign, so it reads the same printed in black."""
    if value is None:
        return "–"
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    number = f"{abs(value):.1f}" if suffix else _format(abs(value))
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{arrow} {sign}{number}{suffix}"


async def build(
    *, session: AsyncSession, snapshot: AnalyticsSnapshot, lang: str, api_base: str
) -> Report:
    """Everything the report shows, in one language."""
    municipality = await session.get(Municipality, snapshot.municipality_id)
    assert municipality is not None
    quarter = Quarter.parse(snapshot.quarter)
    document = await analytics.document(session, snapshot)
    targets = await plan_service.quarter_targets(
        session=session, municipality_id=snapshot.municipality_id, year=quarter.year
    )
    comparison = await analytics.comparison(
        session=session, snapshot=snapshot, compare="previous", targets=targets
    )
    quarters = analytics.quarter_range(quarter.shift(1 - CHART_QUARTERS), quarter)
    keys = [*KEY_METRICS, *(f"computed.{name}" for name in sorted(analytics.COMPUTED_METRICS))]
    values = await analytics.series(session, snapshot.municipality_id, keys, quarters)
    words = WORDS[lang]
    chart_list = []
    for key in keys:
        if all(value is None for value in values[key]):
            continue
        label = text(analytics.label_of(key), lang)
        shown = ", ".join(
            f"{q} {(_format(v) if v is not None else words['missing'])}"
            for q, v in zip(quarters, values[key], strict=True)
        )
        chart_list.append(
            Chart(
                key=key,
                label=label,
                quarters=[str(q) for q in quarters],
                values=values[key],
                description=words["chart_desc"].format(
                    label=label, first=quarters[0], last=quarters[-1], values=shown
                ),
            )
        )
    next_quarter = quarter.shift(1)
    plan_next = await plan_service.plan_for_year(
        session=session, municipality_id=snapshot.municipality_id, year=next_quarter.year
    )
    plan_doc = None
    tasks: list[dict[str, Any]] = []
    ongoing: list[dict[str, Any]] = []
    if plan_next is not None:
        plan_doc = await plan_service.document(session, plan_next)
        upcoming = plan_service.calendar(plan_doc, next_quarter.first_day, next_quarter.last_day)
        tasks, ongoing = upcoming["tasks"], upcoming["ongoing"]
    report = Report(
        lang=lang,
        municipality=text(municipality.name.as_dict(), lang),
        quarter=str(quarter),
        period=(quarter.first_day, quarter.last_day),
        snapshot=document,
        comparison=comparison,
        charts=chart_list,
        next_quarter=str(next_quarter),
        plan=plan_doc,
        tasks=tasks,
        ongoing=ongoing,
        trend_base=f"{api_base}/analytics/trends",
        generated=utcnow().date().isoformat(),
        words=words,
    )
    return report


async def render_charts(report: Report) -> None:
    """Draw the SVG charts off the event loop (matplotlib is CPU-bound)."""

    def draw() -> None:
        for chart in report.charts:
            chart.svg = charts.line_chart(
                title=chart.label,
                description=chart.description,
                labels=chart.quarters,
                values=chart.values,
            )

    await asyncio.to_thread(draw)


def _context(report: Report) -> dict[str, Any]:
    lang = report.lang
    return {
        "r": report,
        "w": report.words,
        "t": lambda value: text(value, lang),
        "fmt": _format,
        "signed": _signed,
        "pct": lambda value: _signed(value, " %") if value is not None else "–",
    }


def render_html(report: Report) -> str:
    """A printable HTML page: charts inline as SVG, readable in black and white."""
    template = _environment.get_template("analytics_report.html")
    return template.render(**_context(report))


def _md(value: Any) -> str:
    """Text made safe inside Markdown (and its tables): no markup from user input."""
    plain = " ".join(str(value).split())
    for char in "\\`*_{}[]<>()#+!|":
        plain = plain.replace(char, "\\" + char)
    return plain


def render_markdown(report: Report) -> str:
    """The same report in Markdown; charts become tables of their series (Markdown
    cannot inline SVG safely) with a link to the trend endpoint."""
    w, lang = report.words, report.lang

    def t(value: Any) -> str:
        return _md(text(value, lang))

    lines = [
        f"# {_md(w['title'])}: {_md(report.municipality)} {report.quarter}",
        "",
        f"{report.period[0].isoformat()} – {report.period[1].isoformat()} · "
        f"{_md(w['generated'])} {report.generated}",
        "",
        f"## {_md(w['key_metrics'])}",
        "",
    ]
    comparison = report.comparison
    if comparison["against_snapshot"] is None:
        lines += [_md(w["no_previous"]), ""]
    lines += [
        f"{_md(w['compared_to'])} {comparison['against']}.",
        "",
        f"| {w['metric']} | {w['value']} | {w['previous']} | {w['change']} | % | {w['target']} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for metric in comparison["metrics"]:
        flag = f" ({w[metric['flag']]})" if metric["flag"] else ""
        lines.append(
            f"| {t(metric['label'])}{flag} | {_format(metric['value'])} | "
            f"{_format(metric['previous'])} | {_signed(metric['change_abs'])} | "
            f"{_signed(metric['change_pct'], ' %') if metric['change_pct'] is not None else '–'} | "
            f"{_format(metric['target'])} |"
        )
    lines += ["", f"## {_md(w['charts'])}", ""]
    if not report.charts:
        lines += [_md(w["no_charts"]), ""]
    for chart in report.charts:
        lines += [
            f"### {_md(chart.label)}",
            "",
            f"| {w['quarter']} | {_md(chart.label)} |",
            "|---|---:|",
            *(f"| {q} | {_format(v)} |" for q, v in zip(chart.quarters, chart.values, strict=True)),
            "",
            f"{_md(w['trend_link'])}: `{report.trend_base}/{chart.key}"
            f"?from={chart.quarters[0]}&to={chart.quarters[-1]}`",
            "",
        ]
    snapshot = report.snapshot
    for title, items in (
        (w["successes"], snapshot["successes"]),
        (w["to_develop"], snapshot["to_develop"]),
    ):
        lines += [f"## {_md(title)}", ""]
        lines += [f"- {t(item)}" for item in items] or [_md(w["none"])]
        lines.append("")
    for title, value in (
        (w["image"], snapshot["image_observations"]),
        (w["observations"], snapshot["observations"]),
    ):
        lines += [f"## {_md(title)}", "", t(value) or _md(w["none"]), ""]
    if snapshot["interviews"]:
        lines += [f"## {_md(w['interviews'])}", ""]
        for interview in snapshot["interviews"]:
            for part in ("moods", "expectations", "first_impressions"):
                if interview.get(part):
                    lines.append(f"- **{_md(w[part])}:** {t(interview[part])}")
            lines.append("")
    if snapshot["feedback"]:
        lines += [f"## {_md(w['feedback'])}", ""]
        for item in snapshot["feedback"]:
            count = f" ({item['responses']} {w['responses']})" if item.get("responses") else ""
            lines.append(f"- **{_md(item['source'])}**{count}: {t(item['summary'])}")
        lines.append("")
    lines += [f"## {_md(w['upcoming'])} {report.next_quarter}", ""]
    if report.plan is None:
        lines += [_md(w["no_plan"].format(year=report.next_quarter[:4])), ""]
    else:
        plan = report.plan
        lines += [
            f"{_md(w['plan'])}: {t(plan['title'])} {plan['year']} v{plan['version']} "
            f"({_md(w['status'][plan['status']])})",
            "",
            f"| {w['when']} | {w['task']} | {w['for_whom']} | {w['responsible']} |",
            "|---|---|---|---|",
        ]
        for task in report.tasks:
            lines.append(
                f"| {task['starts_at'].strftime('%Y-%m-%d %H:%M')} | {t(task['title'])} | "
                f"{t(task['audience']['name']) or _md(task['audience']['key'])} | "
                f"{t(task['responsible'])} |"
            )
        for task in report.ongoing:
            lines.append(
                f"| {_md(w['ongoing'])} | {t(task['title'])} | "
                f"{t(task['audience']['name']) or _md(task['audience']['key'])} | "
                f"{t(task['responsible'])} |"
            )
        lines.append("")
    return "\n".join(lines)
