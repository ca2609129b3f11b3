/* CPU optimizer kernels: see optimizer.h for the exact arithmetic. */
#include "kernels/cpu/optimizer.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "src/core/dtype.h"
#include "src/core/status.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(OT_OPTIM_NO_X86) /* the latter: test the portable path */
#include <immintrin.h>
#define OT_OPTIM_X86 1
#define OT_AVX2 __attribute__((target("avx2,fma")))
#else
#define OT_OPTIM_X86 0
#endif

#define OT_INLINE static inline __attribute__((always_inline))

/* Below this many elements a call runs on the calling thread: starting a
   parallel region costs more than the work. */
#define OT_OPTIM_PAR_MIN ((int64_t)1 << 15)
/* Fixed partitions of ot_cpu_grads_sumsq (independent of the thread count). */
#define OT_SUMSQ_PARTS 256

/* Loop-invariant switches of one update. */
enum {
    F_L2 = 1u << 0,       /* g += wd * p */
    F_MOMENTUM = 1u << 1, /* sgd family keeps a momentum buffer */
    F_NESTEROV = 1u << 2,
    F_FIRST = 1u << 3,    /* t == 1: buffer = gradient */
    F_ADAMW = 1u << 4,    /* p *= 1 - lr * wd before the Adam update */
};

/* Coefficients converted to a lane type.  Element functions are written once
   for every lane type with the operators (each rounded to the type: C11 mode
   compiles without contraction, so `a * b + c` stays two roundings) plus
   FMA (one rounding) and SQRT (correctly rounded). */
enum { K_WD, K_MOM, K_OMD, K_NEG_LR, K_B1, K_OMB1, K_B2, K_OMB2, K_BC2S, K_EPS, K_NEG_STEP, K_DECAY, K_NEG_CLR, K_COUNT };
#define OT_DEFINE_COEFFS(SFX, T) \
    typedef struct {             \
        T c[K_COUNT];            \
    } co_##SFX;

#define OT_DEFINE_ELEMENT_FNS(SFX, T, ATTR, FMA, SQRT)                                         \
    /* sgd / momentum / nesterov; returns the new p, updates *buf. */                         \
    ATTR OT_INLINE T sgd_##SFX(const co_##SFX *k, unsigned fl, T p, T g, T *buf) {             \
        T d = (fl & F_L2) ? FMA(p, k->c[K_WD], g) : g;                                              \
        if (fl & F_MOMENTUM) {                                                                 \
            T b = (fl & F_FIRST) ? d : FMA(d, k->c[K_OMD], *buf * k->c[K_MOM]);                          \
            *buf = b;                                                                          \
            d = (fl & F_NESTEROV) ? FMA(b, k->c[K_MOM], d) : b;                                     \
        }                                                                                      \
        return FMA(d, k->c[K_NEG_LR], p);                                                           \
    }                                                                                          \
    /* adam / adamw; updates *m, *v. */                                                        \
    ATTR OT_INLINE T adam_##SFX(const co_##SFX *k, unsigned fl, T p, T g, T *m, T *v) {        \
        if (fl & F_ADAMW) p = p * k->c[K_DECAY];                                                    \
        else if (fl & F_L2) g = FMA(p, k->c[K_WD], g);                                              \
        T mm = FMA(g, k->c[K_OMB1], *m * k->c[K_B1]);                                                    \
        T vv = FMA(k->c[K_OMB2] * g, g, *v * k->c[K_B2]);                                                \
        *m = mm;                                                                               \
        *v = vv;                                                                               \
        T denom = SQRT(vv) / k->c[K_BC2S] + k->c[K_EPS];                                                 \
        return p + (k->c[K_NEG_STEP] * mm) / denom;                                                 \
    }                                                                                          \
    /* adagrad; updates *s. */                                                                 \
    ATTR OT_INLINE T adagrad_##SFX(const co_##SFX *k, unsigned fl, T p, T g, T *s) {           \
        if (fl & F_L2) g = FMA(p, k->c[K_WD], g);                                                   \
        T ss = FMA(g, g, *s);                                                                  \
        *s = ss;                                                                               \
        T std = SQRT(ss) + k->c[K_EPS];                                                             \
        return p + (k->c[K_NEG_CLR] * g) / std;                                                     \
    }

