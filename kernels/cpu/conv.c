/* Convolution on the CPU: im2col / col2im + BLAS GEMM (see conv.h). */
#include "conv.h"

#include <omp.h>
#include <string.h>

#include "matmul.h"
#include "src/core/alloc.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

void ot_conv_geom_finish(ot_conv_geom *g) {
    g->img_size = g->col_size = g->kernel_size = 1;
    for (int d = 0; d < g->n; d++) {
        g->img_size *= g->img[d];
        g->col_size *= g->col[d];
        g->kernel_size *= g->kernel[d];
    }
}

int ot_conv_geom_is_identity(const ot_conv_geom *g) {
    for (int d = 0; d < g->n; d++)
        if (g->kernel[d] != 1 || g->stride[d] != 1 || g->pad[d] != 0 || g->img[d] != g->col[d]) return 0;
    return 1;
}

static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* For kernel offset k of the last dim, the run of window positions
   [*lo, *hi) whose image coordinate lies inside the image. */
static void last_dim_run(const ot_conv_geom *g, int64_t k, int64_t *off, int64_t *lo, int64_t *hi) {
    int L = g->n - 1;
    int64_t s = g->stride[L], ow = g->col[L], iw = g->img[L];
    *off = k * g->dilation[L] - g->pad[L];
    int64_t a = *off >= 0 ? 0 : ceil_div(-*off, s);
    int64_t b = iw - *off <= 0 ? 0 : ceil_div(iw - *off, s);
    if (a > ow) a = ow;
    if (b > ow) b = ow;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* Image offset (in elements of one channel plane, last dim excluded) of the
   window row at outer position idx for kernel offsets k; -1 if it falls in
   the padding of an outer dim. */
static int64_t outer_base(const ot_conv_geom *g, const int64_t *idx, const int64_t *k) {
    int64_t base = 0;
    for (int d = 0; d < g->n - 1; d++) {
        int64_t i = idx[d] * g->stride[d] - g->pad[d] + k[d] * g->dilation[d];
        if (i < 0 || i >= g->img[d]) return -1;
        base = base * g->img[d] + i;
    }
    return base * g->img[g->n - 1];
}

/* Row r of the column matrix: channel r / kernel_size, kernel offsets from
   r % kernel_size.  Each row is a sequence of runs along the last dim. */
static int64_t row_kernel(const ot_conv_geom *g, int64_t r, int64_t *k) {
    int64_t q = r % g->kernel_size;
    for (int d = g->n - 1; d >= 0; d--) {
        k[d] = q % g->kernel[d];
        q /= g->kernel[d];
    }
    return r / g->kernel_size;
}

/* idx = the outer position with linear index o (odometer start). */
static void outer_index(const ot_conv_geom *g, int64_t o, int64_t *idx) {
    for (int d = g->n - 2; d >= 0; d--) {
        idx[d] = o % g->col[d];
        o /= g->col[d];
    }
}

static void next_outer(const ot_conv_geom *g, int64_t *idx) {
    for (int d = g->n - 2; d >= 0; d--) {
        if (++idx[d] < g->col[d]) return;
        idx[d] = 0;
    }
}

/* One window row of the column matrix: ow entries, image elements
 * src[0, hi - lo) (stride s) at [lo, hi), zeros (padding) around them.  An
 * inline loop, not memcpy: rows are short (8 floats for a 5x5 kernel on an
 * 12x12 map), and the calls cost more than the copies. */
#define OT_COL_ROW(T, dst, src, lo, hi, ow, s)                                                             \
    do {                                                                                                   \
        for (int64_t j_ = 0; j_ < (lo); j_++) (dst)[j_] = 0;                                               \
        if ((s) == 1) {                                                                                    \
            _Pragma("omp simd")                                                                            \
            for (int64_t j_ = 0; j_ < (hi) - (lo); j_++) (dst)[(lo) + j_] = (src)[j_];                     \
        } else {                                                                                           \
            for (int64_t j_ = 0; j_ < (hi) - (lo); j_++) (dst)[(lo) + j_] = (src)[j_ * (s)];               \
        }                                                                                                  \
        for (int64_t j_ = (hi); j_ < (ow); j_++) (dst)[j_] = 0;                                            \
    } while (0)

/* Window rows [o0, o1) (outer positions: all col dims but the last) of the
 * column matrix; row r of col has (o1 - o0) * col[last] entries.  Images
 * (two spatial dims) index rows directly; other ranks walk the outer dims
 * with an odometer. */
#define OT_IM2COL(NAME, RANGE, T)                                                                          \
    static void RANGE(const ot_conv_geom *g, int64_t channels, const T *img, int64_t o0, int64_t o1, T *col) { \
        int64_t rows = channels * g->kernel_size, ow = g->col[g->n - 1], s = g->stride[g->n - 1];           \
        int64_t ld = (o1 - o0) * ow;                                                                       \
        _Pragma("omp parallel for schedule(static) if (rows * ld > 65536 && !omp_in_parallel())")          \
        for (int64_t r = 0; r < rows; r++) {                                                               \
            int64_t k[OT_WINDOW_MAX_DIMS], idx[OT_WINDOW_MAX_DIMS] = {0}, off, lo, hi;                     \
            const T *plane = img + row_kernel(g, r, k) * g->img_size;                                      \
            last_dim_run(g, k[g->n - 1], &off, &lo, &hi);                                                  \
            T *dst = col + r * ld;                                                                         \
            if (g->n == 2) {                                                                               \
                int64_t H = g->img[0], W = g->img[1];                                                      \
                int64_t ih = o0 * g->stride[0] - g->pad[0] + k[0] * g->dilation[0];                        \
                for (int64_t o = o0; o < o1; o++, dst += ow, ih += g->stride[0]) {                         \
                    if (ih < 0 || ih >= H) {                                                               \
                        for (int64_t j = 0; j < ow; j++) dst[j] = 0;                                       \
                        continue;                                                                          \
                    }                                                                                      \
                    const T *src = plane + ih * W + off + lo * s;                                          \
                    OT_COL_ROW(T, dst, src, lo, hi, ow, s);                                                \
                }                                                                                          \
                continue;                                                                                  \
            }                                                                                              \
            outer_index(g, o0, idx);                                                                       \
            for (int64_t o = o0; o < o1; o++, dst += ow, next_outer(g, idx)) {                             \
                int64_t base = outer_base(g, idx, k);                                                      \
                if (base < 0 || hi == lo) {                                                                \
                    memset(dst, 0, sizeof(T) * (size_t)ow);                                                \
                    continue;                                                                              \
                }                                                                                          \
                const T *src = plane + base + off + lo * s; /* image element of window lo */               \
                OT_COL_ROW(T, dst, src, lo, hi, ow, s);                                                    \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    void NAME(const ot_conv_geom *g, int64_t channels, const T *img, T *col) {                            \
        int64_t ow = g->col[g->n - 1];                                                                     \
        RANGE(g, channels, img, 0, ow ? g->col_size / ow : 0, col);                                        \
    }
OT_IM2COL(ot_im2col_f32, im2col_range_f32, float)
OT_IM2COL(ot_im2col_f64, im2col_range_f64, double)

/* Rows of one channel overlap in the image, so threads split channels.
 * Images index rows directly, as in im2col. */
#define OT_COL2IM(NAME, T)                                                                                 \
    void NAME(const ot_conv_geom *g, int64_t channels, const T *col, T *img) {                            \
        int64_t ow = g->col[g->n - 1], s = g->stride[g->n - 1];                                            \
        int64_t outer = g->col_size / (ow ? ow : 1);                                                       \
        _Pragma("omp parallel for schedule(static) if (channels * g->kernel_size * g->col_size > 65536 && !omp_in_parallel())") \
        for (int64_t c = 0; c < channels; c++) {                                                           \
            T *plane = img + c * g->img_size;                                                              \
            for (int64_t r = c * g->kernel_size; r < (c + 1) * g->kernel_size; r++) {                      \
                int64_t k[OT_WINDOW_MAX_DIMS], idx[OT_WINDOW_MAX_DIMS] = {0}, off, lo, hi;                 \
                row_kernel(g, r, k);                                                                       \
                last_dim_run(g, k[g->n - 1], &off, &lo, &hi);                                              \
                const T *src = col + r * g->col_size;                                                      \
                if (hi == lo) continue;                                                                    \
                int64_t ih = k[0] * g->dilation[0] - g->pad[0];                                            \
                for (int64_t o = 0; o < outer; o++, src += ow, next_outer(g, idx)) {                       \
                    int64_t base;                                                                          \
                    if (g->n == 2) { /* no odometer: row o of the map */                                   \
                        base = ih >= 0 && ih < g->img[0] ? ih * g->img[1] : -1;                            \
                        ih += g->stride[0];                                                                \
                    } else {                                                                               \
                        base = outer_base(g, idx, k);                                                      \
                    }                                                                                      \
                    if (base < 0) continue;                                                                \
                    T *dst = plane + base + off + lo * s;                                                  \
                    if (s == 1) {                                                                          \
                        _Pragma("omp simd")                                                                \
                        for (int64_t j = 0; j < hi - lo; j++) dst[j] += src[lo + j];                       \
                    } else {                                                                               \
                        for (int64_t j = 0; j < hi - lo; j++) dst[j * s] += src[lo + j];                   \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }
OT_COL2IM(ot_col2im_f32, float)
OT_COL2IM(ot_col2im_f64, double)

/* ---- dtype dispatch for the shared drivers below ---- */

static void col2im(ot_dtype dt, const ot_conv_geom *g, int64_t ch, const void *col, void *img) {
    if (dt == OT_FLOAT) ot_col2im_f32(g, ch, col, img);
    else ot_col2im_f64(g, ch, col, img);
}

static void gemm(ot_dtype dt, bool ta, int64_t M, int64_t N, int64_t K, const void *A, int64_t lda, const void *B,
                 int64_t ldb, double beta, void *C, int64_t ldc) {
    if (dt == OT_FLOAT) ot_gemm_f32(ta, false, M, N, K, 1.0f, A, lda, B, ldb, (float)beta, C, ldc);
    else ot_gemm_f64(ta, false, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
}

/* rows x len block at y (row stride ld): row m set to b[m] (0 without b), or
   b[m] added when add. */
static void bias_rows(ot_dtype dt, void *y, const void *b, int64_t rows, int64_t len, int64_t ld, bool add) {
    #pragma omp parallel for schedule(static) if (rows * len > 65536 && !omp_in_parallel())
    for (int64_t m = 0; m < rows; m++) {
        if (dt == OT_FLOAT) {
            float *r = (float *)y + m * ld, v = b ? ((const float *)b)[m] : 0.0f;
            if (add) for (int64_t j = 0; j < len; j++) r[j] += v;
            else for (int64_t j = 0; j < len; j++) r[j] = v;
        } else {
            double *r = (double *)y + m * ld, v = b ? ((const double *)b)[m] : 0.0;
            if (add) for (int64_t j = 0; j < len; j++) r[j] += v;
            else for (int64_t j = 0; j < len; j++) r[j] = v;
        }
    }
}

/* Depthwise (one input channel per group): direct loops beat a GEMM whose
 * inner dim is just the kernel size.  Output plane (n, m) reads input
 * channel m / (M / C).  For each output row and each kernel offset of the
 * outer dims, the taps of the last kernel dim are summed in one pass: over
 * the interior where every tap is inside the image, the output element is
 * read and written once per kernel row instead of once per tap; the few edge
 * elements take the taps one by one.  Blocks of output rows stay in L1. */
#define OT_DW_MAX_TAPS 32
#define OT_DEPTHWISE(NAME, T)                                                                              \
    static void NAME(const ot_conv_geom *g, int64_t N, int64_t C, int64_t M, const T *X, const T *W,        \
                     const T *B, T *Y) {                                                                   \
        int L = g->n - 1;                                                                                  \
        int64_t Mg = M / C, ow = g->col[L], s = g->stride[L], kl = g->kernel[L];                           \
        int64_t outer = ow ? g->col_size / ow : 0, blk = ow ? (4096 + ow - 1) / ow : 1;                    \
        int64_t off[OT_DW_MAX_TAPS], lo[OT_DW_MAX_TAPS], hi[OT_DW_MAX_TAPS], LO = 0, HI = ow;              \
        int64_t taps = kl <= OT_DW_MAX_TAPS ? kl : 1; /* taps summed per pass */                          \
        for (int64_t t = 0; t < taps; t++) {                                                               \
            last_dim_run(g, t, &off[t], &lo[t], &hi[t]);                                                   \
            if (lo[t] > LO) LO = lo[t];                                                                    \
            if (hi[t] < HI) HI = hi[t];                                                                    \
        }                                                                                                  \
        if (HI < LO) HI = LO;                                                                              \
        _Pragma("omp parallel for schedule(static) if (N * M * g->col_size * g->kernel_size > 65536 && !omp_in_parallel())") \
        for (int64_t pl = 0; pl < N * M; pl++) {                                                           \
            int64_t n = pl / M, m = pl % M;                                                                \
            const T *x = X + (n * C + m / Mg) * g->img_size, *w = W + m * g->kernel_size;                  \
            T *y = Y + pl * g->col_size, b = B ? B[m] : (T)0;                                              \
            for (int64_t j = 0; j < g->col_size; j++) y[j] = b;                                            \
            for (int64_t o0 = 0; o0 < outer; o0 += blk) {                                                  \
                int64_t o1 = o0 + blk < outer ? o0 + blk : outer;                                          \
                for (int64_t kk = 0; kk < g->kernel_size; kk += taps) {                                    \
                    int64_t k[OT_WINDOW_MAX_DIMS], idx[OT_WINDOW_MAX_DIMS] = {0}, o_, l_, h_;              \
                    row_kernel(g, kk, k);                                                                  \
                    const T *wv = w + kk;                                                                  \
                    const int64_t *tof = off, *tlo = lo, *thi = hi;                                        \
                    int64_t tl = LO, th = HI;                                                              \
                    if (taps == 1) { /* kernel too wide to sum its taps at once */                         \
                        last_dim_run(g, k[L], &o_, &l_, &h_);                                              \
                        tof = &o_, tlo = &l_, thi = &h_, tl = l_, th = h_;                                 \
                    }                                                                                      \
                    outer_index(g, o0, idx);                                                               \
                    T *yr = y + o0 * ow;                                                                   \
                    for (int64_t o = o0; o < o1; o++, yr += ow, next_outer(g, idx)) {                      \
                        int64_t base = outer_base(g, idx, k);                                              \
                        if (base < 0) continue;                                                            \
                        const T *xr = x + base;                                                            \
                        for (int64_t t = 0; t < taps; t++) { /* edges: tap by tap */                      \
                            for (int64_t j = tlo[t]; j < thi[t] && j < tl; j++) yr[j] += wv[t] * xr[tof[t] + j * s]; \
                            for (int64_t j = tlo[t] > th ? tlo[t] : th; j < thi[t]; j++)                   \
                                yr[j] += wv[t] * xr[tof[t] + j * s];                                       \
                        }                                                                                  \
                        if (taps == 3 && s == 1) { /* the common 3-wide kernel */                          \
                            const T *x0 = xr + tof[0], *x1 = xr + tof[1], *x2 = xr + tof[2];               \
                            T w0 = wv[0], w1 = wv[1], w2 = wv[2];                                          \
                            _Pragma("omp simd")                                                            \
                            for (int64_t j = tl; j < th; j++) yr[j] += w0 * x0[j] + w1 * x1[j] + w2 * x2[j]; \
                            continue;                                                                      \
                        }                                                                                  \
                        _Pragma("omp simd")                                                                \
                        for (int64_t j = tl; j < th; j++) {                                                \
                            T acc = 0;                                                                     \
                            for (int64_t t = 0; t < taps; t++) acc += wv[t] * xr[tof[t] + j * s];          \
                            yr[j] += acc;                                                                  \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }
OT_DEPTHWISE(depthwise_f32, float)
OT_DEPTHWISE(depthwise_f64, double)

/* Conv splits its work into items (image n, group g, tile of window rows):
 * a tile's column block (Kc x tile) is sized to stay in cache between
 * im2col writing it and the GEMM reading it.  With at least as many items as
 * threads, each thread takes whole items with its own scratch and
 * single-threaded BLAS; otherwise items run one after another, whole images
 * at a time, with im2col and BLAS using every thread. */
#define OT_CONV_TILE_BYTES ((int64_t)512 << 10)
#define OT_CONV_SCRATCH_CAP ((int64_t)1 << 28) /* bytes, sequential plan */

typedef struct conv_plan {
    int64_t rpt, ntiles; /* window rows per tile, tiles per (n, g) */
    int workers;         /* threads taking items (1: sequential) */
} conv_plan;

/* Below this many multiply-adds a convolution is not worth a thread team:
   waking threads costs more than the work (and far more on a busy machine). */
#define OT_CONV_SMALL_WORK ((int64_t)1 << 17)

/* work: multiply-adds of the whole call, to run small ones on one thread. */
static conv_plan plan_tiles(int64_t items, int64_t outer, int64_t row_bytes, int64_t work) {
    conv_plan p;
    int t = work < OT_CONV_SMALL_WORK ? 1 : omp_get_max_threads();
    if (outer < 1) outer = 1;
    p.rpt = row_bytes > 0 ? OT_CONV_TILE_BYTES / row_bytes : outer;
    if (p.rpt < 1) p.rpt = 1;
    if (p.rpt > outer) p.rpt = outer;
    while (p.rpt > 1 && items * ((outer + p.rpt - 1) / p.rpt) < t) p.rpt = (p.rpt + 1) / 2;
    p.workers = (t > 1 && items * ((outer + p.rpt - 1) / p.rpt) >= t) ? t : 1;
    if (p.workers == 1 && t > 1) { /* few items: whole images, every thread inside BLAS */
        p.rpt = outer;
        if (row_bytes > 0 && row_bytes * outer > OT_CONV_SCRATCH_CAP) p.rpt = OT_CONV_SCRATCH_CAP / row_bytes;
        if (p.rpt < 1) p.rpt = 1;
    }
    p.ntiles = (outer + p.rpt - 1) / p.rpt;
    return p;
}

ot_status ot_conv_forward(ot_dtype dt, const ot_conv_geom *g, int64_t N, int64_t C, int64_t M, int64_t G,
                          const void *X, const void *W, const void *B, void *Y) {
    size_t es = dt == OT_FLOAT ? sizeof(float) : sizeof(double);
    int64_t Cg = C / G, Mg = M / G, Kc = Cg * g->kernel_size, P = g->col_size, ow = g->col[g->n - 1];
    bool identity = ot_conv_geom_is_identity(g);
    /* Direct loops only for grouped (depthwise) convolutions: a plain
       convolution of a one-channel image (a first layer) is a GEMM with
       K = kernel size, which BLAS does several times faster (measured on the
       shipped Fashion-MNIST CNN: 38% of the step in the direct loop). */
    if (Cg == 1 && G > 1 && !identity) {
        if (dt == OT_FLOAT) depthwise_f32(g, N, C, M, X, W, B, Y);
        else depthwise_f64(g, N, C, M, X, W, B, Y);
        return OT_OK;
    }
    if (P == 0) return OT_OK;
    int64_t outer = P / ow;
    conv_plan pl = plan_tiles(N * G, outer, identity ? 0 : Kc * ow * (int64_t)es, N * M * P * Kc);
    void *col = NULL;
    if (!identity) {
        int64_t per = Kc * pl.rpt * ow;
        col = ot_workspace_alloc((size_t)per * es * (size_t)pl.workers);
        if (!col)
            return ot_error(OT_ERR_NOMEM, "out of memory for a %lld-element convolution column buffer", (long long)per);
    }
    int64_t items = N * G * pl.ntiles;
    #pragma omp parallel for schedule(static) num_threads(pl.workers) if (pl.workers > 1)
    for (int64_t it = 0; it < items; it++) {
        int64_t n = it / (G * pl.ntiles), gi = it / pl.ntiles % G, t = it % pl.ntiles;
        int64_t o0 = t * pl.rpt, o1 = o0 + pl.rpt < outer ? o0 + pl.rpt : outer, cols = (o1 - o0) * ow;
        const char *x = (const char *)X + (size_t)((n * C + gi * Cg) * g->img_size) * es;
        char *y = (char *)Y + (size_t)((n * M + gi * Mg) * P + o0 * ow) * es;
        const char *w = (const char *)W + (size_t)(gi * Mg * Kc) * es;
        const void *cm = x + (size_t)(o0 * ow) * es; /* identity: X is its own column matrix */
        int64_t ld = P;
        if (!identity) {
            char *mine = (char *)col + (size_t)(omp_get_thread_num() * Kc * pl.rpt * ow) * es;
            if (dt == OT_FLOAT) im2col_range_f32(g, Cg, (const float *)x, o0, o1, (float *)mine);
            else im2col_range_f64(g, Cg, (const double *)x, o0, o1, (double *)mine);
            cm = mine;
            ld = cols;
        }
        gemm(dt, false, Mg, cols, Kc, w, Kc, cm, ld, 0.0, y, P); /* (Mg, Kc) x (Kc, cols) */
        if (B) bias_rows(dt, y, (const char *)B + (size_t)(gi * Mg) * es, Mg, cols, P, true);
    }
    ot_workspace_free(col);
    return OT_OK;
}

/* Depthwise gradients (few channels per group on one side): direct loops
 * over the runs of the last dim, like the forward's depthwise kernel; no
 * column buffer and no GEMM whose inner dim would be the kernel size. */
#define OT_CONV_DIRECT_MAX 4

/* ConvTranspose with one output channel per group (Conv's input gradient
 * for depthwise Conv): output plane (n, m) is owned by one thread and gathers
 * the scatter of its group's Cg input planes, tap by tap. */
#define OT_DW_TRANSPOSE(NAME, T)                                                                           \
    static void NAME(const ot_conv_geom *g, int64_t N, int64_t C, int64_t M, int64_t G, const T *X,         \
                     const T *W, const T *B, T *Y) {                                                       \
        int L = g->n - 1;                                                                                  \
        int64_t Cg = C / G, ow = g->col[L], s = g->stride[L], outer = ow ? g->col_size / ow : 0;           \
        _Pragma("omp parallel for schedule(static) if (N * C * g->col_size * g->kernel_size > 65536 && !omp_in_parallel())") \
        for (int64_t pl = 0; pl < N * M; pl++) {                                                           \
            int64_t n = pl / M, m = pl % M;                                                                \
            T *y = Y + pl * g->img_size, b = B ? B[m] : (T)0;                                              \
            for (int64_t j = 0; j < g->img_size; j++) y[j] = b;                                            \
            for (int64_t ci = m * Cg; ci < (m + 1) * Cg; ci++) {                                           \
                const T *x = X + (n * C + ci) * g->col_size, *w = W + ci * g->kernel_size;                 \
                for (int64_t kk = 0; kk < g->kernel_size; kk++) {                                          \
                    int64_t k[OT_WINDOW_MAX_DIMS], idx[OT_WINDOW_MAX_DIMS] = {0}, off, lo, hi;             \
                    row_kernel(g, kk, k);                                                                  \
                    last_dim_run(g, k[L], &off, &lo, &hi);                                                 \
                    if (hi == lo) continue;                                                                \
                    T wv = w[kk];                                                                          \
                    for (int64_t o = 0; o < outer; o++, next_outer(g, idx)) {                              \
                        int64_t base = outer_base(g, idx, k);                                              \
                        if (base < 0) continue;                                                            \
                        T *yr = y + base + off;                                                            \
                        const T *xr = x + o * ow;                                                          \
                        if (s == 1) {                                                                      \
                            _Pragma("omp simd")                                                            \
                            for (int64_t j = lo; j < hi; j++) yr[j] += wv * xr[j];                         \
                        } else {                                                                           \
                            for (int64_t j = lo; j < hi; j++) yr[j * s] += wv * xr[j];                     \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }
OT_DW_TRANSPOSE(dw_transpose_f32, float)
OT_DW_TRANSPOSE(dw_transpose_f64, double)

/* Weight gradient with one image channel per group: dW row r (a col-side
 * channel) against image channel r / Rc, one thread per row (no races, a
 * fixed summation order).  Each image row's products are summed in T, the
 * rows in double. */
#define OT_DW_WGRAD(NAME, T)                                                                               \
    static void NAME(const ot_conv_geom *g, int64_t N, int64_t C_img, int64_t C_col, int64_t G,             \
                     const T *IMG, const T *COL, T *DW) {                                                  \
        int L = g->n - 1;                                                                                  \
        int64_t Rc = C_col / G, ow = g->col[L], s = g->stride[L], outer = ow ? g->col_size / ow : 0;       \
        _Pragma("omp parallel for schedule(static) if (N * C_col * g->col_size * g->kernel_size > 65536 && !omp_in_parallel())") \
        for (int64_t r = 0; r < C_col; r++) {                                                              \
            int64_t ci = r / Rc;                                                                           \
            for (int64_t kk = 0; kk < g->kernel_size; kk++) {                                              \
                int64_t k[OT_WINDOW_MAX_DIMS], off, lo, hi;                                                \
                row_kernel(g, kk, k);                                                                      \
                last_dim_run(g, k[L], &off, &lo, &hi);                                                     \
                double acc = 0;                                                                            \
                for (int64_t n = 0; n < N && hi > lo; n++) {                                               \
                    const T *img = IMG + (n * C_img + ci) * g->img_size;                                   \
                    const T *col = COL + (n * C_col + r) * g->col_size;                                    \
                    int64_t idx[OT_WINDOW_MAX_DIMS] = {0};                                                 \
                    for (int64_t o = 0; o < outer; o++, next_outer(g, idx)) {                              \
                        int64_t base = outer_base(g, idx, k);                                              \
                        if (base < 0) continue;                                                            \
                        const T *xr = img + base + off, *dy = col + o * ow;                                \
                        T part = 0;                                                                        \
                        if (s == 1) {                                                                      \
                            _Pragma("omp simd reduction(+ : part)")                                        \
                            for (int64_t j = lo; j < hi; j++) part += dy[j] * xr[j];                       \
                        } else {                                                                           \
                            for (int64_t j = lo; j < hi; j++) part += dy[j] * xr[j * s];                   \
                        }                                                                                  \
                        acc += part;                                                                       \
                    }                                                                                      \
                }                                                                                          \
                DW[r * g->kernel_size + kk] = (T)acc;                                                      \
            }                                                                                              \
        }                                                                                                  \
    }
OT_DW_WGRAD(dw_weight_grad_f32, float)
OT_DW_WGRAD(dw_weight_grad_f64, double)

/* ConvTranspose: col2im scatters into overlapping image regions, so work is
   split by (image, group) only. */
static ot_status scratch(int64_t items, int64_t per_item, size_t es, bool need, int64_t work, int *workers,
                         void **buf) {
    int t = work < OT_CONV_SMALL_WORK ? 1 : omp_get_max_threads();
    *workers = (items >= t && t > 1) ? t : 1;
    *buf = NULL;
    if (!need) return OT_OK;
    if (per_item > ((int64_t)1 << 40)) return ot_error(OT_ERR_NOMEM, "convolution column buffer too large");
    if (*workers > 1 && per_item * (int64_t)es * *workers > OT_CONV_SCRATCH_CAP) *workers = 1;
    *buf = ot_workspace_alloc((size_t)(per_item ? per_item : 1) * es * (size_t)*workers);
    if (!*buf)
        return ot_error(OT_ERR_NOMEM, "out of memory for a %lld-element convolution column buffer",
                        (long long)per_item);
    return OT_OK;
}

ot_status ot_conv_transpose_forward(ot_dtype dt, const ot_conv_geom *g, int64_t N, int64_t C, int64_t M,
                                    int64_t G, const void *X, const void *W, const void *B, void *Y) {
    size_t es = dt == OT_FLOAT ? sizeof(float) : sizeof(double);
    int64_t Cg = C / G, Mg = M / G, R = Mg * g->kernel_size, P = g->col_size, Q = g->img_size;
    bool identity = ot_conv_geom_is_identity(g);
    int workers;
    void *col;
    if (Mg == 1 && Cg <= OT_CONV_DIRECT_MAX && !identity) { /* one output channel per group: direct scatter */
        if (dt == OT_FLOAT) dw_transpose_f32(g, N, C, M, G, X, W, B, Y);
        else dw_transpose_f64(g, N, C, M, G, X, W, B, Y);
        return OT_OK;
    }
    OT_TRY(scratch(N * G, R * P, es, !identity, N * C * R * P, &workers, &col));
    #pragma omp parallel for schedule(static) num_threads(workers) if (workers > 1)
    for (int64_t it = 0; it < N * G; it++) {
        int64_t n = it / G, gi = it % G;
        const char *x = (const char *)X + (size_t)((n * C + gi * Cg) * P) * es;
        char *y = (char *)Y + (size_t)((n * M + gi * Mg) * Q) * es;
        const char *w = (const char *)W + (size_t)(gi * Cg * R) * es;
        bias_rows(dt, y, B ? (const char *)B + (size_t)(gi * Mg) * es : NULL, Mg, Q, Q, false);
        if (identity) {
            gemm(dt, true, Mg, P, Cg, w, R, x, P, 1.0, y, Q); /* (Cg, Mg)^T x (Cg, P) */
            continue;
        }
        char *mine = (char *)col + (size_t)(omp_get_thread_num() * R * P) * es;
        gemm(dt, true, R, P, Cg, w, R, x, P, 0.0, mine, P); /* (Cg, R)^T x (Cg, P) -> (R, P) */
        col2im(dt, g, Mg, mine, y);
    }
    ot_workspace_free(col);
    return OT_OK;
}

/* ---- gradients ---- */

/* Per-worker copies of dW above this many bytes in all: the items run in
 * order instead, and BLAS spreads each product over the threads. */
#define OT_CONV_PARTIAL_CAP ((int64_t)64 << 20)

/* dW_g (Rc, Kc) = sum over n of col_ng (Rc, P) im2col(img_ng)^T (P, Kc).
 * Work items are (image, group, tile of window rows) as in the forward.
 * With enough items, each worker sums its static share of items into its own
 * copy of dW (worker 0 into dW itself), and the copies are added in worker
 * order: deterministic for a given thread count. */
ot_status ot_conv_weight_grad(ot_dtype dt, const ot_conv_geom *g, int64_t N, int64_t C_img, int64_t C_col,
                              int64_t G, const void *IMG, const void *COL, void *DW) {
    size_t es = dt == OT_FLOAT ? sizeof(float) : sizeof(double);
    int64_t Ci = C_img / G, Rc = C_col / G, Kc = Ci * g->kernel_size, P = g->col_size, Q = g->img_size;
    int64_t wn = C_col * Kc, ow = g->col[g->n - 1];
    memset(DW, 0, (size_t)wn * es);
    if (P == 0 || N == 0 || wn == 0) return OT_OK;
    bool identity = ot_conv_geom_is_identity(g);
    int64_t outer = P / ow, row_bytes = identity ? 0 : Kc * ow * (int64_t)es;
    if (Ci == 1 && Rc <= OT_CONV_DIRECT_MAX && !identity) { /* depthwise: direct loops, no GEMM of inner dim k */
        if (dt == OT_FLOAT) dw_weight_grad_f32(g, N, C_img, C_col, G, IMG, COL, DW);
        else dw_weight_grad_f64(g, N, C_img, C_col, G, IMG, COL, DW);
        return OT_OK;
    }
    conv_plan pl = plan_tiles(N * G, outer, row_bytes, N * C_col * Kc * P);
    if (pl.workers > 1 && wn * (int64_t)es * pl.workers > OT_CONV_PARTIAL_CAP) {
        pl.workers = 1; /* sequential: whole images (capped), threaded BLAS */
        pl.rpt = outer;
        if (row_bytes > 0 && row_bytes * outer > OT_CONV_SCRATCH_CAP) pl.rpt = OT_CONV_SCRATCH_CAP / row_bytes;
        if (pl.rpt < 1) pl.rpt = 1;
        pl.ntiles = (outer + pl.rpt - 1) / pl.rpt;
    }
    void *col = NULL, *part = NULL;
    int64_t per = Kc * pl.rpt * ow;
    if (!identity && !(col = ot_workspace_alloc((size_t)per * es * (size_t)pl.workers)))
        return ot_error(OT_ERR_NOMEM, "out of memory for a %lld-element convolution column buffer", (long long)per);
    if (pl.workers > 1 && !(part = ot_workspace_calloc((size_t)wn * (size_t)(pl.workers - 1), es))) {
        ot_workspace_free(col);
        return ot_error(OT_ERR_NOMEM, "out of memory for per-thread weight gradients");
    }
    int64_t items = N * G * pl.ntiles;
    #pragma omp parallel num_threads(pl.workers) if (pl.workers > 1)
    {
        int tid = omp_get_thread_num();
        char *acc = tid == 0 ? (char *)DW : (char *)part + (size_t)((tid - 1) * wn) * es;
        #pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            int64_t n = it / (G * pl.ntiles), gi = it / pl.ntiles % G, t = it % pl.ntiles;
            int64_t o0 = t * pl.rpt, o1 = o0 + pl.rpt < outer ? o0 + pl.rpt : outer, cols = (o1 - o0) * ow;
            const char *img = (const char *)IMG + (size_t)((n * C_img + gi * Ci) * Q) * es;
            const char *cm = (const char *)COL + (size_t)((n * C_col + gi * Rc) * P + o0 * ow) * es;
            const void *im = img + (size_t)(o0 * ow) * es; /* identity: the image is its own column matrix */
            int64_t ld = P;
            if (!identity) {
                char *mine = (char *)col + (size_t)(tid * per) * es;
                if (dt == OT_FLOAT) im2col_range_f32(g, Ci, (const float *)img, o0, o1, (float *)mine);
                else im2col_range_f64(g, Ci, (const double *)img, o0, o1, (double *)mine);
                im = mine;
                ld = cols;
            }
            char *dw = acc + (size_t)(gi * Rc * Kc) * es; /* (Rc, P-tile) x (Kc, P-tile)^T */
            if (dt == OT_FLOAT)
                ot_gemm_f32(false, true, Rc, Kc, cols, 1.0f, (const float *)cm, P, im, ld, 1.0f, (float *)dw, Kc);
            else
                ot_gemm_f64(false, true, Rc, Kc, cols, 1.0, (const double *)cm, P, im, ld, 1.0, (double *)dw, Kc);
        }
    }
    if (part) {
        #pragma omp parallel for schedule(static) if (wn * pl.workers > 65536)
        for (int64_t i = 0; i < wn; i++)
            for (int w = 1; w < pl.workers; w++) {
                if (dt == OT_FLOAT) ((float *)DW)[i] += ((const float *)part)[(w - 1) * wn + i];
                else ((double *)DW)[i] += ((const double *)part)[(w - 1) * wn + i];
            }
    }
    ot_workspace_free(part);
    ot_workspace_free(col);
    return OT_OK;
}

/* dB[m] = sum over n and the S positions of dY (N, M, S); float sums each
   plane in float (vectorised) and the planes in double. */
void ot_conv_bias_grad(ot_dtype dt, int64_t N, int64_t M, int64_t S, const void *DY, void *DB) {
    #pragma omp parallel for schedule(static) if (N * M * S > 65536 && !omp_in_parallel())
    for (int64_t m = 0; m < M; m++) {
        double acc = 0;
        for (int64_t n = 0; n < N; n++) {
            if (dt == OT_FLOAT) {
                const float *p = (const float *)DY + (n * M + m) * S;
                float s = 0;
                #pragma omp simd reduction(+ : s)
                for (int64_t j = 0; j < S; j++) s += p[j];
                acc += s;
            } else {
                const double *p = (const double *)DY + (n * M + m) * S;
                for (int64_t j = 0; j < S; j++) acc += p[j];
            }
        }
        if (dt == OT_FLOAT) ((float *)DB)[m] = (float)acc;
        else ((double *)DB)[m] = acc;
    }
}
