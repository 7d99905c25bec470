"""Reference Monte Carlo: Pythia 8 at parton level with a parametrised detector.

:class:`PythiaGenerator` makes the events behind the bundled samples and can be used
as a :class:`~generators.Sampler` in its own right (slow, but exact), for example to
run full-MC toys that check a generator's toys.

The physics, and every approximation, is written next to the code that makes it:

- pp collisions at 13 TeV. ``process="ttbar"``: top pairs from ``gg`` and ``qqbar``,
  both W bosons forced to ``e``, ``mu`` or ``tau`` (tau then decays as Pythia
  decays it). ``process="hsh"``: ``gg -> H (270 GeV) -> S h`` with
  ``S (140 GeV) -> W W -> l nu l nu`` and ``h -> b b``, the seed paper's model, built
  from Pythia's BSM Higgs states (``H0`` as H, ``A0`` given CP-even W couplings as S).
- Parton level: initial-state radiation on, multiparton interactions, final-state
  radiation and hadronisation off; tau leptons and the hadrons of their decays are
  still decayed. Each final quark or gluon stands for one jet (no jet clustering).
- Detector response in the style of the Delphes 3 ATLAS card (see
  :class:`DetectorResponse` for the numbers), then the selection of
  :class:`Selection`.

Notes
-----
Without final-state radiation the b quarks carry the whole energy that a jet would
collect, so ``m_bb`` peaks sharper than it would after a full simulation; the jet
resolution below puts back the detector part of that width, not the physics part.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from importlib import metadata

import numpy as np

from .base import RandomState, Sampler, check_n, check_random_state
from .kinematics import FEATURES, dilepton_features, eta, invariant_mass, pt

__all__ = ["PROCESSES", "DetectorResponse", "PythiaGenerator", "Selection"]

logger = logging.getLogger(__name__)

_COMMON_SETTINGS = (
    "Beams:eCM = 13000",
    "PartonLevel:MPI = off",
    "PartonLevel:FSR = off",
    "HadronLevel:Hadronize = off",
    # W -> e, mu, tau only; the hadronic decays never pass a two-lepton selection
    "24:onMode = off",
    "24:onIfAny = 11 13 15",
    "Next:numberCount = 0",
    "Print:quiet = on",
)

#: Pythia settings of each process, on top of the common ones above.
PROCESSES: dict[str, tuple[str, ...]] = {
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
    "hsh": (
        "Higgs:useBSM = on",
        "HiggsBSM:gg2H2 = on",
        "35:m0 = 270",
        "36:m0 = 140",
        # A0 has no WW coupling by default; make it CP-even with a Higgs-like one so
        # that S -> W W is open and its spin correlations are those of a scalar
        "HiggsA3:coup2W = 1.0",
        "HiggsA3:parity = 1",
        "35:addChannel = 1 1.0 100 25 36",
        "35:onMode = off",
        "35:onIfMatch = 25 36",
        "36:onMode = off",
        "36:onIfMatch = 24 -24",
        "25:onMode = off",
        "25:onIfMatch = 5 -5",
    ),
}

# Largest numbers of leptons and jet partons kept per event before the selection;
# parton-level ttbar has at most four charged leptons and rarely more than six partons
# above a few GeV, and the leading ones by pT are kept.
_MAX_LEPTONS = 4
_MAX_JETS = 8


@dataclasses.dataclass(frozen=True)
class DetectorResponse:
    """Resolutions and efficiencies of the parametrised detector.

    The numbers follow the Delphes 3 ATLAS card (``delphes_card_ATLAS.tcl``), which
    parametrises the ATLAS performance papers; energies in GeV.

    Attributes
    ----------
    electron_efficiency : (float, float)
        Identification efficiency for ``|eta| <= 1.5`` and ``1.5 < |eta| <= 2.5``.
    muon_efficiency : (float, float)
        Same for muons.
    electron_resolution : (float, float)
        ECAL ``(constant, stochastic)``: ``sigma_E = sqrt((c E)^2 + s^2 E)``.
    muon_resolution : (float, float)
        ``(a, b)`` of ``sigma_pT / pT = sqrt(a^2 + (b pT)^2)``, barrel values.
    jet_resolution : (float, float, float)
        HCAL ``(constant, stochastic, noise)``:
        ``sigma_E = sqrt((c E)^2 + s^2 E + n^2)``.
    btag_efficiency : (float, float, float)
        Tag probability of a b, c and light (u, d, s, g) parton: a 70 % working point.
    met_soft_resolution : float
        ``k`` of the unclustered missing-momentum resolution per transverse component,
        ``sigma = k sqrt(sum E_T)`` with ``sum E_T`` of all visible final particles.
    """

    electron_efficiency: tuple[float, float] = (0.95, 0.85)
    muon_efficiency: tuple[float, float] = (0.95, 0.85)
    electron_resolution: tuple[float, float] = (0.0017, 0.101)
    muon_resolution: tuple[float, float] = (0.01, 1.0e-4)
    jet_resolution: tuple[float, float, float] = (0.0302, 0.5205, 1.59)
    btag_efficiency: tuple[float, float, float] = (0.70, 0.20, 0.01)
    met_soft_resolution: float = 0.5

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Selection:
    """The event selection of the bundled samples (DESIGN.md).

    Exactly two opposite-sign electrons or muons with ``pT`` above
    ``lepton_pt = (leading, subleading)`` and ``|eta| < lepton_eta``, and at least
    ``n_bjets`` b-tagged jets with ``pT > bjet_pt`` and ``|eta| < bjet_eta``. ``m_bb``
    is built from the two leading tagged jets.
    """

    lepton_pt: tuple[float, float] = (25.0, 20.0)
    lepton_eta: float = 2.5
    bjet_pt: float = 25.0
    bjet_eta: float = 2.5
    n_bjets: int = 2

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _import_pythia():
    try:
        import pythia8mc
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "PythiaGenerator needs Pythia 8 (the 'pythia8mc' package). Install the "
            "'mc' extra: pip install 'lee-toys[mc]'."
        ) from err
    return pythia8mc


class PythiaGenerator(Sampler):
    """Selected reference events from Pythia 8 and a parametrised detector.

    Parameters
    ----------
    process : {"ttbar", "hsh"}
        Dilepton top pairs (the background) or the seed paper's H -> S h signal.
    seed : int
        Seed of the stream that :meth:`sample` continues when it is called without
        ``random_state``; Pythia accepts 1 to 900,000,000.
    detector : DetectorResponse, optional
    selection : Selection, optional
    settings : sequence of str
        Extra Pythia settings, read after the built-in ones.
    batch_size : int
        Events generated between two vectorised reconstruction passes.

    Examples
    --------
    >>> from generators.mc import PythiaGenerator
    >>> X = PythiaGenerator("ttbar", seed=1).sample(10)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (10, 9)
    """

    features = FEATURES

    def __init__(
        self,
        process: str = "ttbar",
        seed: int = 1,
        *,
        detector: DetectorResponse | None = None,
        selection: Selection | None = None,
        settings: Sequence[str] = (),
        batch_size: int = 2000,
    ):
        if process not in PROCESSES:
            raise ValueError(
                f"process must be one of {sorted(PROCESSES)}; got {process!r}."
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int; got {type(seed).__name__}.")
        if not 1 <= seed <= 900_000_000:
            raise ValueError(
                "seed must lie in [1, 900000000], the range Pythia accepts; "
                f"got {seed}."
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size}.")
        _import_pythia()

        self.process = process
        self.seed = int(seed)
        self.detector = detector or DetectorResponse()
        self.selection = selection or Selection()
        self.settings = tuple(settings)
        self.batch_size = int(batch_size)
        self.n_generated_ = 0
        self.n_selected_ = 0
        self._stream = None

    # -- public interface -------------------------------------------------------------

    def sample(
        self,
        n: int,
        *,
        random_state: RandomState = None,
        conditions=None,
    ) -> np.ndarray:
        """Generate events until ``n`` pass the selection; return them as float32.

        Without ``random_state`` the generator's own stream continues, so two calls
        give different events and the same sequence of calls repeats exactly. With
        ``random_state`` a fresh Pythia instance is seeded from it, which costs one
        initialisation (a fraction of a second) and leaves the own stream untouched.
        """
        n = check_n(n)
        if conditions is not None:
            raise ValueError(
                "PythiaGenerator cannot sample at given conditions; pass "
                "conditions=None, or select events by the column afterwards."
            )
        if random_state is None:
            if self._stream is None:
                self._stream = self._start(np.random.default_rng(self.seed), self.seed)
            stream = self._stream
        else:
            rng = check_random_state(random_state)
            stream = self._start(rng, int(rng.integers(1, 900_000_000)))

        return self._generate(stream, n)

    @property
    def selection_efficiency(self) -> float:
        """Fraction of generated events that passed the selection so far."""
        return self.n_selected_ / self.n_generated_ if self.n_generated_ else np.nan

    def get_params(self) -> dict:
        """JSON-ready configuration: enough to rebuild this generator."""
        return {
            "process": self.process,
            "seed": self.seed,
            "detector": self.detector.to_dict(),
            "selection": self.selection.to_dict(),
            "settings": list(self.settings),
            "batch_size": self.batch_size,
        }

    @classmethod
    def from_params(cls, params: dict) -> PythiaGenerator:
        """Inverse of :meth:`get_params`."""
        params = dict(params)
        detector = DetectorResponse(
            **{k: _as_tuple(v) for k, v in params.pop("detector").items()}
        )
        selection = Selection(
            **{k: _as_tuple(v) for k, v in params.pop("selection").items()}
        )
        return cls(detector=detector, selection=selection, **params)

    def provenance(self) -> dict:
        """Versions and settings that reproduce the events made so far."""
        return {
            "generator": "Pythia 8 (pythia8mc " + metadata.version("pythia8mc") + ")",
            "pythia_settings": list(
                _COMMON_SETTINGS + PROCESSES[self.process] + self.settings
            ),
            **self.get_params(),
            "n_generated": self.n_generated_,
            "n_selected": self.n_selected_,
        }

    def __getstate__(self):
        # A Pythia instance cannot be pickled; worker processes start their own.
        state = self.__dict__.copy()
        state["_stream"] = None
        return state

    def __repr__(self) -> str:
        return f"PythiaGenerator(process={self.process!r}, seed={self.seed})"

    # -- generation -------------------------------------------------------------------

    def _start(self, rng: np.random.Generator, pythia_seed: int) -> _Stream:
        pythia8mc = _import_pythia()
        pythia = pythia8mc.Pythia("", False)
        for line in (
            *_COMMON_SETTINGS,
            *PROCESSES[self.process],
            *self.settings,
            "Random:setSeed = on",
            f"Random:seed = {pythia_seed}",
        ):
            if not pythia.readString(line):
                raise ValueError(f"Pythia rejected the setting {line!r}.")
        if not pythia.init():
            raise RuntimeError(
                f"Pythia failed to initialise process {self.process!r}; "
                "check the extra settings."
            )
        return _Stream(pythia, rng)

    def _generate(self, stream: _Stream, n: int) -> np.ndarray:
        chunks, n_kept = [], 0
        while n_kept < n:
            batch = stream.read(self.batch_size)
            X = reconstruct(batch, stream.rng, self.detector, self.selection)
            self.n_generated_ += batch.n_events
            self.n_selected_ += len(X)
            chunks.append(X)
            n_kept += len(X)
            logger.debug("%s: %d of %d events selected", self, n_kept, n)

        return np.concatenate(chunks)[:n].astype(np.float32)


def _as_tuple(value):
    return tuple(value) if isinstance(value, list) else value


class _Stream:
    """One seeded Pythia instance and the detector's random stream beside it."""

    def __init__(self, pythia, rng: np.random.Generator):
        self.pythia = pythia
        self.rng = rng

    def read(self, n_events: int) -> PartonBatch:
        """Generate ``n_events`` events and copy the final particles we need."""
        batch = PartonBatch.empty(n_events)
        i = 0
        while i < n_events:
            if not self.pythia.next():
                continue
            batch.fill(i, self.pythia.event)
            i += 1

        return batch


