/* CPU kernels for GridSample and AffineGrid and their gradients (see
 * resize.h).
 *
 * GridSample works per output location: the location's grid vector gives,
 * for each of the (at most 3) spatial axes, up to 4 taps with weights (and
 * the weights' derivatives for dgrid); their tensor product is then applied
 * to every channel.  Axes are padded to 3 with a single unit tap, so one
 * loop nest serves 1-D, 2-D and 3-D sampling.
 *  - forward: parallel over (n, location), channels inside (taps computed once);
 *  - dX: scattered; parallel over (n, block of channels), so no two threads
 *    write the same plane and the result does not depend on the thread count;
 *  - dgrid: parallel over (n, location), each reads its taps over channels.
 * X of float16 / bfloat16 is computed in float32, integer X in float64. */
#include <math.h>
#include <string.h>

#include "../../src/core/dtype.h"
#include "../../src/core/half.h"
#include "../../src/core/status.h"
#include "../../src/runtime/workspace.h"
#include "resize.h"

#define OT_GS_PAR_MIN 16384 /* multiply-adds below which one thread is faster */
#define OT_GS_CBLOCK 8      /* channels a dX task owns */

typedef struct gs_dim { /* the taps of one spatial axis at one location */
    int K;
    int64_t off[4]; /* element offset in the plane (index * stride), -1: a zero of the zeros padding */
    double w[4];    /* weights */
    double dw[4];   /* d w / d (normalised grid value) */
} gs_dim;

bool ot_cpu_grid_sample_dtype_ok(ot_dtype x, ot_dtype grid) {
    if (grid != OT_FLOAT && grid != OT_DOUBLE && grid != OT_FLOAT16) return false;
    return ot_dtype_is_float(x) || ot_dtype_is_int(x);
}

static double gs_grid_at(ot_dtype gt, const void *g, int64_t i) {
    if (gt == OT_FLOAT) return ((const float *)g)[i];
    if (gt == OT_DOUBLE) return ((const double *)g)[i];
    return ot_f16_to_f32(((const uint16_t *)g)[i]);
}

/* Reflects x into [lo, hi] by the near border until it lands inside;
   *sign: d(result)/dx. */
static double gs_reflect(double x, double lo, double hi, double *sign) {
    const double span = hi - lo;
    *sign = 1;
    if (x >= lo && x <= hi) return x;
    if (span <= 0) {
        *sign = 0;
        return lo;
    }
    double d = x < lo ? lo - x : x - hi;
    double n = floor(d / span), rem = d - n * span;
    bool even = fmod(n, 2) == 0;
    *sign = even ? -1 : 1;
    if (x < lo) return even ? lo + rem : hi - rem;
    return even ? hi - rem : lo + rem;
}

/* Index i of an axis of length len after the padding mode, -1 for a zero. */
static int64_t gs_pad_index(const ot_grid_spec *s, int64_t i, int64_t len) {
    if (i >= 0 && i < len) return i;
    if (s->padding == OT_GRID_ZEROS) return -1;
    if (s->padding == OT_GRID_BORDER) return i < 0 ? 0 : len - 1;
    double sign, lo = s->align_corners ? 0 : -0.5, hi = s->align_corners ? (double)len - 1 : (double)len - 0.5;
    int64_t j = (int64_t)gs_reflect((double)i, lo, hi, &sign);
    return j < 0 ? 0 : j >= len ? len - 1 : j;
}

/* d/du of Keys' kernel (a = -0.75) on [0, 1] and [1, 2]. */
static double gs_k1d(double u) { return 3 * (-0.75 + 2) * u * u - 2 * (-0.75 + 3) * u; }
static double gs_k2d(double u) { return 3 * -0.75 * u * u - 10 * -0.75 * u + 8 * -0.75; }

