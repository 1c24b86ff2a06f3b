"""
Shared matrix functions for the Kronecker-factored preconditioners (Shampoo, SOAP, SPlus): pure functions, tensors
in, tensors out, no optimizer state.

    eigh(A)                       -> (lam, Q)   A = Q diag(lam) Q^T, lam ascending; robust to eigh failures
    inverse_root(A, p, eps)       -> A^(-1/p)   from eigh, eigenvalues clamped at 0, then + eps
    eigenbasis(A, eps=0)          -> Q          eigenvectors of A + eps I as columns, by descending eigenvalue
                                                (descending=False: ascending)
    refresh_eigenbasis(A, Q)      -> (Q', order)  one power iteration + QR, re-sorted by estimated eigenvalue
    project(G, QL, QR)            -> QL^T G QR  (either side may be None: that side is left alone)
    project_back(G, QL, QR)       -> QL G QR^T

Precision: every decomposition runs in at least float32 (bf16/fp16 inputs are upcast, as the official SOAP and
DistributedShampoo do) and in float64 when the input is float64; results come back in the input dtype.

Robustness (facebookresearch/optimizers issue #13, "Failed to compute eigendecomposition"; torch.linalg.eigh is known
to fail on ill-conditioned or low-rank matrices on some CUDA versions): `eigh` retries a failed or non-finite
decomposition in float64, then in float64 with a growing diagonal jitter (relative to the mean diagonal), and
subtracts the jitter from the eigenvalues again. A non-finite input is not an eigh failure but a diverged run:
it returns NaN eigenvalues (and an identity basis), so the NaN reaches the parameters and train.py's divergence
check stops the run instead of an exception killing it.
"""

import torch

JITTERS = (1e-10, 1e-7, 1e-4)  # relative diagonal jitter tried, in order, after a plain float64 retry fails


def _work_dtype(A):
    """float64 stays float64; everything else is computed in float32."""
    return torch.float64 if A.dtype == torch.float64 else torch.float32


def _try_eigh(A):
    """torch.linalg.eigh, or None if it raises or returns non-finite values."""
    try:
        lam, Q = torch.linalg.eigh(A)
    except RuntimeError:  # torch.linalg.LinAlgError is a RuntimeError
        return None
    if not (torch.isfinite(lam).all() and torch.isfinite(Q).all()):
        return None
    return lam, Q


def eigh(A):
    """Eigendecomposition of a symmetric matrix A (n, n): (lam (n,), Q (n, n)), lam ascending, in A's dtype.

    Tries A's working precision first, then float64, then float64 with a diagonal jitter j * mean|diag A| added
    (and subtracted from lam again), so a failure in one precision never stops training.
    """
    dtype, work = A.dtype, _work_dtype(A)
    n = A.shape[-1]
    if not torch.isfinite(A).all():  # diverged run: let the NaN propagate to the update
        return torch.full((n,), float('nan'), dtype=dtype, device=A.device), torch.eye(n, dtype=dtype, device=A.device)
    out = _try_eigh(A.to(work))
    if out is None:
        A64 = A.to(torch.float64)
        out = _try_eigh(A64)
        scale = A64.diagonal().abs().mean().clamp(min=1e-30)
        eye = torch.eye(n, dtype=torch.float64, device=A.device)
        for j in JITTERS:
            if out is not None:
                break
            out = _try_eigh(A64 + (j * scale) * eye)
            if out is not None:
                out = (out[0] - j * scale, out[1])
        if out is None:
            raise torch.linalg.LinAlgError(f'eigh failed on a finite {tuple(A.shape)} matrix even in float64 '
                                           f'with jitter')
    lam, Q = out
    return lam.to(dtype), Q.to(dtype)


def inverse_root(A, p, eps):
    """A^(-1/p) for a symmetric PSD matrix A (n, n), via eigh (Shampoo, Gupta et al. 2018 Alg. 1 with eps).

    Eigenvalues below 0 (rounding) are clamped at 0, then eps is added: Q diag((max(lam, 0) + eps)^(-1/p)) Q^T.
    (DistributedShampoo instead shifts all eigenvalues by -min(lam_min, 0); the two differ at rounding level.)
    """
    lam, Q = eigh(A.to(_work_dtype(A)))
    lam = lam.clamp(min=0).add(eps).pow(-1.0 / p)
    return ((Q * lam) @ Q.T).to(A.dtype)  # (n, n); Q * lam scales column j by lam_j


def eigenbasis(A, eps=0.0, descending=True):
    """Eigenvectors of the symmetric A + eps I (n, n) as columns, in A's dtype: sorted by descending eigenvalue
    (SOAP: the official code flips eigh's ascending order) or, with descending=False, ascending as eigh returns
    them (SPlus Algorithm 2). Raises torch.linalg.LinAlgError only when eigh fails even in float64 with jitter."""
    if eps:
        A = A + eps * torch.eye(A.shape[0], device=A.device, dtype=A.dtype)
    _, Q = eigh(A.to(_work_dtype(A)))
    return (Q.flip(1) if descending else Q).to(A.dtype)


def refresh_eigenbasis(A, Q):
    """One step of simultaneous power iteration for the eigenbasis of A (n, n) from the previous basis Q (n, n)
    (SOAP, Vyas et al. 2024 Alg. 4 / official `get_orthogonal_matrix_QR`):

        est = diag(Q^T A Q)            estimated eigenvalues in the old basis
        order = argsort(est, desc)     keep the basis sorted by descending eigenvalue
        Q' = qr(A Q[:, order]).Q

    Returns (Q', order); the caller permutes whatever lives in the old basis's coordinates (SOAP's v) by `order`.
    """
    work = _work_dtype(A)
    A_, Q_ = A.to(work), Q.to(work)
    AQ = A_ @ Q_  # (n, n)
    est = (Q_ * AQ).sum(dim=0)  # diag(Q^T A Q) without forming the product
    order = torch.argsort(est, descending=True)
    Qn, _ = torch.linalg.qr(AQ[:, order])
    return Qn.to(A.dtype), order


def project(G, QL=None, QR=None):
    """QL^T G QR for G (m, n), QL (m, m), QR (n, n); a None side is left unrotated."""
    if QL is not None:
        G = QL.T @ G
    if QR is not None:
        G = G @ QR
    return G


def project_back(G, QL=None, QR=None):
    """QL G QR^T: the inverse of `project` for orthogonal QL, QR; a None side is left unrotated."""
    if QL is not None:
        G = QL @ G
    if QR is not None:
        G = G @ QR.T
    return G
