/* Gradients of Softmax / LogSoftmax and of the NLL / softmax-cross-entropy
 * losses (see softmax_grad.h).
 *
 * Written once as macros and instantiated per element type, like the forward
 * kernels in softmax.c: float32 (vectorised exp, row sums in double), float64
 * (libm exp), float16 / bfloat16 (element-wise conversion through float32).
 * Row sums accumulate in a fixed order per row, so results do not depend on
 * the thread count. */
#include "fp_select.h" /* first: it sets optimisation pragmas */

#include "softmax_grad.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "class_max.h"
#include "float_kernel.h"

#define TW 512        /* most positions per tile when inner > 1 */
#define PAR_MIN 32768 /* below this many elements, stay single-threaded */

/* Positions per tile for inner > 1: wide, so each class row of a tile is a
   long contiguous run (prefetch-friendly; a narrow tile strides through a
   new page per class), but narrow enough to leave two tiles per thread.
   Results do not depend on it: each position sums its classes in order. */
static int64_t tile_width(int64_t outer, int64_t inner) {
    int64_t tw = TW, want = 2 * (int64_t)omp_get_max_threads();
    while (tw > 64 && outer * ((inner + tw - 1) / tw) < want) tw /= 2;
    return tw;
}

/* ---- SoftmaxGrad / LogSoftmaxGrad --------------------------------------- */

/* Each row (or tile column) reads dy and y once for the sum, then writes dx
   at the index it reads, which is what makes dx == dy safe. */
#define OT_DEF_SMG(SFX, T, CT, LD, ST, EXP)                                                          \
    OT_SIMD_CLONES static void smg_row_##SFX(const T *dy, const T *y, T *dx, int64_t C,               \
                                             ot_softmax_mode mode) {                                 \
        double s = 0;                                                                                \
        if (mode == OT_SOFTMAX_EXP) {                                                                \
            _Pragma("omp simd reduction(+:s)") for (int64_t i = 0; i < C; i++) s +=                  \
                (double)(LD(dy, i) * LD(y, i));                                                      \
            CT sc = (CT)s;                                                                           \
            _Pragma("omp simd") for (int64_t i = 0; i < C; i++) ST(dx, i, LD(y, i) * (LD(dy, i) - sc)); \
        } else {                                                                                     \
            _Pragma("omp simd reduction(+:s)") for (int64_t i = 0; i < C; i++) s += (double)LD(dy, i); \
            CT sc = (CT)s;                                                                           \
            _Pragma("omp simd") for (int64_t i = 0; i < C; i++) ST(dx, i, LD(dy, i) - EXP(LD(y, i)) * sc); \
        }                                                                                            \
    }                                                                                                \
    /* w <= TW positions of one outer slice; element (c, j) at c * inner + j. */                     \
    OT_SIMD_CLONES static void smg_tile_##SFX(const T *dy, const T *y, T *dx, int64_t C, int64_t inner, \
                                              int64_t w, ot_softmax_mode mode) {                     \
        double s[TW];                                                                                \
        CT sc[TW];                                                                                   \
        for (int64_t j = 0; j < w; j++) s[j] = 0;                                                    \
        if (mode == OT_SOFTMAX_EXP) {                                                                \
            /* Four classes per pass over s[]: a quarter of the accumulator traffic. */              \
            int64_t c = 0;                                                                           \
            for (; c + 4 <= C; c += 4) {                                                             \
                const T *p = dy + c * inner, *q = y + c * inner;                                     \
                const int64_t i1 = inner, i2 = 2 * inner, i3 = 3 * inner;                            \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) s[j] +=                          \
                    (double)((LD(p, j) * LD(q, j) + LD(p, j + i1) * LD(q, j + i1)) +                 \
                             (LD(p, j + i2) * LD(q, j + i2) + LD(p, j + i3) * LD(q, j + i3)));       \
            }                                                                                        \
            for (; c < C; c++) {                                                                     \
                const T *p = dy + c * inner, *q = y + c * inner;                                     \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) s[j] += (double)(LD(p, j) * LD(q, j)); \
            }                                                                                        \
            for (int64_t j = 0; j < w; j++) sc[j] = (CT)s[j];                                        \
            for (int64_t c = 0; c < C; c++) {                                                        \
                const T *p = dy + c * inner, *q = y + c * inner;                                     \
                T *o = dx + c * inner;                                                               \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) ST(o, j, LD(q, j) * (LD(p, j) - sc[j])); \
            }                                                                                        \
        } else {                                                                                     \
            int64_t c = 0;                                                                           \
            for (; c + 4 <= C; c += 4) {                                                             \
                const T *p = dy + c * inner;                                                         \
                const int64_t i1 = inner, i2 = 2 * inner, i3 = 3 * inner;                            \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) s[j] +=                          \
                    (double)((LD(p, j) + LD(p, j + i1)) + (LD(p, j + i2) + LD(p, j + i3)));          \
            }                                                                                        \
            for (; c < C; c++) {                                                                     \
                const T *p = dy + c * inner;                                                         \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) s[j] += (double)LD(p, j);        \
            }                                                                                        \
            for (int64_t j = 0; j < w; j++) sc[j] = (CT)s[j];                                        \
            for (int64_t c = 0; c < C; c++) {                                                        \
                const T *p = dy + c * inner, *q = y + c * inner;                                     \
                T *o = dx + c * inner;                                                               \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++)                                  \
                    ST(o, j, LD(p, j) - EXP(LD(q, j)) * sc[j]);                                      \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
    static void smg_##SFX(const T *dy, const T *y, T *dx, int64_t outer, int64_t C, int64_t inner,   \
                          ot_softmax_mode mode) {                                                    \
        int64_t work = outer * C * inner;                                                            \
        if (inner == 1) {                                                                            \
            _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                         \
            for (int64_t o = 0; o < outer; o++) smg_row_##SFX(dy + o * C, y + o * C, dx + o * C, C, mode); \
            return;                                                                                  \
        }                                                                                            \
        int64_t tw = tile_width(outer, inner), nt = (inner + tw - 1) / tw;                           \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                             \
        for (int64_t t = 0; t < outer * nt; t++) {                                                   \
            int64_t o = t / nt, j0 = (t % nt) * tw;                                                  \
            int64_t w = inner - j0 < tw ? inner - j0 : tw;                                           \
            int64_t off = o * C * inner + j0;                                                        \
            smg_tile_##SFX(dy + off, y + off, dx + off, C, inner, w, mode);                          \
        }                                                                                            \
    }