OT_DEFINE_COEFFS(f32, float)
OT_DEFINE_COEFFS(f64, double)
OT_DEFINE_ELEMENT_FNS(f32, float, , fmaf, sqrtf)
OT_DEFINE_ELEMENT_FNS(f64, double, , fma, sqrt)

#if OT_OPTIM_X86
OT_DEFINE_COEFFS(v8, __m256)
OT_DEFINE_COEFFS(v4, __m256d)
OT_DEFINE_ELEMENT_FNS(v8, __m256, OT_AVX2, _mm256_fmadd_ps, _mm256_sqrt_ps)
OT_DEFINE_ELEMENT_FNS(v4, __m256d, OT_AVX2, _mm256_fmadd_pd, _mm256_sqrt_pd)
#endif

/* One update, ready to run on any element range. */
typedef struct job {
    ot_optim_kind kind;
    unsigned flags;
    co_f32 kf32;
    co_f64 kf64;
} job;

static void job_init(job *j, const ot_optim_coeffs *c) {
    memset(j, 0, sizeof *j);
    j->kind = c->kind;
    if (c->l2) j->flags |= F_L2;
    if (c->use_momentum) j->flags |= F_MOMENTUM;
    if (c->nesterov) j->flags |= F_NESTEROV;
    if (c->first_step) j->flags |= F_FIRST;
    if (c->kind == OT_OPTIM_ADAMW) j->flags |= F_ADAMW;
    /* Each Python scalar becomes the tensor's dtype before it is used, as
       ATen converts a Scalar (float32: round to nearest). */
    const double src[K_COUNT] = {
        [K_WD] = c->weight_decay, [K_MOM] = c->momentum, [K_OMD] = c->one_minus_dampening,
        [K_NEG_LR] = c->neg_lr, [K_B1] = c->beta1, [K_OMB1] = c->one_minus_beta1, [K_B2] = c->beta2,
        [K_OMB2] = c->one_minus_beta2, [K_BC2S] = c->bias_correction2_sqrt, [K_EPS] = c->eps,
        [K_NEG_STEP] = c->neg_step_size, [K_DECAY] = c->decay, [K_NEG_CLR] = c->neg_clr,
    };
    for (int i = 0; i < K_COUNT; i++) {
        j->kf32.c[i] = (float)src[i];
        j->kf64.c[i] = src[i];
    }
}

static bool is_sgd_family(ot_optim_kind k) {
    return k == OT_OPTIM_SGD || k == OT_OPTIM_MOMENTUM || k == OT_OPTIM_NESTEROV;
}

/* Scalar loops over elements [0, n) of one tensor (views already offset).
   Always inlined, so inside the AVX2 driver below fmaf/fma become single
   instructions, and elsewhere they are C99's correctly rounded fma. */
#define OT_DEFINE_SCALAR_RUN(SFX, T)                                                           \
    OT_INLINE void run_scalar_##SFX(const job *j, const co_##SFX *k, T *p, const T *g, T *s0, T *s1, \
                                    int64_t n) {                                               \
        const unsigned fl = j->flags;                                                          \
        if (is_sgd_family(j->kind)) {                                                          \
            if (fl & F_MOMENTUM)                                                               \
                for (int64_t i = 0; i < n; i++) p[i] = sgd_##SFX(k, fl, p[i], g[i], &s0[i]);   \
            else                                                                               \
                for (int64_t i = 0; i < n; i++) p[i] = sgd_##SFX(k, fl, p[i], g[i], NULL);     \
        } else if (j->kind == OT_OPTIM_ADAGRAD) {                                              \
            for (int64_t i = 0; i < n; i++) p[i] = adagrad_##SFX(k, fl, p[i], g[i], &s0[i]);   \
        } else {                                                                               \
            for (int64_t i = 0; i < n; i++) p[i] = adam_##SFX(k, fl, p[i], g[i], &s0[i], &s1[i]); \
        }                                                                                      \
    }

