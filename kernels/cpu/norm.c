/* CPU kernels for normalisation ops; see norm.h.
 *
 * Each kernel is written once as a macro over the element type and expanded
 * for float32, float64, float16 and bfloat16.  CT is the compute type
 * (double for float64, float otherwise); statistics always use double. */
#include "norm.h"

#include <math.h>

#include "float_kernel.h"

/* Work below this many elements is not worth waking the thread pool for. */
#define OT_NORM_PAR_MIN 32768

bool ot_cpu_norm_dtype_ok(ot_dtype dt) {
    return dt == OT_FLOAT || dt == OT_DOUBLE || dt == OT_FLOAT16 || dt == OT_BFLOAT16;
}

/* Mean and biased variance from shifted sums: s = sum(x - k), q = sum((x - k)^2). */
static void ot_finish_moments(double k, double s, double q, double n, double *mean, double *var) {
    if (n <= 0) {
        *mean = 0;
        *var = 0;
        return;
    }
    double ds = s / n;
    double v = q / n - ds * ds;
    *mean = k + ds;
    *var = v > 0 ? v : 0; /* rounding can leave a tiny negative for constant data */
}

/* Accumulates shifted sums over n contiguous elements.  Eight independent
   lanes keep the dependency chains short (and the result independent of the
   thread count: the lane split depends only on n). */
#define OT_DEF_ACC(SUF, T)                                                              \
    static void ot_acc_##SUF(const T *p, int64_t n, double k, double *s, double *q) {  \
        double sl[8] = {0}, ql[8] = {0};                                                \
        int64_t i = 0;                                                                  \
        for (; i + 8 <= n; i += 8)                                                      \
            for (int j = 0; j < 8; j++) {                                               \
                double d = (double)LD_##SUF(p, i + j) - k;                              \
                sl[j] += d;                                                             \
                ql[j] += d * d;                                                         \
            }                                                                           \
        for (int j = 0; i < n; i++, j++) {                                              \
            double d = (double)LD_##SUF(p, i) - k;                                      \
            sl[j] += d;                                                                 \
            ql[j] += d * d;                                                             \
        }                                                                               \
        double ts = 0, tq = 0;                                                          \
        for (int j = 0; j < 8; j++) {                                                   \
            ts += sl[j];                                                                \
            tq += ql[j];                                                                \
        }                                                                               \
        *s += ts;                                                                       \
        *q += tq;                                                                       \
    }

/* ---- per-channel moments: x (outer, C, inner) ---------------------------- */
#define OT_DEF_CHANNEL_MOMENTS(SUF, T)                                                          \
    static void ot_channel_moments_##SUF(const T *x, int64_t outer, int64_t C, int64_t inner,   \
                                         double *mean, double *var) {                           \
        int64_t count = outer * inner;                                                          \
        _Pragma("omp parallel for schedule(static) if (count * C >= OT_NORM_PAR_MIN && C > 1)") \
        for (int64_t c = 0; c < C; c++) {                                                       \
            double k = count > 0 ? (double)LD_##SUF(x, c * inner) : 0, s = 0, q = 0;            \
            for (int64_t o = 0; o < outer; o++) ot_acc_##SUF(x + (o * C + c) * inner, inner, k, &s, &q); \
            ot_finish_moments(k, s, q, (double)count, &mean[c], &var[c]);                      \
        }                                                                                       \
    }

/* ---- per-channel affine: y = (x - m[c]) * a[c] + b[c] --------------------- */
#define OT_DEF_CHANNEL_AFFINE(SUF, T, CT)                                                        \
    static void ot_channel_affine_##SUF(const T *x, T *y, int64_t outer, int64_t C, int64_t inner, \
                                        const double *m, const double *a, const double *b) {      \
        int64_t planes = outer * C;                                                              \
        _Pragma("omp parallel for schedule(static) if (planes * inner >= OT_NORM_PAR_MIN)")      \
        for (int64_t pl = 0; pl < planes; pl++) {                                                \
            int64_t c = pl % C;                                                                  \
            CT mc = (CT)m[c], ac = (CT)a[c], bc = (CT)b[c];                                      \
            const T *xp = x + pl * inner;                                                        \
            T *yp = y + pl * inner;                                                              \
            for (int64_t i = 0; i < inner; i++) ST_##SUF(yp, i, (LD_##SUF(xp, i) - mc) * ac + bc); \
        }                                                                                        \
    }

