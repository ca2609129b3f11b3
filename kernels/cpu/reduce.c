/* Reductions over any set of axes, ArgMax / ArgMin and CumSum (see reduce.h).
 *
 * A reduction is planned by collapsing the input's axes (size-1 axes
 * dropped, adjacent axes of the same kind merged) into kept groups kd/ks and
 * reduced groups rd/rs (sizes and input strides, outermost first).  Then:
 *   form A, innermost group reduced: each output walks contiguous runs of
 *          length rd[nr-1] (vectorised along the run);
 *   form B, innermost group kept: blocks of up to KB adjacent outputs walk
 *          the reduced rows together (vectorised across the block).
 * When there are few outputs, each output's reduced range is also cut into
 * chunks whose partial states are combined afterwards, serially and in a
 * fixed order: the partition depends only on the shape, never on the
 * thread count. */
#include "fp_select.h" /* first: it sets optimisation pragmas */

#include "reduce.h"

#include <math.h>

#include "../../src/core/dtype.h"
#include "../../src/core/half.h"
#include "softmax.h" /* ot_fast_expf */

#define PAR_MIN 32768   /* below this many input elements, stay single-threaded */
#define KB 128          /* adjacent outputs per block in form B */
#define TW 128          /* positions per tile for ArgMax / CumSum */
#define CHUNK_MIN 8192  /* fewest input elements per partial-state chunk */
#define PART_CAP 2048   /* partial states kept on the stack */
#define TARGET_UNITS 64 /* work units to aim for when there are few outputs */

typedef enum { K_ADD, K_ABS, K_SQ, K_MUL, K_MAX, K_MIN, K_LSE } red_kind;

static red_kind kind_of(ot_reduce_op op) {
    switch (op) {
    case OT_REDUCE_L1: return K_ABS;
    case OT_REDUCE_L2: case OT_REDUCE_SUM_SQUARE: return K_SQ;
    case OT_REDUCE_PROD: return K_MUL;
    case OT_REDUCE_MAX: return K_MAX;
    case OT_REDUCE_MIN: return K_MIN;
    case OT_REDUCE_LOG_SUM_EXP: return K_LSE;
    default: return K_ADD; /* sum, mean, log-sum */
    }
}

/* Reduction state.  K_LSE: a = max so far, b = sum of exp(x - shift(a)). */
typedef struct red_acc {
    double a, b;
} red_acc;

static inline double nan_max(double a, double v) { return (v > a || v != v) ? v : a; }
static inline double nan_min(double a, double v) { return (v < a || v != v) ? v : a; }
/* exp offsets use the max only when finite: all -inf gives sum 0, and an
   inf or NaN max decides the result on its own (see acc_final). */
static inline double lse_shift(double m) { return isfinite(m) ? m : 0.0; }

static inline red_acc acc_init(red_kind k) {
    red_acc s = {0, 0};
    if (k == K_MUL) s.a = 1;
    else if (k == K_MAX || k == K_LSE) s.a = -INFINITY;
    else if (k == K_MIN) s.a = INFINITY;
    return s;
}

static red_acc acc_combine(red_kind k, red_acc x, red_acc y) {
    switch (k) {
    case K_MUL: x.a *= y.a; break;
    case K_MAX: x.a = nan_max(x.a, y.a); break;
    case K_MIN: x.a = nan_min(x.a, y.a); break;
    case K_LSE: {
        double m = nan_max(x.a, y.a), sm = lse_shift(m), b = 0;
        if (x.b != 0) b += x.b * exp(lse_shift(x.a) - sm);
        if (y.b != 0) b += y.b * exp(lse_shift(y.a) - sm);
        x.a = m;
        x.b = b;
        break;
    }
    default: x.a += y.a; break;
    }
    return x;
}

static inline void acc_add(red_kind k, red_acc *s, double v) {
    switch (k) {
    case K_ABS: s->a += fabs(v); break;
    case K_SQ: s->a += v * v; break;
    case K_MUL: s->a *= v; break;
    case K_MAX: s->a = nan_max(s->a, v); break;
    case K_MIN: s->a = nan_min(s->a, v); break;
    case K_LSE: *s = acc_combine(K_LSE, *s, (red_acc){v, exp(v - lse_shift(v))}); break;
    default: s->a += v; break;
    }
}

