/* Softmax / LogSoftmax / Hardmax and the NLL / softmax-cross-entropy losses.
 *
 * The loops are written once as macros and instantiated per element type:
 * float32 (the fast path: vectorised exp, sums in double lanes), float64
 * (libm exp) and float16 / bfloat16 (converted element by element to float32
 * and back, so they need no scratch buffers).
 *
 * Layout: (outer, C, inner).  inner == 1 rows are processed one per task with
 * vectorised loops along C; inner > 1 is processed in tiles of TW adjacent
 * positions so the innermost loops run along contiguous memory. */
#include "fp_select.h" /* first: it sets optimisation pragmas */

#include "softmax.h"

#include <math.h>

#include "class_max.h"
#include "float_kernel.h"

#define TW 128             /* positions per tile when inner > 1 */
#define PAR_MIN 32768      /* below this many elements, stay single-threaded */
#define NLL_GROUPS 256     /* fixed partition of the samples for the loss sums */

bool ot_cpu_softmax_dtype_ok(ot_dtype dt) {
    return dt == OT_FLOAT || dt == OT_DOUBLE || dt == OT_FLOAT16 || dt == OT_BFLOAT16;
}

/* ---- Softmax / LogSoftmax / Hardmax ------------------------------------- */

/* NaN counts as the maximum (as numpy's argmax): the first NaN wins. */
#define OT_DEF_SOFTMAX(SFX, T, CT, LD, ST, EXP)                                                     \
    static void hard_row_##SFX(const T *x, T *y, int64_t C) {                                       \
        int64_t best = 0;                                                                           \
        CT bv = LD(x, 0);                                                                           \
        for (int64_t i = 1; i < C; i++) {                                                           \
            CT v = LD(x, i);                                                                        \
            if (bv == bv && (v > bv || v != v)) {                                                   \
                best = i;                                                                           \
                bv = v;                                                                             \
            }                                                                                       \
        }                                                                                           \
        for (int64_t i = 0; i < C; i++) ST(y, i, (CT)0);                                            \
        ST(y, best, (CT)1);                                                                         \
    }                                                                                               \
    /* One row of C contiguous elements: max, sum of exp in double, then write. */                  \
    OT_SIMD_CLONES static void softmax_row_##SFX(const T *x, T *y, int64_t C, ot_softmax_mode mode) { \
        if (mode == OT_SOFTMAX_HARD) {                                                              \
            hard_row_##SFX(x, y, C);                                                                \
            return;                                                                                 \
        }                                                                                           \
        OT_ROW_MAX(CT, LD, x, C, m)                                                                 \
        double s = 0;                                                                               \
        if (mode == OT_SOFTMAX_EXP) {                                                               \
            _Pragma("omp simd reduction(+:s)") for (int64_t i = 0; i < C; i++) {                    \
                CT e = EXP(LD(x, i) - m);                                                           \
                ST(y, i, e);                                                                        \
                s += e;                                                                             \
            }                                                                                       \
            CT inv = (CT)(1.0 / s);                                                                 \
            _Pragma("omp simd") for (int64_t i = 0; i < C; i++) ST(y, i, LD(y, i) * inv);           \
        } else {                                                                                    \
            _Pragma("omp simd reduction(+:s)") for (int64_t i = 0; i < C; i++) s +=                 \
                EXP(LD(x, i) - m);                                                                  \
            CT ls = (CT)log(s);                                                                     \
            _Pragma("omp simd") for (int64_t i = 0; i < C; i++) ST(y, i, (LD(x, i) - m) - ls);      \
        }                                                                                           \
    }                                                                                               \
    /* w <= TW positions of one outer slice; element (c, j) at c * inner + j. */                    \
    OT_SIMD_CLONES static void softmax_tile_##SFX(const T *x, T *y, int64_t C, int64_t inner, int64_t w, \
                                   ot_softmax_mode mode) {                                          \
        CT m[TW], ls[TW];                                                                           \
        double s[TW];                                                                               \
        for (int64_t j = 0; j < w; j++) {                                                           \
            m[j] = LD(x, j);                                                                        \
            s[j] = 0;                                                                               \
        }                                                                                           \
        if (mode == OT_SOFTMAX_HARD) {                                                              \
            int64_t best[TW];                                                                       \
            for (int64_t j = 0; j < w; j++) best[j] = 0;                                            \
            for (int64_t c = 1; c < C; c++) {                                                       \
                const T *p = x + c * inner;                                                         \
                for (int64_t j = 0; j < w; j++) {                                                   \
                    CT v = LD(p, j);                                                                \
                    if (m[j] == m[j] && (v > m[j] || v != v)) {                                     \
                        m[j] = v;                                                                   \
                        best[j] = c;                                                                \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
            for (int64_t c = 0; c < C; c++) {                                                       \
                T *q = y + c * inner;                                                               \
                for (int64_t j = 0; j < w; j++) ST(q, j, (CT)(best[j] == c));                       \
            }                                                                                       \
            return;                                                                                 \
        }                                                                                           \
        OT_TILE_MAX(T, CT, LD, x, 1, C, inner, w, m)                                                \
        if (mode == OT_SOFTMAX_EXP) {                                                               \
            for (int64_t c = 0; c < C; c++) {                                                       \
                const T *p = x + c * inner;                                                         \
                T *q = y + c * inner;                                                               \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) {                               \
                    CT e = EXP(LD(p, j) - m[j]);                                                    \
                    ST(q, j, e);                                                                    \
                    s[j] += e;                                                                      \
                }                                                                                   \
            }                                                                                       \
            for (int64_t j = 0; j < w; j++) ls[j] = (CT)(1.0 / s[j]);                               \
            for (int64_t c = 0; c < C; c++) {                                                       \
                T *q = y + c * inner;                                                               \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) ST(q, j, LD(q, j) * ls[j]);     \
            }                                                                                       \
        } else {                                                                                    \
            for (int64_t c = 0; c < C; c++) {                                                       \
                const T *p = x + c * inner;                                                         \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) s[j] += EXP(LD(p, j) - m[j]);   \
            }                                                                                       \
            for (int64_t j = 0; j < w; j++) ls[j] = (CT)log(s[j]);                                  \
            for (int64_t c = 0; c < C; c++) {                                                       \
                const T *p = x + c * inner;                                                         \
                T *q = y + c * inner;                                                               \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++)                                 \
                    ST(q, j, (LD(p, j) - m[j]) - ls[j]);                                            \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
    static void softmax_##SFX(const T *x, T *y, int64_t outer, int64_t C, int64_t inner,            \
                              ot_softmax_mode mode) {                                               \
        int64_t work = outer * C * inner;                                                           \
        if (inner == 1) {                                                                           \
            _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                        \
            for (int64_t o = 0; o < outer; o++) softmax_row_##SFX(x + o * C, y + o * C, C, mode);   \
            return;                                                                                 \
        }                                                                                           \
        int64_t nt = (inner + TW - 1) / TW;                                                         \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                            \
        for (int64_t t = 0; t < outer * nt; t++) {                                                  \
            int64_t o = t / nt, j0 = (t % nt) * TW;                                                 \
            int64_t w = inner - j0 < TW ? inner - j0 : TW;                                          \
            int64_t off = o * C * inner + j0;                                                       \
            softmax_tile_##SFX(x + off, y + off, C, inner, w, mode);                                \
        }                                                                                           \
    }

OT_DEF_SOFTMAX(f32, float, float, LD_f32, ST_f32, ot_fast_expf)
OT_DEF_SOFTMAX(f64, double, double, LD_f64, ST_f64, exp)
OT_DEF_SOFTMAX(f16, uint16_t, float, LD_f16, ST_f16, ot_fast_expf)
OT_DEF_SOFTMAX(bf16, uint16_t, float, LD_bf16, ST_bf16, ot_fast_expf)

void ot_cpu_softmax(ot_dtype dt, ot_softmax_mode mode, const void *x, void *y, int64_t outer,
                    int64_t C, int64_t inner) {
    if (outer <= 0 || C <= 0 || inner <= 0) return;
    switch (dt) {
    case OT_FLOAT: softmax_f32(x, y, outer, C, inner, mode); break;
    case OT_DOUBLE: softmax_f64(x, y, outer, C, inner, mode); break;
    case OT_FLOAT16: softmax_f16(x, y, outer, C, inner, mode); break;
    case OT_BFLOAT16: softmax_bf16(x, y, outer, C, inner, mode); break;
    default: break; /* rejected by the op's infer */
    }
}

/* ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss ----------------- */

static inline int64_t label_at(const ot_nll_args *a, int64_t i) {
    return a->label_dtype == OT_INT32 ? ((const int32_t *)a->labels)[i] : ((const int64_t *)a->labels)[i];
}

static inline bool label_ignored(const ot_nll_args *a, int64_t t) {
    return a->has_ignore && t == a->ignore_index;
}

int64_t ot_cpu_nll_find_bad_label(const ot_nll_args *a) {
    int64_t n = a->N * a->D;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = label_at(a, i);
        if (!label_ignored(a, t) && (t < 0 || t >= a->C)) return i;
    }
    return -1;
}

