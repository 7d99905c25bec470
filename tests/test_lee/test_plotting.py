"""Figures of a toy study: they draw what they claim and save without a display."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from toy_fixtures import UniformSampler, bump_scan

from lee.plotting import (
    plot_global_significance,
    plot_local_significances,
    plot_max_significance,
)
from lee.toys import ToyRunner


@pytest.fixture(scope="module")
def toys():
    runner = ToyRunner(
        UniformSampler(),
        bump_scan(1000),
        1000,
        backend="sequential",
        random_state=0,
        progress=False,
    )
    return runner.run(60)


def legend_texts(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_max_significance_histogram_marks_the_observed_value(toys, tmp_path):
    fig = plot_max_significance(toys, observed=2.5)
    n_above = int(np.sum(toys.max_significances >= 2.5))

    assert isinstance(fig, Figure)
    assert f"observed 2.50 ({n_above} toys above)" in legend_texts(fig)
    fig.savefig(tmp_path / "max.png")
    assert (tmp_path / "max.png").stat().st_size > 0


def test_global_p_figure_shows_all_three_methods_and_the_local_p(toys, tmp_path):
    fig = plot_global_significance(toys, observed=2.5)
    labels = legend_texts(fig)

    for name in ("empirical", "gross-vitells", "trials-factor", "local p"):
        assert name in labels
    assert "observed 2.50" in labels
    fig.savefig(tmp_path / "global.png")


def test_local_significance_figure_reports_the_mass_at_zero(toys, tmp_path):
    fig = toys.plot_local_significances()
    values = toys.significances[np.isfinite(toys.significances)]
    at_zero = np.mean(values <= 0)

    assert any(f"{at_zero:.1%} at 0" in text for text in legend_texts(fig))
    fig.savefig(tmp_path / "local.png")


def test_local_significance_figure_needs_finite_values():
    with pytest.raises(ValueError, match="no finite local significance"):
        plot_local_significances(np.full((3, 4), np.nan))