static double acc_final(ot_reduce_op op, red_acc s, int64_t R) {
    switch (op) {
    case OT_REDUCE_MEAN: return s.a / (double)R;
    case OT_REDUCE_L2: return sqrt(s.a);
    case OT_REDUCE_LOG_SUM: return log(s.a);
    case OT_REDUCE_LOG_SUM_EXP: return isfinite(s.a) ? s.a + log(s.b) : s.a;
    default: return s.a;
    }
}

/* ---- plan ------------------------------------------------------------------ */

typedef struct red_plan {
    int nk, nr;
    int64_t kd[OT_MAX_RANK], ks[OT_MAX_RANK]; /* kept groups: sizes, input strides */
    int64_t rd[OT_MAX_RANK], rs[OT_MAX_RANK]; /* reduced groups */
    int64_t O, R;                             /* output count, elements per output */
} red_plan;

static void make_plan(int rank, const int64_t *dims, const bool *mask, red_plan *p) {
    int64_t st[OT_MAX_RANK + 1];
    st[rank] = 1;
    for (int i = rank - 1; i >= 0; i--) st[i] = st[i + 1] * (dims[i] ? dims[i] : 1);
    p->nk = p->nr = 0;
    p->O = p->R = 1;
    int last = -1; /* kind of the previous group: 0 kept, 1 reduced */
    for (int i = 0; i < rank; i++) {
        int r = mask[i] ? 1 : 0;
        if (r) p->R *= dims[i];
        else p->O *= dims[i];
        if (dims[i] == 1) continue;
        int64_t *gd = r ? p->rd : p->kd, *gs = r ? p->rs : p->ks;
        int *n = r ? &p->nr : &p->nk;
        if (last == r) { /* contiguous neighbours of one kind form one group */
            gd[*n - 1] *= dims[i];
            gs[*n - 1] = st[i + 1];
        } else {
            gd[*n] = dims[i];
            gs[*n] = st[i + 1];
            (*n)++;
        }
        last = r;
    }
}

/* Decomposes idx over groups d/s (innermost last) into digits; returns the offset. */
static inline int64_t odo_start(const int64_t *d, const int64_t *s, int n, int64_t idx, int64_t *dig) {
    int64_t off = 0;
    for (int g = n - 1; g >= 0; g--) {
        dig[g] = idx % d[g];
        idx /= d[g];
        off += dig[g] * s[g];
    }
    return off;
}

static inline void odo_next(const int64_t *d, const int64_t *s, int n, int64_t *dig, int64_t *off) {
    for (int g = n - 1; g >= 0; g--) {
        *off += s[g];
        if (++dig[g] < d[g]) return;
        *off -= dig[g] * s[g];
        dig[g] = 0;
    }
}

/* ---- vectorised float32 / float64 paths ----------------------------------- */

#define EXP_F32(v) ot_fast_expf((float)(v))
#define EXP_F64(v) exp(v)

/* Form B: for each reduced row r in [r0, r1), run BODY on v = q[i], i < w. */
#define ROWS(BODY)                                                                                  \
    do {                                                                                            \
        int64_t dig[OT_MAX_RANK];                                                                   \
        int64_t off = odo_start(p->rd, p->rs, p->nr, r0, dig);                                      \
        for (int64_t r = r0; r < r1; r++) {                                                         \
            const T_ *q = x + off;                                                                  \
            _Pragma("omp simd") for (int64_t i = 0; i < w; i++) {                                   \
                double v = q[i];                                                                    \
                BODY;                                                                               \
            }                                                                                       \
            odo_next(p->rd, p->rs, p->nr, dig, &off);                                               \
        }                                                                                           \
    } while (0)

