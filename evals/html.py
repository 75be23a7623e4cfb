"""A self-contained HTML report: tables and inline SVG charts, no scripts, no downloads."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from pathlib import Path

from ._html_cases import case_table, side_by_side
from ._records import Record
from ._text import visible
from .details import BinaryDetail, MulticlassDetail, TrajectoryDetail
from .measures import MetricResult
from .report import Summary, change_text, headline_rows, judge_line, left_out_text

COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#111}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:right}th:first-child,td:first-child{text-align:left}.charts{display:flex;
flex-wrap:wrap;gap:1.5rem}.legend span{display:inline-block;margin-right:1rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.25rem}
table.cases td{text-align:left;vertical-align:top;max-width:22rem;overflow-wrap:anywhere}
table.cases td:nth-child(-n+4){white-space:nowrap}
tr.fail td:first-child{color:#b91c1c;font-weight:600}tr.error td:first-child{color:#7c2d12;
font-weight:600}details pre{white-space:pre-wrap;max-height:20rem;overflow:auto}
p.role{margin:.3rem 0 0;font-weight:600;font-size:.8rem;color:#555}
table.sides td{text-align:left;vertical-align:top;width:45%;overflow-wrap:anywhere}
table.sides td:nth-child(-n+2){width:auto;min-width:6rem;overflow-wrap:normal}
.checks{color:#555;font-size:.85rem}
"""


def _e(text: object) -> str:
    return html.escape(visible(str(text)))


def legend(models: list[str]) -> str:
    items = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[i % len(COLOURS)]}"></i>{_e(m)}</span>'
        for i, m in enumerate(models)
    )
    return f'<p class="legend">{items}</p>'


def bar_chart(summary: Summary) -> str:
    """Every metric in 0..1, one bar per model, with its 95% interval (clamped to the axis).
    The label column is as wide as the longest label, so labels never overlap the bars."""
    models = summary.model_names
    names = [
        (suite.suite, name)
        for suite in summary.suites
        for name in dict.fromkeys(m.name for ms in suite.models.values() for m in ms.metrics)
    ]
    rows = [(s, n) for s, n in names if any(_in_unit(summary.metric(m, n, s)) for m in models)]
    row_h, bar_h, width = 14 * len(models) + 10, 12, 360
    labels = [f"{s}: {n}" if n.startswith("usage.") else n for s, n in rows]
    left = 12 + 6 * max([len(label) for label in labels] + [10])
    svg = [f'<svg width="{left + width + 60}" height="{row_h * len(rows) + 30}" role="img">']
    for tick in range(0, 11, 2):
        x = left + width * tick / 10
        svg.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{row_h * len(rows)}" stroke="#eee"/>')
        svg.append(
            f'<text x="{x}" y="{row_h * len(rows) + 14}" font-size="10" '
            f'text-anchor="middle">{tick / 10:.1f}</text>'
        )
    for row, ((suite, name), label) in enumerate(zip(rows, labels, strict=True)):
        y0 = row * row_h + 4
        svg.append(
            f'<text x="{left - 6}" y="{y0 + row_h / 2}" font-size="11" '
            f'text-anchor="end">{_e(label)}</text>'
        )
        for i, model in enumerate(models):
            metric = summary.metric(model, name, suite)
            if metric is None or not _in_unit(metric):
                continue
            est = metric.estimate
            assert est.value is not None
            y, colour = y0 + i * 14, COLOURS[i % len(COLOURS)]
            svg.append(
                f'<rect x="{left}" y="{y}" width="{width * est.value:.1f}" height="{bar_h}" '
                f'fill="{colour}" opacity=".8"><title>{_e(model)}: {est}</title></rect>'
            )
            if est.low is not None and est.high is not None:
                low, high = max(0.0, est.low), min(1.0, est.high)
                svg.append(
                    f'<line x1="{left + width * low:.1f}" y1="{y + bar_h / 2}" '
                    f'x2="{left + width * high:.1f}" y2="{y + bar_h / 2}" stroke="#111"/>'
                )
            svg.append(
                f'<text x="{left + width * est.value + 4:.1f}" y="{y + 10}" '
                f'font-size="10">{est.value:.2f}</text>'
            )
    svg.append("</svg>")
    return "".join(svg)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _in_unit(metric: MetricResult | None) -> bool:
    value = None if metric is None else metric.estimate.value
    return value is not None and 0.0 <= value <= 1.0


