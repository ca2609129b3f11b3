/* CPU pooling kernels; see pool.h for the window semantics.
 *
 * Every window op runs on a 3-D view of the spatial dims (1-D and 2-D pools
 * get leading dims of size 1), parallel over output rows (plane, od, oh).
 * Kernels are macros over the element type, expanded per dtype; CT is the
 * compute type (double for float64, float otherwise). */
#include "pool.h"
#include "pool_fast.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "pool_geom.h"

#define OT_POOL_PAR_MIN 16384 /* output elements x taps below which one thread is faster */

bool ot_cpu_pool_dims_ok(int n) { return n >= 1 && n <= 3; }

bool ot_cpu_avgpool_dtype_ok(ot_dtype dt) {
    return dt == OT_FLOAT || dt == OT_DOUBLE || dt == OT_FLOAT16 || dt == OT_BFLOAT16;
}

bool ot_cpu_maxpool_dtype_ok(ot_dtype dt) { return ot_cpu_avgpool_dtype_ok(dt) || dt == OT_INT8 || dt == OT_UINT8; }

/* Loop head shared by the window kernels: one iteration per output row
   (plane, od, oh) with the d/h tap ranges resolved; the body loops over ow. */
#define OT_POOL_ROWS_BEGIN(g)                                                               \
    int64_t rows_ = NC * (g)->out[0] * (g)->out[1];                                         \
    _Pragma("omp parallel for schedule(static) if (rows_ * (g)->out[2] * (g)->taps >= OT_POOL_PAR_MIN)") \
    for (int64_t r = 0; r < rows_; r++) {                                                   \
        int64_t oh = r % (g)->out[1], od = (r / (g)->out[1]) % (g)->out[0];                 \
        int64_t plane = r / ((g)->out[1] * (g)->out[0]);                                    \
        int64_t sd = od * (g)->s[0] - (g)->pb[0], sh = oh * (g)->s[1] - (g)->pb[1];         \
        int64_t d0, d1, h0, h1;                                                             \
        ot_tap_range(sd, (g)->k[0], (g)->d[0], (g)->in[0], &d0, &d1);                       \
        ot_tap_range(sh, (g)->k[1], (g)->d[1], (g)->in[1], &h0, &h1);                       \
        int64_t ybase = r * (g)->out[2];                                                    \
        const int64_t xbase = plane * (g)->plane_in;

#define OT_POOL_ROWS_END }

/* MaxPool's Indices value for the tap at offset o of x (row-major, planes
   included): unchanged for storage_order 0, else the spatial part re-laid
   out column-major.  -1 (no tap) stays -1. */
static inline int64_t ot_pool_index(const ot_pool3 *g, int64_t o) {
    if (o < 0 || (g->istride[2] == 1 && g->istride[1] == g->in[2])) return o;
    int64_t plane = o / g->plane_in, r = o % g->plane_in;
    int64_t iw = r % g->in[2], ih = (r / g->in[2]) % g->in[1], id = r / (g->in[2] * g->in[1]);
    return plane * g->plane_in + id * g->istride[0] + ih * g->istride[1] + iw * g->istride[2];
}

#define OT_DEF_MAXPOOL(SUF, T, CT, LOWEST)                                                             \
    static void ot_maxpool_##SUF(const ot_pool3 *g, int64_t NC, const T *x, T *y, int64_t *ind) {     \
        const int64_t H = g->in[1], W = g->in[2], dd = g->d[0], dh = g->d[1], dw = g->d[2];             \
        const int64_t sw_ = g->s[2], pw = g->pb[2], kw = g->k[2], OW = g->out[2];                       \
        OT_POOL_ROWS_BEGIN(g)                                                                           \
        for (int64_t ow = 0; ow < OW; ow++) {                                                           \
            int64_t sw = ow * sw_ - pw, w0, w1;                                                         \
            ot_tap_range(sw, kw, dw, W, &w0, &w1);                                                      \
            CT best = LOWEST;                                                                           \
            int nan = 0;                                                                                \
            /* Pass 1: the maximum, branch-free (maxss); a NaN anywhere wins. */                        \
            for (int64_t jd = d0; jd < d1; jd++)                                                        \
                for (int64_t jh = h0; jh < h1; jh++) {                                                  \
                    const T *xr = x + xbase + ((sd + jd * dd) * H + sh + jh * dh) * W + sw;              \
                    for (int64_t jw = w0; jw < w1; jw++) {                                              \
                        CT v = LD_##SUF(xr, jw * dw);                                                   \
                        best = v > best ? v : best;                                                     \
                        nan |= !OT_NOT_NAN(v);                                                          \
                    }                                                                                   \
                }                                                                                       \
            if (nan) best = (CT)NAN;                                                                    \
            ST_##SUF(y, ybase + ow, best);                                                              \
            if (!ind) continue;                                                                         \
            /* Pass 2 (Indices): the first tap equal to it, or the first NaN.  The taps \
               are still in cache; selecting during pass 1 costs a mispredicted       \
               branch per tap instead of one per window. */                            \
            int64_t bo = -1;                                                                            \
            for (int64_t jd = d0; jd < d1 && bo < 0; jd++)                                              \
                for (int64_t jh = h0; jh < h1 && bo < 0; jh++) {                                        \
                    const int64_t rowo = xbase + ((sd + jd * dd) * H + sh + jh * dh) * W + sw;          \
                    for (int64_t jw = w0; jw < w1; jw++) {                                              \
                        CT v = LD_##SUF(x, rowo + jw * dw);                                             \
                        if (nan ? !OT_NOT_NAN(v) : v == best) {                                         \
                            bo = rowo + jw * dw;                                                        \
                            break;                                                                      \
                        }                                                                               \
                    }                                                                                   \
                }                                                                                       \
            ind[ybase + ow] = ot_pool_index(g, bo);                                                     \
        }                                                                                               \
        OT_POOL_ROWS_END                                                                                \
    }

