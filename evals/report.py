"""From suite runs to reports: ``summary.json``, ``report.md``, ``results.csv`` and
``junit.xml`` (``report.html`` is in ``html.py``), all rebuilt from results files alone."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pydantic import BaseModel

from ._records import Record
from ._rundir import RunInfo
from ._runner import SuiteRun
from ._text import unlinked, visible
from .compare import Comparison
from .details import UsageDetail
from .measures import CLUSTER, MetricDelta, MetricResult, by_unit


class ModelSummary(BaseModel):
    metrics: list[MetricResult]
    groups: dict[str, dict[str, list[MetricResult]]]


class SuiteSummary(BaseModel):
    suite: str
    run: str
    """The run directory, relative to --out."""
    info: RunInfo
    models: dict[str, ModelSummary]


class Summary(BaseModel):
    created: str
    suites: list[SuiteSummary]
    judge: str | None = None
    self_judged: list[str] = []
    """Suites that ask a judge where none was given: each model judged its own outputs."""
    comparisons: list[Comparison] = []
    floors: list[str] = []
    """Floors that failed (empty: all held)."""
    gate: list[str] = []
    """How the regression gate decided (Holm or a primary metric), and what it cannot flag."""
    stopped: str | None = None
    """What the run's budget stopped (``--max-tokens``, ``--max-cost``), if anything."""

    def metric(self, model: str, name: str, suite: str | None = None) -> MetricResult | None:
        """The metric of this model (in this suite: ``usage.*`` is in every suite)."""
        for each in self.suites:
            if suite is not None and each.suite != suite:
                continue
            for found in each.models.get(model, ModelSummary(metrics=[], groups={})).metrics:
                if found.name == name:
                    return found
        return None

    @property
    def model_names(self) -> list[str]:
        return list(dict.fromkeys(m for s in self.suites for m in s.models))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def summarize(runs: list[SuiteRun], out: Path, judge: str | None) -> Summary:
    return Summary(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        judge=judge,
        self_judged=[] if judge else [r.suite.name for r in runs if r.suite.uses_judge],
        suites=[
            SuiteSummary(
                suite=run.suite.name,
                run=str(run.directory.relative_to(out))
                if run.directory.is_relative_to(out)
                else str(run.directory),
                info=run.info,
                models={
                    model: ModelSummary(
                        metrics=run.results[model], groups=run.groups.get(model, {})
                    )
                    for model in run.results
                },
            )
            for run in runs
        ],
    )


def _fmt(metric: MetricResult | None) -> str:
    return "–" if metric is None else str(metric.estimate)


def headline_rows(summary: Summary) -> list[list[str]]:
    """metric | model A | model B ... for every metric of every suite."""
    models = summary.model_names
    rows = [["suite", "metric", *models]]
    for suite in summary.suites:
        names = list(dict.fromkeys(m.name for s in suite.models.values() for m in s.metrics))
        for name in names:
            cells = [
                _fmt(next((m for m in suite.models[model].metrics if m.name == name), None))
                if model in suite.models
                else "–"
                for model in models
            ]
            rows.append([suite.suite, name, *cells])
        for label, cell in USAGE_ROWS:
            details = [_usage(suite, model) for model in models]
            used = [cell(d) if d is not None else None for d in details]
            if any(c is not None for c in used):
                rows.append([suite.suite, label, *(c or "–" for c in used)])
    return rows


def _usage(suite: SuiteSummary, model: str) -> UsageDetail | None:
    found = suite.models.get(model)
    for metric in found.metrics if found else []:
        if isinstance(metric.detail, UsageDetail):
            return metric.detail
    return None


def _seconds(d: UsageDetail) -> str | None:
    if d.latency_p50_s is None or d.latency_p95_s is None:
        return None
    return f"p50 {d.latency_p50_s:.2f} s, p95 {d.latency_p95_s:.2f} s"