OT_DEFINE_SCALAR_RUN(f32, float)
OT_DEFINE_SCALAR_RUN(f64, double)

#if OT_OPTIM_X86
/* W lanes of type V; LD/ST unaligned load/store; SET1 broadcast.  The tail
   (< W elements) runs the scalar loop, which computes the same values. */
#define OT_DEFINE_AVX2_RUN(SFX, SSFX, T, V, W, LD, ST, SET1)                                   \
    OT_AVX2 static void run_avx2_##SSFX(const job *j, T *p, const T *g, T *s0, T *s1, int64_t n) { \
        const co_##SSFX *ks = &j->k##SSFX;                                                     \
        co_##SFX k;                                                                            \
        for (int c_ = 0; c_ < K_COUNT; c_++) k.c[c_] = SET1(ks->c[c_]);                        \
        const unsigned fl = j->flags;                                                          \
        int64_t i = 0;                                                                         \
        if (is_sgd_family(j->kind)) {                                                          \
            for (; i + W <= n; i += W) {                                                       \
                V b = (fl & F_MOMENTUM) ? LD(s0 + i) : LD(g + i);                              \
                ST(p + i, sgd_##SFX(&k, fl, LD(p + i), LD(g + i), &b));                        \
                if (fl & F_MOMENTUM) ST(s0 + i, b);                                            \
            }                                                                                  \
        } else if (j->kind == OT_OPTIM_ADAGRAD) {                                              \
            for (; i + W <= n; i += W) {                                                       \
                V s = LD(s0 + i);                                                              \
                ST(p + i, adagrad_##SFX(&k, fl, LD(p + i), LD(g + i), &s));                    \
                ST(s0 + i, s);                                                                 \
            }                                                                                  \
        } else {                                                                               \
            for (; i + W <= n; i += W) {                                                       \
                V m = LD(s0 + i), v = LD(s1 + i);                                              \
                ST(p + i, adam_##SFX(&k, fl, LD(p + i), LD(g + i), &m, &v));                   \
                ST(s0 + i, m);                                                                 \
                ST(s1 + i, v);                                                                 \
            }                                                                                  \
        }                                                                                      \
        if (i < n)                                                                             \
            run_scalar_##SSFX(j, ks, p + i, g + i, s0 ? s0 + i : NULL, s1 ? s1 + i : NULL, n - i); \
    }

OT_DEFINE_AVX2_RUN(v8, f32, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps)
OT_DEFINE_AVX2_RUN(v4, f64, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd)

static bool have_avx2_fma(void) {
    static int cached = -1; /* benign race: every thread computes the same value */
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cached != 0;
}
#endif

/* Updates elements [lo, hi) of tensor i. */
static void run_tensor(const job *j, ot_dtype dt, const ot_optim_group *g, int i, int64_t lo, int64_t hi) {
    const int nstate = ot_optim_state_count(j->kind);
    /* momentum / nesterov with momentum 0 are plain SGD (as in PyTorch): no buffer. */
    const bool uses_s0 = is_sgd_family(j->kind) ? (j->flags & F_MOMENTUM) != 0 : nstate > 0;
    int64_t n = hi - lo;
    if (dt == OT_FLOAT) {
        float *p = (float *)g->param[i] + lo;
        const float *gr = (const float *)g->grad[i] + lo;
        float *s0 = uses_s0 ? (float *)g->state[0][i] + lo : NULL;
        float *s1 = nstate > 1 ? (float *)g->state[1][i] + lo : NULL;
#if OT_OPTIM_X86
        if (have_avx2_fma()) {
            run_avx2_f32(j, p, gr, s0, s1, n);
            return;
        }
#endif
        run_scalar_f32(j, &j->kf32, p, gr, s0, s1, n);
    } else {
        double *p = (double *)g->param[i] + lo;
        const double *gr = (const double *)g->grad[i] + lo;
        double *s0 = uses_s0 ? (double *)g->state[0][i] + lo : NULL;
        double *s1 = nstate > 1 ? (double *)g->state[1][i] + lo : NULL;
#if OT_OPTIM_X86
        if (have_avx2_fma()) {
            run_avx2_f64(j, p, gr, s0, s1, n);
            return;
        }
#endif
        run_scalar_f64(j, &j->kf64, p, gr, s0, s1, n);
    }
}

/* Calls fn on every piece [lo, hi) of tensor i that falls in global element
   range [begin, end) of the group (tensors laid end to end). */
#define OT_FOR_PIECES(count, numel, begin, end, BODY)                                          \
    do {                                                                                       \
        int64_t off_ = 0;                                                                      \
        for (int i = 0; i < (count) && off_ < (end); i++) {                                    \
            int64_t n_ = (numel)[i];                                                           \
            int64_t lo = (begin) > off_ ? (begin) - off_ : 0;                                  \
            int64_t hi = (end) < off_ + n_ ? (end) - off_ : n_;                                \
            if (lo < hi) BODY;                                                                 \
            off_ += n_;                                                                        \
        }                                                                                      \
    } while (0)

/* Start of part `k` of `parts` equal contiguous parts of [0, total). */
static int64_t part_start(int64_t total, int64_t parts, int64_t k) {
    int64_t q = total / parts, r = total % parts;
    return q * k + (k < r ? k : r);
}

static ot_status check_group_arrays(ot_dtype dt, int count, const void *arr, const int64_t *numel, int64_t *total,
                                    const char *what) {
    if (dt != OT_FLOAT && dt != OT_DOUBLE)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: dtype %s is not supported (float32 and float64 are)", what,
                        ot_dtype_name(dt));
    if (count < 0 || (count > 0 && (!arr || !numel)))
        return ot_error(OT_ERR_INVALID_ARG, "%s: invalid tensor group (count %d)", what, count);
    int64_t sum = 0;
    for (int i = 0; i < count; i++) {
        if (numel[i] < 0 || numel[i] > INT64_MAX - sum)
            return ot_error(OT_ERR_INVALID_ARG, "%s: tensor %d has an invalid element count %lld", what, i,
                            (long long)numel[i]);
        sum += numel[i];
    }
    *total = sum;
    return OT_OK;
}

bool ot_cpu_optim_dtype_ok(ot_dtype dt) { return dt == OT_FLOAT || dt == OT_DOUBLE; }

ot_status ot_cpu_optim_update(ot_dtype dt, const ot_optim_coeffs *c, const ot_optim_group *g) {
    if (!c || !g) return ot_error(OT_ERR_INVALID_ARG, "optimizer update: NULL argument");
    if (c->kind < 0 || c->kind >= OT_OPTIM_KIND_COUNT)
        return ot_error(OT_ERR_INVALID_ARG, "optimizer update: invalid kind %d", (int)c->kind);
    int64_t total;
    OT_TRY(check_group_arrays(dt, g->count, g->param, g->numel, &total, "optimizer update"));
    const int nstate = ot_optim_state_count(c->kind);
    for (int i = 0; i < g->count; i++) {
        if (g->numel[i] == 0) continue;
        bool ok = g->param[i] && g->grad && g->grad[i];
        for (int k = 0; k < nstate; k++) ok = ok && g->state[k] && g->state[k][i];
        if (!ok)
            return ot_error(OT_ERR_INVALID_ARG, "optimizer update (%s): tensor %d of the group lacks a parameter, "
                            "gradient or state buffer", ot_optim_kind_name(c->kind), i);
    }
    job j;
    job_init(&j, c);
#if OT_OPTIM_X86
    (void)have_avx2_fma(); /* resolve once before the threads start */
#endif
    if (total < OT_OPTIM_PAR_MIN) {
        OT_FOR_PIECES(g->count, g->numel, 0, total, run_tensor(&j, dt, g, i, lo, hi));
        return OT_OK;
    }
#pragma omp parallel
    {
        int64_t nth = omp_get_num_threads(), tid = omp_get_thread_num();
        int64_t begin = part_start(total, nth, tid), end = part_start(total, nth, tid + 1);
        OT_FOR_PIECES(g->count, g->numel, begin, end, run_tensor(&j, dt, g, i, lo, hi));
    }
    return OT_OK;
}

static void scale_piece(ot_dtype dt, void *x, int64_t lo, int64_t hi, double coef) {
    if (dt == OT_FLOAT) {
        float *v = (float *)x, c = (float)coef;
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) v[i] = v[i] * c;
    } else {
        double *v = (double *)x;
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) v[i] = v[i] * coef;
    }
}

