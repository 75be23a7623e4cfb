"""From suite runs to reports: ``summary.json``, ``report.md``, ``results.csv`` and
``junit.xml`` (``report.html`` is in ``html.py``), all rebuilt from results files alone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pydantic import BaseModel

from .compare import Comparison
from .measures import MetricDelta, MetricResult
from .records import Record
from .runner import RunInfo, SuiteRun


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
    comparisons: list[Comparison] = []
    floors: list[str] = []
    """Floors that failed (empty: all held)."""

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
    return rows


def markdown(summary: Summary, records: list[Record]) -> str:
    rows = headline_rows(summary)
    lines = [
        "# Eval report",
        "",
        f"Created {summary.created}. Values: estimate [95% interval] over cases (Wilson "
        "for rates, a Dirichlet posterior for F1, Student's t for means, clamped to the "
        'scale; "no interval" where none is valid).',
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "---|" * len(rows[0]),
        *("| " + " | ".join(r) + " |" for r in rows[1:]),
    ]
    for suite in summary.suites:
        lines += ["", f"## {suite.suite}", "", f"Run `{suite.run}`: {suite.info.cases} cases, "
                  f"{suite.info.reused} reused from an earlier invocation."]  # fmt: skip
        for model, model_summary in suite.models.items():
            for key, groups in model_summary.groups.items():
                lines += ["", f"### {model}: by {key}", ""]
                names = list(dict.fromkeys(m.name for ms in groups.values() for m in ms))
                lines += ["| " + " | ".join([key, *names]) + " |", "|" + "---|" * (len(names) + 1)]
                for value, metrics in groups.items():
                    by_name = {m.name: m for m in metrics}
                    lines.append(
                        "| " + " | ".join([value, *(_fmt(by_name.get(n)) for n in names)]) + " |"
                    )
    errors = [r for r in records if r.error]
    if errors:
        lines += ["", f"## Errors ({len(errors)})", ""]
        lines += [f"- {r.suite} / {r.model} / {r.case}: {r.error}" for r in errors[:200]]
    for comparison in summary.comparisons:
        lines += ["", *comparison_markdown(comparison)]
    if summary.floors:
        lines += ["", "## Floors that failed", "", *(f"- {f}" for f in summary.floors)]
    return "\n".join(lines) + "\n"


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
        f"## {comparison.after} against {comparison.before}",
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
            f"| {d.suite} | {d.name} | {_num(d.before)} | {_num(d.after)} | {change_text(d)} "
            f"| {d.p_shown} | {d.test} | {d.pairs} | {left_out_text(d)} |"
        )
    for title, changes in (("Regressions", comparison.regressions), ("Fixes", comparison.fixes)):
        lines += ["", f"### {title} ({len(changes)})", ""]
        lines += [
            f"- {c.suite} / {c.case} (repeat {c.epoch}): {c.check} {c.before} → {c.after}"
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
    lines = ["## Eval summary", "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    headline = [r for r in rows[1:] if not r[1].startswith(("agreement.", "pass^k.", "pass@k."))]
    lines += ["| " + " | ".join(_inert(c) for c in r) + " |" for r in headline[:20]]
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
    """Untrusted text made inert in Markdown: one line, no table breaks, no markup."""
    value = " ".join(str(text).split())
    for char in "\\`*_{}[]<>()#+!|~":
        value = value.replace(char, "\\" + char)
    return value


def csv_text(records: list[Record]) -> str:
    """One row per case run and check (a case with no check gets one row)."""
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
        ]
    )
    for r in records:
        for name, result in (r.checks or {"": None}).items():  # type: ignore[dict-item]
            writer.writerow([
                r.suite, r.model, r.case, r.epoch, r.split, name,
                "" if result is None else result.value,
                "" if result is None else result.expected,
                "" if result is None else result.passed,
                r.error or "", r.seconds, r.usage.total_tokens,
            ])  # fmt: skip
    return buffer.getvalue()


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
            f'<testsuite name={quoteattr(name)} tests="{len(recs)}" '
            f'failures="{failures}" errors="{errors}">'
        )
        for r in recs:
            parts.append(
                f"<testcase classname={quoteattr(name)} "
                f'name={quoteattr(f"{r.case}#{r.epoch}")} time="{r.seconds}">'
            )
            failed = [
                f"{k}: {c.value!r} (expected {c.expected!r})"
                for k, c in r.checks.items()
                if c.passed is False
            ]
            if r.error:
                parts.append(f"<error message={quoteattr(r.error[:500])}/>")
            elif failed:
                parts.append(f"<failure message={quoteattr('; '.join(failed)[:500])}/>")
            parts.append("</testcase>")
        parts.append("</testsuite>")
    parts.append(
        f'<testsuite name="floors" tests="{max(1, len(floors_failed))}" '
        f'failures="{len(floors_failed)}">'
    )
    for floor in floors_failed:
        parts.append(
            f'<testcase classname="floors" name={quoteattr(floor)}>'
            f"<failure message={quoteattr(floor)}/></testcase>"
        )
    if not floors_failed:
        parts.append('<testcase classname="floors" name="all floors held"/>')
    parts.append("</testsuite></testsuites>")
    return "\n".join(parts) + "\n"
