/* CPU kernels for Resize / Upsample and their gradient (see resize.h).
 *
 * Each call resolves, once, a table per resized axis: for every output index
 * its K source taps (indices already clamped) and weights.  The forward then
 * runs one pass per resized axis over the tensor viewed as
 * (outer, in, inner) -> (outer, out, inner) — vectorisable over `inner`,
 * parallel over (outer, out) — except for
 *  - nearest, any element type: one gather over all axes (no arithmetic);
 *  - bilinear over the last two axes (the NCHW image case): one direct pass.
 * Passes run shrinking axes first, so later passes touch fewer elements.
 * The gradient runs the transposed passes in the reverse order; each pass
 * gathers through a per-axis transposed table (for every input index the
 * outputs that read it), so no two threads write the same element and the
 * sums do not depend on the thread count. */
#include "resize.h"

#include <math.h>
#include <string.h>

#include "../../src/core/dtype.h"
#include "../../src/core/half.h"
#include "../../src/core/status.h"
#include "../../src/runtime/workspace.h"

#define OT_RS_PAR_MIN 32768 /* multiply-adds below which one thread is faster */
#define OT_RS_MAX_TAPS ((int64_t)1 << 20)

typedef struct rs_table {
    int axis, K;
    int64_t in, out;
    int64_t *idx;         /* (out, K) clamped source indices */
    double *w;            /* (out, K) weights */
    const void *wc;       /* the same in the compute type (float or double) */
    unsigned char *extra; /* (out): tf_crop_and_resize extrapolated, or NULL */
    int64_t *t_off;       /* gradient: (in + 1) CSR offsets into t_o / t_w */
    int64_t *t_o;         /* output index of each entry */
    double *t_w;          /* its weight */
    const void *t_wc;     /* in the compute type */
} rs_table;

typedef struct rs_plan {
    int n;                    /* resized axes, in forward processing order */
    rs_table tb[OT_MAX_RANK];
    bool any_extra, direct2d, convert;
    int last;                 /* nearest: the last resized axis */
    size_t ct;                /* compute element size: 4 (float) or 8 (double) */
    int64_t buf;              /* elements of each of the two intermediate buffers */
    int64_t xconv, yconv;     /* elements of the converted input / output */
    int64_t noff;             /* nearest: offset-table entries */
    size_t bytes;
} rs_plan;

bool ot_cpu_resize_dtype_ok(ot_resize_mode mode, ot_dtype dt) {
    if (dt == OT_BOOL) return mode == OT_RESIZE_NEAREST;
    return ot_dtype_is_float(dt) || ot_dtype_is_int(dt);
}

/* ---- per-axis geometry ---------------------------------------------------------- */

/* An axis the reference leaves alone: scale ~1, same length, full roi. */
static bool rs_identity(const ot_resize_spec *s, const ot_resize_axis *a) {
    if (a->in != a->out || fabs(a->scale - 1.0) > 1e-9) return false;
    return s->coord != OT_RESIZE_TF_CROP_AND_RESIZE || (a->roi_start == 0 && fabs(a->roi_end - 1.0) <= 1e-9);
}

/* Source coordinate of output index o. */
static double rs_coord(const ot_resize_spec *s, const ot_resize_axis *a, int64_t o) {
    const double x = (double)o, in = (double)a->in, sc = a->scale, width = sc * in;
    switch (s->coord) {
    case OT_RESIZE_HALF_PIXEL: return (x + 0.5) / sc - 0.5;
    case OT_RESIZE_HALF_PIXEL_SYMMETRIC: return in / 2 * (1 - (double)a->out / width) + (x + 0.5) / sc - 0.5;
    case OT_RESIZE_PYTORCH_HALF_PIXEL: return a->out > 1 ? (x + 0.5) / sc - 0.5 : 0;
    case OT_RESIZE_ALIGN_CORNERS: return o == 0 ? 0 : x * (in - 1) / (width - 1);
    case OT_RESIZE_ASYMMETRIC: return x / sc;
    case OT_RESIZE_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / sc;
    case OT_RESIZE_TF_CROP_AND_RESIZE:
        if (a->out <= 1) return 0.5 * (a->roi_start + a->roi_end) * (in - 1);
        return x * (a->roi_end - a->roi_start) * (in - 1) / (width - 1) + a->roi_start * (in - 1);
    }
    return x;
}

