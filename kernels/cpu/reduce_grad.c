/* Gradients of the Reduce* ops (see reduce_grad.h).
 *
 * x's axes are collapsed into groups (size-1 axes dropped, adjacent axes of
 * the same kind, kept or reduced, merged).  Most gradients are then a map over
 * x with y / dy broadcast along the reduced groups: x is walked in rows of the
 * innermost group, within which y's index is constant (innermost group
 * reduced) or advances with x's (innermost group kept), so every inner loop
 * is contiguous and vectorised.  Max / Min first count the ties of each
 * output; Prod walks each output's elements in order for prefix and suffix
 * products.  Work splits depend only on the shape, never on the thread
 * count, and every output's value is computed in a fixed order. */
#include "fp_select.h" /* first: it sets optimisation pragmas */

#include "reduce_grad.h"

#include <math.h>
#include <omp.h>

#include "../../src/core/alloc.h"
#include "../../src/core/dtype.h"
#include "../../src/core/status.h"
#include "../../src/runtime/workspace.h"
#include "float_kernel.h"
#include "softmax.h" /* ot_fast_expf, OT_SIMD_CLONES */

#define PAR_MIN 32768 /* below this many elements, stay single-threaded */
#define CHUNK 8192    /* longest run of one map work item */

bool ot_reduce_grad_needs_x(ot_reduce_op op) { return op != OT_REDUCE_SUM && op != OT_REDUCE_MEAN; }

bool ot_reduce_grad_needs_y(ot_reduce_op op) {
    return op == OT_REDUCE_L2 || op == OT_REDUCE_LOG_SUM || op == OT_REDUCE_LOG_SUM_EXP || op == OT_REDUCE_MAX ||
           op == OT_REDUCE_MIN;
}

/* Collapsed groups, outermost first: sizes, x strides, y strides (0 for
   reduced groups).  O outputs of R elements each, N = O * R. */
typedef struct rg_plan {
    int ng;
    int64_t sz[OT_MAX_RANK], xs[OT_MAX_RANK], ys[OT_MAX_RANK];
    bool red[OT_MAX_RANK];
    int64_t O, R, N;
} rg_plan;

static void rg_make_plan(int rank, const int64_t *dims, const bool *mask, rg_plan *p) {
    p->ng = 0;
    p->O = p->R = 1;
    for (int i = 0; i < rank; i++) {
        if (mask[i]) p->R *= dims[i];
        else p->O *= dims[i];
        if (dims[i] == 1) continue;
        if (p->ng > 0 && p->red[p->ng - 1] == mask[i]) {
            p->sz[p->ng - 1] *= dims[i];
        } else {
            p->sz[p->ng] = dims[i];
            p->red[p->ng++] = mask[i];
        }
    }
    if (p->ng == 0) { /* a single element */
        p->sz[0] = 1;
        p->red[0] = false;
        p->ng = 1;
    }
    int64_t xs = 1, ys = 1;
    for (int g = p->ng - 1; g >= 0; g--) {
        p->xs[g] = xs;
        xs *= p->sz[g];
        p->ys[g] = p->red[g] ? 0 : ys;
        if (!p->red[g]) ys *= p->sz[g];
    }
    p->N = p->O * p->R;
}

/* y offset of the first element of x-row `row` (rows of the innermost group). */
static inline int64_t rg_row_yoff(const rg_plan *p, int64_t row) {
    int64_t yo = 0;
    for (int g = p->ng - 2; g >= 0; g--) {
        yo += (row % p->sz[g]) * p->ys[g];
        row /= p->sz[g];
    }
    return yo;
}

/* One run of L elements: dx[j] = EXPR, where j indexes x / dx and k indexes
   y / dy / aux (k = j when the innermost group is kept, else 0). */
#define RG_LOOP(ST, EXPR)                                              \
    do {                                                               \
        if (ysl) {                                                     \
            _Pragma("omp simd") for (int64_t j = 0; j < L; j++) {      \
                const int64_t k = j;                                   \
                ST(dx, j, EXPR);                                       \
            }                                                          \
        } else {                                                       \
            _Pragma("omp simd") for (int64_t j = 0; j < L; j++) {      \
                const int64_t k = 0;                                   \
                (void)k;                                               \
                ST(dx, j, EXPR);                                       \
            }                                                          \
        }                                                              \
    } while (0)