/* The taps of an axis of length len (element stride `stride`) for normalised v. */
static void gs_axis(const ot_grid_spec *s, int64_t len, int64_t stride, double v, gs_dim *t) {
    const double A = -0.75, lo = s->align_corners ? 0 : -0.5;
    const double hi = s->align_corners ? (double)len - 1 : (double)len - 0.5;
    double x = s->align_corners ? (v + 1) / 2 * (double)(len - 1) : ((v + 1) * (double)len - 1) / 2;
    double dx = s->align_corners ? (double)(len - 1) / 2 : (double)len / 2; /* dx / dv */
    if (!(fabs(x) < 1e15)) x = isnan(x) ? 0 : copysign(1e15, x); /* keeps the integer casts defined */
    if (s->mode == OT_GRID_NEAREST) x = nearbyint(x);                /* half to even, as PyTorch */
    /* linear / nearest pad the coordinate; cubic pads each tap instead (PyTorch, ONNX Runtime) */
    if ((x < lo || x > hi) && s->mode != OT_GRID_CUBIC) {
        if (s->padding == OT_GRID_BORDER) {
            x = x < 0 ? 0 : x > (double)len - 1 ? (double)len - 1 : x;
            dx = 0;
        } else if (s->padding == OT_GRID_REFLECTION) {
            double sign;
            x = gs_reflect(x, lo, hi, &sign);
            dx *= sign;
        }
    }
    if (s->mode == OT_GRID_NEAREST) {
        int64_t i = gs_pad_index(s, (int64_t)x, len);
        t->K = 1;
        t->off[0] = i < 0 ? -1 : i * stride;
        t->w[0] = 1;
        t->dw[0] = 0;
        return;
    }
    const double f = floor(x), r = x - f, q = 1 - r;
    int64_t i0 = (int64_t)f;
    if (s->mode == OT_GRID_LINEAR) {
        t->K = 2;
        t->w[0] = q, t->w[1] = r;
        t->dw[0] = -dx, t->dw[1] = dx;
    } else {
        t->K = 4;
        i0 -= 1;
        t->w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
        t->w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
        t->w[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
        t->w[3] = ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
        t->dw[0] = gs_k2d(r + 1) * dx, t->dw[1] = gs_k1d(r) * dx;
        t->dw[2] = -gs_k1d(q) * dx, t->dw[3] = -gs_k2d(q + 1) * dx;
    }
    for (int k = 0; k < t->K; k++) {
        int64_t i = gs_pad_index(s, i0 + k, len);
        t->off[k] = i < 0 ? -1 : i * stride;
    }
}

/* Geometry shared by the kernels: dims padded to 3 (leading unit axes). */
typedef struct gs_geom {
    int64_t in[3], stride[3], I, O;
} gs_geom;

static gs_geom gs_geometry(const ot_grid_spec *s) {
    gs_geom g;
    g.I = g.O = 1;
    for (int d = 0; d < 3; d++) {
        int k = d - (3 - s->r); /* the spec's axis, or < 0 for padding */
        g.in[d] = k >= 0 ? s->in[k] : 1;
        if (k >= 0) g.I *= s->in[k], g.O *= s->out[k];
    }
    g.stride[2] = 1, g.stride[1] = g.in[2], g.stride[0] = g.in[1] * g.in[2];
    return g;
}

/* The taps of location p (= n * O + loc) on the three padded axes. */
static void gs_location(const ot_grid_spec *s, const gs_geom *g, ot_dtype gt, const void *grid, int64_t p, gs_dim *t) {
    for (int d = 0; d < 3; d++) {
        int k = d - (3 - s->r);
        if (k < 0) {
            t[d] = (gs_dim){.K = 1, .off = {0}, .w = {1}, .dw = {0}};
            continue;
        }
        /* grid lists coordinates innermost axis first */
        gs_axis(s, g->in[d], g->stride[d], gs_grid_at(gt, grid, p * s->r + (s->r - 1 - k)), &t[d]);
    }
}

#define OT_GS_TAPS_BEGIN(t)                                              \
    for (int a = 0; a < (t)[0].K; a++) {                                 \
        if ((t)[0].off[a] < 0) continue;                                 \
        for (int b = 0; b < (t)[1].K; b++) {                             \
            if ((t)[1].off[b] < 0) continue;                             \
            for (int e = 0; e < (t)[2].K; e++) {                         \
                if ((t)[2].off[e] < 0) continue;                         \
                const int64_t off = (t)[0].off[a] + (t)[1].off[b] + (t)[2].off[e];
#define OT_GS_TAPS_END \
    }                  \
    }                  \
    }

#define OT_GS_DEF(SUF, T)                                                                                      \
    static void gs_forward_##SUF(const ot_grid_spec *s, const T *x, ot_dtype gt, const void *grid, T *y) {    \
        const gs_geom g = gs_geometry(s);                                                                      \
        const int64_t C = s->C, O = g.O, I = g.I;                                                              \
        _Pragma("omp parallel for schedule(static) if (s->N * O * C > OT_GS_PAR_MIN)")                         \
        for (int64_t p = 0; p < s->N * O; p++) {                                                               \
            gs_dim t[3];                                                                                       \
            int64_t offs[64];                                                                                  \
            T ws[64];                                                                                          \
            int nt = 0;                                                                                        \
            gs_location(s, &g, gt, grid, p, t);                                                                \
            OT_GS_TAPS_BEGIN(t)                                                                                \
            offs[nt] = off;                                                                                    \
            ws[nt++] = (T)(t[0].w[a] * t[1].w[b] * t[2].w[e]);                                                 \
            OT_GS_TAPS_END                                                                                     \
            const int64_t n = p / O, loc = p % O;                                                              \
            const T *xn = x + n * C * I;                                                                       \
            T *yn = y + n * C * O + loc;                                                                       \
            for (int64_t c = 0; c < C; c++) {                                                                  \
                const T *xc = xn + c * I;                                                                      \
                T acc = 0;                                                                                     \
                for (int k = 0; k < nt; k++) acc += ws[k] * xc[offs[k]];                                       \
                yn[c * O] = acc;                                                                               \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    static void gs_grad_x_##SUF(const ot_grid_spec *s, ot_dtype gt, const void *grid, const T *dy, T *dx) {   \
        const gs_geom g = gs_geometry(s);                                                                      \
        const int64_t C = s->C, O = g.O, I = g.I, nb = (C + OT_GS_CBLOCK - 1) / OT_GS_CBLOCK;                  \
        _Pragma("omp parallel for schedule(static) if (s->N * O * C > OT_GS_PAR_MIN)")                         \
        for (int64_t task = 0; task < s->N * nb; task++) {                                                     \
            const int64_t n = task / nb, c0 = task % nb * OT_GS_CBLOCK;                                        \
            const int64_t c1 = c0 + OT_GS_CBLOCK < C ? c0 + OT_GS_CBLOCK : C;                                  \
            T *dxn = dx + n * C * I;                                                                           \
            const T *dyn = dy + n * C * O;                                                                     \
            memset(dxn + c0 * I, 0, sizeof(T) * (size_t)((c1 - c0) * I));                                     \
            for (int64_t loc = 0; loc < O; loc++) {                                                            \
                gs_dim t[3];                                                                                   \
                gs_location(s, &g, gt, grid, n * O + loc, t);                                                  \
                OT_GS_TAPS_BEGIN(t)                                                                            \
                const T w = (T)(t[0].w[a] * t[1].w[b] * t[2].w[e]);                                           \
                for (int64_t c = c0; c < c1; c++) dxn[c * I + off] += w * dyn[c * O + loc];                    \
                OT_GS_TAPS_END                                                                                 \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    /* dgrid[p, k] = sum_taps (sum_c dy x) * d(weight product)/d(grid_k). */                                   \
    static void gs_grad_grid_##SUF(const ot_grid_spec *s, const T *x, ot_dtype gt, const void *grid,          \
                                   const T *dy, double *dgrid) {                                               \
        const gs_geom g = gs_geometry(s);                                                                      \
        const int64_t C = s->C, O = g.O, I = g.I;                                                              \
        _Pragma("omp parallel for schedule(static) if (s->N * O * C > OT_GS_PAR_MIN)")                         \
        for (int64_t p = 0; p < s->N * O; p++) {                                                               \
            gs_dim t[3];                                                                                       \
            double gd[3] = {0, 0, 0};                                                                          \
            gs_location(s, &g, gt, grid, p, t);                                                                \
            const int64_t n = p / O, loc = p % O;                                                              \
            const T *xn = x + n * C * I, *dyn = dy + n * C * O + loc;                                          \
            if (s->mode != OT_GRID_NEAREST) {                                                                  \
                OT_GS_TAPS_BEGIN(t)                                                                            \
                double acc = 0;                                                                                \
                for (int64_t c = 0; c < C; c++) acc += (double)dyn[c * O] * (double)xn[c * I + off];           \
                gd[0] += acc * t[0].dw[a] * t[1].w[b] * t[2].w[e];                                             \
                gd[1] += acc * t[0].w[a] * t[1].dw[b] * t[2].w[e];                                             \
                gd[2] += acc * t[0].w[a] * t[1].w[b] * t[2].dw[e];                                             \
                OT_GS_TAPS_END                                                                                 \
            }                                                                                                  \
            for (int k = 0; k < s->r; k++) dgrid[p * s->r + (s->r - 1 - k)] = gd[k + 3 - s->r];                \
        }                                                                                                      \
    }

OT_GS_DEF(f32, float)
OT_GS_DEF(f64, double)

/* ---- entry points: element types ----------------------------------------------------------- */

/* Float (f32, f16, bf16) or double (f64, integers) compute type of X. */
static bool gs_wide(ot_dtype xt) { return xt == OT_DOUBLE || !ot_dtype_is_float(xt); }
static bool gs_native(ot_dtype xt) { return xt == OT_FLOAT || xt == OT_DOUBLE; }

static int64_t gs_numel(const int64_t *d, int n, int64_t lead) {
    for (int i = 0; i < n; i++) lead *= d[i];
    return lead;
}

size_t ot_cpu_grid_sample_workspace(const ot_grid_spec *s, ot_dtype xt, ot_dtype gt) {
    size_t es = gs_wide(xt) ? 8 : 4;
    size_t bytes = 64 + 8 * (size_t)gs_numel(s->out, s->r, s->N * s->r); /* dgrid in double */
    (void)gt;
    if (!gs_native(xt))
        bytes += es * (size_t)(gs_numel(s->in, s->r, s->N * s->C) + gs_numel(s->out, s->r, s->N * s->C)) + 64;
    return bytes;
}

/* A compute-type copy of n elements of type xt, or NULL when out of memory. */
static void *gs_widen(ot_dtype xt, const void *src, int64_t n) {
    bool wide = gs_wide(xt);
    void *b = ot_workspace_alloc((size_t)n * (wide ? 8 : 4));
    if (!b) return NULL;
    for (int64_t i = 0; i < n; i++) {
        if (wide) ((double *)b)[i] = ot_load_f64(xt, src, i);
        else ((float *)b)[i] = (float)ot_load_f64(xt, src, i);
    }
    return b;
}

/* The compute-type results back into xt (integers truncate toward zero and
   saturate, as the reference's cast). */
static void gs_narrow(ot_dtype xt, const void *src, void *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v = gs_wide(xt) ? ((const double *)src)[i] : ((const float *)src)[i];
        if (ot_dtype_is_float(xt)) {
            ot_store_f64(xt, dst, i, v);
            continue;
        }
        v = isnan(v) ? 0 : trunc(v);
        if (xt == OT_UINT64) {
            ((uint64_t *)dst)[i] = v <= 0 ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
            continue;
        }
        const size_t es = ot_dtype_size(xt);
        const bool sg = ot_dtype_is_signed(xt);
        double hi = es == 8 ? 9223372036854775807.0 : ldexp(1.0, (int)es * 8 - sg) - 1, lo = sg ? -hi - 1 : 0;
        ot_store_i64(xt, dst, i, v <= lo ? (int64_t)lo : v >= hi ? (es == 8 ? INT64_MAX : (int64_t)hi) : (int64_t)v);
    }
}

ot_status ot_cpu_grid_sample(const ot_grid_spec *s, ot_dtype xt, const void *x, ot_dtype gt, const void *grid,
                             void *y) {
    const int64_t nx = gs_numel(s->in, s->r, s->N * s->C), ny = gs_numel(s->out, s->r, s->N * s->C);
    if (!ny) return OT_OK;
    void *xb = (void *)x, *yb = y;
    if (!gs_native(xt)) {
        xb = gs_widen(xt, x, nx);
        yb = ot_workspace_alloc((size_t)ny * (gs_wide(xt) ? 8 : 4));
        if (!xb || !yb) {
            ot_workspace_free(xb);
            return ot_error(OT_ERR_NOMEM, "GridSample: out of memory");
        }
    }
    if (gs_wide(xt)) gs_forward_f64(s, xb, gt, grid, yb);
    else gs_forward_f32(s, xb, gt, grid, yb);
    if (!gs_native(xt)) {
        gs_narrow(xt, yb, y, ny);
        ot_workspace_free(yb);
        ot_workspace_free(xb);
    }
    return OT_OK;
}

ot_status ot_cpu_grid_sample_grad_x(const ot_grid_spec *s, ot_dtype xt, ot_dtype gt, const void *grid,
                                    const void *dy, void *dx) {
    const int64_t nx = gs_numel(s->in, s->r, s->N * s->C), ny = gs_numel(s->out, s->r, s->N * s->C);
    if (!ot_dtype_is_float(xt)) return ot_error(OT_ERR_UNSUPPORTED, "GridSample gradient: X must be a float type");
    if (!nx) return OT_OK;
    void *dyb = (void *)dy, *dxb = dx;
    if (!gs_native(xt)) {
        dyb = gs_widen(xt, dy, ny);
        dxb = ot_workspace_alloc((size_t)nx * 4);
        if (!dyb || !dxb) {
            ot_workspace_free(dyb);
            return ot_error(OT_ERR_NOMEM, "GridSample gradient: out of memory");
        }
    }
    if (xt == OT_DOUBLE) gs_grad_x_f64(s, gt, grid, dyb, dxb);
    else gs_grad_x_f32(s, gt, grid, dyb, dxb);
    if (!gs_native(xt)) {
        gs_narrow(xt, dxb, dx, nx);
        ot_workspace_free(dxb);
        ot_workspace_free(dyb);
    }
    return OT_OK;
}

ot_status ot_cpu_grid_sample_grad_grid(const ot_grid_spec *s, ot_dtype xt, const void *x, ot_dtype gt,
                                       const void *grid, const void *dy, void *dgrid) {
    const int64_t nx = gs_numel(s->in, s->r, s->N * s->C), ny = gs_numel(s->out, s->r, s->N * s->C);
    const int64_t ng = gs_numel(s->out, s->r, s->N * s->r);
    if (!ot_dtype_is_float(xt)) return ot_error(OT_ERR_UNSUPPORTED, "GridSample gradient: X must be a float type");
    if (!ng) return OT_OK;
    void *xb = (void *)x, *dyb = (void *)dy;
    double *gb = ot_workspace_alloc(sizeof(double) * (size_t)ng);
    if (!gs_native(xt)) {
        xb = gs_widen(xt, x, nx);
        dyb = gs_widen(xt, dy, ny);
    }
    ot_status st = OT_OK;
    if (!gb || !xb || !dyb) {
        st = ot_error(OT_ERR_NOMEM, "GridSample gradient: out of memory");
    } else {
        if (xt == OT_DOUBLE) gs_grad_grid_f64(s, xb, gt, grid, dyb, gb);
        else gs_grad_grid_f32(s, xb, gt, grid, dyb, gb);
        for (int64_t i = 0; i < ng; i++) ot_store_f64(gt, dgrid, i, gb[i]);
    }
    if (!gs_native(xt)) {
        ot_workspace_free(dyb);
        ot_workspace_free(xb);
    }
    ot_workspace_free(gb);
    return st;
}

/* ---- AffineGrid ------------------------------------------------------------------------------- */

/* Base coordinate i of n along an axis (the reference's arange; PyTorch's 0 for n = 1). */
static double ag_base(int64_t i, int64_t n, bool align_corners) {
    if (align_corners) return n > 1 ? -1 + (double)i * (2.0 / (double)(n - 1)) : 0;
    double step = 2.0 / (double)n;
    return -1 + step / 2 + (double)i * step;
}

/* Location p's homogeneous base vector (x, y[, z], 1). */
static void ag_vector(int r, const int64_t *size, bool ac, int64_t p, double *v) {
    for (int k = r - 1; k >= 0; k--) { /* size[k] is the (r - 1 - k)-th coordinate */
        v[r - 1 - k] = ag_base(p % size[k], size[k], ac);
        p /= size[k];
    }
    v[r] = 1;
}

void ot_cpu_affine_grid(ot_dtype dt, int r, int64_t N, const int64_t *size, bool align_corners, const void *theta,
                        void *grid) {
    const int64_t L = gs_numel(size, r, 1);
    _Pragma("omp parallel if (N * L > OT_GS_PAR_MIN)")
    {
        int64_t cur = -1;
        double th[12]; /* theta[n], reloaded when a thread's run of locations crosses a batch */
        _Pragma("omp for schedule(static)")
        for (int64_t q = 0; q < N * L; q++) {
            const int64_t n = q / L;
            double v[4];
            if (n != cur)
                for (int k = 0; k < r * (r + 1); k++) th[k] = ot_load_f64(dt, theta, n * r * (r + 1) + k);
            cur = n;
            ag_vector(r, size, align_corners, q % L, v);
            for (int i = 0; i < r; i++) {
                double acc = 0;
                for (int j = 0; j <= r; j++) acc += th[i * (r + 1) + j] * v[j];
                if (dt == OT_FLOAT) ((float *)grid)[q * r + i] = (float)acc;
                else ot_store_f64(dt, grid, q * r + i, acc);
            }
        }
    }
}

void ot_cpu_affine_grid_grad(ot_dtype dt, int r, int64_t N, const int64_t *size, bool align_corners,
                             const void *dgrid, void *dtheta) {
    const int64_t L = gs_numel(size, r, 1);
    _Pragma("omp parallel for schedule(static) if (N * L > OT_GS_PAR_MIN)")
    for (int64_t n = 0; n < N; n++) {
        double acc[12] = {0}, v[4];
        for (int64_t p = 0; p < L; p++) {
            ag_vector(r, size, align_corners, p, v);
            for (int i = 0; i < r; i++) {
                double gi = ot_load_f64(dt, dgrid, (n * L + p) * r + i);
                for (int j = 0; j <= r; j++) acc[i * (r + 1) + j] += gi * v[j];
            }
        }
        for (int k = 0; k < r * (r + 1); k++) ot_store_f64(dt, dtheta, n * r * (r + 1) + k, acc[k]);
    }
}