#define OT_DEF_AVGPOOL(SUF, T, CT)                                                                       \
    static void ot_avgpool_##SUF(const ot_pool3 *g, int64_t NC, const T *x, T *y, bool cip) {           \
        const int64_t H = g->in[1], W = g->in[2];                                                        \
        OT_POOL_ROWS_BEGIN(g)                                                                            \
        int64_t cdh = cip ? ot_tap_count_padded(sd, g->k[0], g->d[0], g->in[0], g->pe[0]) *              \
                                ot_tap_count_padded(sh, g->k[1], g->d[1], H, g->pe[1])                   \
                          : (d1 - d0) * (h1 - h0);                                                       \
        for (int64_t ow = 0; ow < g->out[2]; ow++) {                                                     \
            int64_t sw = ow * g->s[2] - g->pb[2], w0, w1;                                                \
            ot_tap_range(sw, g->k[2], g->d[2], W, &w0, &w1);                                             \
            CT sum = 0;                                                                                  \
            for (int64_t jd = d0; jd < d1; jd++) {                                                       \
                int64_t id = sd + jd * g->d[0];                                                          \
                for (int64_t jh = h0; jh < h1; jh++) {                                                   \
                    const int64_t rowi = xbase + (id * H + sh + jh * g->d[1]) * W + sw;                  \
                    for (int64_t jw = w0; jw < w1; jw++) sum += LD_##SUF(x, rowi + jw * g->d[2]);        \
                }                                                                                        \
            }                                                                                            \
            int64_t cw = cip ? ot_tap_count_padded(sw, g->k[2], g->d[2], W, g->pe[2]) : w1 - w0;         \
            ST_##SUF(y, ybase + ow, sum / (CT)(cdh * cw));                                               \
        }                                                                                                \
        OT_POOL_ROWS_END                                                                                 \
    }

/* |v|^p for an integer p >= 1, exact for the common p = 1, 2. */
static inline double ot_abs_pow(double v, int64_t p) {
    double a = fabs(v);
    return p == 1 ? a : p == 2 ? a * a : pow(a, (double)p);
}