/* ---- group norm: x (N, G, CG, S) ----------------------------------------- */
#define OT_DEF_GROUP_NORM(SUF, T, CT)                                                               \
    static void ot_group_norm_##SUF(const T *x, const T *scale, const T *bias, T *y, int64_t N,     \
                                    int64_t G, int64_t CG, int64_t S, bool per_channel, double eps) { \
        int64_t slices = N * G, len = CG * S;                                                       \
        _Pragma("omp parallel for schedule(static) if (slices * len >= OT_NORM_PAR_MIN)")           \
        for (int64_t sl = 0; sl < slices; sl++) {                                                   \
            int64_t g = sl % G;                                                                     \
            const T *xp = x + sl * len;                                                             \
            T *yp = y + sl * len;                                                                   \
            double k = len > 0 ? (double)LD_##SUF(xp, 0) : 0, s = 0, q = 0, mean, var;             \
            ot_acc_##SUF(xp, len, k, &s, &q);                                                       \
            ot_finish_moments(k, s, q, (double)len, &mean, &var);                                   \
            double inv = 1.0 / sqrt(var + eps);                                                     \
            for (int64_t cg = 0; cg < CG; cg++) {                                                   \
                int64_t ki = per_channel ? g * CG + cg : g;                                         \
                CT m = (CT)mean, a = (CT)(inv * (double)LD_##SUF(scale, ki));                       \
                CT b = (CT)LD_##SUF(bias, ki);                                                      \
                const T *xc = xp + cg * S;                                                          \
                T *yc = yp + cg * S;                                                                \
                for (int64_t i = 0; i < S; i++) ST_##SUF(yc, i, (LD_##SUF(xc, i) - m) * a + b);     \
            }                                                                                       \
        }                                                                                           \
    }

/* ---- layer norm: x (rows, D) ----------------------------------------------- */
#define OT_DEF_LAYER_NORM(SUF, T, CT)                                                                \
    static void ot_layer_norm_##SUF(const T *x, const T *scale, int64_t P, const T *bias, int64_t Pb, \
                                    T *y, int64_t rows, int64_t D, double eps, ot_dtype stat_dt,     \
                                    void *mean_out, void *inv_out, bool rms) {                       \
        _Pragma("omp parallel for schedule(static) if (rows * D >= OT_NORM_PAR_MIN)")                \
        for (int64_t r = 0; r < rows; r++) {                                                         \
            const T *xp = x + r * D;                                                                 \
            T *yp = y + r * D;                                                                       \
            /* RMSNormalization: no centring, the mean square replaces the variance */           \
            double k = D > 0 && !rms ? (double)LD_##SUF(xp, 0) : 0, s = 0, q = 0, mean = 0, var;    \
            ot_acc_##SUF(xp, D, k, &s, &q);                                                          \
            if (rms)                                                                                 \
                var = D > 0 ? q / (double)D : 0;                                                     \
            else                                                                                     \
                ot_finish_moments(k, s, q, (double)D, &mean, &var);                                  \
            double inv = 1.0 / sqrt(var + eps);                                                      \
            if (mean_out) ot_store_f64(stat_dt, mean_out, r, mean);                                  \
            if (inv_out) ot_store_f64(stat_dt, inv_out, r, inv);                                     \
            CT m = (CT)mean, iv = (CT)inv;                                                           \
            /* Scale/B repeat with period P/Pb over the flattened X (a trailing-dims  \
               broadcast): within the row when P <= D, else across rows.       */    \
            const T *sp = scale + (P > D ? (r * D) % P : 0);                                         \
            int64_t ps = P > D ? D : P;                                                              \
            if (bias && Pb == P) { /* the usual case: one pass */                                    \
                const T *bp = bias + (sp - scale);                                                   \
                for (int64_t j0 = 0; j0 < D; j0 += ps)                                               \
                    for (int64_t j = 0; j < ps; j++)                                                 \
                        ST_##SUF(yp, j0 + j,                                                         \
                                 (LD_##SUF(xp, j0 + j) - m) * iv * LD_##SUF(sp, j) + LD_##SUF(bp, j)); \
                continue;                                                                            \
            }                                                                                        \
            for (int64_t j0 = 0; j0 < D; j0 += ps)                                                   \
                for (int64_t j = 0; j < ps; j++)                                                     \
                    ST_##SUF(yp, j0 + j, (LD_##SUF(xp, j0 + j) - m) * iv * LD_##SUF(sp, j));         \
            if (bias) {                                                                              \
                const T *bp = bias + (Pb > D ? (r * D) % Pb : 0);                                    \
                int64_t pbs = Pb > D ? D : Pb;                                                       \
                for (int64_t j0 = 0; j0 < D; j0 += pbs)                                              \
                    for (int64_t j = 0; j < pbs; j++)                                                \
                        ST_##SUF(yp, j0 + j, LD_##SUF(yp, j0 + j) + LD_##SUF(bp, j));                \
            }                                                                                        \
        }                                                                                            \
    }

/* ---- Lp normalisation: x (outer, L, inner), norm over L ------------------------
   Columns are processed in chunks of 64 so the L-strided walk stays in cache. */
#define OT_LP_CHUNK 64
#define OT_DEF_LP_NORM(SUF, T, CT)                                                                    \
    static void ot_lp_norm_##SUF(const T *x, T *y, int64_t outer, int64_t L, int64_t inner, int p) {  \
        int64_t chunks = (inner + OT_LP_CHUNK - 1) / OT_LP_CHUNK, tasks = outer * chunks;             \
        _Pragma("omp parallel for schedule(static) if (outer * L * inner >= OT_NORM_PAR_MIN)")        \
        for (int64_t t = 0; t < tasks; t++) {                                                         \
            int64_t o = t / chunks, i0 = (t % chunks) * OT_LP_CHUNK;                                  \
            int64_t n = inner - i0 < OT_LP_CHUNK ? inner - i0 : OT_LP_CHUNK;                          \
            double acc[OT_LP_CHUNK] = {0};                                                            \
            const T *xo = x + o * L * inner + i0;                                                     \
            T *yo = y + o * L * inner + i0;                                                           \
            for (int64_t l = 0; l < L; l++)                                                           \
                for (int64_t i = 0; i < n; i++) {                                                     \
                    double v = (double)LD_##SUF(xo, l * inner + i);                                   \
                    acc[i] += p == 1 ? fabs(v) : v * v;                                               \
                }                                                                                     \
            for (int64_t i = 0; i < n; i++) { /* a zero norm gives zeros, as ONNX defines */          \
                double nrm = p == 1 ? acc[i] : sqrt(acc[i]);                                          \
                acc[i] = nrm > 0 ? 1.0 / nrm : 0;                                                     \
            }                                                                                         \
            for (int64_t l = 0; l < L; l++)                                                           \
                for (int64_t i = 0; i < n; i++)                                                       \
                    ST_##SUF(yo, l * inner + i, (CT)((double)LD_##SUF(xo, l * inner + i) * acc[i]));  \
        }                                                                                             \
    }