static int64_t rs_nearest_index(const ot_resize_spec *s, const ot_resize_axis *a, double x) {
    double f = floor(x), t = x - f;
    switch (s->nearest) {
    case OT_RESIZE_ROUND_PREFER_FLOOR: return (int64_t)f + (t > 0.5);
    case OT_RESIZE_ROUND_PREFER_CEIL: return (int64_t)f + (t >= 0.5);
    case OT_RESIZE_FLOOR: return (int64_t)f;
    case OT_RESIZE_CEIL: return (int64_t)ceil(x);
    case OT_RESIZE_SIMPLE: return a->scale < 1 ? (int64_t)ceil(x) : (int64_t)f;
    }
    return (int64_t)f;
}

/* Keys' cubic convolution kernel at |d| (the antialias form). */
static double rs_cubic(double d, double A) {
    d = fabs(d);
    if (d <= 1) return ((A + 2) * d - (A + 3)) * d * d + 1;
    if (d < 2) return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
    return 0;
}

/* Taps per output; 0 when the antialias footprint is absurdly wide. */
static int64_t rs_taps(const ot_resize_spec *s, double scale) {
    if (s->mode == OT_RESIZE_NEAREST) return 1;
    if (!s->antialias) return s->mode == OT_RESIZE_LINEAR ? 2 : 4;
    double reach = (s->mode == OT_RESIZE_LINEAR ? 1.0 : 2.0) / fmin(scale, 1.0);
    if (!(reach < (double)OT_RS_MAX_TAPS)) return 0;
    return 2 - 2 * ((int64_t)floor(-reach) + 1);
}