USAGE_ROWS: list[tuple[str, Callable[[UsageDetail], str | None]]] = [
    ("usage.tokens", lambda d: f"{d.prompt_tokens:,} in, {d.completion_tokens:,} out"),
    ("usage.seconds_per_case", _seconds),
    ("usage.cost_usd", lambda d: None if d.cost_usd is None else f"${d.cost_usd:,.4f}"),
]
"""What a run used, beside its metrics wherever they are shown (a row only where some
model has a value: cost only with a price)."""


def markdown(summary: Summary, records: list[Record]) -> str:
    rows = headline_rows(summary)
    lines = [
        "# Eval report",
        "",
        f"Created {summary.created}. Values: estimate [95% interval] over cases, or over "
        "clusters of related cases where a suite has them (Clopper-Pearson for rates, a "
        "Dirichlet posterior for F1, Student's t for means, clamped to the scale; "
        '"no interval" where none is valid).',
        "",
        _row(rows[0]),
        "|" + "---|" * len(rows[0]),
        *(_row(r, ours_from=2) for r in rows[1:]),
    ]
    if judged := judge_line(summary):
        lines += ["", judged]
    if summary.stopped:
        lines += ["", f"**Budget:** {_inert(summary.stopped)}"]
    for suite in summary.suites:
        lines += ["", f"## {_inert(suite.suite)}", "",
                  f"Run {_inert(suite.run)}: {suite.info.cases} cases{_clusters(suite, records)}, "
                  f"{suite.info.reused} reused from an earlier invocation."]  # fmt: skip
        for model, model_summary in suite.models.items():
            for key, groups in model_summary.groups.items():
                lines += ["", f"### {_inert(model)}: by {_inert(key)}", ""]
                names = list(dict.fromkeys(m.name for ms in groups.values() for m in ms))
                lines += [_row([key, *names]), "|" + "---|" * (len(names) + 1)]
                for value, metrics in groups.items():
                    by_name = {m.name: m for m in metrics}
                    lines.append(_row([value, *(_fmt(by_name.get(n)) for n in names)], 1))
    errors = [r for r in records if r.error]
    if errors:
        lines += ["", f"## Errors ({len(errors)})", ""]
        lines += [
            f"- {_inert(r.suite)} / {_inert(r.model)} / {_inert(r.case)}: {_inert(r.error)}"
            for r in errors[:200]
        ]
    for comparison in summary.comparisons:
        lines += ["", *comparison_markdown(comparison)]
    if summary.gate:
        lines += ["", "## Regression gate", "", *(f"- {_inert(g)}" for g in summary.gate)]
    if summary.floors:
        lines += ["", "## Gates that failed", "", *(f"- {_inert(f)}" for f in summary.floors)]
    return "\n".join(lines) + "\n"


def judge_line(summary: Summary, plain: bool = False) -> str | None:
    """Who judged: the judge given, or, where none was, that each model judged itself
    (``plain``: not escaped for Markdown, for a page that escapes it itself)."""
    shown = (lambda text: text) if plain else _inert
    if summary.judge:
        return f"**Judge:** {shown(summary.judge)}."
    if summary.self_judged:
        return (
            f"**Judge:** none given: in {shown(', '.join(summary.self_judged))} each model "
            "judged its own outputs (self-judging flatters; give --judge another model, and "
            "read the judge-validity figures)."
        )
    return None


def _clusters(suite: SuiteSummary, records: list[Record]) -> str:
    """ " in N clusters (n counts them)" where the suite's cases are clustered."""
    own = [r for r in records if r.suite == suite.suite]
    if not any(CLUSTER in r.metadata for r in own):
        return ""
    return f" in {len(by_unit(own))} clusters of related cases (n counts clusters)"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def change_text(d: MetricDelta) -> str:
    if d.delta.value is None:
        return "n/a"
    if d.delta.low is None or d.delta.high is None:
        return f"{d.delta.value:+.3f} (no interval)"
    return f"{d.delta.value:+.3f} [{d.delta.low:+.3f}, {d.delta.high:+.3f}]"


