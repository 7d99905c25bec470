"""Kinematic coordinates: the free degrees of freedom of a dilepton event.

Two of the seed paper's eight dilepton features are functions of four others. For
massless leptons of transverse momenta ``pt_l0 >= pt_l1``, azimuthal separation
``dphi_ll`` and pseudorapidity separation ``deta`` (so that
``dr_ll = sqrt(deta^2 + dphi_ll^2)``)::

    pt_ll^2 = pt_l0^2 + pt_l1^2 + 2 pt_l0 pt_l1 cos(dphi_ll)
    m_ll^2  = 2 pt_l0 pt_l1 (cosh(deta) - cos(dphi_ll))

and ``mt`` (DESIGN.md) is fixed by ``pt_ll``, ``m_ll``, ``met`` and the azimuth
``phi_met`` between the dilepton and the missing transverse momentum::

    mt^2 = (sqrt(pt_ll^2 + m_ll^2) + met)^2
           - (pt_ll^2 + met^2 + 2 pt_ll met cos(phi_met))

Monte Carlo events lie exactly on this surface; a network that outputs all eight
columns only approaches it, and a classifier two-sample test finds the gap at once
(``dr_ll < dphi_ll`` or a ``pt_ll`` a few GeV off the identity). The selection adds
an edge that no single column shows: ``pt_l1`` is above its threshold *and* below
``pt_l0``, a triangle in the ``(pt_l0, pt_l1)`` plane that a network smears across.
In the coordinates

    pt_l0, (pt_l1 - t) / (pt_l0 - t), dphi_ll, deta, met, phi_met

with ``t`` the smallest ``pt_l1`` of the training events, every point of the unit
ranges is a physical, selected event, so a generator trained in them cannot leave
the surface and spends its capacity on the distribution instead.
:class:`DileptonCoordinates` maps the eight features to these six and back; other
columns (``m_bb``) pass through.

Use it through the ``"coordinates": "dilepton"`` key of a GAN's ``preprocessing``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["COORDINATES", "DileptonCoordinates"]

DILEPTON = ("pt_l0", "pt_l1", "pt_ll", "m_ll", "met", "mt", "dphi_ll", "dr_ll")
INTERNAL = ("pt_l0", "pt_l1_fraction", "dphi_ll", "deta_ll", "met", "phi_met")


class DileptonCoordinates:
    """Map the eight dilepton features to six free coordinates and back.

    Parameters
    ----------
    features : sequence of str
        The columns of the events, in order; must include the eight dilepton
        features of :data:`generators.FEATURES`. Other columns pass through
        unchanged, after the six coordinates.

    Attributes
    ----------
    pt_l1_min_ : float
        The subleading-lepton threshold ``t``: the smallest ``pt_l1`` seen by
        :meth:`fit` (0 before it).

    Notes
    -----
    The map assumes massless leptons, as the features of the bundled samples are
    computed; on them the round trip is exact to float32 rounding. On events whose
    features do not obey the identities (other lepton masses, features computed
    differently), ``transform`` projects them onto the surface and the round trip
    changes ``pt_ll``, ``m_ll`` and ``mt``.
    """

    name = "dilepton"

    def __init__(self, features: Sequence[str]):
        features = tuple(features)
        missing = [f for f in DILEPTON if f not in features]
        if missing:
            raise ValueError(
                f"coordinates='dilepton' needs the columns {list(DILEPTON)}; "
                f"{missing} are not among the features {list(features)}. Drop the "
                "'coordinates' key of preprocessing for other feature sets."
            )
        self.features = features
        self._index = {f: features.index(f) for f in DILEPTON}
        self._others = [i for i, f in enumerate(features) if f not in DILEPTON]
        self.pt_l1_min_ = 0.0

    def fit(self, X) -> DileptonCoordinates:
        """Learn the subleading-lepton threshold from the events ``X``."""
        X = np.asarray(X, dtype=np.float64)
        self.pt_l1_min_ = float(max(X[:, self._index["pt_l1"]].min(), 0.0))

        return self

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the internal columns, in order."""
        return INTERNAL + tuple(self.features[i] for i in self._others)

    def transform(self, X) -> np.ndarray:
        """Events ``(n, len(features))`` to coordinates ``(n, len(features) - 2)``."""
        X = np.asarray(X, dtype=np.float64)
        c = {f: X[:, i] for f, i in self._index.items()}

        t = self.pt_l1_min_
        fraction = np.divide(
            c["pt_l1"] - t, c["pt_l0"] - t, out=np.ones(len(X)), where=c["pt_l0"] > t
        )
        deta = np.sqrt(np.maximum(c["dr_ll"] ** 2 - c["dphi_ll"] ** 2, 0.0))

        # Invert the mt formula for the dilepton-MET azimuth.
        pt_ll, met = c["pt_ll"], c["met"]
        et_ll = np.sqrt(pt_ll**2 + c["m_ll"] ** 2)
        numerator = (et_ll + met) ** 2 - c["mt"] ** 2 - pt_ll**2 - met**2
        denominator = 2 * pt_ll * met
        cos_phi = np.divide(
            numerator, denominator, out=np.ones(len(X)), where=denominator > 0
        )
        phi_met = np.arccos(np.clip(cos_phi, -1.0, 1.0))

        free = [c["pt_l0"], fraction, c["dphi_ll"], deta, met, phi_met]
        return np.column_stack([*free, *(X[:, i] for i in self._others)])

    def inverse_transform(self, Y) -> np.ndarray:
        """Coordinates back to events; every result obeys the identities above."""
        Y = np.asarray(Y, dtype=np.float64)
        t = self.pt_l1_min_
        pt0 = np.maximum(Y[:, 0], t)
        pt1 = np.minimum(t + (pt0 - t) * np.clip(Y[:, 1], 0.0, 1.0), pt0)
        dphi = np.clip(Y[:, 2], 0.0, np.pi)
        deta = np.maximum(Y[:, 3], 0.0)
        met = np.maximum(Y[:, 4], 0.0)
        phi_met = np.clip(Y[:, 5], 0.0, np.pi)

        pt_ll2 = pt0**2 + pt1**2 + 2 * pt0 * pt1 * np.cos(dphi)
        m_ll2 = 2 * pt0 * pt1 * (np.cosh(deta) - np.cos(dphi))
        pt_ll = np.sqrt(np.maximum(pt_ll2, 0.0))
        et_ll = np.sqrt(np.maximum(pt_ll2 + m_ll2, 0.0))
        mt2 = (et_ll + met) ** 2 - (pt_ll2 + met**2 + 2 * pt_ll * met * np.cos(phi_met))

        X = np.empty((len(Y), len(self.features)))
        values = {
            "pt_l0": pt0,
            "pt_l1": pt1,
            "pt_ll": pt_ll,
            "m_ll": np.sqrt(np.maximum(m_ll2, 0.0)),
            "met": met,
            "mt": np.sqrt(np.maximum(mt2, 0.0)),
            "dphi_ll": dphi,
            "dr_ll": np.hypot(dphi, deta),
        }
        for name, i in self._index.items():
            X[:, i] = values[name]
        X[:, self._others] = Y[:, len(INTERNAL) :]

        return X

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"pt_l1_min": np.array([self.pt_l1_min_])}

    def load_state_dict(self, state: dict) -> DileptonCoordinates:
        self.pt_l1_min_ = float(np.asarray(state["pt_l1_min"])[0])
        return self


#: The coordinate systems a preprocessing config can name.
COORDINATES = {DileptonCoordinates.name: DileptonCoordinates}