static inline double ot_root(double s, int64_t p) { return p == 1 ? s : p == 2 ? sqrt(s) : pow(s, 1.0 / (double)p); }

#define OT_DEF_LPPOOL(SUF, T, CT)                                                                         \
    static void ot_lppool_##SUF(const ot_pool3 *g, int64_t NC, const T *x, T *y, int64_t p) {            \
        const int64_t H = g->in[1], W = g->in[2];                                                         \
        OT_POOL_ROWS_BEGIN(g)                                                                             \
        for (int64_t ow = 0; ow < g->out[2]; ow++) {                                                      \
            int64_t sw = ow * g->s[2] - g->pb[2], w0, w1;                                                 \
            ot_tap_range(sw, g->k[2], g->d[2], W, &w0, &w1);                                              \
            double sum = 0;                                                                               \
            for (int64_t jd = d0; jd < d1; jd++) {                                                        \
                int64_t id = sd + jd * g->d[0];                                                           \
                for (int64_t jh = h0; jh < h1; jh++) {                                                    \
                    const int64_t rowi = xbase + (id * H + sh + jh * g->d[1]) * W + sw;                   \
                    for (int64_t jw = w0; jw < w1; jw++)                                                  \
                        sum += ot_abs_pow((double)LD_##SUF(x, rowi + jw * g->d[2]), p);                   \
                }                                                                                         \
            }                                                                                             \
            ST_##SUF(y, ybase + ow, (CT)ot_root(sum, p));                                                 \
        }                                                                                                 \
        OT_POOL_ROWS_END                                                                                  \
    }