static void rs_fill_table(const ot_resize_spec *s, const ot_resize_axis *a, rs_table *t) {
    const int K = t->K;
    const double A = s->cubic_a, aa = fmin(a->scale, 1.0);
    for (int64_t o = 0; o < a->out; o++) {
        double x = rs_coord(s, a, o);
        if (!(fabs(x) < 1e15)) x = isnan(x) ? 0 : copysign(1e15, x); /* keeps the integer casts defined */
        int64_t *ix = t->idx + o * K;
        double *w = t->w + o * K;
        if (t->extra) t->extra[o] = x < 0 || x > (double)(a->in - 1);
        int64_t j0;
        if (s->mode == OT_RESIZE_NEAREST) {
            j0 = rs_nearest_index(s, a, x);
            w[0] = 1;
        } else {
            const double f = floor(x), r = x - f;
            if (s->antialias) { /* the kernel stretched by 1 / scale, weights normalised */
                const int64_t start = 1 - K / 2;
                double sum = 0;
                j0 = (int64_t)f + start;
                for (int k = 0; k < K; k++) {
                    double d = ((double)(start + k) - r) * aa;
                    w[k] = s->mode == OT_RESIZE_LINEAR ? fmax(0.0, 1 - fabs(d)) : rs_cubic(d, A);
                    sum += w[k];
                }
                for (int k = 0; k < K; k++) w[k] /= sum;
            } else if (s->mode == OT_RESIZE_LINEAR) {
                j0 = (int64_t)f;
                w[0] = 1 - r;
                w[1] = r;
            } else {
                const double q = 1 - r;
                j0 = (int64_t)f - 1;
                w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
                w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
                w[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
                w[3] = ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
            }
        }
        double sum = 0;
        const bool exclude = s->exclude_outside && s->mode != OT_RESIZE_NEAREST;
        for (int k = 0; k < K; k++) {
            int64_t j = j0 + k;
            if (exclude && (j < 0 || j >= a->in)) w[k] = 0;
            sum += w[k];
            ix[k] = j < 0 ? 0 : j >= a->in ? a->in - 1 : j;
        }
        if (exclude && sum != 0)
            for (int k = 0; k < K; k++) w[k] /= sum;
    }
}

/* The gradient's view of a table: for every input index, the (output,
   weight) pairs that read it, outputs ascending.  Extrapolated outputs and
   zero weights are left out. */
static void rs_transpose_table(rs_table *t) {
    const int K = t->K;
    memset(t->t_off, 0, sizeof(int64_t) * (size_t)(t->in + 1));
    for (int64_t o = 0; o < t->out; o++) {
        if (t->extra && t->extra[o]) continue;
        for (int k = 0; k < K; k++)
            if (t->w[o * K + k] != 0) t->t_off[t->idx[o * K + k] + 1]++;
    }
    for (int64_t i = 0; i < t->in; i++) t->t_off[i + 1] += t->t_off[i];
    for (int64_t o = 0; o < t->out; o++) { /* t_off[i] runs ahead as the cursor of i... */
        if (t->extra && t->extra[o]) continue;
        for (int k = 0; k < K; k++) {
            double w = t->w[o * K + k];
            if (w == 0) continue;
            int64_t e = t->t_off[t->idx[o * K + k]]++;
            t->t_o[e] = o;
            t->t_w[e] = w;
        }
    }
    for (int64_t i = t->in; i > 0; i--) t->t_off[i] = t->t_off[i - 1]; /* ...and is moved back */
    t->t_off[0] = 0;
}

/* ---- the plan: which axes, in which order, and the scratch layout ------------------ */

static size_t rs_align(size_t n) { return (n + 15) & ~(size_t)15; }

static ot_status rs_plan_init(const ot_resize_spec *s, ot_dtype dt, bool grad, rs_plan *p) {
    memset(p, 0, sizeof *p);
    int order[OT_MAX_RANK];
    for (int a = 0; a < s->rank; a++) {
        if (rs_identity(s, &s->ax[a])) continue;
        /* insertion by out / in ascending: shrinking axes first */
        double ra = s->ax[a].in ? (double)s->ax[a].out / (double)s->ax[a].in : 1;
        int k = p->n++;
        while (k > 0) {
            const ot_resize_axis *b = &s->ax[order[k - 1]];
            if ((b->in ? (double)b->out / (double)b->in : 1) <= ra) break;
            order[k] = order[k - 1];
            k--;
        }
        order[k] = a;
        p->last = a;
    }
    int64_t dims[OT_MAX_RANK], in_numel = 1, out_numel = 1;
    for (int a = 0; a < s->rank; a++) {
        dims[a] = s->ax[a].in;
        in_numel *= s->ax[a].in;
        out_numel *= s->ax[a].out;
    }
    size_t bytes = 0;
    for (int i = 0; i < p->n; i++) {
        rs_table *t = &p->tb[i];
        const ot_resize_axis *a = &s->ax[order[i]];
        int64_t K = rs_taps(s, a->scale);
        if (!K || K * a->out > ((int64_t)1 << 40))
            return ot_error(OT_ERR_UNSUPPORTED, "resize: axis %d: scale %g with antialias reads too many taps", order[i],
                            a->scale);
        t->axis = order[i];
        t->K = (int)K;
        t->in = a->in;
        t->out = a->out;
        bytes += 2 * rs_align(sizeof(int64_t) * (size_t)(K * a->out));
        if (s->coord == OT_RESIZE_TF_CROP_AND_RESIZE) bytes += rs_align((size_t)a->out), p->any_extra = true;
        if (grad) bytes += rs_align(sizeof(int64_t) * (size_t)(a->in + 1)) + 2 * rs_align(sizeof(int64_t) * (size_t)(K * a->out));
        if (!grad && i < p->n - 1) { /* an intermediate result */
            int64_t e = 1;
            dims[order[i]] = a->out;
            for (int d = 0; d < s->rank; d++) e *= dims[d];
            if (e > p->buf) p->buf = e;
        }
    }
    if (grad) { /* the gradient walks the intermediates from the output side */
        for (int a = 0; a < s->rank; a++) dims[a] = s->ax[a].out;
        for (int i = p->n - 1; i > 0; i--) {
            int64_t e = 1;
            dims[p->tb[i].axis] = p->tb[i].in;
            for (int d = 0; d < s->rank; d++) e *= dims[d];
            if (e > p->buf) p->buf = e;
        }
    }
    if (!grad && s->mode == OT_RESIZE_NEAREST) { /* a gather: offset tables, no buffers */
        p->buf = 0;
        for (int a = 0; a <= p->last && p->n; a++) p->noff += s->ax[a].out;
        bytes += rs_align(sizeof(int64_t) * (size_t)p->noff);
    } else {
        p->ct = dt == OT_DOUBLE || !ot_dtype_is_float(dt) ? 8 : 4;
        p->convert = dt != OT_FLOAT && dt != OT_DOUBLE;
        p->direct2d = !grad && s->mode == OT_RESIZE_LINEAR && !s->antialias && p->n == 2 && s->rank >= 2 &&
                      p->tb[0].axis + p->tb[1].axis == 2 * s->rank - 3;
        if (p->direct2d) p->buf = 0;
        if (p->convert) {
            p->xconv = grad ? out_numel : in_numel;
            p->yconv = grad ? in_numel : out_numel;
        }
        bytes += 2 * rs_align(p->ct * (size_t)p->buf) + rs_align(p->ct * (size_t)p->xconv) +
                 rs_align(p->ct * (size_t)p->yconv);
        for (int i = 0; i < p->n && p->ct == 4; i++) /* float copies of the weights */
            bytes += (grad ? 2 : 1) * rs_align(sizeof(float) * (size_t)(p->tb[i].K * p->tb[i].out));
    }
    p->bytes = bytes;
    return OT_OK;
}

size_t ot_cpu_resize_workspace(const ot_resize_spec *s, ot_dtype dt, bool grad) {
    rs_plan p;
    return rs_plan_init(s, dt, grad, &p) ? 0 : p.bytes + 16;
}

/* Carves the tables out of one scratch block and fills them. */
static void *rs_plan_tables(const ot_resize_spec *s, rs_plan *p, bool grad, char **cursor) {
    char *c = ot_workspace_alloc(p->bytes);
    if (!c) return NULL;
    void *block = c;
    for (int i = 0; i < p->n; i++) {
        rs_table *t = &p->tb[i];
        size_t n = (size_t)(t->K * t->out);
        t->idx = (int64_t *)c, c += rs_align(sizeof(int64_t) * n);
        t->w = (double *)c, c += rs_align(sizeof(double) * n);
        if (s->coord == OT_RESIZE_TF_CROP_AND_RESIZE) t->extra = (unsigned char *)c, c += rs_align((size_t)t->out);
        if (grad) {
            t->t_off = (int64_t *)c, c += rs_align(sizeof(int64_t) * (size_t)(t->in + 1));
            t->t_o = (int64_t *)c, c += rs_align(sizeof(int64_t) * n);
            t->t_w = (double *)c, c += rs_align(sizeof(double) * n);
        }
    }
    float *wf[OT_MAX_RANK], *twf[OT_MAX_RANK];
    for (int i = 0; i < p->n && p->ct == 4; i++) {
        wf[i] = (float *)c, c += rs_align(sizeof(float) * (size_t)(p->tb[i].K * p->tb[i].out));
        if (grad) twf[i] = (float *)c, c += rs_align(sizeof(float) * (size_t)(p->tb[i].K * p->tb[i].out));
    }
    /* tables are small next to the data: fill them in parallel only when long */
    _Pragma("omp parallel for schedule(static) if (p->n > 1 && p->bytes > ((size_t)1 << 20))")
    for (int i = 0; i < p->n; i++) {
        rs_table *t = &p->tb[i];
        rs_fill_table(s, &s->ax[t->axis], t);
        if (grad) rs_transpose_table(t);
        t->wc = t->w, t->t_wc = t->t_w;
        if (p->ct != 4) continue;
        for (int64_t k = 0; k < t->K * t->out; k++) wf[i][k] = (float)t->w[k];
        for (int64_t e = 0; grad && e < t->t_off[t->in]; e++) twf[i][e] = (float)t->t_w[e];
        t->wc = wf[i], t->t_wc = grad ? twf[i] : NULL;
    }
    *cursor = c;
    return block;
}

/* ---- element conversion ------------------------------------------------------------ */

/* v into element i of an integer / bool / float buffer: integers round half
   to even and saturate (the reference's saturate_cast). */
static void rs_store(ot_dtype dt, void *data, int64_t i, double v) {
    if (ot_dtype_is_float(dt) || dt == OT_BOOL) {
        ot_store_f64(dt, data, i, dt == OT_BOOL ? v != 0 : v);
        return;
    }
    v = isnan(v) ? 0 : nearbyint(v);
    if (dt == OT_UINT64) {
        ((uint64_t *)data)[i] = v <= 0 ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
        return;
    }
    double lo = -9223372036854775808.0, hi = 9223372036854775807.0;
    switch (dt) {
    case OT_UINT8: lo = 0, hi = 255; break;
    case OT_INT8: lo = -128, hi = 127; break;
    case OT_UINT16: lo = 0, hi = 65535; break;
    case OT_INT16: lo = -32768, hi = 32767; break;
    case OT_UINT32: lo = 0, hi = 4294967295.0; break;
    case OT_INT32: lo = -2147483648.0, hi = 2147483647.0; break;
    default: break;
    }
    int64_t q = v <= lo ? (int64_t)lo : v >= hi ? (dt == OT_INT64 ? INT64_MAX : (int64_t)hi) : (int64_t)v;
    ot_store_i64(dt, data, i, q);
}

/* x (dt) -> float (f16, bf16) or double (integers) compute buffer, and back. */
static void rs_convert_in(ot_dtype dt, const void *x, void *out, int64_t n) {
    _Pragma("omp parallel for schedule(static) if (n > OT_RS_PAR_MIN)")
    for (int64_t i = 0; i < n; i++) {
        if (dt == OT_FLOAT16) ((float *)out)[i] = ot_f16_to_f32(((const uint16_t *)x)[i]);
        else if (dt == OT_BFLOAT16) ((float *)out)[i] = ot_bf16_to_f32(((const uint16_t *)x)[i]);
        else ((double *)out)[i] = ot_load_f64(dt, x, i);
    }
}

static void rs_convert_out(ot_dtype dt, const void *src, void *y, int64_t n) {
    _Pragma("omp parallel for schedule(static) if (n > OT_RS_PAR_MIN)")
    for (int64_t i = 0; i < n; i++) {
        if (dt == OT_FLOAT16) ((uint16_t *)y)[i] = ot_f32_to_f16(((const float *)src)[i]);
        else if (dt == OT_BFLOAT16) ((uint16_t *)y)[i] = ot_f32_to_bf16(((const float *)src)[i]);
        else rs_store(dt, y, i, ((const double *)src)[i]);
    }
}

/* ---- nearest: one gather over all axes, any element type ------------------------------ */

static void rs_nearest_gather(const ot_resize_spec *s, const rs_plan *p, int64_t *offs, size_t es, const char *x,
                              char *y) {
    const int L = p->last;
    int64_t stride[OT_MAX_RANK], *off[OT_MAX_RANK], inner = 1, rows = 1;
    stride[s->rank - 1] = 1;
    for (int a = s->rank - 2; a >= 0; a--) stride[a] = stride[a + 1] * s->ax[a + 1].in;
    for (int a = L + 1; a < s->rank; a++) inner *= s->ax[a].in;
    for (int a = 0; a < L; a++) rows *= s->ax[a].out;
    for (int a = 0; a <= L; a++) { /* element offset into x of each output index */
        off[a] = offs, offs += s->ax[a].out;
        for (int64_t o = 0; o < s->ax[a].out; o++) off[a][o] = o * stride[a];
    }
    for (int i = 0; i < p->n; i++)
        for (int64_t o = 0; o < p->tb[i].out; o++) off[p->tb[i].axis][o] = p->tb[i].idx[o] * stride[p->tb[i].axis];
    const int64_t outL = s->ax[L].out, *offL = off[L], row_bytes = outL * inner * (int64_t)es;
    /* Upsampling repeats source rows: a row reading the same source as the
       thread's previous one is a copy of it. */
    _Pragma("omp parallel if (rows * row_bytes > 4 * OT_RS_PAR_MIN)")
    {
        int64_t last = -1;
        const char *last_row = NULL;
        _Pragma("omp for schedule(static)")
        for (int64_t r = 0; r < rows; r++) {
            int64_t rem = r, base = 0;
            for (int a = L - 1; a >= 0; a--) {
                base += off[a][rem % s->ax[a].out];
                rem /= s->ax[a].out;
            }
            char *yr = y + r * row_bytes;
            if (base == last) {
                memcpy(yr, last_row, (size_t)row_bytes);
                continue;
            }
            last = base, last_row = yr;
            if (inner > 1) {
                for (int64_t j = 0; j < outL; j++)
                    memcpy(yr + j * inner * (int64_t)es, x + (base + offL[j]) * (int64_t)es, (size_t)inner * es);
                continue;
            }
            switch (es) {
#define OT_RS_GATHER(T) for (int64_t j = 0; j < outL; j++) ((T *)yr)[j] = ((const T *)x)[base + offL[j]]; break;
            case 1: OT_RS_GATHER(uint8_t)
            case 2: OT_RS_GATHER(uint16_t)
            case 4: OT_RS_GATHER(uint32_t)
            default: OT_RS_GATHER(uint64_t)
#undef OT_RS_GATHER
            }
        }
    }
}

/* tf_crop_and_resize: outputs extrapolated on some axis become the value. */
static void rs_fill_extrapolated(const ot_resize_spec *s, const rs_plan *p, ot_dtype dt, void *y) {
    const size_t es = ot_dtype_size(dt);
    unsigned char v[8];
    rs_store(dt, v, 0, s->extrapolation);
    for (int i = 0; i < p->n; i++) {
        const rs_table *t = &p->tb[i];
        int64_t outer = 1, inner = 1, n = t->out;
        for (int a = 0; a < t->axis; a++) outer *= s->ax[a].out;
        for (int a = t->axis + 1; a < s->rank; a++) inner *= s->ax[a].out;
        for (int64_t q = 0; q < outer; q++)
            for (int64_t o = 0; o < n; o++) {
                if (!t->extra[o]) continue;
                unsigned char *row = (unsigned char *)y + ((q * n + o) * inner) * (int64_t)es;
                for (int64_t k = 0; k < inner; k++) memcpy(row + k * (int64_t)es, v, es);
            }
    }
}

/* ---- float passes ---------------------------------------------------------------------- */

#define OT_RS_CHUNK 1024 /* last-axis outputs (or inputs) a task computes */

/* The last axis (inner == 1): outputs [o0, o1) of one row, gathers
   unrolled for the usual 2 (linear) and 4 (cubic) taps. */
#define OT_RS_DEF_ROW(SUF, T)                                                                                  \
    static void rs_row_##SUF(const rs_table *t, const T *s, T *d, int64_t o0, int64_t o1) {                  \
        const int64_t *ix = t->idx;                                                                            \
        const T *w = t->wc;                                                                                    \
        const int K = t->K;                                                                                    \
        if (K == 2) {                                                                                          \
            for (int64_t o = o0; o < o1; o++) d[o] = w[2 * o] * s[ix[2 * o]] + w[2 * o + 1] * s[ix[2 * o + 1]]; \
        } else if (K == 4) {                                                                                   \
            for (int64_t o = o0; o < o1; o++) {                                                                \
                const int64_t *i4 = ix + 4 * o;                                                                \
                const T *w4 = w + 4 * o;                                                                       \
                d[o] = (w4[0] * s[i4[0]] + w4[1] * s[i4[1]]) + (w4[2] * s[i4[2]] + w4[3] * s[i4[3]]);          \
            }                                                                                                  \
        } else {                                                                                               \
            for (int64_t o = o0; o < o1; o++) {                                                                \
                T acc = 0;                                                                                     \
                for (int k = 0; k < K; k++) acc += w[o * K + k] * s[ix[o * K + k]];                            \
                d[o] = acc;                                                                                    \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    /* The transpose's last axis: inputs [i0, i1) of one row. */                                               \
    static void rs_trow_##SUF(const rs_table *t, const T *s, T *d, int64_t i0, int64_t i1) {                 \
        const int64_t *off = t->t_off, *to = t->t_o;                                                           \
        const T *w = t->t_wc;                                                                                  \
        for (int64_t i = i0; i < i1; i++) {                                                                    \
            T acc = 0;                                                                                         \
            for (int64_t e = off[i]; e < off[i + 1]; e++) acc += w[e] * s[to[e]];                              \
            d[i] = acc;                                                                                        \
        }                                                                                                      \
    }

/* src (outer, in, inner) -> dst (outer, out, inner) along one table; the
   transpose (tr) maps dst-shaped (outer, out, inner) back to (outer, in, inner). */
#define OT_RS_DEF_PASS(SUF, T)                                                                                 \
    OT_RS_DEF_ROW(SUF, T)                                                                                      \
    static void rs_pass_##SUF(const rs_table *t, bool tr, int64_t outer, int64_t inner, const T *src, T *dst) { \
        const int64_t n_src = tr ? t->out : t->in, n_dst = tr ? t->in : t->out;                               \
        const int64_t work = outer * n_dst * inner * t->K;                                                     \
        if (inner == 1) {                                                                                      \
            const int64_t nch = (n_dst + OT_RS_CHUNK - 1) / OT_RS_CHUNK;                                       \
            _Pragma("omp parallel for schedule(static) if (work > OT_RS_PAR_MIN)")                             \
            for (int64_t task = 0; task < outer * nch; task++) {                                               \
                const int64_t q = task / nch, a = task % nch * OT_RS_CHUNK;                                    \
                const int64_t b = a + OT_RS_CHUNK < n_dst ? a + OT_RS_CHUNK : n_dst;                           \
                if (tr) rs_trow_##SUF(t, src + q * n_src, dst + q * n_dst, a, b);                              \
                else rs_row_##SUF(t, src + q * n_src, dst + q * n_dst, a, b);                                  \
            }                                                                                                  \
            return;                                                                                            \
        }                                                                                                      \
        _Pragma("omp parallel for collapse(2) schedule(static) if (work > OT_RS_PAR_MIN)")                     \
        for (int64_t q = 0; q < outer; q++)                                                                    \
            for (int64_t o = 0; o < n_dst; o++) {                                                              \
                const T *sp = src + q * n_src * inner;                                                         \
                T *d = dst + (q * n_dst + o) * inner;                                                          \
                int64_t e0 = o * t->K, e1 = e0 + t->K;                                                         \
                const int64_t *rows = t->idx;                                                                  \
                const T *w = t->wc;                                                                            \
                if (tr) e0 = t->t_off[o], e1 = t->t_off[o + 1], rows = t->t_o, w = t->t_wc;                    \
                if (e0 == e1) {                                                                                \
                    memset(d, 0, sizeof(T) * (size_t)inner);                                                   \
                    continue;                                                                                  \
                }                                                                                              \
                const T w0 = w[e0], *s0 = sp + rows[e0] * inner;                                               \
                for (int64_t i = 0; i < inner; i++) d[i] = w0 * s0[i];                                         \
                for (int64_t e = e0 + 1; e < e1; e++) {                                                        \
                    const T we = w[e], *se = sp + rows[e] * inner;                                             \
                    for (int64_t i = 0; i < inner; i++) d[i] += we * se[i];                                    \
                }                                                                                              \
            }                                                                                                  \
    }

/* Bilinear over the last two axes, (planes, H, W) -> (planes, Ho, Wo), in one pass. */
#define OT_RS_DEF_BILINEAR(SUF, T)                                                                             \
    static void rs_bilinear_##SUF(const rs_table *th, const rs_table *tw, int64_t planes, const T *x, T *y) { \
        const int64_t Hi = th->in, Wi = tw->in, Ho = th->out, Wo = tw->out;                                   \
        const int64_t *iw = tw->idx;                                                                           \
        const T *wh = th->wc, *ww = tw->wc;                                                                    \
        _Pragma("omp parallel for collapse(2) schedule(static) if (planes * Ho * Wo * 4 > OT_RS_PAR_MIN)")    \
        for (int64_t pl = 0; pl < planes; pl++)                                                                \
            for (int64_t oh = 0; oh < Ho; oh++) {                                                              \
                const T *r0 = x + (pl * Hi + th->idx[2 * oh]) * Wi, *r1 = x + (pl * Hi + th->idx[2 * oh + 1]) * Wi; \
                const T a0 = wh[2 * oh], a1 = wh[2 * oh + 1];                                                  \
                T *yr = y + (pl * Ho + oh) * Wo;                                                               \
                for (int64_t ow = 0; ow < Wo; ow++) {                                                          \
                    const int64_t i0 = iw[2 * ow], i1 = iw[2 * ow + 1];                                        \
                    const T b0 = ww[2 * ow], b1 = ww[2 * ow + 1];                                              \
                    yr[ow] = a0 * (b0 * r0[i0] + b1 * r0[i1]) + a1 * (b0 * r1[i0] + b1 * r1[i1]);              \
                }                                                                                              \
            }                                                                                                  \
    }

