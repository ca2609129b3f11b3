/* CPU kernels for the pooling gradients (MaxPoolGrad, AveragePoolGrad); see
 * pool.h.  They walk the same taps as the forward kernels (pool_geom.h), in
 * the same row-major window order.
 *
 * Windows of one (N, C) plane may overlap, so each plane is one task: it is
 * zeroed, then every output position scatters its dy into the plane.  Planes
 * are independent, which makes the parallel loop race-free and the result
 * independent of the thread count. */
#include <string.h>

#include "pool.h"
#include "pool_fast.h"
#include "pool_geom.h"

#define OT_POOL_GRAD_PAR_MIN 16384 /* output elements x taps below which one thread is faster */

/* The d/h/w tap ranges of output (od, oh, ow), and the window's start. */
#define OT_POOL_GRAD_WINDOWS_BEGIN(g)                                                       \
    for (int64_t od = 0; od < (g)->out[0]; od++) {                                          \
        int64_t sd = od * (g)->s[0] - (g)->pb[0], d0, d1;                                   \
        ot_tap_range(sd, (g)->k[0], (g)->d[0], (g)->in[0], &d0, &d1);                       \
        for (int64_t oh = 0; oh < (g)->out[1]; oh++) {                                      \
            int64_t sh = oh * (g)->s[1] - (g)->pb[1], h0, h1;                               \
            ot_tap_range(sh, (g)->k[1], (g)->d[1], (g)->in[1], &h0, &h1);                   \
            const int64_t yrow = (od * (g)->out[1] + oh) * (g)->out[2];                     \
            for (int64_t ow = 0; ow < (g)->out[2]; ow++) {                                  \
                int64_t sw = ow * (g)->s[2] - (g)->pb[2], w0, w1;                           \
                ot_tap_range(sw, (g)->k[2], (g)->d[2], (g)->in[2], &w0, &w1);

#define OT_POOL_GRAD_WINDOWS_END \
    }                            \
    }                            \
    }

/* MaxPool: the window's first maximum in row-major tap order receives dy;
   a NaN tap counts as the maximum (the first NaN wins), as in the forward's
   Indices.  A window with no input tap routes nothing. */
#define OT_DEF_MAXPOOL_GRAD(SUF, T, CT)                                                                   \
    static void ot_maxpool_grad_##SUF(const ot_pool3 *g, int64_t NC, const T *x, const T *dy, T *dx) {   \
        const int64_t H = g->in[1], W = g->in[2], dd = g->d[0], dh = g->d[1], dw = g->d[2];             \
        _Pragma("omp parallel for schedule(static) if (NC > 1 && NC * g->plane_out * g->taps >= OT_POOL_GRAD_PAR_MIN)") \
        for (int64_t pl = 0; pl < NC; pl++) {                                                           \
            const T *xp = x + pl * g->plane_in, *dyp = dy + pl * g->plane_out;                          \
            T *dxp = dx + pl * g->plane_in;                                                             \
            memset(dxp, 0, sizeof(T) * (size_t)g->plane_in);                                            \
            OT_POOL_GRAD_WINDOWS_BEGIN(g)                                                               \
            int64_t bo = -1;                                                                            \
            CT best = 0;                                                                                \
            for (int64_t jd = d0; jd < d1; jd++)                                                        \
                for (int64_t jh = h0; jh < h1; jh++) {                                                  \
                    const int64_t rowo = ((sd + jd * dd) * H + sh + jh * dh) * W + sw;                  \
                    for (int64_t jw = w0; jw < w1; jw++) {                                              \
                        CT v = LD_##SUF(xp, rowo + jw * dw);                                            \
                        if (!OT_NOT_NAN(v)) {                                                           \
                            bo = rowo + jw * dw;                                                        \
                            goto found_##SUF;                                                           \
                        }                                                                               \
                        if (bo < 0 || v > best) {                                                       \
                            best = v;                                                                   \
                            bo = rowo + jw * dw;                                                        \
                        }                                                                               \
                    }                                                                                   \
                }                                                                                       \
        found_##SUF:                                                                                    \
            if (bo >= 0) ST_##SUF(dxp, bo, LD_##SUF(dxp, bo) + LD_##SUF(dyp, yrow + ow));               \
            OT_POOL_GRAD_WINDOWS_END                                                                    \
        }                                                                                               \
    }