/* ---- mean-variance normalisation over any set of axes --------------------------
   Kept axes enumerate the groups, reduced axes the members of a group; an
   odometer over the reduced axes gives each member's offset. */
typedef struct ot_mvn_geom {
    int nk, nr;
    int64_t kdims[OT_MAX_RANK], kstr[OT_MAX_RANK], rdims[OT_MAX_RANK], rstr[OT_MAX_RANK];
    int64_t groups, members;
} ot_mvn_geom;

static int64_t ot_mvn_base(const ot_mvn_geom *g, int64_t grp) {
    int64_t off = 0;
    for (int a = g->nk - 1; a >= 0; a--) {
        off += (grp % g->kdims[a]) * g->kstr[a];
        grp /= g->kdims[a];
    }
    return off;
}

/* Advances the reduced-axes odometer c; returns the change of offset. */
static inline int64_t ot_mvn_step(const ot_mvn_geom *g, int64_t *c) {
    int64_t delta = 0;
    for (int a = g->nr - 1; a >= 0; a--) {
        delta += g->rstr[a];
        if (++c[a] < g->rdims[a]) return delta;
        delta -= c[a] * g->rstr[a];
        c[a] = 0;
    }
    return delta;
}

#define OT_DEF_MVN(SUF, T, CT)                                                                         \
    static void ot_mvn_##SUF(const ot_mvn_geom *g, const T *x, T *y, double eps) {                     \
        _Pragma("omp parallel for schedule(static) if (g->groups * g->members >= OT_NORM_PAR_MIN)")    \
        for (int64_t grp = 0; grp < g->groups; grp++) {                                                \
            int64_t base = ot_mvn_base(g, grp), c[OT_MAX_RANK] = {0}, off = base;                      \
            double k = g->members > 0 ? (double)LD_##SUF(x, base) : 0, s = 0, q = 0, mean, var;       \
            for (int64_t j = 0; j < g->members; j++, off += ot_mvn_step(g, c)) {                       \
                double d = (double)LD_##SUF(x, off) - k;                                               \
                s += d;                                                                                \
                q += d * d;                                                                            \
            }                                                                                          \
            ot_finish_moments(k, s, q, (double)g->members, &mean, &var);                               \
            double inv = 1.0 / (sqrt(var) + eps);                                                      \
            off = base;                                                                                \
            for (int64_t j = 0; j < g->members; j++, off += ot_mvn_step(g, c))                         \
                ST_##SUF(y, off, (CT)(((double)LD_##SUF(x, off) - mean) * inv));                        \
        }                                                                                              \
    }

