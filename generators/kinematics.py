"""Vectorised kinematics of the reference sample's features.

Every function takes arrays of four-vectors with the last axis ``(px, py, pz, E)`` in
GeV and works on whole batches at once; nothing here loops over events. The feature
definitions follow DESIGN.md ("The reference MC sample") and the seed paper
(section 4.3).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FEATURES",
    "UNITS",
    "delta_phi",
    "delta_r",
    "dilepton_features",
    "eta",
    "invariant_mass",
    "phi",
    "pt",
]

#: Column names of every bundled sample, in order: the seed paper's eight dilepton
#: features plus the scan variable ``m_bb``.
FEATURES = ("pt_l0", "pt_l1", "pt_ll", "m_ll", "met", "mt", "dphi_ll", "dr_ll", "m_bb")

#: Units of :data:`FEATURES`, in the same order.
UNITS = ("GeV", "GeV", "GeV", "GeV", "GeV", "GeV", "rad", "", "GeV")


def pt(p: np.ndarray) -> np.ndarray:
    """Transverse momentum of four-vectors ``p[..., (px, py, pz, E)]``."""
    return np.hypot(p[..., 0], p[..., 1])


def phi(p: np.ndarray) -> np.ndarray:
    """Azimuth in ``(-pi, pi]``."""
    return np.arctan2(p[..., 1], p[..., 0])


def eta(p: np.ndarray) -> np.ndarray:
    """Pseudorapidity, ``asinh(pz / pT)``; finite for any nonzero pT."""
    return np.arcsinh(p[..., 2] / np.maximum(pt(p), 1e-12))


def invariant_mass(p: np.ndarray) -> np.ndarray:
    """Invariant mass, with tiny negative ``m^2`` from rounding clipped to zero."""
    m2 = p[..., 3] ** 2 - p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2
    return np.sqrt(np.maximum(m2, 0.0))


def delta_phi(phi1: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """``|phi1 - phi2|`` wrapped into ``[0, pi]``."""
    d = np.abs(phi1 - phi2) % (2 * np.pi)
    return np.where(d > np.pi, 2 * np.pi - d, d)


def delta_r(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Angular distance ``sqrt(d_eta^2 + d_phi^2)`` between two sets of vectors."""
    return np.hypot(eta(p1) - eta(p2), delta_phi(phi(p1), phi(p2)))


def dilepton_features(
    lep0: np.ndarray, lep1: np.ndarray, met_xy: np.ndarray
) -> dict[str, np.ndarray]:
    """The seed paper's eight features of a dilepton event.

    Parameters
    ----------
    lep0, lep1 : array of shape (n, 4)
        Leading and subleading lepton four-vectors ``(px, py, pz, E)``.
    met_xy : array of shape (n, 2)
        Missing transverse momentum vector.

    Returns
    -------
    dict of str to array of shape (n,)
        ``pt_l0, pt_l1, pt_ll, m_ll, met, mt, dphi_ll, dr_ll``. ``mt`` is the
        transverse mass of the dilepton system and the missing momentum,
        ``mt^2 = (sqrt(pt_ll^2 + m_ll^2) + met)^2 - |pT_ll + pT_miss|^2``
        (DESIGN.md), so that ``mt <= m(ll + nu nu)``.
    """
    ll = lep0 + lep1
    pt_ll = pt(ll)
    m_ll = invariant_mass(ll)
    met = np.hypot(met_xy[:, 0], met_xy[:, 1])

    # Transverse mass of the (ll, missing momentum) system
    et_ll = np.sqrt(pt_ll**2 + m_ll**2)
    sum_x = ll[:, 0] + met_xy[:, 0]
    sum_y = ll[:, 1] + met_xy[:, 1]
    mt2 = (et_ll + met) ** 2 - sum_x**2 - sum_y**2

    return {
        "pt_l0": pt(lep0),
        "pt_l1": pt(lep1),
        "pt_ll": pt_ll,
        "m_ll": m_ll,
        "met": met,
        "mt": np.sqrt(np.maximum(mt2, 0.0)),
        "dphi_ll": delta_phi(phi(lep0), phi(lep1)),
        "dr_ll": delta_r(lep0, lep1),
    }
