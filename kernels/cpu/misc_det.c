/* Det and DetGrad: LU factorisation with partial pivoting, in float64 for
 * every input type (an M x M determinant is a product of M pivots, which
 * float32 accumulation would round M times).  Matrices are independent:
 * threads take whole matrices, each with its own slice of scratch. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "../../src/core/dtype.h"
#include "../../src/runtime/workspace.h"
#include "misc.h"

/* Factorises the row-major m x m `a` in place (L below the diagonal, unit
   diagonal implied; U on and above it); perm[k] is the row swapped with row
   k at step k.  Returns the determinant; *zero_pivot is set when a column
   has no nonzero pivot (the matrix is exactly singular; elimination skips
   that column). */
static double lu_factor(double *a, int64_t m, int64_t *perm, bool *zero_pivot) {
    double det = 1.0;
    *zero_pivot = false;
    for (int64_t k = 0; k < m; k++) {
        int64_t p = k;
        double best = fabs(a[k * m + k]);
        for (int64_t i = k + 1; i < m; i++)
            if (fabs(a[i * m + k]) > best) best = fabs(a[i * m + k]), p = i;
        perm[k] = p;
        if (a[p * m + k] == 0.0) {
            *zero_pivot = true;
            det = 0.0;
            continue;
        }
        if (p != k) {
            for (int64_t j = 0; j < m; j++) {
                const double t = a[k * m + j];
                a[k * m + j] = a[p * m + j];
                a[p * m + j] = t;
            }
            det = -det;
        }
        const double piv = a[k * m + k];
        det *= piv;
        for (int64_t i = k + 1; i < m; i++) {
            const double l = a[i * m + k] / piv;
            a[i * m + k] = l;
            if (l == 0.0) continue;
            double *ri = a + i * m;
            const double *rk = a + k * m;
            for (int64_t j = k + 1; j < m; j++) ri[j] -= l * rk[j];
        }
    }
    return det;
}

/* z = A^-1 z from the factors (no zero pivot). */
static void lu_solve(const double *a, int64_t m, const int64_t *perm, double *z) {
    for (int64_t k = 0; k < m; k++)
        if (perm[k] != k) {
            const double t = z[k];
            z[k] = z[perm[k]];
            z[perm[k]] = t;
        }
    for (int64_t i = 1; i < m; i++) {
        double s = z[i];
        for (int64_t j = 0; j < i; j++) s -= a[i * m + j] * z[j];
        z[i] = s;
    }
    for (int64_t i = m - 1; i >= 0; i--) {
        double s = z[i];
        for (int64_t j = i + 1; j < m; j++) s -= a[i * m + j] * z[j];
        z[i] = s / a[i * m + i];
    }
}

static void load_matrix(const ot_tensor *t, int64_t off, int64_t n, double *a) {
    if (t->dtype == OT_FLOAT)
        for (int64_t i = 0; i < n; i++) a[i] = ((const float *)t->data)[off + i];
    else if (t->dtype == OT_DOUBLE) memcpy(a, (const double *)t->data + off, sizeof(double) * (size_t)n);
    else
        for (int64_t i = 0; i < n; i++) a[i] = ot_load_f64(t->dtype, t->data, off + i);
}

static void store(ot_tensor *t, int64_t i, double v) {
    if (t->dtype == OT_FLOAT) ((float *)t->data)[i] = (float)v;
    else if (t->dtype == OT_DOUBLE) ((double *)t->data)[i] = v;
    else ot_store_f64(t->dtype, t->data, i, v);
}

/* x (batch..., M, M): the batch count and M. */
static void det_layout(const ot_tensor *x, int64_t *batch, int64_t *m) {
    *m = x->dims[x->rank - 1];
    *batch = 1;
    for (int d = 0; d < x->rank - 2; d++) *batch *= x->dims[d];
}

static int det_threads(int64_t batch) {
    const int t = omp_get_max_threads();
    return batch < t ? (int)(batch > 0 ? batch : 1) : t;
}

/* Per thread, in doubles: the factors and (grad) the original, the minor
   and one solve vector; plus M pivot indices. */