/* Runs the plan's passes from src (compute type) into dst; the gradient
   runs the transposes in the reverse order.  buf0 / buf1: intermediates. */
#define OT_RS_DEF_RUN(SUF, T)                                                                                  \
    OT_RS_DEF_PASS(SUF, T)                                                                                     \
    OT_RS_DEF_BILINEAR(SUF, T)                                                                                 \
    static void rs_run_##SUF(const ot_resize_spec *s, const rs_plan *p, bool grad, const T *src, T *dst,      \
                             T *buf0, T *buf1) {                                                               \
        int64_t dims[OT_MAX_RANK];                                                                             \
        for (int a = 0; a < s->rank; a++) dims[a] = grad ? s->ax[a].out : s->ax[a].in;                         \
        if (p->direct2d) {                                                                                     \
            int64_t planes = 1;                                                                                \
            for (int a = 0; a < s->rank - 2; a++) planes *= dims[a];                                           \
            const int hi = p->tb[0].axis == s->rank - 2 ? 0 : 1;                                               \
            rs_bilinear_##SUF(&p->tb[hi], &p->tb[1 - hi], planes, src, dst);                                   \
            return;                                                                                            \
        }                                                                                                      \
        const T *cur = src;                                                                                    \
        for (int step = 0; step < p->n; step++) {                                                              \
            const rs_table *t = &p->tb[grad ? p->n - 1 - step : step];                                         \
            int64_t outer = 1, inner = 1;                                                                      \
            for (int a = 0; a < t->axis; a++) outer *= dims[a];                                                \
            for (int a = t->axis + 1; a < s->rank; a++) inner *= dims[a];                                      \
            T *next = step == p->n - 1 ? dst : step % 2 ? buf1 : buf0;                                         \
            rs_pass_##SUF(t, grad, outer, inner, cur, next);                                                   \
            dims[t->axis] = grad ? t->in : t->out;                                                             \
            cur = next;                                                                                        \
        }                                                                                                      \
    }

