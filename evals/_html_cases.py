"""The report's case rows: every case run with its transcript (each request's messages
and raw answer, expandable without JavaScript), and the side-by-side view of two runs."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator

from ._records import Record
from ._text import visible
from .compare import CasePair, Comparison

CASE_ROWS = 2000
"""Case runs shown in the page (failures and errors first); results.csv has them all."""
EMBED_CHARS = {"fail": 6_000, "error": 6_000, "pass": 1_500}
"""Transcript text a case row embeds at most, by verdict (the full text, up to the
record's own bound, is in results.jsonl)."""


def _e(value: object) -> str:
    return html.escape(visible(str(value)), quote=True)


def _short(value: object, limit: int = 90) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: object) -> str:
    """A value, shortened, with the whole of it one click away (no script: <details>)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)
    if len(text) <= 90 and "\n" not in text:
        return _e(text)
    return f"<details><summary>{_e(_short(value))}</summary><pre>{_e(text)}</pre></details>"


def transcript(record: Record, budget: int) -> str:
    """Each request: its messages and the raw answer, within ``budget`` characters."""
    exchanges = record.exchanges()
    if not exchanges:
        return "–"
    parts, left = [], budget

    def shown(text: str) -> str:
        nonlocal left
        kept = text[: max(0, left)]
        left -= len(kept)
        cut = "" if len(kept) == len(text) else f"… [{len(text):,} characters: results.jsonl]"
        return f"<pre>{_e(kept)}{_e(cut)}</pre>"

    for number, exchange in enumerate(exchanges, 1):
        sent = "".join(
            f"<p class='role'>{_e(m.role)}</p>{shown(m.content)}" for m in exchange.messages
        )
        head = (
            f"{exchange.step} #{number}: {exchange.finish_reason or '?'}, "
            f"{exchange.usage.total_tokens} tokens"
        )
        parts.append(
            f"<details><summary>{_e(head)}</summary>{sent}"
            f"<p class='role'>answer</p>{shown(exchange.answer)}</details>"
        )
    return "".join(parts)


def _verdict(record: Record) -> str:
    if record.error:
        return "error"
    if any(c.passed is False for c in record.checks.values()):
        return "fail"
    return "pass"


def case_table(records: list[Record]) -> Iterator[str]:
    """Every case run, failures and errors first, up to ``CASE_ROWS``: the table a row at
    a time (each row's transcript read then, not held for every row at once)."""
    order = {"error": 0, "fail": 1, "pass": 2}
    ranked = sorted(records, key=lambda r: (order[_verdict(r)], r.suite, r.model, r.case, r.epoch))
    left_out = len(ranked) - CASE_ROWS
    heads = ("verdict", "suite", "model", "case", "input", "expected", "output", "checks",
             "transcript", "s")  # fmt: skip
    yield '<table class="cases"><tr>' + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"
    for r in ranked[:CASE_ROWS]:
        checks = "; ".join(
            f"{k}: {'✓' if c.passed else '✗' if c.passed is False else '·'} {_short(c.value, 30)}"
            + (f" ⚑ {_short(c.reason, 80)}" if c.reason else "")
            for k, c in r.checks.items()
        )
        output = r.error if r.error else r.output
        yield (
            f'<tr class="{_verdict(r)}"><td>{_verdict(r)}</td><td>{_e(r.suite)}</td>'
            f"<td>{_e(r.model)}</td>"
            f"<td>{_e(r.case)}{f' #{r.epoch}' if r.epoch else ''}</td><td>{_cell(r.input)}</td>"
            f"<td>{_cell(r.expected)}</td><td>{_cell(output)}</td><td>{_e(checks)}</td>"
            f"<td>{transcript(r, EMBED_CHARS[_verdict(r)])}</td><td>{r.seconds:.2f}</td></tr>"
        )
    yield "</table>"
    if left_out > 0:
        yield f"<p>{left_out:,} more case runs (passing ones last) are in results.csv.</p>"


def side_by_side(comparison: Comparison) -> str:
    """The cases whose outcome changed, regressions first: both sides' outputs, checks
    and transcripts next to each other."""
    rows = "".join(_pair_row(pair) for pair in comparison.changed)
    changed = {(c.suite, c.case, c.epoch) for c in comparison.regressions + comparison.fixes}
    note = (
        f"<p>The first {len(comparison.changed)} of {len(changed)} changed cases.</p>"
        if len(changed) > len(comparison.changed)
        else ""
    )
    return (
        f"<h3>Side by side: {_e(comparison.before)} | {_e(comparison.after)}</h3>"
        "<table class='sides'><tr><th>change</th><th>case</th><th>before</th><th>after</th></tr>"
        f"{rows}</table>{note}"
    )


def _side(record: Record) -> str:
    checks = "; ".join(
        f"{k}: {'✓' if c.passed else '✗' if c.passed is False else '·'} {_short(c.value, 40)}"
        for k, c in record.checks.items()
    )
    output = record.error if record.error else record.output
    return (
        f"<div>{_cell(output)}</div><div class='checks'>{_e(checks)}</div>"
        f"{transcript(record, EMBED_CHARS['fail'])}"
    )


def _pair_row(pair: CasePair) -> str:
    record = pair.after
    return (
        f"<tr class='{'fail' if pair.kind == 'regression' else 'pass'}'><td>{_e(pair.kind)}: "
        f"{_e(', '.join(pair.checks))}</td><td>{_e(record.suite)} / {_e(record.case)}"
        f"{f' #{record.epoch}' if record.epoch else ''}</td>"
        f"<td>{_side(pair.before)}</td><td>{_side(pair.after)}</td></tr>"
    )
