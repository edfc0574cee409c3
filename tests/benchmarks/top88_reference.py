"""The 88-line code of Andreassen et al. (2011), ported line by line to NumPy/SciPy: the baseline.

Kept deliberately plain (triplet assembly, ``spsolve``, the filter as a sparse matrix, a filter per
bisection step) so the benchmark can show what the suite's solver gains. Same numbering as the
MATLAB code (nodes column by column, top-down), same stopping rule.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve


def top88_iterations(
    nelx: int, nely: int, volfrac: float, penal: float, rmin: float, ft: int, max_iter: int = 2000
) -> Iterator[tuple[float, float, float]]:
    """Yield (compliance, change, seconds) per iteration; ft 1 = sensitivity, 2 = density filter."""
    e0, emin, nu = 1.0, 1e-9, 0.3
    a11 = np.array([[12, 3, -6, -3], [3, 12, 3, 0], [-6, 3, 12, -3], [-3, 0, -3, 12]])
    a12 = np.array([[-6, -3, 0, 3], [-3, -6, -3, -6], [0, -3, -6, 3], [3, -6, 3, -6]])
    b11 = np.array([[-4, 3, -2, 9], [3, -4, -9, 4], [-2, -9, -4, -3], [9, 4, -3, -4]])
    b12 = np.array([[2, -3, 4, -9], [-3, 2, 9, -2], [4, 9, 2, 3], [-9, -2, 3, 2]])
    ke = (
        1
        / (1 - nu**2)
        / 24
        * (np.block([[a11, a12], [a12.T, a11]]) + nu * np.block([[b11, b12], [b12.T, b11]]))
    )
    nodenrs = np.arange((1 + nelx) * (1 + nely)).reshape(1 + nely, 1 + nelx, order="F")
    edof_vec = (2 * nodenrs[:-1, :-1] + 2).reshape(-1, 1, order="F")
    edof_mat = edof_vec + np.array([0, 1, 2 * nely + 2, 2 * nely + 3, 2 * nely, 2 * nely + 1, -2, -1])
    i_k = np.kron(edof_mat, np.ones((8, 1), dtype=int)).ravel()
    j_k = np.kron(edof_mat, np.ones((1, 8), dtype=int)).ravel()
    ndof = 2 * (nelx + 1) * (nely + 1)
    f = np.zeros(ndof)
    f[1] = -1.0
    fixeddofs = np.union1d(np.arange(0, 2 * (nely + 1), 2), [ndof - 1])
    freedofs = np.setdiff1d(np.arange(ndof), fixeddofs)
    # filter matrix H
    rows, cols, vals = [], [], []
    reach = int(np.ceil(rmin)) - 1
    for i1 in range(nelx):
        for j1 in range(nely):
            e1 = i1 * nely + j1
            for i2 in range(max(i1 - reach, 0), min(i1 + reach + 1, nelx)):
                for j2 in range(max(j1 - reach, 0), min(j1 + reach + 1, nely)):
                    rows.append(e1)
                    cols.append(i2 * nely + j2)
                    vals.append(max(0.0, rmin - np.hypot(i1 - i2, j1 - j2)))
    h = sp.csr_matrix((vals, (rows, cols)), shape=(nelx * nely, nelx * nely))
    hs = np.asarray(h.sum(axis=1)).ravel()
    x = np.full(nely * nelx, volfrac)  # column-major (element e = i * nely + j)
    x_phys = x.copy()
    change, loop = 1.0, 0
    while change > 0.01 and loop < max_iter:
        tick = time.perf_counter()
        loop += 1
        s_k = (ke.ravel()[None, :] * (emin + x_phys[:, None] ** penal * (e0 - emin))).ravel()
        k = sp.coo_matrix((s_k, (i_k, j_k)), shape=(ndof, ndof)).tocsc()
        k = (k + k.T) / 2
        u = np.zeros(ndof)
        u[freedofs] = spsolve(k[freedofs][:, freedofs], f[freedofs])
        ue = u[edof_mat]
        ce = np.sum((ue @ ke) * ue, axis=1)
        c = float(np.sum((emin + x_phys**penal * (e0 - emin)) * ce))
        dc = -penal * (e0 - emin) * x_phys ** (penal - 1) * ce
        dv = np.ones(nely * nelx)
        if ft == 1:
            dc = h @ (x * dc) / hs / np.maximum(1e-3, x)
        else:
            dc = h @ (dc / hs)
            dv = h @ (dv / hs)
        l1, l2, move = 0.0, 1e9, 0.2
        while (l2 - l1) / (l1 + l2) > 1e-3:
            lmid = 0.5 * (l2 + l1)
            xnew = np.maximum(
                0, np.maximum(x - move, np.minimum(1, np.minimum(x + move, x * np.sqrt(-dc / dv / lmid))))
            )
            x_phys = xnew if ft == 1 else (h @ xnew) / hs
            if x_phys.sum() > volfrac * nelx * nely:
                l1 = lmid
            else:
                l2 = lmid
        change = float(np.max(np.abs(xnew - x)))
        x = xnew
        yield c, change, time.perf_counter() - tick