#define OT_DEF_ALL(SUF, T, CT)             \
    OT_DEF_MVN(SUF, T, CT)                 \
    OT_DEF_LP_NORM(SUF, T, CT)             \
    OT_DEF_ACC(SUF, T)                     \
    OT_DEF_CHANNEL_MOMENTS(SUF, T)         \
    OT_DEF_CHANNEL_AFFINE(SUF, T, CT)      \
    OT_DEF_GROUP_NORM(SUF, T, CT)          \
    OT_DEF_LAYER_NORM(SUF, T, CT)

OT_DEF_ALL(f32, float, float)
OT_DEF_ALL(f64, double, double)
OT_DEF_ALL(f16, uint16_t, float)
OT_DEF_ALL(bf16, uint16_t, float)

void ot_cpu_channel_moments(ot_dtype dt, const void *x, int64_t outer, int64_t C, int64_t inner,
                            double *mean, double *var) {
#define CALL(SUF, T) ot_channel_moments_##SUF((const T *)x, outer, C, inner, mean, var)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_channel_affine(ot_dtype dt, const void *x, void *y, int64_t outer, int64_t C, int64_t inner,
                           const double *m, const double *a, const double *b) {
#define CALL(SUF, T) ot_channel_affine_##SUF((const T *)x, (T *)y, outer, C, inner, m, a, b)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_group_norm(ot_dtype dt, const void *x, const void *scale, const void *bias, void *y, int64_t N,
                       int64_t G, int64_t CG, int64_t S, bool per_channel, double eps) {
#define CALL(SUF, T) \
    ot_group_norm_##SUF((const T *)x, (const T *)scale, (const T *)bias, (T *)y, N, G, CG, S, per_channel, eps)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_layer_norm(ot_dtype dt, const void *x, const void *scale, int64_t P, const void *bias, int64_t Pb,
                       void *y, int64_t rows, int64_t D, double eps, ot_dtype stat_dt, void *mean,
                       void *inv_std) {
    if (P <= 0) return; /* D == 0: nothing to normalise (scale is empty too) */
    if (!bias || Pb <= 0) bias = NULL;
#define CALL(SUF, T)                                                                                 \
    ot_layer_norm_##SUF((const T *)x, (const T *)scale, P, (const T *)bias, Pb, (T *)y, rows, D, eps, \
                        stat_dt, mean, inv_std, false)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_rms_norm(ot_dtype dt, const void *x, const void *scale, int64_t P, void *y, int64_t rows, int64_t D,
                     double eps) {
    if (P <= 0) return;
#define CALL(SUF, T)                                                                                   \
    ot_layer_norm_##SUF((const T *)x, (const T *)scale, P, NULL, 0, (T *)y, rows, D, eps, OT_FLOAT, NULL, \
                        NULL, true)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_lp_norm(ot_dtype dt, const void *x, void *y, int64_t outer, int64_t L, int64_t inner, int p) {
#define CALL(SUF, T) ot_lp_norm_##SUF((const T *)x, (T *)y, outer, L, inner, p)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

void ot_cpu_mvn(ot_dtype dt, const void *x, void *y, int rank, const int64_t *dims, const bool *reduce, double eps) {
    ot_mvn_geom g = {0};
    int64_t stride = 1;
    g.groups = 1;
    g.members = 1;
    for (int a = rank - 1; a >= 0; a--) { /* axes in order, innermost last */
        bool r = reduce[a];
        int i = r ? g.nr++ : g.nk++;
        (r ? g.rdims : g.kdims)[i] = dims[a];
        (r ? g.rstr : g.kstr)[i] = stride;
        *(r ? &g.members : &g.groups) *= dims[a];
        stride *= dims[a];
    }
    /* collected innermost-first: reverse into outermost-first */
    for (int i = 0; i < g.nk / 2; i++) {
        int64_t t = g.kdims[i]; g.kdims[i] = g.kdims[g.nk - 1 - i]; g.kdims[g.nk - 1 - i] = t;
        t = g.kstr[i]; g.kstr[i] = g.kstr[g.nk - 1 - i]; g.kstr[g.nk - 1 - i] = t;
    }
    for (int i = 0; i < g.nr / 2; i++) {
        int64_t t = g.rdims[i]; g.rdims[i] = g.rdims[g.nr - 1 - i]; g.rdims[g.nr - 1 - i] = t;
        t = g.rstr[i]; g.rstr[i] = g.rstr[g.nr - 1 - i]; g.rstr[g.nr - 1 - i] = t;
    }
    if (g.groups == 0 || g.members == 0) return;
#define CALL(SUF, T) ot_mvn_##SUF(&g, (const T *)x, (T *)y, eps)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}
