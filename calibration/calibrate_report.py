"""``report.html`` of a calibration: convergence curve and a before/after/target table."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

from calibration.loop import CalibrationResult

__all__ = ["write_report"]


def write_report(result: CalibrationResult, path: str | Path) -> Path:
    """Write a self-contained HTML report (the plot embedded as a base64 PNG)."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Moni Lab calibration</title>",
        "<style>body{font-family:sans-serif;max-width:70em}td,th{padding:2px 8px;"
        "text-align:right}table{border-collapse:collapse}tr:nth-child(even){background:#eee}"
        "</style>",
        f"<h1>Calibration ({html.escape(result.sampler)})</h1>",
        f"<p>{len(result.trials)} search calls + {result.held_out_calls} held-out calls, "
        f"{result.wall_seconds:.1f} s; seeds {html.escape(str(result.seeds))}.</p>",
        f"<img alt='convergence' src='data:image/png;base64,{_convergence_png(result)}'>",
    ]
    for name, score in result.held_out.items():
        parts.append(f"<h2>Held-out seeds, {html.escape(name)} targets</h2>")
        parts.append(
            f"<p>loss default {score.loss_default:.4f} → final {score.loss_final:.4f}; "
            f"noise floor {score.noise_floor:.4f}; fraction of closable gap closed "
            f"{_fmt(score.gap_closed)}</p>"
        )
        table = score.metrics.rename(columns={"default": "before", "final": "after"})
        parts.append(table.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0))
    parts.append("<h2>Parameters</h2><table><tr><th>name</th><th>default</th><th>final</th></tr>")
    for name, value in result.params.items():
        parts.append(
            f"<tr><td style='text-align:left'>{html.escape(name)}</td>"
            f"<td>{result.defaults[name]:.4g}</td><td>{value:.4g}</td></tr>"
        )
    parts.append("</table>")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _convergence_png(result: CalibrationResult) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = [t.loss for t in result.trials]
    best = [min(losses[: i + 1]) for i in range(len(losses))]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(losses, ".", color="0.6", label="trial")
    ax.plot(best, "-", color="C0", label="best so far")
    ax.set_xlabel("simulator call")
    ax.set_ylabel("fit loss (fit seed)")
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(x: float) -> str:
    return "n/a (defaults within the noise floor)" if not math.isfinite(x) else f"{x:.2f}"