/* One work item: sample n, positions [d0, d0 + w) (w <= TW); element (c, j)
   of x at c * D + j.  For scores, m / ls hold the max and log-sum-exp offset
   of each position, so logp = (x - m) - ls; for log-probabilities m = ls = 0.
   Adds the item's loss and weight sums to *lsum / *wsum. */
#define OT_DEF_NLL(SFX, T, CT, LD, ST, EXP)                                                         \
    OT_SIMD_CLONES static void nll_item_##SFX(const ot_nll_args *a, int64_t n, int64_t d0, int64_t w, \
                               double *lsum, double *wsum) {                                        \
        const int64_t C = a->C, D = a->D;                                                           \
        const T *x = (const T *)a->x + n * C * D + d0;                                              \
        T *lp = a->log_prob ? (T *)a->log_prob + n * C * D + d0 : NULL;                             \
        CT m[TW], ls[TW];                                                                           \
        for (int64_t j = 0; j < w; j++) m[j] = ls[j] = 0;                                           \
        if (a->from_scores && D == 1) {                                                             \
            OT_ROW_MAX(CT, LD, x, C, mx)                                                            \
            double s = 0;                                                                           \
            _Pragma("omp simd reduction(+:s)") for (int64_t c = 0; c < C; c++) s +=                 \
                EXP(LD(x, c) - mx);                                                                 \
            m[0] = mx;                                                                              \
            ls[0] = (CT)log(s);                                                                     \
        } else if (a->from_scores) {                                                                \
            double s[TW];                                                                           \
            for (int64_t j = 0; j < w; j++) {                                                       \
                m[j] = -INFINITY;                                                                   \
                s[j] = 0;                                                                           \
            }                                                                                       \
            OT_TILE_MAX(T, CT, LD, x, 0, C, D, w, m)                                                \
            for (int64_t c = 0; c < C; c++) {                                                       \
                const T *p = x + c * D;                                                             \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) s[j] += EXP(LD(p, j) - m[j]);   \
            }                                                                                       \
            for (int64_t j = 0; j < w; j++) ls[j] = (CT)log(s[j]);                                  \
        }                                                                                           \
        if (lp && D == 1) {                                                                         \
            _Pragma("omp simd") for (int64_t c = 0; c < C; c++)                                     \
                ST(lp, c, (LD(x, c) - m[0]) - ls[0]);                                               \
        } else if (lp) {                                                                            \
            for (int64_t c = 0; c < C; c++) {                                                       \
                const T *p = x + c * D;                                                             \
                T *q = lp + c * D;                                                                  \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++)                                 \
                    ST(q, j, (LD(p, j) - m[j]) - ls[j]);                                            \
            }                                                                                       \
        }                                                                                           \
        const T *wt = (const T *)a->weights;                                                        \
        T *loss = (T *)a->loss;                                                                     \
        for (int64_t j = 0; j < w; j++) {                                                           \
            int64_t i = n * D + d0 + j, t = label_at(a, i);                                         \
            double l = 0, wi = 0;                                                                   \
            if (!label_ignored(a, t)) {                                                             \
                wi = wt ? (double)LD(wt, t) : 1.0;                                                  \
                l = -(double)((LD(x, t * D + j) - m[j]) - ls[j]) * wi;                              \
            }                                                                                       \
            if (a->reduction == OT_LOSS_NONE) ST(loss, i, (CT)l);                                   \
            *lsum += l;                                                                             \
            *wsum += wi;                                                                            \
        }                                                                                           \
    }                                                                                               \
    static void nll_##SFX(const ot_nll_args *a) {                                                   \
        int64_t tw = a->D == 1 ? 1 : TW;                                                            \
        int64_t nt = (a->D + tw - 1) / tw, items = a->N * nt;                                       \
        int64_t groups = items < NLL_GROUPS ? items : NLL_GROUPS;                                   \
        int64_t work = a->N * a->C * a->D;                                                          \
        double lpart[NLL_GROUPS], wpart[NLL_GROUPS];                                                \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                            \
        for (int64_t g = 0; g < groups; g++) {                                                      \
            double ls = 0, ws = 0;                                                                  \
            for (int64_t it = g * items / groups; it < (g + 1) * items / groups; it++) {            \
                int64_t n = it / nt, d0 = (it % nt) * tw;                                           \
                int64_t w = a->D - d0 < tw ? a->D - d0 : tw;                                        \
                nll_item_##SFX(a, n, d0, w, &ls, &ws);                                              \
            }                                                                                       \
            lpart[g] = ls;                                                                          \
            wpart[g] = ws;                                                                          \
        }                                                                                           \
        if (a->reduction == OT_LOSS_NONE) return;                                                   \
        double lt = 0, wtot = 0;                                                                    \
        for (int64_t g = 0; g < groups; g++) {                                                      \
            lt += lpart[g];                                                                         \
            wtot += wpart[g];                                                                       \
        }                                                                                           \
        ST((T *)a->loss, 0, (CT)(a->reduction == OT_LOSS_SUM ? lt : lt / wtot));                    \
    }

OT_DEF_NLL(f32, float, float, LD_f32, ST_f32, ot_fast_expf)
OT_DEF_NLL(f64, double, double, LD_f64, ST_f64, exp)
OT_DEF_NLL(f16, uint16_t, float, LD_f16, ST_f16, ot_fast_expf)
OT_DEF_NLL(bf16, uint16_t, float, LD_bf16, ST_bf16, ot_fast_expf)

void ot_cpu_nll_loss(const ot_nll_args *a) {
    switch (a->dtype) {
    case OT_FLOAT: nll_f32(a); break;
    case OT_DOUBLE: nll_f64(a); break;
    case OT_FLOAT16: nll_f16(a); break;
    case OT_BFLOAT16: nll_bf16(a); break;
    default: break; /* rejected by the op's infer */
    }
}