class PartonBatch:
    """Final-state particles of a batch of events, padded into fixed arrays.

    ``leptons`` and ``jets`` hold ``(px, py, pz, E)``, padded with zeros;
    ``lepton_id`` holds the PDG id (0 for padding) and ``jet_flavour`` the absolute
    PDG id of the parton (21 for gluons, 0 for padding). ``nu_xy`` is the vector sum of
    the neutrinos' transverse momenta and ``sum_et`` the scalar sum of the visible
    transverse momenta.
    """

    def __init__(self, leptons, lepton_id, jets, jet_flavour, nu_xy, sum_et):
        self.leptons = leptons
        self.lepton_id = lepton_id
        self.jets = jets
        self.jet_flavour = jet_flavour
        self.nu_xy = nu_xy
        self.sum_et = sum_et

    @property
    def n_events(self) -> int:
        return len(self.sum_et)

    @classmethod
    def empty(cls, n: int) -> PartonBatch:
        return cls(
            leptons=np.zeros((n, _MAX_LEPTONS, 4)),
            lepton_id=np.zeros((n, _MAX_LEPTONS), dtype=np.int64),
            jets=np.zeros((n, _MAX_JETS, 4)),
            jet_flavour=np.zeros((n, _MAX_JETS), dtype=np.int64),
            nu_xy=np.zeros((n, 2)),
            sum_et=np.zeros(n),
        )

    def fill(self, i: int, event) -> None:
        """Copy event ``i`` from a Pythia event record.

        This loop over particles is the one per-particle Python loop of the
        generator; everything after it is vectorised over the batch.
        """
        leptons, jets = [], []
        nu_x = nu_y = sum_et = 0.0
        for p in event:
            if not p.isFinal():
                continue
            aid = p.idAbs()
            if aid in (12, 14, 16):
                nu_x += p.px()
                nu_y += p.py()
                continue
            sum_et += p.pT()
            if aid in (11, 13):
                leptons.append((p.pT(), p.px(), p.py(), p.pz(), p.e(), p.id()))
            elif aid <= 5 or aid == 21:
                jets.append((p.pT(), p.px(), p.py(), p.pz(), p.e(), aid))

        for rows, p4, tag, cap in (
            (leptons, self.leptons, self.lepton_id, _MAX_LEPTONS),
            (jets, self.jets, self.jet_flavour, _MAX_JETS),
        ):
            rows.sort(reverse=True)
            for k, row in enumerate(rows[:cap]):
                p4[i, k] = row[1:5]
                tag[i, k] = row[5]
        self.nu_xy[i] = nu_x, nu_y
        self.sum_et[i] = sum_et