def line_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    x_label: str,
    marks: dict[str, float] | None = None,
    x_range: tuple[float, float] = (0, 1),
    width: int = 320,
    height: int = 200,
) -> str:
    """Lines of (x, y) points, y in 0..1; ``marks`` are labelled vertical lines."""
    pad, (x0, x1) = 30, x_range
    span = (x1 - x0) or 1

    def px(x: float) -> float:
        return pad + (width - 2 * pad) * (x - x0) / span

    def py(y: float) -> float:
        return height - pad - (height - 2 * pad) * y

    svg = [
        f'<svg width="{width}" height="{height}" role="img">',
        f'<rect x="{pad}" y="{pad}" width="{width - 2 * pad}" height="{height - 2 * pad}" '
        'fill="none" stroke="#ccc"/>',
    ]
    for label, x in (marks or {}).items():
        svg.append(
            f'<line x1="{px(x)}" y1="{pad}" x2="{px(x)}" y2="{height - pad}" '
            f'stroke="#999" stroke-dasharray="3 3"/><text x="{px(x) + 2}" y="{pad + 10}" '
            f'font-size="9">{_e(label)}</text>'
        )
    for i, (name, points) in enumerate(series.items()):
        drawn = [(x, y) for x, y in points if y is not None]
        if not drawn:
            continue
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in drawn)
        svg.append(
            f'<polyline points="{path}" fill="none" stroke="{COLOURS[i % len(COLOURS)]}" '
            f'stroke-width="2"><title>{_e(name)}</title></polyline>'
        )
        colour = COLOURS[i % len(COLOURS)]
        svg += [  # points too: a single round draws no line
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in drawn
        ]
    for tick in (x0, (x0 + x1) / 2, x1):
        svg.append(
            f'<text x="{px(tick):.1f}" y="{height - pad + 12}" font-size="9" '
            f'text-anchor="middle">{tick:g}</text>'
        )
    svg.append(
        f'<text x="{width / 2}" y="{height - 6}" font-size="10" text-anchor="middle">'
        f'{_e(x_label)}</text><text x="4" y="{pad - 8}" font-size="10">1.0</text>'
        f'<text x="4" y="{height - pad}" font-size="10">0</text></svg>'
    )
    return "".join(svg)


def matrix_table(matrix: Mapping[str, Mapping[str, float]], caption: str) -> str:
    columns = list(next(iter(matrix.values())))
    biggest = max([v for row in matrix.values() for v in row.values()] + [1])
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    rows = "".join(
        f"<tr><th>{_e(t)}</th>"
        + "".join(
            f'<td style="background:rgba(37,99,235,{row[c] / biggest * 0.6:.2f})">{row[c]:g}</td>'
            for c in columns
        )
        + "</tr>"
        for t, row in matrix.items()
    )
    return (
        f"<figure><figcaption>{_e(caption)}</figcaption><table><tr><th>expected \\ "
        f"predicted</th>{head}</tr>{rows}</table></figure>"
    )


def _row(cells: list[str], *, header: bool) -> str:
    tags = ["th" if header or j == 0 else "td" for j in range(len(cells))]
    return (
        "<tr>" + "".join(f"<{t}>{_e(c)}</{t}>" for t, c in zip(tags, cells, strict=True)) + "</tr>"
    )


def _table(rows: list[list[str]]) -> str:
    return "<table>" + "".join(_row(r, header=i == 0) for i, r in enumerate(rows)) + "</table>"


def group_tables(summary: Summary) -> list[str]:
    parts = []
    for suite in summary.suites:
        for model, ms in suite.models.items():
            for key, groups in ms.groups.items():
                names = list(dict.fromkeys(m.name for metrics in groups.values() for m in metrics))
                rows = [[key, *names]]
                for value, metrics in groups.items():
                    by_name = {m.name: str(m.estimate) for m in metrics}
                    rows.append([value, *(by_name.get(n, "–") for n in names)])
                parts.append(
                    f"<h3>{_e(suite.suite)} · {_e(model)} · by {_e(key)}</h3>{_table(rows)}"
                )
    return parts


def _sweep_chart(model: str, metric: MetricResult, detail: BinaryDetail) -> str:
    marks = {}
    if detail.threshold is not None:
        marks[f"configured {detail.threshold}"] = float(detail.threshold)
    if detail.best is not None:
        marks[f"best F1 {detail.best.threshold:.2f}"] = detail.best.threshold
    series = {
        k: [(row.threshold, getattr(row, k)) for row in detail.sweep]
        for k in ("f1", "precision", "recall")
    }
    auc = detail.roc_auc
    caption = (
        f"{model}: {metric.name.rsplit('.', 1)[0]} threshold sweep "
        "(blue F1, red precision, green recall)"
        + (f", ROC AUC {auc:.2f}" if auc is not None else "")
    )
    return (
        f"<figure><figcaption>{_e(caption)}</figcaption>"
        f"{line_chart(series, x_label='threshold', marks=marks)}</figure>"
    )


def _trajectory_chart(model: str, detail: TrajectoryDetail) -> str:
    rounds = sorted(detail.rounds)
    series = {
        k: [(float(n), getattr(detail.rounds[n], k)) for n in rounds]
        for k in ("judged", "cohesion")
    }
    chart = line_chart(series, x_label="review round", x_range=(1, max(2, len(rounds))))
    return (
        f"<figure><figcaption>{_e(model)}: revision trajectory (blue judged, red "
        f"cohesion)</figcaption>{chart}</figure>"
    )