#define OT_DEF_RG(SFX, T, CT, LD, ST, EXP)                                                               \
    OT_SIMD_CLONES static void rg_run_##SFX(ot_reduce_op op, const T *restrict x, const T *restrict y,     \
                                            const T *restrict dy, const double *restrict aux,             \
                                            T *restrict dx, int64_t L, int64_t ysl, CT scale) {           \
        switch (op) {                                                                                    \
        case OT_REDUCE_SUM: RG_LOOP(ST, LD(dy, k)); break;                                               \
        case OT_REDUCE_MEAN: RG_LOOP(ST, LD(dy, k) * scale); break;                                      \
        case OT_REDUCE_SUM_SQUARE: RG_LOOP(ST, (CT)2 * LD(x, j) * LD(dy, k)); break;                      \
        case OT_REDUCE_L1: RG_LOOP(ST, (CT)((LD(x, j) > 0) - (LD(x, j) < 0)) * LD(dy, k)); break;         \
        case OT_REDUCE_L2: RG_LOOP(ST, LD(y, k) == 0 ? (CT)0 : LD(x, j) * (LD(dy, k) / LD(y, k))); break; \
        case OT_REDUCE_LOG_SUM: RG_LOOP(ST, LD(dy, k) * EXP(-LD(y, k))); break;                           \
        case OT_REDUCE_LOG_SUM_EXP: RG_LOOP(ST, LD(dy, k) * EXP(LD(x, j) - LD(y, k))); break;             \
        case OT_REDUCE_MAX:                                                                              \
        case OT_REDUCE_MIN: RG_LOOP(ST, LD(x, j) == LD(y, k) ? (CT)aux[k] : (CT)0); break;                \
        default: break;                                                                                  \
        }                                                                                                \
    }                                                                                                    \
    /* The map over x, in work items of at most CHUNK elements of one row. */                           \
    static void rg_map_##SFX(const rg_plan *p, ot_reduce_op op, const T *x, const T *y, const T *dy,      \
                             const double *aux, T *dx) {                                                 \
        const int64_t L = p->sz[p->ng - 1], ysl = p->ys[p->ng - 1], rows = p->N / L;                     \
        const int64_t nc = (L + CHUNK - 1) / CHUNK;                                                      \
        const CT scale = (CT)(1.0 / (double)p->R);                                                       \
        _Pragma("omp parallel for schedule(static) if (p->N > PAR_MIN)")                                 \
        for (int64_t it = 0; it < rows * nc; it++) {                                                     \
            int64_t row = it / nc, j0 = (it % nc) * CHUNK, len = L - j0 < CHUNK ? L - j0 : CHUNK;        \
            int64_t xo = row * L + j0, yo = rg_row_yoff(p, row) + j0 * ysl;                              \
            rg_run_##SFX(op, x ? x + xo : NULL, y ? y + yo : NULL, dy + yo, aux ? aux + yo : NULL, dx + xo, \
                         len, ysl, scale);                                                               \
        }                                                                                                \
    }                                                                                                    \
    /* aux[o] = dy[o] / (number of elements equal to y[o]), 0 when none is     \
       (y NaN).  Serial: outputs are shared between rows. */                                            \
    static void rg_ties_##SFX(const rg_plan *p, const T *x, const T *y, const T *dy, double *aux) {       \
        const int64_t L = p->sz[p->ng - 1], ysl = p->ys[p->ng - 1], rows = p->N / L;                     \
        for (int64_t o = 0; o < p->O; o++) aux[o] = 0;                                                   \
        for (int64_t row = 0; row < rows; row++) {                                                       \
            const T *xr = x + row * L;                                                                   \
            int64_t yo = rg_row_yoff(p, row);                                                            \
            if (ysl) {                                                                                   \
                for (int64_t j = 0; j < L; j++) aux[yo + j] += LD(xr, j) == LD(y, yo + j);               \
            } else {                                                                                     \
                CT yv = LD(y, yo);                                                                       \
                int64_t k = 0;                                                                           \
                for (int64_t j = 0; j < L; j++) k += LD(xr, j) == yv;                                    \
                aux[yo] += (double)k;                                                                    \
            }                                                                                            \
        }                                                                                                \
        for (int64_t o = 0; o < p->O; o++) aux[o] = aux[o] > 0 ? (double)LD(dy, o) / aux[o] : 0;         \
    }                                                                                                    \
    /* Per output: prefix products into pre[] (double), then a backward walk   \
       multiplying by the suffix product times dy.  roff: x offsets of the     \
       R elements of an output relative to its first; pre: R doubles per       \
       thread. */                                                                                        \
    static void rg_prod_##SFX(const rg_plan *p, const T *x, const T *dy, T *dx, const int64_t *roff,      \
                              double *scratch) {                                                         \
        const int64_t R = p->R;                                                                          \
        _Pragma("omp parallel for schedule(static) if (p->N > PAR_MIN)")                                 \
        for (int64_t o = 0; o < p->O; o++) {                                                             \
            double *pre = scratch + (size_t)omp_get_thread_num() * (size_t)R;                            \
            int64_t rem = o, base = 0;                                                                   \
            for (int g = p->ng - 1; g >= 0; g--) {                                                       \
                if (p->red[g]) continue;                                                                 \
                base += (rem % p->sz[g]) * p->xs[g];                                                     \
                rem /= p->sz[g];                                                                         \
            }                                                                                            \
            double acc = 1;                                                                              \
            for (int64_t r = 0; r < R; r++) {                                                            \
                pre[r] = acc;                                                                            \
                acc *= (double)LD(x, base + roff[r]);                                                    \
            }                                                                                            \
            acc = (double)LD(dy, o);                                                                     \
            for (int64_t r = R - 1; r >= 0; r--) {                                                       \
                ST(dx, base + roff[r], (CT)(pre[r] * acc));                                              \
                acc *= (double)LD(x, base + roff[r]);                                                    \
            }                                                                                            \
        }                                                                                                \
    }                                                                                                    \
    static ot_status rg_##SFX(const rg_plan *p, ot_reduce_op op, const T *dy, const T *x, const T *y,     \
                              T *dx) {                                                                   \
        if (op == OT_REDUCE_PROD) {                                                                      \
            int threads = omp_get_max_threads();                                                         \
            int64_t *roff = ot_workspace_alloc(sizeof(int64_t) * (size_t)p->R);                          \
            double *scratch = ot_workspace_alloc(sizeof(double) * (size_t)p->R * (size_t)threads);       \
            if (!roff || !scratch) {                                                                     \
                ot_workspace_free(roff);                                                                 \
                ot_workspace_free(scratch);                                                              \
                return ot_error(OT_ERR_NOMEM, "ReduceProd gradient: out of memory for %lld elements",    \
                                (long long)p->R);                                                        \
            }                                                                                            \
            int64_t idx[OT_MAX_RANK] = {0}, off = 0;                                                     \
            for (int64_t r = 0; r < p->R; r++) { /* odometer over the reduced groups */                  \
                roff[r] = off;                                                                           \
                for (int g = p->ng - 1; g >= 0; g--) {                                                   \
                    if (!p->red[g]) continue;                                                            \
                    off += p->xs[g];                                                                     \
                    if (++idx[g] < p->sz[g]) break;                                                      \
                    off -= idx[g] * p->xs[g];                                                            \
                    idx[g] = 0;                                                                          \
                }                                                                                        \
            }                                                                                            \
            rg_prod_##SFX(p, x, dy, dx, roff, scratch);                                                  \
            ot_workspace_free(roff);                                                                     \
            ot_workspace_free(scratch);                                                                  \
            return OT_OK;                                                                                \
        }                                                                                                \
        double *aux = NULL;                                                                              \
        if (op == OT_REDUCE_MAX || op == OT_REDUCE_MIN) {                                                \
            if (!(aux = ot_workspace_alloc(sizeof(double) * (size_t)p->O)))                              \
                return ot_error(OT_ERR_NOMEM, "Reduce%s gradient: out of memory for %lld outputs",       \
                                op == OT_REDUCE_MAX ? "Max" : "Min", (long long)p->O);                   \
            rg_ties_##SFX(p, x, y, dy, aux);                                                             \
        }                                                                                                \
        rg_map_##SFX(p, op, x, y, dy, aux, dx);                                                          \
        ot_workspace_free(aux);                                                                          \
        return OT_OK;                                                                                    \
    }

OT_DEF_RG(f32, float, float, LD_f32, ST_f32, ot_fast_expf)
OT_DEF_RG(f64, double, double, LD_f64, ST_f64, exp)
OT_DEF_RG(f16, uint16_t, float, LD_f16, ST_f16, ot_fast_expf)
OT_DEF_RG(bf16, uint16_t, float, LD_bf16, ST_bf16, ot_fast_expf)

ot_status ot_cpu_reduce_grad(ot_reduce_op op, ot_dtype dt, const void *dy, const void *x, const void *y, void *dx,
                             int rank, const int64_t *dims, const bool *mask) {
    rg_plan p;
    rg_make_plan(rank, dims, mask, &p);
    if (p.N == 0) return OT_OK;
    switch (dt) {
    case OT_FLOAT: return rg_f32(&p, op, dy, x, y, dx);
    case OT_DOUBLE: return rg_f64(&p, op, dy, x, y, dx);
    case OT_FLOAT16: return rg_f16(&p, op, dy, x, y, dx);
    case OT_BFLOAT16: return rg_bf16(&p, op, dy, x, y, dx);
    default: return ot_error(OT_ERR_UNSUPPORTED, "reduce gradient: type %s is not supported", ot_dtype_name(dt));
    }
}