def left_out_text(d: MetricDelta) -> str:
    return ", ".join(f"{n} {why}" for why, n in sorted(d.left_out.items())) or "0"


def comparison_markdown(comparison: Comparison) -> list[str]:
    lines = [
        f"## {_inert(comparison.after)} against {_inert(comparison.before)}",
        "",
        f"{comparison.pairs} cases on both sides "
        f"({comparison.unpaired} on one side only, not compared). Each case is one pair, "
        "its repeats averaged; a pair with an error or an n/a on either side is left out "
        "of that metric and counted.",
        "",
        "| suite | metric | before | after | change [95% CI] | p | test | pairs | left out |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in comparison.deltas:
        lines.append(
            f"| {_inert(d.suite)} | {_inert(d.name)} | {_num(d.before)} | {_num(d.after)} "
            f"| {change_text(d)} | {d.p_shown} | {d.test} | {d.pairs} | {left_out_text(d)} |"
        )
    for title, changes in (("Regressions", comparison.regressions), ("Fixes", comparison.fixes)):
        lines += ["", f"### {title} ({len(changes)})", ""]
        lines += [
            f"- {_inert(c.suite)} / {_inert(c.case)} (repeat {c.epoch}): {_inert(c.check)} "
            f"{c.before} → {c.after}"
            for c in changes
        ]
        if not changes:
            lines.append("- none")
    return lines


SUMMARY_LINES = 60


def pr_summary(summary: Summary) -> str:
    """``summary.md``: sized for a pull-request comment (at most ``SUMMARY_LINES`` lines):
    the headline metrics with intervals, each comparison's changes with p-values, and the
    top regressions with a one-line reason each."""
    rows = headline_rows(summary)
    lines = ["## Eval summary", "", _row(rows[0]), "|" + "---|" * len(rows[0])]
    headline = [r for r in rows[1:] if not r[1].startswith(("agreement.", "pass^k.", "pass@k."))]
    lines += [_row(r, ours_from=2) for r in headline[:20]]
    if judged := judge_line(summary):
        lines += ["", judged]
    if summary.stopped:
        lines += ["", f"**Budget:** {_inert(summary.stopped)}"]
    if len(headline) > 20:
        lines.append(f"\n{len(headline) - 20} more metrics in report.md.")
    for c in summary.comparisons:
        lines += ["", f"### {_inert(c.after)} against {_inert(c.before)}", ""]
        lines += ["| metric | change [95% CI] | p |", "|---|---|---|"]
        ranked = sorted(c.deltas, key=lambda d: d.p_value)[:8]
        lines += [
            f"| {_inert(d.suite)} {_inert(d.name)} | {change_text(d)} | {d.p_shown} |"
            for d in ranked
        ]
        worst = c.changed[:5] if c.regressions else []
        if c.regressions:
            lines += ["", f"{len(c.regressions)} regression(s), {len(c.fixes)} fix(es); first:"]
            lines += [
                f"- {_inert(p.after.case)}: {_inert(', '.join(p.checks))}: "
                f"{_inert(_reason(p.after))}"
                for p in worst
                if p.kind == "regression"
            ]
    if summary.gate:
        lines += ["", "**Regression gate:**", *(f"- {_inert(g)}" for g in summary.gate[:4])]
    if summary.floors:
        lines += ["", "**Gates that failed:**", *(f"- {_inert(f)}" for f in summary.floors[:5])]
    return "\n".join(lines[:SUMMARY_LINES]) + "\n"


def _reason(record: Record) -> str:
    if record.error:
        return record.error[:120]
    failed = [
        f"{k} {c.value!r} (expected {c.expected!r})"
        for k, c in record.checks.items()
        if c.passed is False
    ]
    return "; ".join(failed)[:120] or "changed"


def _inert(text: object) -> str:
    """Untrusted text (ids, names, answers, errors) made inert in Markdown: one line (no
    heading or list can start), no table break, no link (bare URLs included), image, code
    span or raw HTML, control characters shown as ``\\xNN``."""
    value = unlinked(visible(" ".join(str(text).split())))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`|[]":
        value = value.replace(char, "\\" + char)
    return value


def _row(cells: list[str], ours_from: int | None = None) -> str:
    """A table row; the cells from ``ours_from`` on are the report's own numbers."""
    shown = [
        c if ours_from is not None and i >= ours_from else _inert(c) for i, c in enumerate(cells)
    ]
    return "| " + " | ".join(shown) + " |"


def csv_text(
    records: list[Record], prices: dict[tuple[str, str], tuple[float, float]] | None = None
) -> str:
    """One row per case run and check (a case with no check gets one row); its tokens,
    and its cost where the model has a price (``prices``: by suite and model)."""
    prices = prices or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "suite",
            "model",
            "case",
            "epoch",
            "split",
            "check",
            "value",
            "expected",
            "passed",
            "error",
            "seconds",
            "tokens",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
        ]
    )
    for r in records:
        price = prices.get((r.suite, r.model))
        usage = r.usage
        cost = (
            ""
            if price is None
            else (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6
        )
        for name, result in (r.checks or {"": None}).items():  # type: ignore[dict-item]
            writer.writerow([
                _csv(r.suite), _csv(r.model), _csv(r.case), r.epoch, _csv(r.split), _csv(name),
                "" if result is None else _csv(result.value),
                "" if result is None else _csv(result.expected),
                "" if result is None else result.passed,
                _csv(r.error or ""), r.seconds, usage.total_tokens, usage.prompt_tokens,
                usage.completion_tokens, cost,
            ])  # fmt: skip
    return buffer.getvalue()


CSV_CELL = 10_000
"""A text cell of results.csv holds at most this much (the results file has it all)."""


def _csv(value: object) -> object:
    """A cell that a spreadsheet shows as text: numbers and booleans stay as they are; a
    text that starts like a formula (=, +, -, @, tab, CR) gets a leading quote."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = visible(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    if len(text) > CSV_CELL:
        text = f"{text[:CSV_CELL]}… [cut: {len(text):,} characters]"
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """An attribute value that is well-formed XML 1.0 whatever it held: characters XML
    cannot carry (control characters, NUL) are shown as ``\\xNN``."""
    return quoteattr(XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


def junit_xml(records: list[Record], floors_failed: list[str]) -> str:
    """A test case per case run: failed if a check failed, errored if the case errored;
    plus one test per floor."""
    suites: dict[str, list[Record]] = {}
    for r in records:
        suites.setdefault(f"{r.suite}.{r.model}", []).append(r)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for name, recs in suites.items():
        failures = sum(
            1 for r in recs if not r.error and any(c.passed is False for c in r.checks.values())
        )
        errors = sum(1 for r in recs if r.error)
        parts.append(
            f'<testsuite name={_xml(name)} tests="{len(recs)}" '
            f'failures="{failures}" errors="{errors}">'
        )
        for r in recs:
            parts.append(
                f"<testcase classname={_xml(name)} "
                f'name={_xml(f"{r.case}#{r.epoch}")} time="{r.seconds}">'
            )
            failed = [
                f"{k}: {c.value!r} (expected {c.expected!r})"
                for k, c in r.checks.items()
                if c.passed is False
            ]
            if r.error:
                parts.append(f"<error message={_xml(r.error[:500])}/>")
            elif failed:
                parts.append(f"<failure message={_xml('; '.join(failed)[:500])}/>")
            parts.append("</testcase>")
        parts.append("</testsuite>")
    parts.append(
        f'<testsuite name="floors" tests="{max(1, len(floors_failed))}" '
        f'failures="{len(floors_failed)}">'
    )
    for floor in floors_failed:
        parts.append(
            f'<testcase classname="floors" name={_xml(floor)}>'
            f"<failure message={_xml(floor)}/></testcase>"
        )
    if not floors_failed:
        parts.append('<testcase classname="floors" name="all floors held"/>')
    parts.append("</testsuite></testsuites>")
    return "\n".join(parts) + "\n"
