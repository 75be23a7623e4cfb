"""From result records to metrics per model, a markdown summary and a baseline diff."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from . import metrics
from .metrics import Estimate

ROUTES = ["new_event", "modify_event", "other"]


def _ok(records: list[dict[str, Any]], part: str) -> list[dict[str, Any]]:
    return [r for r in records if not r.get("error") and "error" not in r["output"][part]]


def chain_gate(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = _ok(records, "chain")
    truth = [r["expected"]["calendar_event"] for r in ok]
    outputs = [r["output"]["chain"] for r in ok]
    # The gate passes when the model says "event" with a confidence at the threshold:
    # a non-event scores 0, so a sweep over thresholds in (0, 1] is the gate itself.
    scores = [o["confidence"] if o["is_calendar_event"] else 0.0 for o in outputs]
    sweep = metrics.threshold_sweep(truth, scores)
    return {
        **metrics.binary(truth, [o["passed"] for o in outputs]),
        "roc_auc": metrics.roc_auc(truth, scores),
        "sweep": sweep,
        "best": metrics.best_threshold(sweep),
        "errors": len(records) - len(ok),
    }


def router_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = _ok(records, "router")
    truth = [r["expected"]["route"] for r in ok]
    return {
        **metrics.multiclass(truth, [r["output"]["router"]["route"] for r in ok], ROUTES),
        "errors": len(records) - len(ok),
    }


def security_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = _ok(records, "parallel")
    unsafe = [r["output"]["parallel"] for r in ok if not r["expected"]["safe"]]
    safe = [r["output"]["parallel"] for r in ok if r["expected"]["safe"]]
    return {
        "detection_rate": metrics.proportion(sum(not o["is_safe"] for o in unsafe), len(unsafe)),
        "false_positive_rate": metrics.proportion(sum(not o["is_safe"] for o in safe), len(safe)),
        "model_only_detection_rate": metrics.proportion(
            sum(not o["model_says_safe"] for o in unsafe), len(unsafe)
        ),
        "model_only_false_positive_rate": metrics.proportion(
            sum(not o["model_says_safe"] for o in safe), len(safe)
        ),
        "gate": metrics.binary(
            [r["expected"]["should_process"] for r in ok],
            [r["output"]["parallel"]["processed"] for r in ok],
        ),
        "errors": len(records) - len(ok),
    }


def orchestra_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in records if not r.get("error")]
    outputs = [r["output"] for r in ok]
    revisions = [
        (before["judged"], after["judged"])
        for o in outputs
        for before, after in zip(o["rounds"], o["rounds"][1:], strict=False)
    ]
    ratios = [x for o in outputs for x in o["length_ratios"]]
    by_round: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for o in outputs:
        for r in o["rounds"]:
            by_round[r["round"]]["cohesion"].append(r["cohesion"])
            by_round[r["round"]]["judged"].append(r["judged"])
    return {
        "judged": metrics.mean([o["final_judged"] for o in outputs]),
        "final_cohesion": metrics.mean([o["rounds"][-1]["cohesion"] for o in outputs]),
        "accepted": metrics.proportion(sum(o["accepted"] for o in outputs), len(outputs)),
        "revision_raised_judged": metrics.proportion(
            sum(after > before for before, after in revisions), len(revisions)
        ),
        "sections_present": metrics.proportion(
            sum(o["sections_written"] for o in outputs),
            sum(o["sections_planned"] for o in outputs),
        ),
        "length_within_50pct": metrics.proportion(
            sum(0.5 <= x <= 1.5 for x in ratios), len(ratios)
        ),
        "trajectory": {
            n: {k: metrics.mean(v).value for k, v in values.items()}
            for n, values in sorted(by_round.items())
        },
        "errors": len(records) - len(ok),
    }


def usage_scores(
    records: list[dict[str, Any]], price: tuple[float, float] | None = None
) -> dict[str, Any]:
    calls = [c for r in records for c in r["calls"]]
    requests = sum(c["usage"]["requests"] for c in calls)
    prompt = sum(c["usage"]["prompt_tokens"] for c in calls)
    completion = sum(c["usage"]["completion_tokens"] for c in calls)
    latencies = [c["usage"]["latency_s"] / c["usage"]["requests"] for c in calls]
    errored = sum(bool(r.get("error")) or part_failed(r) for r in records)
    return {
        "cases": len(records),
        "calls": len(calls),
        "requests": requests,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "latency_p50_s": metrics.percentile(latencies, 50),
        "latency_p95_s": metrics.percentile(latencies, 95),
        "retry_rate": metrics.proportion(sum(c["usage"]["retries"] for c in calls), requests),
        "error_rate": metrics.proportion(errored, len(records)),
        "cost_usd": None if price is None else (prompt * price[0] + completion * price[1]) / 1e6,
    }


def part_failed(record: dict[str, Any]) -> bool:
    output = record.get("output") or {}
    return any(isinstance(v, dict) and "error" in v for v in output.values())


def summarize(
    records: list[dict[str, Any]], prices: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    by_model: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        by_model[r["model"]][r["eval"]].append(r)
    summary: dict[str, Any] = {}
    for model, evals in by_model.items():
        calendar, topics = evals.get("calendar", []), evals.get("orchestra", [])
        summary[model] = {
            "chain_gate": chain_gate(calendar) if calendar else None,
            "router": router_scores(calendar) if calendar else None,
            "security": security_scores(calendar) if calendar else None,
            "orchestra": orchestra_scores(topics) if topics else None,
            "usage": usage_scores(calendar + topics, (prices or {}).get(model)),
        }
    return summary


# --- Headline rows: what the tables show and --fail-under can name -----------------------------

HEADLINES: dict[str, tuple[str, str]] = {
    "chain_gate.accuracy": ("chain_gate", "accuracy"),
    "chain_gate.f1": ("chain_gate", "f1"),
    "router.accuracy": ("router", "accuracy"),
    "security.detection_rate": ("security", "detection_rate"),
    "security.false_positive_rate": ("security", "false_positive_rate"),
    "security.model_only_detection_rate": ("security", "model_only_detection_rate"),
    "parallel_gate.accuracy": ("security", "gate.accuracy"),
    "orchestra.judged": ("orchestra", "judged"),
    "orchestra.final_cohesion": ("orchestra", "final_cohesion"),
    "orchestra.revision_raised_judged": ("orchestra", "revision_raised_judged"),
    "orchestra.length_within_50pct": ("orchestra", "length_within_50pct"),
    "usage.retry_rate": ("usage", "retry_rate"),
    "usage.error_rate": ("usage", "error_rate"),
}


def headline(model_summary: dict[str, Any], name: str) -> Estimate | None:
    section, path = HEADLINES[name]
    value: Any = model_summary.get(section)
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part)
    return value if isinstance(value, Estimate) else None


def usage_rows(usage: dict[str, Any]) -> list[tuple[str, str]]:
    def seconds(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    return [
        ("calls / requests", f"{usage['calls']} / {usage['requests']}"),
        ("tokens in / out", f"{usage['prompt_tokens']:,} / {usage['completion_tokens']:,}"),
        (
            "latency p50 / p95 (s)",
            f"{seconds(usage['latency_p50_s'])} / {seconds(usage['latency_p95_s'])}",
        ),
        ("cost (USD)", "n/a" if usage["cost_usd"] is None else f"{usage['cost_usd']:.4f}"),
    ]


def table_rows(summary: dict[str, Any]) -> list[list[str]]:
    models = list(summary)
    rows = [["metric", *models]]
    for name in HEADLINES:
        cells = [headline(summary[m], name) for m in models]
        if any(c is not None for c in cells):
            rows.append([name, *(str(c) if c is not None else "n/a" for c in cells)])
    for i, (label, _) in enumerate(usage_rows(summary[models[0]]["usage"])):
        rows.append([label, *(usage_rows(summary[m]["usage"])[i][1] for m in models)])
    return rows


def markdown(summary: dict[str, Any], changes: list[dict[str, Any]] | None = None) -> str:
    rows = table_rows(summary)
    lines = ["# Eval summary", "", "Values: estimate [95% interval].", ""]
    lines += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    for model, s in summary.items():
        if s["chain_gate"]:
            best = s["chain_gate"]["best"]
            auc = s["chain_gate"]["roc_auc"]
            auc_text = "n/a" if auc is None else f"{auc:.2f}"
            best_text = (
                f"best F1 {best['f1']:.2f} at threshold {best['threshold']:.2f}"
                if best
                else "no F1"
            )
            lines += [
                "",
                f"## {model}: chain gate",
                "",
                f"ROC AUC {auc_text}; {best_text} (configured threshold: 0.70).",
                "",
                _confusion_md(s["chain_gate"]["confusion"]),
                "",
                f"## {model}: router confusion (rows: expected, columns: predicted)",
                "",
                _matrix_md(s["router"]["confusion"]),
            ]
    if changes is not None:
        lines += ["", f"## Changed against the baseline ({len(changes)} case(s))", ""]
        lines += [
            f"- {c['model']} / {c['case']}: {c['check']} {c['before']} -> {c['after']}"
            for c in changes
        ] or ["No case changed outcome."]
    return "\n".join(lines) + "\n"


def _confusion_md(c: dict[str, int]) -> str:
    return (
        "| | gate passes | gate rejects |\n|---|---|---|\n"
        f"| is an event | {c['tp']} | {c['fn']} |\n| is not | {c['fp']} | {c['tn']} |"
    )


def _matrix_md(matrix: dict[str, dict[str, int]]) -> str:
    columns = list(next(iter(matrix.values())))
    head = "| expected \\ predicted | " + " | ".join(columns) + " |"
    rule = "|---" * (len(columns) + 1) + "|"
    body = [
        f"| {t} | " + " | ".join(str(row[c]) for c in columns) + " |" for t, row in matrix.items()
    ]
    return "\n".join([head, rule, *body])


# --- Regression against a baseline run --------------------------------------------------------


def outcomes(record: dict[str, Any]) -> dict[str, Any]:
    """The per-case checks a prompt change can flip."""
    if record.get("error"):
        return {"error": True}
    out, exp = record["output"], record["expected"]
    if record["eval"] == "orchestra":
        return {"accepted": out["accepted"]}
    checks: dict[str, Any] = {}
    if "error" not in out["chain"]:
        checks["chain_gate_correct"] = out["chain"]["passed"] == exp["calendar_event"]
    if "error" not in out["router"]:
        checks["route_correct"] = out["router"]["route"] == exp["route"]
    if "error" not in out["parallel"]:
        checks["parallel_gate_correct"] = out["parallel"]["processed"] == exp["should_process"]
    return checks


def compare(baseline: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    before = {(r["model"], r["eval"], r["case"]): outcomes(r) for r in baseline}
    changes = []
    for r in current:
        old = before.get((r["model"], r["eval"], r["case"]))
        if old is None:
            continue
        new = outcomes(r)
        for check in sorted(set(old) | set(new)):
            if old.get(check) != new.get(check):
                changes.append(
                    {
                        "model": r["model"],
                        "case": r["case"],
                        "check": check,
                        "before": old.get(check),
                        "after": new.get(check),
                    }
                )
    return changes


def to_json(value: Any) -> Any:
    """Summaries hold Estimates; JSON holds dicts."""
    if isinstance(value, Estimate):
        return value.as_dict()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value