/* Global pools: one plane of S contiguous elements per output. */
#define OT_DEF_GLOBAL(SUF, T, CT, LOWEST)                                                                 \
    static void ot_global_##SUF(ot_global_pool kind, int64_t NC, int64_t S, const T *x, T *y, int64_t p) { \
        _Pragma("omp parallel for schedule(static) if (NC * S >= OT_POOL_PAR_MIN && NC > 1)")             \
        for (int64_t c = 0; c < NC; c++) {                                                                \
            const T *xp = x + c * S;                                                                      \
            if (kind == OT_GLOBAL_MAX) {                                                                  \
                CT best = LOWEST;                                                                         \
                for (int64_t i = 0; i < S; i++) {                                                         \
                    CT v = LD_##SUF(xp, i);                                                               \
                    if (!OT_NOT_NAN(v)) {                                                                 \
                        best = v;                                                                         \
                        break;                                                                            \
                    }                                                                                     \
                    if (v > best) best = v;                                                               \
                }                                                                                         \
                ST_##SUF(y, c, best);                                                                     \
                continue;                                                                                 \
            }                                                                                             \
            /* eight lanes: short dependency chains, thread-count independent result */                  \
            double lane[8] = {0}, sum = 0;                                                                \
            int64_t i = 0;                                                                                \
            if (kind == OT_GLOBAL_AVG) {                                                                  \
                for (; i + 8 <= S; i += 8)                                                                \
                    for (int j = 0; j < 8; j++) lane[j] += (double)LD_##SUF(xp, i + j);                   \
                for (; i < S; i++) sum += (double)LD_##SUF(xp, i);                                        \
            } else {                                                                                      \
                for (; i + 8 <= S; i += 8)                                                                \
                    for (int j = 0; j < 8; j++) lane[j] += ot_abs_pow((double)LD_##SUF(xp, i + j), p);    \
                for (; i < S; i++) sum += ot_abs_pow((double)LD_##SUF(xp, i), p);                         \
            }                                                                                             \
            for (int j = 0; j < 8; j++) sum += lane[j];                                                   \
            ST_##SUF(y, c, (CT)(kind == OT_GLOBAL_AVG ? sum / (double)S : ot_root(sum, p)));              \
        }                                                                                                 \
    }

#define OT_DEF_FLOAT(SUF, T, CT, LOWEST) \
    OT_DEF_MAXPOOL(SUF, T, CT, LOWEST)    \
    OT_DEF_AVGPOOL(SUF, T, CT)            \
    OT_DEF_LPPOOL(SUF, T, CT)             \
    OT_DEF_GLOBAL(SUF, T, CT, LOWEST)

OT_DEF_FLOAT(f32, float, float, -INFINITY)
OT_DEF_FLOAT(f64, double, double, -INFINITY)
OT_DEF_FLOAT(f16, uint16_t, float, -INFINITY)
OT_DEF_FLOAT(bf16, uint16_t, float, -INFINITY)
OT_DEF_MAXPOOL(i8, int8_t, float, -128.0f)
OT_DEF_MAXPOOL(u8, uint8_t, float, 0.0f)

void ot_cpu_maxpool(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, void *y, int64_t *indices,
                    bool col_major) {
    if (dt == OT_FLOAT && !indices && ot_pool_is_2x2s2(w)) {
        ot_maxpool2x2_f32(w, NC, x, y);
        return;
    }
    ot_pool3 g;
    ot_pool3_make(w, col_major, &g);
#define CALL(SUF, T) ot_maxpool_##SUF(&g, NC, (const T *)x, (T *)y, indices)
    switch (dt) {
        OT_FLOAT_CASES(CALL)
    case OT_INT8: CALL(i8, int8_t); break;
    case OT_UINT8: CALL(u8, uint8_t); break;
    default: break;
    }
#undef CALL
}

void ot_cpu_avgpool(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, void *y, bool count_include_pad) {
    ot_pool3 g;
    ot_pool3_make(w, false, &g);
#define CALL(SUF, T) ot_avgpool_##SUF(&g, NC, (const T *)x, (T *)y, count_include_pad)
    switch (dt) {
        OT_FLOAT_CASES(CALL)
    default: break;
    }
#undef CALL
}

void ot_cpu_lppool(ot_dtype dt, const ot_window *w, int64_t NC, const void *x, void *y, int64_t p) {
    ot_pool3 g;
    ot_pool3_make(w, false, &g);
#define CALL(SUF, T) ot_lppool_##SUF(&g, NC, (const T *)x, (T *)y, p)
    switch (dt) {
        OT_FLOAT_CASES(CALL)
    default: break;
    }
#undef CALL
}

void ot_cpu_global_pool(ot_global_pool kind, ot_dtype dt, int64_t NC, int64_t S, const void *x, void *y, int64_t p) {
#define CALL(SUF, T) ot_global_##SUF(kind, NC, S, (const T *)x, (T *)y, p)
    switch (dt) {
        OT_FLOAT_CASES(CALL)
    default: break;
    }
#undef CALL
}

int64_t ot_cpu_maxunpool(ot_dtype dt, const void *x, const int64_t *ind, int64_t n, void *y, int rank,
                         const int64_t *grid, const int64_t *out) {
    size_t es = dt == OT_DOUBLE ? 8 : dt == OT_FLOAT ? 4 : 2;
    int64_t grid_numel = 1;
    bool same = true;
    for (int a = 0; a < rank; a++) {
        grid_numel *= grid[a];
        same &= grid[a] == out[a];
    }
    /* Sequential: with duplicate indices the last write wins, as in ONNX's reference. */
    for (int64_t j = 0; j < n; j++) {
        int64_t i = ind[j];
        if (i < 0 || i >= grid_numel) return j;
        int64_t o = i;
        if (!same) { /* re-lay the grid coordinate into the (larger) output */
            o = 0;
            int64_t rest = i, mul = 1;
            for (int a = rank - 1; a >= 0; a--) {
                o += (rest % grid[a]) * mul;
                rest /= grid[a];
                mul *= out[a];
            }
        }
        memcpy((char *)y + o * (int64_t)es, (const char *)x + j * (int64_t)es, es);
    }
    return -1;
}