OT_RS_DEF_RUN(f32, float)
OT_RS_DEF_RUN(f64, double)

/* ---- entry points ---------------------------------------------------------------------- */

static ot_status rs_execute(const ot_resize_spec *s, ot_dtype dt, bool grad, const void *src, void *dst) {
    int64_t in_numel = 1, out_numel = 1;
    for (int a = 0; a < s->rank; a++) in_numel *= s->ax[a].in, out_numel *= s->ax[a].out;
    const int64_t src_numel = grad ? out_numel : in_numel, dst_numel = grad ? in_numel : out_numel;
    const size_t es = ot_dtype_size(dt);
    if (dst_numel == 0) return OT_OK;
    if (src_numel == 0) return ot_error(OT_ERR_SHAPE, "resize: cannot interpolate from an empty tensor");
    rs_plan p;
    OT_TRY(rs_plan_init(s, dt, grad, &p));
    if (p.n == 0) {
        memcpy(dst, src, (size_t)dst_numel * es);
        return OT_OK;
    }
    char *c;
    void *block = rs_plan_tables(s, &p, grad, &c);
    if (!block) return ot_error(OT_ERR_NOMEM, "resize: out of memory for %zu bytes of tables", p.bytes);
    if (!grad && s->mode == OT_RESIZE_NEAREST) {
        rs_nearest_gather(s, &p, (int64_t *)c, es, src, dst);
    } else {
        void *b0 = c, *b1 = c + rs_align(p.ct * (size_t)p.buf);
        void *xc = (char *)b1 + rs_align(p.ct * (size_t)p.buf);
        void *yc = (char *)xc + rs_align(p.ct * (size_t)p.xconv);
        const void *from = src;
        void *to = p.convert ? yc : dst;
        if (p.convert) {
            rs_convert_in(dt, src, xc, src_numel);
            from = xc;
        }
        if (p.ct == 4) rs_run_f32(s, &p, grad, from, to, b0, b1);
        else rs_run_f64(s, &p, grad, from, to, b0, b1);
        if (p.convert) rs_convert_out(dt, yc, dst, dst_numel);
    }
    if (!grad && p.any_extra) rs_fill_extrapolated(s, &p, dt, dst);
    ot_workspace_free(block);
    return OT_OK;
}

ot_status ot_cpu_resize(const ot_resize_spec *s, ot_dtype dt, const void *x, void *y) {
    return rs_execute(s, dt, false, x, y);
}

ot_status ot_cpu_resize_grad(const ot_resize_spec *s, ot_dtype dt, const void *dy, void *dx) {
    if (!ot_dtype_is_float(dt)) return ot_error(OT_ERR_UNSUPPORTED, "resize gradient: %s is not a float type", ot_dtype_name(dt));
    return rs_execute(s, dt, true, dy, dx);
}