/* AveragePool: dy / divisor to every input tap of the window, the divisor
   being the forward's (input taps, or taps inside the padded input with
   count_include_pad). */
#define OT_DEF_AVGPOOL_GRAD(SUF, T, CT)                                                                   \
    static void ot_avgpool_grad_##SUF(const ot_pool3 *g, int64_t NC, const T *dy, T *dx, bool cip) {     \
        const int64_t H = g->in[1], W = g->in[2], dd = g->d[0], dh = g->d[1], dw = g->d[2];             \
        _Pragma("omp parallel for schedule(static) if (NC > 1 && NC * g->plane_out * g->taps >= OT_POOL_GRAD_PAR_MIN)") \
        for (int64_t pl = 0; pl < NC; pl++) {                                                           \
            const T *dyp = dy + pl * g->plane_out;                                                      \
            T *dxp = dx + pl * g->plane_in;                                                             \
            memset(dxp, 0, sizeof(T) * (size_t)g->plane_in);                                            \
            OT_POOL_GRAD_WINDOWS_BEGIN(g)                                                               \
            int64_t cnt = cip ? ot_tap_count_padded(sd, g->k[0], dd, g->in[0], g->pe[0]) *              \
                                    ot_tap_count_padded(sh, g->k[1], dh, H, g->pe[1]) *                 \
                                    ot_tap_count_padded(sw, g->k[2], dw, W, g->pe[2])                   \
                              : (d1 - d0) * (h1 - h0) * (w1 - w0);                                      \
            if (cnt > 0) {                                                                              \
                CT v = LD_##SUF(dyp, yrow + ow) / (CT)cnt;                                              \
                for (int64_t jd = d0; jd < d1; jd++)                                                    \
                    for (int64_t jh = h0; jh < h1; jh++) {                                              \
                        T *row = dxp + ((sd + jd * dd) * H + sh + jh * dh) * W + sw;                    \
                        for (int64_t jw = w0; jw < w1; jw++) ST_##SUF(row, jw * dw, LD_##SUF(row, jw * dw) + v); \
                    }                                                                                   \
            }                                                                                           \
            OT_POOL_GRAD_WINDOWS_END                                                                    \
        }                                                                                               \
    }

#define OT_DEF_GRAD(SUF, T, CT)      \
    OT_DEF_MAXPOOL_GRAD(SUF, T, CT) \
    OT_DEF_AVGPOOL_GRAD(SUF, T, CT)

OT_DEF_GRAD(f32, float, float)
OT_DEF_GRAD(f64, double, double)
OT_DEF_GRAD(f16, uint16_t, float)
OT_DEF_GRAD(bf16, uint16_t, float)

void ot_cpu_maxpool_grad(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, const void *dy, void *dx) {
    if (dt == OT_FLOAT && ot_pool_is_2x2s2(w)) {
        ot_maxpool2x2_grad_f32(w, NC, x, dy, dx);
        return;
    }
    ot_pool3 g;
    ot_pool3_make(w, false, &g);
#define CALL(SUF, T) ot_maxpool_grad_##SUF(&g, NC, (const T *)x, (const T *)dy, (T *)dx)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_avgpool_grad(ot_dtype dt, const ot_window *w, int64_t NC, const void *dy, void *dx,
                         bool count_include_pad) {
    ot_pool3 g;
    ot_pool3_make(w, false, &g);
#define CALL(SUF, T) ot_avgpool_grad_##SUF(&g, NC, (const T *)dy, (T *)dx, count_include_pad)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}