def _smear(p4, sigma_rel, rng):
    """Scale four-vectors by ``1 + N(0, sigma_rel)``, keeping their direction."""
    factor = np.maximum(1.0 + sigma_rel * rng.standard_normal(sigma_rel.shape), 0.0)
    return p4 * factor[..., None]


def _leading_two(p4, keep):
    """The two highest-pT vectors among those with ``keep`` true, per event."""
    order = np.argsort(np.where(keep, -pt(p4), np.inf), axis=1, kind="stable")[:, :2]
    return np.take_along_axis(p4, order[..., None], axis=1), order


def reconstruct(
    batch: PartonBatch,
    rng: np.random.Generator,
    detector: DetectorResponse,
    selection: Selection,
) -> np.ndarray:
    """Apply the detector response and the selection to a batch; return features.

    Returns an array of shape ``(n_selected, 9)`` in the column order of
    :data:`~generators.kinematics.FEATURES`.
    """
    d, cut = detector, selection

    # Leptons: efficiency, resolution, acceptance
    is_e = np.abs(batch.lepton_id) == 11
    is_mu = np.abs(batch.lepton_id) == 13
    lep_eta = np.abs(eta(batch.leptons))
    barrel = lep_eta <= 1.5
    energy = batch.leptons[..., 3]
    sigma_e = np.sqrt(
        d.electron_resolution[0] ** 2
        + d.electron_resolution[1] ** 2 / np.maximum(energy, 1e-9)
    )
    sigma_mu = np.hypot(d.muon_resolution[0], d.muon_resolution[1] * pt(batch.leptons))
    leptons = _smear(batch.leptons, np.where(is_e, sigma_e, sigma_mu), rng)
    efficiency = np.where(
        is_e,
        np.where(barrel, *d.electron_efficiency),
        np.where(barrel, *d.muon_efficiency),
    )
    found = (is_e | is_mu) & (rng.random(efficiency.shape) < efficiency)
    lep_ok = found & (pt(leptons) > cut.lepton_pt[1]) & (lep_eta < cut.lepton_eta)

    # Jets: resolution, acceptance, b-tagging
    jet_energy = np.maximum(batch.jets[..., 3], 1e-9)
    c, s, noise = d.jet_resolution
    sigma_jet = np.sqrt(c**2 + s**2 / jet_energy + noise**2 / jet_energy**2)
    jets = _smear(batch.jets, sigma_jet, rng)
    flavour = batch.jet_flavour
    tag_prob = np.select(
        [flavour == 5, flavour == 4, flavour > 0], list(d.btag_efficiency), 0.0
    )
    jet_ok = (pt(jets) > cut.bjet_pt) & (np.abs(eta(jets)) < cut.bjet_eta)
    tagged = jet_ok & (rng.random(tag_prob.shape) < tag_prob)

    # Missing momentum: neutrinos, minus the mismeasurement of the reconstructed
    # objects, plus a Gaussian unclustered term
    shift = np.where(lep_ok[..., None], leptons - batch.leptons, 0.0).sum(axis=1)
    shift += np.where(jet_ok[..., None], jets - batch.jets, 0.0).sum(axis=1)
    soft = d.met_soft_resolution * np.sqrt(batch.sum_et)
    met_xy = (
        batch.nu_xy - shift[:, :2] + soft[:, None] * rng.standard_normal((len(soft), 2))
    )

    # Selection
    (lep0, lep1), lep_order = _split(*_leading_two(leptons, lep_ok))
    ids = np.take_along_axis(batch.lepton_id, lep_order, axis=1)
    selected = (
        (lep_ok.sum(axis=1) == 2)
        & (ids[:, 0] * ids[:, 1] < 0)
        & (pt(lep0) > cut.lepton_pt[0])
        & (tagged.sum(axis=1) >= cut.n_bjets)
    )
    (b0, b1), _ = _split(*_leading_two(jets, tagged))

    features = dilepton_features(lep0[selected], lep1[selected], met_xy[selected])
    features["m_bb"] = invariant_mass(b0[selected] + b1[selected])

    return np.column_stack([features[name] for name in FEATURES])


def _split(pairs, order):
    return (pairs[:, 0], pairs[:, 1]), order
