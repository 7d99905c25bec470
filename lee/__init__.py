from .background import BackgroundFit, fit_background
from .classifier import TorchMLPClassifier, make_classifier, out_of_fold_scores
from .injection import expected_signal_events, inject_signal
from .io import read_events
from .pvalues import local_pvalue, poisson_pvalue, profile_significance
from .regions import SlidingWindows, Window
from .result import ScanResult, Spectrum
from .scan import BumpScan, CWoLaScan, SculptingWarning
from .significance import (
    ExtrapolationWarning,
    GlobalSignificance,
    fit_trials_factor,
    global_significance,
    upcrossings,
)
from .store import ConfigurationMismatchError, ToyStore
from .study import Study, StudyError, load_study
from .toys import ToyResults, ToyRunner

__all__ = [
    "BackgroundFit",
    "BumpScan",
    "CWoLaScan",
    "ConfigurationMismatchError",
    "ExtrapolationWarning",
    "GlobalSignificance",
    "ScanResult",
    "SculptingWarning",
    "SlidingWindows",
    "Spectrum",
    "Study",
    "StudyError",
    "TorchMLPClassifier",
    "ToyResults",
    "ToyRunner",
    "ToyStore",
    "Window",
    "expected_signal_events",
    "fit_background",
    "fit_trials_factor",
    "global_significance",
    "inject_signal",
    "load_study",
    "local_pvalue",
    "make_classifier",
    "out_of_fold_scores",
    "poisson_pvalue",
    "profile_significance",
    "read_events",
    "upcrossings",
]
