"""ML-ARAM (Sapozhnikova, "ART-based neural networks for multi-label classification", IDA 2009) and its
hierarchical variant HARAM (Benites & Sapozhnikova, "HARAM: a hierarchical ARAM neural network for large-scale
text classification", ICDMW 2015): fuzzy ARAM networks whose category nodes are hyperbox prototypes, each carrying
the label vector of the training samples it has absorbed.

Input coding. Every feature f is min-max normalised with the training minimum and range, ``x_f = clip((x_f -
min_f) / range_f, 0, 1)`` (a constant feature gets range 1), and complement coded: ``I = [x, 1 - x]`` (2F values,
``|I| = F``, where ``|a| = Σ_i a_i`` and ``a ∧ b`` is the element-wise minimum, the fuzzy AND).

Training (one pass, rows in the given order; no randomness). Node j has the weights ``w_j`` (2F) and the label
vector ``y_j``. A sample ``(I, y)`` competes only among the nodes with exactly its label vector (the label side of
ARAM with complement-coded labels and label vigilance 1); their choice function and match are

    T_j = |I ∧ w_j| / (α + |w_j|)          m_j = |I ∧ w_j| / |I| = |I ∧ w_j| / F

and the sample resonates with the node of highest ``T_j`` among those with ``m_j >= ρ`` (vigilance; ties go to
the oldest node), which learns ``w_j <- β (I ∧ w_j) + (1 - β) w_j`` (fast learning: β = 1). If no node passes
the vigilance test (or none has its label vector), a new node ``w = I, y_j = y`` is created.

Prediction (the exact rule). For a sample, compute ``T_j`` of every node (HARAM: of the nodes in the searched
clusters only), let ``T_max`` be the largest and ``T_min`` the smallest of them, and select the nodes

    gap="range" (default):  (T_max - T_j) / T_max <= θ (T_max - T_min)
    gap="relative":         (T_max - T_j) / T_max <= θ

(θ = ``threshold``). The default scales the tolerance by the spread of the activations, close to what
scikit-multilearn 0.2.0's ``MLARAM`` does (compared as a black box on yeast: the same prototypes; its scores, which
it does not scale into [0, 1], are proportional row by row to these on 96 % of the test rows), the code the
published HARAM numbers were probably made with; its θ = 0.02 belongs to this rule. The plain relative gap
selects thousands of near-tied nodes on sparse text (complement coding makes every activation close to 1 there),
which costs bibtex more than half its micro-F1 (0.17 against 0.40 on its test split). The winner is always
selected. The label scores are the activation-weighted mean of the selected nodes' label vectors,
``s = Σ_sel T_j y_j / Σ_sel T_j`` (a plain mean if every selected ``T_j`` is 0), so each score lies in [0, 1];
the decision threshold is chosen on validation by the caller.

Normalisation differs from scikit-multilearn on purpose: there one global minimum and maximum over all features
are taken from whatever matrix is passed (the test matrix at prediction); here each feature's are fitted on the
training rows only.

HARAM adds a second ART layer: after training, the prototypes (in creation order) are clustered by unsupervised
fuzzy ART with vigilance ``ρ_c`` (match ``|w_j ∧ c_k| / |w_j| >= ρ_c``, choice ``|w_j ∧ c_k| / (α + |c_k|)``,
fast learning ``c_k <- c_k ∧ w_j``, so a cluster is the hyperbox that covers its prototypes). A sample then
activates the clusters with the same choice function, and only the prototypes of its ``n_clusters`` most active
clusters compete in the rule above; with enough clusters searched HARAM equals ML-ARAM.

Sparse input: a normalised zero feature has the same value ``z_f`` for every row, so ``|I ∧ w_j|`` is a per-node
constant (the overlap with the all-zero row) plus a correction over the row's non-zero columns only; predicting
costs O(nodes x non-zeros) per sample. Dense input is converted to CSR first, so that dense and sparse input give
the same numbers.

Shapes: features (N, F) dense or CSR; labels (N, L) 0/1; scores (N, L) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

GAPS = ("range", "relative")
_ROWS = 1024  # rows densified at a time while training


@dataclass
class MLARAM:
    """ML-ARAM with vigilance ``vigilance`` and prediction tolerance ``threshold`` (scikit-multilearn's defaults).

    Attributes
    ----------
    vigilance : float
        ρ in [0, 1]: the smallest match ``|I ∧ w| / F`` for a sample to join a node; 1 creates a node per distinct
        training row (no compression), lower values grow larger hyperboxes.
    threshold : float
        θ >= 0: how far below the winner a node's activation may lie and still vote (see ``gap``).
    alpha : float
        α > 0: choice parameter; small values favour the node that covers the sample best.
    beta : float
        β in (0, 1]: learning rate (1 = fast learning).
    gap : str
        ``"range"`` or ``"relative"``: the node selection rule of the module docstring.

    Fitted attributes: ``weights`` (nodes, 2F) the prototypes ``[u, 1 - v]`` of the hyperboxes ``[u, v]``;
    ``node_labels`` (nodes, L) uint8; ``feature_min``, ``feature_range`` (F,) the normalisation.
    """

    vigilance: float = 0.9
    threshold: float = 0.02
    alpha: float = 1e-3
    beta: float = 1.0
    gap: str = "range"
    weights: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    node_labels: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    feature_min: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    feature_range: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    _boxes: _Boxes = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    _labels_t: sp.csr_matrix = field(default=None, init=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if not 0.0 <= self.vigilance <= 1.0:
            raise ValueError(f"vigilance must be in [0, 1], got {self.vigilance}")
        if self.threshold < 0:
            raise ValueError(f"threshold must be >= 0, got {self.threshold}")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if not 0.0 < self.beta <= 1.0:
            raise ValueError(f"beta must be in (0, 1], got {self.beta}")
        if self.gap not in GAPS:
            raise ValueError(f"gap must be one of {GAPS}, got {self.gap!r}")

    def fit(self, x: Any, y: np.ndarray) -> MLARAM:
        """Learn the prototypes from features ``x`` (N, F) and 0/1 labels ``y`` (N, L), rows in the given order."""
        x = _canonical(x)
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[0] != x.shape[0]:
            raise ValueError(f"labels must be (N, L) with N = {x.shape[0]} rows, got shape {y.shape}")
        if x.shape[0] == 0:
            raise ValueError("MLARAM.fit needs at least one training sample")
        y = (y != 0).astype(np.uint8)
        lo = np.asarray(x.min(axis=0).todense()).ravel()
        hi = np.asarray(x.max(axis=0).todense()).ravel()
        rng = hi - lo
        self.feature_min, self.feature_range = lo, np.where(rng > 0, rng, 1.0)
        n_features = x.shape[1]
        groups: dict[bytes, _Group] = {}  # label vector -> its nodes
        order: list[tuple[bytes, int]] = []  # node id -> (group, position in the group)
        for start in range(0, x.shape[0], _ROWS):
            block = self._code(x[start : start + _ROWS].toarray())
            for code, labels in zip(block, y[start : start + _ROWS]):
                key = labels.tobytes()
                group = groups.get(key)
                if group is None:
                    groups[key] = group = _Group(labels)
                pos = self._resonate(group, code, n_features)
                if pos < 0:
                    order.append((key, group.add(code)))
                else:
                    w = group.w[pos]
                    group.w[pos] = self.beta * np.minimum(code, w) + (1 - self.beta) * w
        self.weights = np.stack([groups[key].w[pos] for key, pos in order])
        self.node_labels = np.stack([groups[key].labels for key, _ in order])
        self._boxes = _Boxes(self.weights, self._code(np.zeros((1, n_features)))[0, :n_features])
        self._labels_t = sp.csr_matrix(self.node_labels.T, dtype=np.float64)
        return self

    def _code(self, x: np.ndarray) -> np.ndarray:
        """Normalised, clipped and complement-coded rows: (B, F) raw -> (B, 2F)."""
        v = np.clip((x - self.feature_min) / self.feature_range, 0.0, 1.0)
        return np.concatenate([v, 1.0 - v], axis=1)

    def _resonate(self, group: _Group, code: np.ndarray, n_features: int) -> int:
        """Position of the node of ``group`` the sample joins (highest choice among those passing vigilance), or -1."""
        if group.size == 0:
            return -1
        w = group.w[: group.size]
        overlap = np.minimum(code, w).sum(1)
        choice = np.where(overlap / n_features >= self.vigilance, overlap / (self.alpha + w.sum(1)), -np.inf)
        best = int(np.argmax(choice))  # the first maximum: the oldest node
        return best if np.isfinite(choice[best]) else -1

    def predict_proba(self, x: Any) -> np.ndarray:
        """Label scores (N, L) in [0, 1] by the node selection rule of the module docstring."""
        if self.weights is None:
            raise ValueError(f"{type(self).__name__}.predict_proba before fit")
        x = _canonical(x)
        if x.shape[1] != len(self.feature_min):
            raise ValueError(f"features must have {len(self.feature_min)} columns (as in fit), got {x.shape[1]}")
        scores = np.empty((x.shape[0], self.node_labels.shape[1]))
        for i in range(x.shape[0]):
            cols = x.indices[x.indptr[i] : x.indptr[i + 1]]
            raw = x.data[x.indptr[i] : x.indptr[i + 1]]
            v = np.clip((raw - self.feature_min[cols]) / self.feature_range[cols], 0.0, 1.0)
            nodes = self._search(cols, v)
            scores[i] = self._vote(self._boxes.choice(cols, v, self.alpha, nodes), nodes)
        return scores

    def _search(self, cols: np.ndarray, v: np.ndarray) -> np.ndarray | None:
        """The nodes that compete for a sample (``None``: all of them)."""
        return None

    def _vote(self, choice: np.ndarray, nodes: np.ndarray | None) -> np.ndarray:
        """Activation-weighted mean label vector of the selected nodes."""
        top, bottom = choice.max(), choice.min()
        tol = self.threshold * (top - bottom) if self.gap == "range" else self.threshold
        selected = np.flatnonzero((top - choice) <= tol * top)  # (T_max - T_j) / T_max <= tol, no division
        weights = choice[selected]
        if weights.sum() <= 0:
            weights = np.ones(len(selected))  # every selected node has activation 0: a plain mean
        full = np.zeros(self.n_nodes)
        full[selected if nodes is None else nodes[selected]] = weights
        return np.clip(self._labels_t @ full / weights.sum(), 0.0, 1.0)  # sparse (L, nodes) @ (nodes,)

    @property
    def n_nodes(self) -> int:
        """Number of category nodes (prototypes) after fit."""
        return 0 if self.weights is None else len(self.weights)


@dataclass
class HARAM(MLARAM):
    """HARAM: ML-ARAM whose prototypes are clustered by a second fuzzy ART layer; prediction searches only the
    prototypes of the ``n_clusters`` most active clusters.

    Attributes
    ----------
    cluster_vigilance : float
        ρ_c in [0, 1] of the cluster layer: lower values give fewer, larger clusters.
    n_clusters : int
        Number of clusters (the most active ones) whose prototypes compete for a sample.

    Fitted attributes (besides ML-ARAM's): ``cluster_weights`` (clusters, 2F) and ``cluster_of`` (nodes,) the
    cluster of each prototype.
    """

    cluster_vigilance: float = 0.7  # yeast / bibtex / delicious: 212 / 315 / 663 clusters of 1465 / 3217 / 12699 nodes
    n_clusters: int = 10  # searching 3 lost 0.03-0.05 validation micro-F1 on those three
    cluster_weights: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    cluster_of: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    _members: list[np.ndarray] = field(default_factory=list, init=False, repr=False)
    _cluster_boxes: _Boxes = field(default=None, init=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.cluster_vigilance <= 1.0:
            raise ValueError(f"cluster_vigilance must be in [0, 1], got {self.cluster_vigilance}")
        if self.n_clusters < 1:
            raise ValueError(f"n_clusters must be >= 1, got {self.n_clusters}")

    def fit(self, x: Any, y: np.ndarray) -> HARAM:
        """Learn the prototypes (ML-ARAM), then cluster them in creation order."""
        super().fit(x, y)
        clusters = _Group(np.zeros(0, np.uint8))
        cluster_of = np.empty(self.n_nodes, dtype=np.int64)
        for j, w in enumerate(self.weights):
            size = w.sum()
            k = -1
            if clusters.size:
                c = clusters.w[: clusters.size]
                overlap = np.minimum(w, c).sum(1)
                match = overlap / size if size > 0 else np.ones(clusters.size)
                choice = np.where(match >= self.cluster_vigilance, overlap / (self.alpha + c.sum(1)), -np.inf)
                best = int(np.argmax(choice))
                k = best if np.isfinite(choice[best]) else -1
            if k < 0:
                k = clusters.add(w)
            else:
                clusters.w[k] = np.minimum(clusters.w[k], w)
            cluster_of[j] = k
        self.cluster_weights = clusters.w[: clusters.size].copy()
        self.cluster_of = cluster_of
        self._members = [np.flatnonzero(cluster_of == k) for k in range(clusters.size)]
        self._cluster_boxes = _Boxes(self.cluster_weights, self._boxes.zero)
        return self

    def _search(self, cols: np.ndarray, v: np.ndarray) -> np.ndarray | None:
        n = len(self._members)
        if self.n_clusters >= n:
            return None
        choice = self._cluster_boxes.choice(cols, v, self.alpha)
        best = np.argsort(-choice, kind="stable")[: self.n_clusters]
        return np.sort(np.concatenate([self._members[k] for k in best]))

    @property
    def n_clusters_fitted(self) -> int:
        """Number of clusters of prototypes after fit."""
        return len(self._members)


class _Group:
    """A growable stack of weight rows (the nodes of one label vector, or the clusters)."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels
        self.w = np.empty((0, 0))
        self.size = 0

    def add(self, row: np.ndarray) -> int:
        if self.size == len(self.w):
            grown = np.empty((max(4, 2 * self.size), len(row)))
            if self.size:
                grown[: self.size] = self.w[: self.size]
            self.w = grown
        self.w[self.size] = row
        self.size += 1
        return self.size - 1


class _Boxes:
    """Choice function ``|I ∧ w_j| / (α + |w_j|)`` of many prototypes against one sparse sample.

    With ``w = [u, c]`` and the normalised zero row ``z``, ``|I ∧ w_j| = base_j + Σ_{f in cols} (min(v_f, u_jf) +
    min(1 - v_f, c_jf) - min(z_f, u_jf) - min(1 - z_f, c_jf))``, where ``base_j`` is the overlap with the zero row.
    """

    def __init__(self, weights: np.ndarray, zero: np.ndarray) -> None:
        n_features = weights.shape[1] // 2
        self.zero = zero  # (F,) the normalised value of a 0 feature
        self.low = np.ascontiguousarray(weights[:, :n_features].T)  # (F, nodes)
        self.comp = np.ascontiguousarray(weights[:, n_features:].T)
        self.base = (np.minimum(zero[:, None], self.low) + np.minimum(1.0 - zero[:, None], self.comp)).sum(0)
        self.size = weights.sum(1)  # |w_j|

    def choice(self, cols: np.ndarray, v: np.ndarray, alpha: float, nodes: np.ndarray | None = None) -> np.ndarray:
        if nodes is None:
            low, comp, base, size = self.low[cols], self.comp[cols], self.base, self.size
        else:
            rows = np.ix_(cols, nodes)
            low, comp, base, size = self.low[rows], self.comp[rows], self.base[nodes], self.size[nodes]
        z = self.zero[cols, None]
        v = v[:, None]
        delta = np.minimum(v, low) + np.minimum(1.0 - v, comp) - np.minimum(z, low) - np.minimum(1.0 - z, comp)
        return (base + delta.sum(0)) / (alpha + size)


def _canonical(x: Any) -> sp.csr_matrix:
    """float64 CSR without stored zeros and with sorted column indices (dense and sparse input alike)."""
    out = sp.csr_matrix(x, dtype=np.float64, copy=True)
    out.eliminate_zeros()
    out.sort_indices()
    return out