#define OT_DEF_RED(SFX, T, EXP)                                                                     \
    /* One contiguous run of a form-A reduction. */                                                 \
    OT_SIMD_CLONES static red_acc run_##SFX(const T *q, int64_t L, red_kind k) {                    \
        red_acc s = acc_init(k);                                                                    \
        double a = s.a;                                                                             \
        int nan = 0;                                                                                \
        switch (k) {                                                                                \
        case K_ADD:                                                                                 \
            _Pragma("omp simd reduction(+:a)") for (int64_t i = 0; i < L; i++) a += q[i];           \
            break;                                                                                  \
        case K_ABS:                                                                                 \
            _Pragma("omp simd reduction(+:a)") for (int64_t i = 0; i < L; i++) a += fabs((double)q[i]); \
            break;                                                                                  \
        case K_SQ:                                                                                  \
            _Pragma("omp simd reduction(+:a)") for (int64_t i = 0; i < L; i++) a += (double)q[i] * q[i]; \
            break;                                                                                  \
        case K_MUL:                                                                                 \
            _Pragma("omp simd reduction(*:a)") for (int64_t i = 0; i < L; i++) a *= q[i];           \
            break;                                                                                  \
        case K_MIN:                                                                                 \
            _Pragma("omp simd reduction(min:a) reduction(|:nan)") for (int64_t i = 0; i < L; i++) { \
                double v = q[i];                                                                    \
                a = v < a ? v : a;                                                                  \
                nan |= v != v;                                                                      \
            }                                                                                       \
            break;                                                                                  \
        default: /* K_MAX, and the first pass of K_LSE */                                           \
            _Pragma("omp simd reduction(max:a) reduction(|:nan)") for (int64_t i = 0; i < L; i++) { \
                double v = q[i];                                                                    \
                a = v > a ? v : a;                                                                  \
                nan |= v != v;                                                                      \
            }                                                                                       \
            break;                                                                                  \
        }                                                                                           \
        s.a = nan ? NAN : a;                                                                        \
        if (k == K_LSE && !nan) {                                                                   \
            double sh = lse_shift(a), b = 0;                                                        \
            _Pragma("omp simd reduction(+:b)") for (int64_t i = 0; i < L; i++) b += EXP(q[i] - sh); \
            s.b = b;                                                                                \
        }                                                                                           \
        return s;                                                                                   \
    }                                                                                               \
    /* Form A: elements [r0, r1) of the reduced range of the output at x. */                        \
    static red_acc acc_a_##SFX(const T *x, const red_plan *p, int64_t r0, int64_t r1, red_kind k) { \
        int64_t L = p->rd[p->nr - 1], j = r0 % L, dig[OT_MAX_RANK];                                 \
        int64_t off = odo_start(p->rd, p->rs, p->nr - 1, r0 / L, dig);                              \
        red_acc s = acc_init(k);                                                                    \
        while (r0 < r1) {                                                                           \
            int64_t len = L - j < r1 - r0 ? L - j : r1 - r0;                                        \
            s = acc_combine(k, s, run_##SFX(x + off + j, len, k));                                  \
            r0 += len;                                                                              \
            j = 0;                                                                                  \
            odo_next(p->rd, p->rs, p->nr - 1, dig, &off);                                           \
        }                                                                                           \
        return s;                                                                                   \
    }                                                                                               \
    /* Form B: rows [r0, r1) for the w adjacent outputs at x, into out[0..w). */                    \
    OT_SIMD_CLONES static void acc_b_##SFX(const T *x, const red_plan *p, int64_t w, int64_t r0,    \
                                           int64_t r1, red_kind k, red_acc *out) {                  \
        typedef T T_;                                                                               \
        double a[KB], b[KB];                                                                        \
        red_acc s0 = acc_init(k);                                                                   \
        for (int64_t i = 0; i < w; i++) {                                                           \
            a[i] = s0.a;                                                                            \
            b[i] = 0;                                                                               \
        }                                                                                           \
        switch (k) {                                                                                \
        case K_ADD: ROWS(a[i] += v); break;                                                         \
        case K_ABS: ROWS(a[i] += fabs(v)); break;                                                   \
        case K_SQ: ROWS(a[i] += v * v); break;                                                      \
        case K_MUL: ROWS(a[i] *= v); break;                                                         \
        case K_MIN: ROWS(a[i] = (v < a[i] || v != v) ? v : a[i]); break;                            \
        default: ROWS(a[i] = (v > a[i] || v != v) ? v : a[i]); break;                               \
        }                                                                                           \
        if (k == K_LSE) {                                                                           \
            double sh[KB];                                                                          \
            for (int64_t i = 0; i < w; i++) sh[i] = lse_shift(a[i]);                                \
            ROWS(b[i] += EXP(v - sh[i]));                                                           \
        }                                                                                           \
        for (int64_t i = 0; i < w; i++) out[i] = (red_acc){a[i], b[i]};                             \
    }                                                                                               \
    static void reduce_##SFX(ot_reduce_op op, const T *x, T *y, const red_plan *p) {                \
        red_kind k = kind_of(op);                                                                   \
        bool form_a = p->nr > 0 && p->rs[p->nr - 1] == 1;                                           \
        int64_t K = form_a ? 1 : (p->nk ? p->kd[p->nk - 1] : 1);                                    \
        int64_t width = K < KB ? K : KB, nkb = (K + KB - 1) / KB;                                   \
        int64_t tasks = p->O / K * nkb, nch = 1, R = p->R;                                          \
        if (tasks < TARGET_UNITS) {                                                                 \
            nch = (TARGET_UNITS + tasks - 1) / tasks;                                               \
            if (nch > R * width / CHUNK_MIN) nch = R * width / CHUNK_MIN;                           \
            if (nch > R) nch = R;                                                                   \
            if (nch * tasks * width > PART_CAP) nch = PART_CAP / (tasks * width);                   \
            if (nch < 1) nch = 1;                                                                   \
        }                                                                                           \
        red_acc part[PART_CAP];                                                                     \
        int64_t units = tasks * nch, work = p->O * R;                                               \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                            \
        for (int64_t u = 0; u < units; u++) {                                                       \
            int64_t t = u / nch, ch = u % nch;                                                      \
            int64_t r0 = ch * R / nch, r1 = (ch + 1) * R / nch, dig[OT_MAX_RANK];                   \
            if (form_a) {                                                                           \
                int64_t base = odo_start(p->kd, p->ks, p->nk, t, dig);                              \
                red_acc s = acc_a_##SFX(x + base, p, r0, r1, k);                                    \
                if (nch == 1) y[t] = (T)acc_final(op, s, R);                                        \
                else part[u] = s;                                                                   \
            } else {                                                                                \
                int64_t oo = t / nkb, k0 = (t % nkb) * KB, w = K - k0 < KB ? K - k0 : KB;           \
                int64_t base = odo_start(p->kd, p->ks, p->nk - 1, oo, dig) + k0;                    \
                red_acc s[KB];                                                                      \
                acc_b_##SFX(x + base, p, w, r0, r1, k, s);                                          \
                for (int64_t i = 0; i < w; i++) {                                                   \
                    if (nch == 1) y[oo * K + k0 + i] = (T)acc_final(op, s[i], R);                   \
                    else part[u * width + i] = s[i];                                                \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        if (nch == 1) return;                                                                       \
        for (int64_t t = 0; t < tasks; t++) {                                                       \
            int64_t k0 = (t % nkb) * KB, w = K - k0 < KB ? K - k0 : KB;                             \
            int64_t yo = form_a ? t : t / nkb * K + k0;                                             \
            for (int64_t i = 0; i < w; i++) {                                                       \
                red_acc s = part[t * nch * width + i];                                              \
                for (int64_t ch = 1; ch < nch; ch++)                                                \
                    s = acc_combine(k, s, part[(t * nch + ch) * width + i]);                        \
                y[yo + i] = (T)acc_final(op, s, R);                                                 \
            }                                                                                       \
        }                                                                                           \
    }

OT_DEF_RED(f32, float, EXP_F32)
OT_DEF_RED(f64, double, EXP_F64)

/* ---- scalar path: float16, bfloat16, integers, bool ------------------------ */

/* The type's extreme values as int64 bit patterns (uint64 max is all ones). */
static void int_range(ot_dtype dt, int64_t *lo, int64_t *hi) {
    switch (dt) {
    case OT_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case OT_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case OT_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case OT_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case OT_INT32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case OT_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    case OT_UINT64: *lo = 0; *hi = -1; break;
    case OT_BOOL: *lo = 0; *hi = 1; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

/* Stores a real-valued result into an integer element, saturating (numpy's
   -inf -> minimum for log(0)) instead of the undefined C conversion. */
static void store_real(ot_dtype dt, void *y, int64_t i, double v) {
    if (ot_dtype_is_float(dt)) {
        ot_store_f64(dt, y, i, v);
        return;
    }
    int64_t lo, hi;
    int_range(dt, &lo, &hi);
    int64_t r;
    if (v != v) r = 0;
    else if (v <= -9.2e18) r = lo;
    else if (v >= 9.2e18) r = hi;
    else r = (int64_t)v;
    ot_store_i64(dt, y, i, r);
}

static void fill_identity(ot_reduce_op op, ot_dtype dt, void *y, int64_t O) {
    red_kind k = kind_of(op);
    int64_t lo, hi, v = 0;
    int_range(dt, &lo, &hi);
    if (k == K_MAX || op == OT_REDUCE_LOG_SUM || k == K_LSE) v = lo;
    else if (k == K_MIN) v = hi;
    else if (k == K_MUL) v = 1;
    double f = acc_final(op, acc_init(k), 0);
    for (int64_t o = 0; o < O; o++) {
        if (ot_dtype_is_float(dt)) ot_store_f64(dt, y, o, f);
        else ot_store_i64(dt, y, o, v);
    }
}

/* Integer reductions are exact: sums and products wrap as two's complement
   (as numpy's), mean divides the exact sum with truncation. */
static int64_t reduce_int_one(ot_reduce_op op, ot_dtype dt, const void *x, int64_t base, const red_plan *p) {
    red_kind k = kind_of(op);
    bool uns = dt == OT_UINT64;
    uint64_t a = k == K_MUL ? 1 : 0;
    if (k == K_MAX) a = uns ? 0 : (uint64_t)INT64_MIN;
    if (k == K_MIN) a = uns ? UINT64_MAX : (uint64_t)INT64_MAX;
    int64_t dig[OT_MAX_RANK], off = base;
    for (int g = 0; g < p->nr; g++) dig[g] = 0;
    for (int64_t r = 0; r < p->R; r++) {
        int64_t v = ot_load_i64(dt, x, off);
        uint64_t u = (uint64_t)v;
        switch (k) {
        case K_ABS: a += (uns || v >= 0) ? u : 0 - u; break;
        case K_SQ: a += u * u; break;
        case K_MUL: a *= u; break;
        case K_MAX: if (uns ? u > a : v > (int64_t)a) a = u; break;
        case K_MIN: if (uns ? u < a : v < (int64_t)a) a = u; break;
        default: a += u; break;
        }
        odo_next(p->rd, p->rs, p->nr, dig, &off);
    }
    if (op == OT_REDUCE_MEAN) a = uns ? a / (uint64_t)p->R : (uint64_t)((int64_t)a / p->R);
    return (int64_t)a;
}

static void reduce_scalar(ot_reduce_op op, ot_dtype dt, const void *x, void *y, const red_plan *p) {
    red_kind k = kind_of(op);
    /* Integer L2 / log-sum / log-sum-exp are real-valued, computed in double. */
    bool real = ot_dtype_is_float(dt) || op == OT_REDUCE_L2 || op == OT_REDUCE_LOG_SUM || k == K_LSE;
    int64_t work = p->O * p->R;
#pragma omp parallel for schedule(static) if (work > PAR_MIN)
    for (int64_t o = 0; o < p->O; o++) {
        int64_t dig[OT_MAX_RANK];
        int64_t base = odo_start(p->kd, p->ks, p->nk, o, dig);
        if (!real) {
            ot_store_i64(dt, y, o, reduce_int_one(op, dt, x, base, p));
            continue;
        }
        red_acc s = acc_init(k);
        int64_t off = base;
        for (int g = 0; g < p->nr; g++) dig[g] = 0;
        for (int64_t r = 0; r < p->R; r++) {
            acc_add(k, &s, ot_load_f64(dt, x, off));
            odo_next(p->rd, p->rs, p->nr, dig, &off);
        }
        store_real(dt, y, o, acc_final(op, s, p->R));
    }
}

void ot_cpu_reduce(ot_reduce_op op, ot_dtype dt, const void *x, void *y, int rank, const int64_t *dims,
                   const bool *mask) {
    red_plan p;
    make_plan(rank, dims, mask, &p);
    if (p.O == 0) return;
    if (p.R == 0) fill_identity(op, dt, y, p.O);
    else if (dt == OT_FLOAT) reduce_f32(op, x, y, &p);
    else if (dt == OT_DOUBLE) reduce_f64(op, x, y, &p);
    else reduce_scalar(op, dt, x, y, &p);
}

/* ---- ArgMax / ArgMin --------------------------------------------------------- */

#define LD_DIRECT(p, i) ((p)[i])
#define LD_F16(p, i) ot_f16_to_f32((p)[i])
#define LD_BF16(p, i) ot_bf16_to_f32((p)[i])
#define IS_NAN_F(v) ((v) != (v))
#define IS_NAN_I(v) ((void)(v), 0)

/* Tiles of w <= TW positions along inner; NaN beats any number, and a later
   NaN replaces an earlier one only with select_last. */
#define OT_DEF_ARG(SFX, T, CT, LD, ISNAN)                                                           \
    static void arg_##SFX(const T *x, int64_t *y, int64_t outer, int64_t n, int64_t inner, bool mx, \
                          bool last) {                                                              \
        int64_t nt = (inner + TW - 1) / TW, work = outer * n * inner;                               \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                            \
        for (int64_t t = 0; t < outer * nt; t++) {                                                  \
            int64_t o = t / nt, j0 = (t % nt) * TW, w = inner - j0 < TW ? inner - j0 : TW;          \
            const T *base = x + o * n * inner + j0;                                                 \
            CT bv[TW];                                                                              \
            int64_t bi[TW];                                                                         \
            for (int64_t j = 0; j < w; j++) {                                                       \
                bv[j] = LD(base, j);                                                                \
                bi[j] = 0;                                                                          \
            }                                                                                       \
            for (int64_t c = 1; c < n; c++) {                                                       \
                const T *q = base + c * inner;                                                      \
                for (int64_t j = 0; j < w; j++) {                                                   \
                    CT v = LD(q, j), b = bv[j];                                                     \
                    bool take;                                                                      \
                    if (ISNAN(b)) take = last && ISNAN(v);                                          \
                    else if (ISNAN(v)) take = true;                                                 \
                    else if (mx) take = last ? v >= b : v > b;                                      \
                    else take = last ? v <= b : v < b;                                              \
                    if (take) {                                                                     \
                        bv[j] = v;                                                                  \
                        bi[j] = c;                                                                  \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
            for (int64_t j = 0; j < w; j++) y[o * inner + j0 + j] = bi[j];                          \
        }                                                                                           \
    }

OT_DEF_ARG(f32, float, float, LD_DIRECT, IS_NAN_F)
OT_DEF_ARG(f64, double, double, LD_DIRECT, IS_NAN_F)
OT_DEF_ARG(f16, uint16_t, float, LD_F16, IS_NAN_F)
OT_DEF_ARG(bf16, uint16_t, float, LD_BF16, IS_NAN_F)
OT_DEF_ARG(i8, int8_t, int8_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(u8, uint8_t, uint8_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(i16, int16_t, int16_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(u16, uint16_t, uint16_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(i32, int32_t, int32_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(u32, uint32_t, uint32_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(i64, int64_t, int64_t, LD_DIRECT, IS_NAN_I)
OT_DEF_ARG(u64, uint64_t, uint64_t, LD_DIRECT, IS_NAN_I)

void ot_cpu_argreduce(bool want_max, bool select_last, ot_dtype dt, const void *x, int64_t *y, int64_t outer,
                      int64_t n, int64_t inner) {
    if (outer <= 0 || inner <= 0 || n <= 0) return;
    switch (dt) {
    case OT_FLOAT: arg_f32(x, y, outer, n, inner, want_max, select_last); break;
    case OT_DOUBLE: arg_f64(x, y, outer, n, inner, want_max, select_last); break;
    case OT_FLOAT16: arg_f16(x, y, outer, n, inner, want_max, select_last); break;
    case OT_BFLOAT16: arg_bf16(x, y, outer, n, inner, want_max, select_last); break;
    case OT_INT8: arg_i8(x, y, outer, n, inner, want_max, select_last); break;
    case OT_UINT8: arg_u8(x, y, outer, n, inner, want_max, select_last); break;
    case OT_INT16: arg_i16(x, y, outer, n, inner, want_max, select_last); break;
    case OT_UINT16: arg_u16(x, y, outer, n, inner, want_max, select_last); break;
    case OT_INT32: arg_i32(x, y, outer, n, inner, want_max, select_last); break;
    case OT_UINT32: arg_u32(x, y, outer, n, inner, want_max, select_last); break;
    case OT_INT64: arg_i64(x, y, outer, n, inner, want_max, select_last); break;
    case OT_UINT64: arg_u64(x, y, outer, n, inner, want_max, select_last); break;
    default: break; /* rejected by the op's infer */
    }
}

/* ---- CumSum ------------------------------------------------------------------- */

#define ST_DIRECT(p, i, v) ((p)[i] = (v))
#define ST_F16(p, i, v) ((p)[i] = ot_f32_to_f16((float)(v)))
#define ST_BF16(p, i, v) ((p)[i] = ot_f32_to_bf16((float)(v)))
#define LD_WRAP(p, i) ((uint64_t)(int64_t)(p)[i])

/* Floats accumulate in double; integers in uint64 (wrapping like numpy's). */
#define OT_DEF_CUMSUM(SFX, T, AT, LD, ST)                                                           \
    static void cumsum_##SFX(const T *x, T *y, int64_t outer, int64_t n, int64_t inner, bool excl,  \
                             bool rev) {                                                            \
        int64_t nt = (inner + TW - 1) / TW, work = outer * n * inner;                               \
        _Pragma("omp parallel for schedule(static) if (work > PAR_MIN)")                            \
        for (int64_t t = 0; t < outer * nt; t++) {                                                  \
            int64_t o = t / nt, j0 = (t % nt) * TW, w = inner - j0 < TW ? inner - j0 : TW;          \
            AT acc[TW];                                                                             \
            for (int64_t j = 0; j < w; j++) acc[j] = 0;                                             \
            for (int64_t k = 0; k < n; k++) {                                                       \
                int64_t off = (o * n + (rev ? n - 1 - k : k)) * inner + j0;                         \
                const T *p = x + off;                                                               \
                T *q = y + off;                                                                     \
                for (int64_t j = 0; j < w; j++) {                                                   \
                    AT v = (AT)LD(p, j);                                                            \
                    if (excl) {                                                                     \
                        ST(q, j, acc[j]);                                                           \
                        acc[j] += v;                                                                \
                    } else {                                                                        \
                        acc[j] += v;                                                                \
                        ST(q, j, acc[j]);                                                           \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

OT_DEF_CUMSUM(f32, float, double, LD_DIRECT, ST_DIRECT)
OT_DEF_CUMSUM(f64, double, double, LD_DIRECT, ST_DIRECT)
OT_DEF_CUMSUM(f16, uint16_t, double, LD_F16, ST_F16)
OT_DEF_CUMSUM(bf16, uint16_t, double, LD_BF16, ST_BF16)
OT_DEF_CUMSUM(i32, int32_t, uint64_t, LD_WRAP, ST_DIRECT)
OT_DEF_CUMSUM(u32, uint32_t, uint64_t, LD_WRAP, ST_DIRECT)
OT_DEF_CUMSUM(i64, int64_t, uint64_t, LD_WRAP, ST_DIRECT)
OT_DEF_CUMSUM(u64, uint64_t, uint64_t, LD_WRAP, ST_DIRECT)

void ot_cpu_cumsum(ot_dtype dt, const void *x, void *y, int64_t outer, int64_t n, int64_t inner,
                   bool exclusive, bool reverse) {
    if (outer <= 0 || inner <= 0 || n <= 0) return;
    switch (dt) {
    case OT_FLOAT: cumsum_f32(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_DOUBLE: cumsum_f64(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_FLOAT16: cumsum_f16(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_BFLOAT16: cumsum_bf16(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_INT32: cumsum_i32(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_UINT32: cumsum_u32(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_INT64: cumsum_i64(x, y, outer, n, inner, exclusive, reverse); break;
    case OT_UINT64: cumsum_u64(x, y, outer, n, inner, exclusive, reverse); break;
    default: break; /* rejected by the op's infer */
    }
}