OT_DEF_SMG(f32, float, float, LD_f32, ST_f32, ot_fast_expf)
OT_DEF_SMG(f64, double, double, LD_f64, ST_f64, exp)
OT_DEF_SMG(f16, uint16_t, float, LD_f16, ST_f16, ot_fast_expf)
OT_DEF_SMG(bf16, uint16_t, float, LD_bf16, ST_bf16, ot_fast_expf)

void ot_cpu_softmax_grad(ot_dtype dt, ot_softmax_mode mode, const void *dy, const void *y, void *dx,
                         int64_t outer, int64_t C, int64_t inner) {
    if (outer <= 0 || C <= 0 || inner <= 0) return;
    switch (dt) {
    case OT_FLOAT: smg_f32(dy, y, dx, outer, C, inner, mode); break;
    case OT_DOUBLE: smg_f64(dy, y, dx, outer, C, inner, mode); break;
    case OT_FLOAT16: smg_f16(dy, y, dx, outer, C, inner, mode); break;
    case OT_BFLOAT16: smg_bf16(dy, y, dx, outer, C, inner, mode); break;
    default: break; /* rejected by the op's infer */
    }
}

/* ---- NegativeLogLikelihoodLossGrad / SoftmaxCrossEntropyLossGrad -------- */

static inline int64_t label_at(const ot_nll_grad_args *a, int64_t i) {
    return a->label_dtype == OT_INT32 ? ((const int32_t *)a->labels)[i] : ((const int64_t *)a->labels)[i];
}

static inline bool label_ignored(const ot_nll_grad_args *a, int64_t t) {
    return a->has_ignore && t == a->ignore_index;
}

