"""A self-contained HTML report: tables and inline SVG charts, no scripts, no downloads."""

from __future__ import annotations

import html
from typing import Any

from .report import HEADLINES, headline, table_rows

COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#111}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:right}th:first-child,td:first-child{text-align:left}.charts{display:flex;
flex-wrap:wrap;gap:1.5rem}.legend span{display:inline-block;margin-right:1rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.25rem}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def legend(models: list[str]) -> str:
    items = "".join(
        f'<span><i class="swatch" style="background:{COLOURS[i % len(COLOURS)]}"></i>{_e(m)}</span>'
        for i, m in enumerate(models)
    )
    return f'<p class="legend">{items}</p>'


def bar_chart(summary: dict[str, Any]) -> str:
    """Every headline metric (all are in 0..1), one bar per model, with its 95% interval."""
    models = list(summary)
    names = [n for n in HEADLINES if any(headline(summary[m], n) for m in models)]
    row_h, bar_h, left, width = 14 * len(models) + 10, 12, 260, 360
    svg = [f'<svg width="{left + width + 60}" height="{row_h * len(names) + 30}" role="img">']
    for tick in range(0, 11, 2):
        x = left + width * tick / 10
        svg.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{row_h * len(names)}" stroke="#eee"/>')
        svg.append(
            f'<text x="{x}" y="{row_h * len(names) + 14}" font-size="10" '
            f'text-anchor="middle">{tick / 10:.1f}</text>'
        )
    for row, name in enumerate(names):
        y0 = row * row_h + 4
        svg.append(
            f'<text x="{left - 6}" y="{y0 + row_h / 2}" font-size="11" '
            f'text-anchor="end">{_e(name)}</text>'
        )
        for i, model in enumerate(models):
            est = headline(summary[model], name)
            if est is None or est.value is None:
                continue
            y, colour = y0 + i * 14, COLOURS[i % len(COLOURS)]
            svg.append(
                f'<rect x="{left}" y="{y}" width="{width * est.value:.1f}" height="{bar_h}" '
                f'fill="{colour}" opacity=".8"><title>{_e(model)}: {est}</title></rect>'
            )
            if est.low is not None and est.high is not None:
                svg.append(
                    f'<line x1="{left + width * est.low:.1f}" y1="{y + bar_h / 2}" '
                    f'x2="{left + width * est.high:.1f}" y2="{y + bar_h / 2}" stroke="#111"/>'
                )
            svg.append(
                f'<text x="{left + width * est.value + 4:.1f}" y="{y + 10}" '
                f'font-size="10">{est.value:.2f}</text>'
            )
    svg.append("</svg>")
    return "".join(svg)


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


def matrix_table(matrix: dict[str, dict[str, int]], caption: str) -> str:
    columns = list(next(iter(matrix.values())))
    biggest = max([v for row in matrix.values() for v in row.values()] + [1])
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    rows = "".join(
        f"<tr><th>{_e(t)}</th>"
        + "".join(
            f'<td style="background:rgba(37,99,235,{row[c] / biggest * 0.6:.2f})">{row[c]}</td>'
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


def render(summary: dict[str, Any], changes: list[dict[str, Any]] | None, title: str) -> str:
    models = list(summary)
    rows = table_rows(summary)
    table = "<table>" + "".join(_row(r, header=i == 0) for i, r in enumerate(rows)) + "</table>"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>",
        "<p>Values: estimate [95% interval]. Rates use Wilson intervals; F1 a bootstrap.</p>",
        table,
        "<h2>Metrics per model</h2>",
        legend(models),
        bar_chart(summary),
    ]
    sweeps, matrices, trajectories = [], [], []
    for _i, model in enumerate(models):
        s = summary[model]
        if s["chain_gate"]:
            sweep = s["chain_gate"]["sweep"]
            best = s["chain_gate"]["best"]
            marks = {"configured 0.7": 0.7} | (
                {f"best F1 {best['threshold']:.2f}": best["threshold"]} if best else {}
            )
            chart = line_chart(
                {
                    k: [(row["threshold"], row[k]) for row in sweep]
                    for k in ("f1", "precision", "recall")
                },
                x_label="threshold",
                marks=marks,
            )
            sweeps.append(
                f"<figure><figcaption>{_e(model)}: chain gate sweep (blue F1, red "
                f"precision, green recall)</figcaption>{chart}</figure>"
            )
            gate = s["chain_gate"]["confusion"]
            matrices.append(
                matrix_table(
                    {
                        "event": {"passes": gate["tp"], "rejects": gate["fn"]},
                        "not an event": {"passes": gate["fp"], "rejects": gate["tn"]},
                    },
                    f"{model}: chain gate",
                )
            )
            matrices.append(matrix_table(s["router"]["confusion"], f"{model}: router"))
        if s["orchestra"]:
            traj = s["orchestra"]["trajectory"]
            rounds = sorted(traj)
            series = {k: [(float(n), traj[n][k]) for n in rounds] for k in ("judged", "cohesion")}
            chart = line_chart(series, x_label="review round", x_range=(1, max(2, len(rounds))))
            trajectories.append(
                f"<figure><figcaption>{_e(model)}: revision trajectory (blue "
                f"judged, red cohesion)</figcaption>{chart}</figure>"
            )
    if sweeps:
        parts += ["<h2>Threshold sweep</h2><div class='charts'>", *sweeps, "</div>"]
    if matrices:
        parts += ["<h2>Confusion matrices</h2><div class='charts'>", *matrices, "</div>"]
    if trajectories:
        parts += ["<h2>Orchestra revisions</h2><div class='charts'>", *trajectories, "</div>"]
    if changes is not None:
        items = "".join(
            f"<li>{_e(c['model'])} / {_e(c['case'])}: {_e(c['check'])} "
            f"{_e(c['before'])} &rarr; {_e(c['after'])}</li>"
            for c in changes
        )
        parts.append(
            f"<h2>Changed against the baseline ({len(changes)})</h2>"
            f"<ul>{items or '<li>No case changed outcome.</li>'}</ul>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