ot_status ot_cpu_grads_scale(ot_dtype dt, int count, void *const *grads, const int64_t *numel, double coef) {
    int64_t total;
    OT_TRY(check_group_arrays(dt, count, grads, numel, &total, "gradient scaling"));
    for (int i = 0; i < count; i++)
        if (numel[i] > 0 && !grads[i])
            return ot_error(OT_ERR_INVALID_ARG, "gradient scaling: tensor %d has no buffer", i);
#pragma omp parallel if (total >= OT_OPTIM_PAR_MIN)
    {
        int64_t nth = omp_get_num_threads(), tid = omp_get_thread_num();
        int64_t begin = part_start(total, nth, tid), end = part_start(total, nth, tid + 1);
        OT_FOR_PIECES(count, numel, begin, end, scale_piece(dt, grads[i], lo, hi, coef));
    }
    return OT_OK;
}

/* Sum of squares of x[lo, hi) in a fixed order: 8 interleaved partial sums
   (so the loop pipelines), combined pairwise. */
static double sumsq_piece(ot_dtype dt, const void *x, int64_t lo, int64_t hi) {
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = lo;
    if (dt == OT_FLOAT) {
        const float *v = (const float *)x;
        for (; i + 8 <= hi; i += 8)
            for (int l = 0; l < 8; l++) a[l] += (double)v[i + l] * (double)v[i + l];
        for (int l = 0; i < hi; i++, l++) a[l] += (double)v[i] * (double)v[i];
    } else {
        const double *v = (const double *)x;
        for (; i + 8 <= hi; i += 8)
            for (int l = 0; l < 8; l++) a[l] += v[i + l] * v[i + l];
        for (int l = 0; i < hi; i++, l++) a[l] += v[i] * v[i];
    }
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

ot_status ot_cpu_grads_sumsq(ot_dtype dt, int count, const void *const *grads, const int64_t *numel, double *sumsq) {
    int64_t total;
    OT_TRY(check_group_arrays(dt, count, grads, numel, &total, "gradient norm"));
    for (int i = 0; i < count; i++)
        if (numel[i] > 0 && !grads[i])
            return ot_error(OT_ERR_INVALID_ARG, "gradient norm: tensor %d has no buffer", i);
    double part[OT_SUMSQ_PARTS];
#pragma omp parallel for schedule(static) if (total >= OT_OPTIM_PAR_MIN)
    for (int k = 0; k < OT_SUMSQ_PARTS; k++) {
        int64_t begin = part_start(total, OT_SUMSQ_PARTS, k), end = part_start(total, OT_SUMSQ_PARTS, k + 1);
        double s = 0;
        OT_FOR_PIECES(count, numel, begin, end, s += sumsq_piece(dt, grads[i], lo, hi));
        part[k] = s;
    }
    double s = 0;
    for (int k = 0; k < OT_SUMSQ_PARTS; k++) s += part[k];
    *sumsq = s;
    return OT_OK;
}