static size_t det_per_thread(int64_t m, bool grad) {
    const size_t mm = (size_t)(m * m);
    return grad ? 3 * mm + 2 * (size_t)m + 1 : mm + (size_t)m + 1;
}

size_t ot_cpu_det_workspace(ot_dtype dt, int64_t batch, int64_t m, bool grad) {
    (void)dt;
    return (size_t)det_threads(batch) * det_per_thread(m, grad) * sizeof(double) + 64;
}

ot_status ot_cpu_det(const ot_tensor *x, ot_tensor *y) {
    int64_t batch, m;
    det_layout(x, &batch, &m);
    if (batch == 0) return OT_OK;
    const int nth = det_threads(batch);
    const size_t per = det_per_thread(m, false);
    double *ws = ot_workspace_alloc((size_t)nth * per * sizeof(double));
    if (!ws) return ot_error(OT_ERR_NOMEM, "Det: out of memory");
#pragma omp parallel num_threads(nth) if (nth > 1 && batch * m * m * m >= 65536)
    {
        double *a = ws + (size_t)omp_get_thread_num() * per;
        int64_t *perm = (int64_t *)(a + m * m);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < batch; b++) {
            bool zp;
            load_matrix(x, b * m * m, m * m, a);
            store(y, b, lu_factor(a, m, perm, &zp));
        }
    }
    ot_workspace_free(ws);
    return OT_OK;
}

ot_status ot_cpu_det_grad(const ot_tensor *dy, const ot_tensor *x, ot_tensor *dx) {
    int64_t batch, m;
    det_layout(x, &batch, &m);
    if (batch == 0 || m == 0) return OT_OK;
    const int nth = det_threads(batch);
    const size_t per = det_per_thread(m, true);
    double *ws = ot_workspace_alloc((size_t)nth * per * sizeof(double));
    if (!ws) return ot_error(OT_ERR_NOMEM, "DetGrad: out of memory");
    int64_t too_big = -1; /* a singular matrix beyond the cofactor limit */
#pragma omp parallel num_threads(nth) if (nth > 1 && batch * m * m * m >= 16384)
    {
        double *a = ws + (size_t)omp_get_thread_num() * per, *orig = a + m * m, *minor = orig + m * m;
        double *z = minor + m * m;
        int64_t *perm = (int64_t *)(z + m);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < batch; b++) {
            const double g = ot_load_f64(dy->dtype, dy->data, b);
            const int64_t off = b * m * m;
            bool zp;
            load_matrix(x, off, m * m, a);
            memcpy(orig, a, sizeof(double) * (size_t)(m * m));
            const double det = lu_factor(a, m, perm, &zp);
            if (!zp) {
                /* Column k of A^-1 is row k of A^-T: dx[k][:] = g det z. */
                for (int64_t k = 0; k < m; k++) {
                    memset(z, 0, sizeof(double) * (size_t)m);
                    z[k] = 1.0;
                    lu_solve(a, m, perm, z);
                    for (int64_t j = 0; j < m; j++) store(dx, off + k * m + j, g * det * z[j]);
                }
                continue;
            }
            if (m > OT_DET_COFACTOR_MAX) {
#pragma omp critical(ot_det_grad_err)
                too_big = b;
                continue;
            }
            /* Exactly singular: the cofactors, each the determinant of a minor. */
            const int64_t r = m - 1;
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < m; j++) {
                    for (int64_t p = 0, q = 0; p < m; p++) {
                        if (p == i) continue;
                        for (int64_t s = 0; s < m; s++)
                            if (s != j) minor[q++] = orig[p * m + s];
                    }
                    bool zm;
                    const double c = lu_factor(minor, r, perm, &zm);
                    store(dx, off + i * m + j, ((i + j) & 1 ? -g : g) * c);
                }
        }
    }
    ot_workspace_free(ws);
    if (too_big >= 0)
        return ot_error(OT_ERR_NUMERIC,
                        "DetGrad: matrix %lld is exactly singular and %lldx%lld; its adjugate is only computed up to "
                        "%dx%d",
                        (long long)too_big, (long long)m, (long long)m, OT_DET_COFACTOR_MAX, OT_DET_COFACTOR_MAX);
    return OT_OK;
}