/* Ignored samples get exactly 0 (no softmax is computed for them); for the
   others the factor g is w[t] * dloss (per sample for none, else g0, the
   scalar already divided by the mean's weight total). */
#define OT_DEF_NLLG(SFX, T, CT, LD, ST, EXP)                                                         \
    static inline double nllg_factor_##SFX(const ot_nll_grad_args *a, int64_t i, int64_t t, double g0) { \
        if (label_ignored(a, t)) return 0;                                                           \
        double g = a->reduction == OT_LOSS_NONE ? (double)LD((const T *)a->dloss, i) : g0;           \
        return a->weights ? g * (double)LD((const T *)a->weights, t) : g;                            \
    }                                                                                                \
    /* D == 1: sample n is the contiguous row dx[n * C .. n * C + C). */                             \
    OT_SIMD_CLONES static void nllg_row_##SFX(const ot_nll_grad_args *a, int64_t n, double g0) {      \
        const int64_t C = a->C;                                                                      \
        T *dx = (T *)a->dx + n * C;                                                                  \
        int64_t t = label_at(a, n);                                                                  \
        if (a->source == OT_NLL_GRAD_LABELS || label_ignored(a, t)) {                                \
            memset(dx, 0, sizeof(T) * (size_t)C); /* +0.0 in every float format */                   \
            if (!label_ignored(a, t)) ST(dx, t, (CT)-nllg_factor_##SFX(a, n, t, g0));                \
            return;                                                                                  \
        }                                                                                            \
        double g = nllg_factor_##SFX(a, n, t, g0);                                                   \
        const T *x = (const T *)a->x + n * C;                                                        \
        if (a->source == OT_NLL_GRAD_LOG_PROB) {                                                     \
            CT gc = (CT)g;                                                                           \
            _Pragma("omp simd") for (int64_t c = 0; c < C; c++) ST(dx, c, EXP(LD(x, c)) * gc);       \
        } else {                                                                                     \
            OT_ROW_MAX(CT, LD, x, C, m)                                                              \
            double s = 0;                                                                            \
            _Pragma("omp simd reduction(+:s)") for (int64_t c = 0; c < C; c++) {                     \
                CT e = EXP(LD(x, c) - m);                                                            \
                ST(dx, c, e);                                                                        \
                s += e;                                                                              \
            }                                                                                        \
            CT gs = (CT)(g / s);                                                                     \
            _Pragma("omp simd") for (int64_t c = 0; c < C; c++) ST(dx, c, LD(dx, c) * gs);           \
        }                                                                                            \
        ST(dx, t, (CT)((double)LD(dx, t) - g));                                                      \
    }                                                                                                \
    /* D > 1: sample n, positions [d0, d0 + w); element (c, j) at c * D + j. */                      \
    OT_SIMD_CLONES static void nllg_tile_##SFX(const ot_nll_grad_args *a, int64_t n, int64_t d0,     \
                                               int64_t w, double g0) {                               \
        const int64_t C = a->C, D = a->D, base = n * C * D + d0;                                     \
        T *dx = (T *)a->dx + base;                                                                   \
        const T *x = a->x ? (const T *)a->x + base : NULL;                                           \
        int64_t t[TW];                                                                               \
        double g[TW];                                                                                \
        CT gc[TW];                                                                                   \
        for (int64_t j = 0; j < w; j++) {                                                            \
            t[j] = label_at(a, n * D + d0 + j);                                                      \
            g[j] = nllg_factor_##SFX(a, n * D + d0 + j, t[j], g0);                                   \
            gc[j] = (CT)g[j];                                                                        \
        }                                                                                            \
        if (a->source == OT_NLL_GRAD_LABELS) {                                                       \
            for (int64_t c = 0; c < C; c++) memset(dx + c * D, 0, sizeof(T) * (size_t)w);           \
        } else if (a->source == OT_NLL_GRAD_LOG_PROB) {                                              \
            for (int64_t c = 0; c < C; c++) {                                                        \
                const T *p = x + c * D;                                                              \
                T *q = dx + c * D;                                                                   \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) ST(q, j, EXP(LD(p, j)) * gc[j]); \
            }                                                                                        \
        } else {                                                                                     \
            CT m[TW];                                                                                \
            double s[TW];                                                                            \
            for (int64_t j = 0; j < w; j++) {                                                        \
                m[j] = -INFINITY;                                                                    \
                s[j] = 0;                                                                            \
            }                                                                                        \
            OT_TILE_MAX(T, CT, LD, x, 0, C, D, w, m)                                                 \
            for (int64_t c = 0; c < C; c++) {                                                        \
                const T *p = x + c * D;                                                              \
                T *q = dx + c * D;                                                                   \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) {                                \
                    CT e = EXP(LD(p, j) - m[j]);                                                     \
                    ST(q, j, e);                                                                     \
                    s[j] += e;                                                                       \
                }                                                                                    \
            }                                                                                        \
            for (int64_t j = 0; j < w; j++) gc[j] = (CT)(g[j] / s[j]);                               \
            for (int64_t c = 0; c < C; c++) {                                                        \
                T *q = dx + c * D;                                                                   \
                _Pragma("omp simd") for (int64_t j = 0; j < w; j++) ST(q, j, LD(q, j) * gc[j]);      \
            }                                                                                        \
        }                                                                                            \
        for (int64_t j = 0; j < w; j++) {                                                            \
            if (label_ignored(a, t[j])) {                                                            \
                for (int64_t c = 0; c < C; c++) ST(dx, c * D + j, (CT)0);                            \
                continue;                                                                            \
            }                                                                                        \
            T *q = dx + t[j] * D + j;                                                                \
            ST(q, 0, (CT)((double)LD(q, 0) - g[j]));                                                 \
        }                                                                                            \
    }                                                                                                \
    static void nllg_##SFX(const ot_nll_grad_args *a) {                                              \
        double g0 = 0;                                                                               \
        if (a->reduction != OT_LOSS_NONE) {                                                          \
            g0 = (double)LD((const T *)a->dloss, 0);                                                 \
            if (a->reduction == OT_LOSS_MEAN) {                                                      \
                /* PyTorch: a zero weight total gives inf/NaN, as the loss itself. */                \
                double wsum = 0;                                                                     \
                for (int64_t i = 0; i < a->N * a->D; i++) {                                          \
                    int64_t t = label_at(a, i);                                                      \
                    if (!label_ignored(a, t)) wsum += a->weights ? (double)LD((const T *)a->weights, t) : 1.0; \
                }                                                                                    \
                g0 /= wsum;                                                                          \
            }                                                                                        \
        }                                                                                            \
        int64_t work = a->N * a->C * a->D;                                                           \
        if (a->D == 1) {                                                                             \
            _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                         \
            for (int64_t n = 0; n < a->N; n++) nllg_row_##SFX(a, n, g0);                             \
            return;                                                                                  \
        }                                                                                            \
        int64_t tw = tile_width(a->N, a->D), nt = (a->D + tw - 1) / tw;                              \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                             \
        for (int64_t it = 0; it < a->N * nt; it++) {                                                 \
            int64_t n = it / nt, d0 = (it % nt) * tw;                                                \
            nllg_tile_##SFX(a, n, d0, a->D - d0 < tw ? a->D - d0 : tw, g0);                          \
        }                                                                                            \
    }

OT_DEF_NLLG(f32, float, float, LD_f32, ST_f32, ot_fast_expf)
OT_DEF_NLLG(f64, double, double, LD_f64, ST_f64, exp)
OT_DEF_NLLG(f16, uint16_t, float, LD_f16, ST_f16, ot_fast_expf)
OT_DEF_NLLG(bf16, uint16_t, float, LD_bf16, ST_bf16, ot_fast_expf)

void ot_cpu_nll_grad(const ot_nll_grad_args *a) {
    if (a->N <= 0 || a->C <= 0 || a->D <= 0) return;
    switch (a->dtype) {
    case OT_FLOAT: nllg_f32(a); break;
    case OT_DOUBLE: nllg_f64(a); break;
    case OT_FLOAT16: nllg_f16(a); break;
    case OT_BFLOAT16: nllg_bf16(a); break;
    default: break; /* rejected by the op's infer */
    }
}
