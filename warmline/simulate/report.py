"""The simulator's output: a table of figures (one column per run) and a plot of the shift."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from warmline.simulate.metrics import Figures

Row = tuple[str, Callable[[Figures], str]]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _rows(runs: Sequence[Figures]) -> list[Row]:
    rows: list[Row] = [
        ("contacts offered (calls + texts)",
         lambda f: f"{f.total_offered} ({f.offered.get('voice', 0)} + {f.offered.get('sms', 0)})"),
        ("answer rate", lambda f: _pct(f.answer_rate)),
        ("  calls", lambda f: _pct(f.channel_answer_rate("voice"))),
        ("  texts", lambda f: _pct(f.channel_answer_rate("sms"))),
        ("time to answer p50", lambda f: _secs(f.answer_percentile(50))),
        ("time to answer p90", lambda f: _secs(f.answer_percentile(90))),
        ("time to answer p95", lambda f: _secs(f.answer_percentile(95))),
        ("abandonment (calls)", lambda f: f"{_pct(f.abandonment)} ({f.abandoned})"),
        ("callbacks asked / connected", lambda f: f"{f.callbacks_requested} / {f.callbacks_connected}"),
        ("transfers backup / crisis", lambda f: f"{f.transfers_backup} / {f.transfers_crisis}"),
        ("callers offered call back or backup",
         lambda f: f"{f.callers_offered_fallback} of {f.callers}"),
        ("still open when the run ended", lambda f: str(f.unfinished)),
    ]
    keys = sorted({key for figures in runs for key in figures.experiences})
    for key in keys:
        def match(f: Figures, key: str = key) -> str:
            stats = f.experiences.get(key)
            if stats is None:
                return "-"
            return f"{_pct(stats.match_rate)} ({stats.matched}/{stats.answered} of {stats.asked})"
        rows.append((f"match rate: {key}", match))
    names = sorted({peer.name for figures in runs for peer in figures.peers})
    for name in names:
        def load(f: Figures, name: str = name) -> str:
            peer = next((p for p in f.peers if p.name == name), None)
            if peer is None:
                return "-"
            return f"{peer.calls} calls, {peer.texts} texts, {peer.busy_seconds / 60:.0f} min"
        rows.append((f"load: {name}", load))
    rows.append(("fairness of load (Gini, 0 = even)", lambda f: _num(f.gini)))
    rows.append(("wall time", lambda f: f"{f.wall_seconds:.1f} s"))
    return rows


def format_table(runs: Sequence[Figures], titles: Sequence[str]) -> str:
    """One row per figure, one column per run: two rosters side by side when comparing."""
    rows = [(label, [show(f) for f in runs]) for label, show in _rows(runs)]
    width = max(len(label) for label, _ in rows)
    columns = [max(len(title), *(len(values[i]) for _, values in rows)) for i, title in enumerate(titles)]
    lines = ["  ".join([" " * width, *(t.ljust(c) for t, c in zip(titles, columns, strict=True))])]
    lines.append("  ".join(["-" * width, *("-" * c for c in columns)]))
    for label, values in rows:
        lines.append("  ".join([label.ljust(width),
                                *(v.ljust(c) for v, c in zip(values, columns, strict=True))]))
    return "\n".join(line.rstrip() for line in lines)


def write_plot(runs: Sequence[Figures], titles: Sequence[str], path: Path, shift_minutes: float) -> Path:
    """Waiting contacts and busy peers over the shift, one panel per run (PNG or SVG by suffix)."""
    import matplotlib  # noqa: PLC0415 - heavy; only when a plot is asked for

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axes = plt.subplots(len(runs), 1, figsize=(9, 3.2 * len(runs)), sharex=True, squeeze=False)
    for axis, figures, title in zip(axes[:, 0], runs, titles, strict=True):
        minutes = [s.at / 60 for s in figures.samples]
        axis.step(minutes, [s.waiting for s in figures.samples], where="post", color="#c0392b",
                  label="contacts waiting")
        axis.step(minutes, [s.busy for s in figures.samples], where="post", color="#2471a3",
                  label="peers with a contact")
        axis.step(minutes, [s.wrap_up for s in figures.samples], where="post", color="#7fb3d5",
                  linestyle="--", label="peers in wrap-up")
        axis.axvline(shift_minutes, color="#888888", linewidth=0.8)
        axis.set_ylabel("count")
        axis.set_title(f"{title}: answer rate {_pct(figures.answer_rate)}, "
                       f"p90 {_secs(figures.answer_percentile(90))}", fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("minutes into the shift (the grey line: the shift ends, calls in hand finish)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
