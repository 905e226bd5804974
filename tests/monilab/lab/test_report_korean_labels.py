"""Korean labels in the report's figures are drawn in Hangul, not as empty boxes."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from monilab.lab.report.charts import bar_plot
from monilab.lab.report.figures import KOREAN_FAMILY, use_korean_font

SETUP = "install a CJK font: scripts/setup.sh (Debian's fonts-noto-cjk)"


def _pixels(text: str) -> np.ndarray:
    """``text`` drawn alone, as an RGBA array."""
    fig = Figure(figsize=(1.2, 0.6), dpi=60)
    fig.text(0.5, 0.5, text, fontsize=24, ha="center", va="center")
    canvas = FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tofu control warns about missing glyphs
        canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_hangul_syllables_are_real_glyphs():
    assert use_korean_font(), SETUP
    assert KOREAN_FAMILY in matplotlib.rcParams["font.family"]
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):  # no Hangul: empty boxes
        assert np.array_equal(_pixels("모"), _pixels("니")), "control: tofu boxes are alike"
    glyphs = [_pixels(syllable) for syllable in "모니가계부"]
    for k, glyph in enumerate(glyphs):
        assert glyph[..., :3].min() < 128, "nothing drawn"
        for other in glyphs[k + 1 :]:
            assert not np.array_equal(glyph, other), "two syllables drawn alike (boxes?)"


def test_a_chart_with_korean_labels_misses_no_glyph(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart = bar_plot(
            tmp_path / "merchants.png",
            ["스타벅스", "이마트", "GS25"],
            [3.0, 2.0, 1.0],
            title="모니 가계부: 가맹점",
            xlabel="건수",
        )
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == [], SETUP
    assert chart.path is not None and chart.path.stat().st_size > 1000


def test_a_font_cache_older_than_the_font_is_completed(monkeypatch):
    manager = font_manager.fontManager
    without = [font for font in manager.ttflist if font.name != KOREAN_FAMILY]
    monkeypatch.setattr(manager, "ttflist", without)  # as cached before setup.sh installed it
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    assert use_korean_font.__wrapped__(), SETUP
    assert any(font.name == KOREAN_FAMILY for font in manager.ttflist)
    assert matplotlib.rcParams["font.family"] == ["sans-serif", KOREAN_FAMILY]