def detail_charts(summary: Summary) -> tuple[list[str], list[str], list[str]]:
    sweeps, matrices, trajectories = [], [], []
    for suite in summary.suites:
        for model, ms in suite.models.items():
            for metric in ms.metrics:
                detail = metric.detail
                title = f"{model}: {metric.name.rsplit('.', 1)[0]}"
                if isinstance(detail, BinaryDetail):
                    if detail.sweep:
                        sweeps.append(_sweep_chart(model, metric, detail))
                    c = detail.confusion
                    cells = {
                        "yes": {"said yes": c.tp, "said no": c.fn},
                        "no": {"said yes": c.fp, "said no": c.tn},
                    }
                    matrices.append(matrix_table(cells, title))
                elif isinstance(detail, MulticlassDetail) and detail.confusion:
                    matrices.append(matrix_table(detail.confusion, title))
                elif isinstance(detail, TrajectoryDetail) and detail.rounds:
                    trajectories.append(_trajectory_chart(model, detail))
    return sweeps, matrices, trajectories


def render(summary: Summary, records: list[Record], title: str = "Eval report") -> str:
    """The report page, whole."""
    return "\n".join(pieces(summary, records, title))


def write(path: Path, summary: Summary, records: list[Record], title: str = "Eval report") -> None:
    """The report page, written as it is rendered (never whole in memory: a run of many
    cases has a row, and a transcript, for each)."""
    with path.open("w", encoding="utf-8") as out:
        for number, piece in enumerate(pieces(summary, records, title)):
            out.write(("\n" if number else "") + piece)


def pieces(summary: Summary, records: list[Record], title: str) -> Iterator[str]:
    """The page, a piece at a time, in order."""
    models = summary.model_names
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>",
        f"<p>Created {_e(summary.created)}. Values: estimate [95% interval] over cases "
        "(or clusters of related cases): Clopper-Pearson for rates, a Dirichlet posterior "
        "for F1, skew-corrected Student's t for means (clamped to the scale); "
        '"no interval" where none is valid.</p>',
        _table(headline_rows(summary)),
        *(
            [f"<p>{_e(judged.replace('**', ''))}</p>"]
            if (judged := judge_line(summary, plain=True))
            else []
        ),
        *([f"<p>Budget: {_e(summary.stopped)}</p>"] if summary.stopped else []),
        "<h2>Metrics per model</h2>",
        legend(models),
        bar_chart(summary),
    ]
    sweeps, matrices, trajectories = detail_charts(summary)
    if sweeps:
        parts += ["<h2>Threshold sweeps</h2><div class='charts'>", *sweeps, "</div>"]
    if matrices:
        parts += ["<h2>Confusion matrices</h2><div class='charts'>", *matrices, "</div>"]
    if trajectories:
        parts += ["<h2>Orchestra revisions</h2><div class='charts'>", *trajectories, "</div>"]
    parts += ["<h2>By group</h2>", *group_tables(summary)]
    for comparison in summary.comparisons:
        parts.append(f"<h2>{_e(comparison.after)} against {_e(comparison.before)}</h2>")
        rows = [["suite", "metric", "before", "after", "change [95% CI]", "p", "test", "pairs",
                 "left out"]]  # fmt: skip
        rows += [
            [d.suite, d.name, _num(d.before), _num(d.after), change_text(d), d.p_shown, d.test,
             str(d.pairs), left_out_text(d)]
            for d in comparison.deltas
        ]  # fmt: skip
        parts.append(_table(rows))
        for name, changes in (("Regressions", comparison.regressions), ("Fixes", comparison.fixes)):
            items = "".join(
                f"<li>{_e(c.suite)} / {_e(c.case)}: {_e(c.check)} {_e(c.before)} &rarr; "
                f"{_e(c.after)}</li>"
                for c in changes
            )
            parts.append(f"<h3>{name} ({len(changes)})</h3><ul>{items or '<li>none</li>'}</ul>")
        if comparison.changed:
            parts.append(side_by_side(comparison))
    errors = [r for r in records if r.error]
    parts.append(f"<h2>Errors ({len(errors)})</h2>")
    parts.append(
        "<ul>"
        + "".join(
            f"<li>{_e(r.suite)} / {_e(r.model)} / {_e(r.case)}: {_e(r.error)}</li>" for r in errors
        )
        + "</ul>"
        if errors
        else "<p>None.</p>"
    )
    if summary.floors:
        parts.append(
            "<h2>Floors that failed</h2><ul>"
            + "".join(f"<li>{_e(f)}</li>" for f in summary.floors)
            + "</ul>"
        )
    parts.append(
        f"<h2>Cases ({len(records)})</h2>"
        "<p>Failures and errors first; click a value to see all of it, and a case's "
        "transcript for every request it sent and the raw answer.</p>"
    )
    yield from parts
    yield from case_table(records)
    yield "</body></html>"
