/* CPU kernels for the normalisation gradients; see norm.h.
 *
 * Every kernel works on slices that share statistics (a channel for
 * BatchNormalization, a row for LayerNormalization, an (n, group) for
 * GroupNormalization): pass 1 gathers, in double and shifted by the slice's
 * first element, sum(x - k), sum((x - k)^2), sum(g), sum(g * (x - k)) with
 * g = dy * scale; pass 2 writes
 *     dx = A * g + B * (x - mean) + C0
 * with per-slice coefficients, which is the usual
 *     dx = invstd * (g - mean(g) - xhat * mean(g * xhat))
 * rearranged so the loop is one fused multiply-add chain in the element's
 * compute type (CT: double for float64, float otherwise). */
#include <math.h>
#include <string.h>

#include "float_kernel.h"
#include "norm.h"

#define OT_NORM_GRAD_PAR_MIN 32768 /* elements below which one thread is faster */
#define OT_LN_GRAD_MAX_BLOCKS 32   /* row blocks of LayerNormalizationGrad's parameter sums */

/* Pass-1 sums of one slice: a[0] += sum(x - k), a[1] += sum((x - k)^2),
   a[2] += sum(g), a[3] += sum(g * (x - k)), g = dy (ot_gacc) or dy * w[i]
   (ot_gacc_w).  `omp simd` lets the compiler split the double sums into
   vector lanes (a split fixed at compile time, so results do not depend on
   the thread count); without it GCC keeps them scalar. */
#define OT_DEF_GACC(SUF, T)                                                                        \
    static void ot_gacc_##SUF(const T *x, const T *dy, int64_t n, double k, double *a) {          \
        double s = 0, q = 0, g = 0, h = 0;                                                        \
        _Pragma("omp simd reduction(+ : s, q, g, h)")                                             \
        for (int64_t i = 0; i < n; i++) {                                                         \
            double d = (double)LD_##SUF(x, i) - k, e = (double)LD_##SUF(dy, i);                   \
            s += d;                                                                               \
            q += d * d;                                                                           \
            g += e;                                                                               \
            h += e * d;                                                                           \
        }                                                                                         \
        a[0] += s;                                                                                \
        a[1] += q;                                                                                \
        a[2] += g;                                                                                \
        a[3] += h;                                                                                \
    }                                                                                             \
    static void ot_gacc_w_##SUF(const T *x, const T *dy, const T *w, int64_t n, double k, double *a) { \
        double s = 0, q = 0, g = 0, h = 0;                                                        \
        _Pragma("omp simd reduction(+ : s, q, g, h)")                                             \
        for (int64_t i = 0; i < n; i++) {                                                         \
            double d = (double)LD_##SUF(x, i) - k;                                                \
            double e = (double)LD_##SUF(dy, i) * (double)LD_##SUF(w, i);                          \
            s += d;                                                                               \
            q += d * d;                                                                           \
            g += e;                                                                               \
            h += e * d;                                                                           \
        }                                                                                         \
        a[0] += s;                                                                                \
        a[1] += q;                                                                                \
        a[2] += g;                                                                                \
        a[3] += h;                                                                                \
    }

/* Mean and inverse standard deviation from the shifted sums (biased variance;
   rms: the mean square, no centring). */
static void ot_grad_stats(double k, const double *a, double n, double eps, bool rms, double *mean, double *inv) {
    double ds = n > 0 ? a[0] / n : 0, var;
    if (rms) {
        *mean = 0;
        var = n > 0 ? a[1] / n : 0;
    } else {
        *mean = k + ds;
        var = n > 0 ? a[1] / n - ds * ds : 0;
        if (var < 0) var = 0;
    }
    *inv = 1.0 / sqrt(var + eps);
}

/* ---- BatchNormalization: x (N, C, inner), one channel per task ------------- */
#define OT_DEF_BN_GRAD(SUF, T, CT)                                                                    \
    static void ot_bn_grad_##SUF(const T *x, const T *dy, T *dx, int64_t N, int64_t C, int64_t inner, \
                                 const ot_bn_grad_args *p) {                                          \
        const int64_t count = N * inner;                                                              \
        _Pragma("omp parallel for schedule(static) if (count * C >= OT_NORM_GRAD_PAR_MIN && C > 1)")  \
        for (int64_t c = 0; c < C; c++) {                                                             \
            bool training = !p->mean;                                                                 \
            double k = training ? (count > 0 ? (double)LD_##SUF(x, c * inner) : 0) : p->mean[c];       \
            double a[4] = {0}, mean, inv;                                                             \
            for (int64_t n = 0; n < N; n++) {                                                         \
                int64_t off = (n * C + c) * inner;                                                    \
                ot_gacc_##SUF(x + off, dy + off, inner, k, a);                                        \
            }                                                                                         \
            if (training) {                                                                           \
                ot_grad_stats(k, a, (double)count, p->eps, false, &mean, &inv);                       \
            } else {                                                                                  \
                mean = k;                                                                             \
                inv = 1.0 / sqrt(p->var[c] + p->eps);                                                 \
            }                                                                                         \
            double sdy = a[2], sdyc = a[3] - (mean - k) * sdy; /* sum(dy), sum(dy * (x - mean)) */   \
            double sc = p->scale[c], A = sc * inv, B = 0, C0 = 0;                                     \
            p->dscale[c] = inv * sdyc;                                                                \
            p->dbias[c] = sdy;                                                                        \
            if (training && count > 0) {                                                              \
                B = -sc * inv * inv * inv * sdyc / (double)count;                                     \
                C0 = -sc * inv * sdy / (double)count;                                                 \
                if (p->dsaved_mean) C0 += p->dsaved_mean[c] / (double)count;                          \
                if (p->dsaved_var) B += 2.0 * p->dsaved_var[c] / (double)count;                       \
            }                                                                                         \
            if (!training) {                                                                          \
                if (p->dmean) p->dmean[c] = -sc * inv * sdy;                                          \
                if (p->dvar) p->dvar[c] = -0.5 * sc * inv * inv * inv * sdyc;                         \
            }                                                                                         \
            if (!dx) continue;                                                                        \
            const CT a_ = (CT)A, b_ = (CT)B, c_ = (CT)C0, m_ = (CT)mean;                              \
            for (int64_t n = 0; n < N; n++) {                                                         \
                int64_t off = (n * C + c) * inner;                                                    \
                const T *xp = x + off, *dyp = dy + off;                                               \
                T *dxp = dx + off;                                                                    \
                for (int64_t i = 0; i < inner; i++)                                                   \
                    ST_##SUF(dxp, i, LD_##SUF(dyp, i) * a_ + (LD_##SUF(xp, i) - m_) * b_ + c_);        \
            }                                                                                         \
        }                                                                                             \
    }

/* ---- LayerNormalization / RMSNormalization: x (rows, D) ---------------------
 * Rows are split into nblk fixed blocks; each block accumulates its own
 * dscale / dbias partial sums, added up in block order at the end. */
#define OT_DEF_LN_GRAD(SUF, T, CT)                                                                       \
    static void ot_ln_grad_##SUF(const T *x, const T *dy, const T *scale, int64_t P, int64_t Pb, T *dx,    \
                                 int64_t rows, int64_t D, double eps, bool rms, const void *dmean,       \
                                 ot_dtype dmean_dt, const void *dinv, ot_dtype dinv_dt, double *part,     \
                                 int nblk) {                                                             \
        const int64_t per = (rows + nblk - 1) / nblk;                                                    \
        const int64_t ps = P > D ? D : P, pbs = Pb > D ? D : Pb; /* period within a row */               \
        _Pragma("omp parallel for schedule(static) if (rows * D >= OT_NORM_GRAD_PAR_MIN && nblk > 1)")    \
        for (int b = 0; b < nblk; b++) {                                                                 \
            double *dsp = part + (int64_t)b * (P + Pb), *dbp = dsp + P;                                  \
            memset(dsp, 0, sizeof(double) * (size_t)(P + Pb));                                           \
            int64_t r1 = ((int64_t)b + 1) * per < rows ? ((int64_t)b + 1) * per : rows;                  \
            for (int64_t r = (int64_t)b * per; r < r1; r++) {                                            \
                const T *xp = x + r * D, *dyp = dy + r * D;                                              \
                int64_t so = P > D ? (r * D) % P : 0, bo = Pb > D ? (r * D) % Pb : 0;                    \
                const T *sp = scale + so;                                                                \
                double k = D > 0 && !rms ? (double)LD_##SUF(xp, 0) : 0, a[4] = {0}, mean, inv;           \
                for (int64_t j0 = 0; j0 < D; j0 += ps) ot_gacc_w_##SUF(xp + j0, dyp + j0, sp, ps, k, a); \
                ot_grad_stats(k, a, (double)D, eps, rms, &mean, &inv);                                   \
                double sg = a[2], sgc = a[3] - (mean - k) * sg; /* sum(g), sum(g * (x - mean)) */       \
                double dm = dmean ? ot_load_f64(dmean_dt, dmean, r) : 0;                                 \
                double di = dinv ? ot_load_f64(dinv_dt, dinv, r) : 0;                                   \
                double B = -inv * inv * inv * sgc / (double)D - di * inv * inv * inv / (double)D;        \
                double C0 = rms ? 0 : (-inv * sg + dm) / (double)D;                                      \
                const CT a_ = (CT)inv, b_ = (CT)B, c_ = (CT)C0, m_ = (CT)mean;                           \
                T *dxp = dx ? dx + r * D : NULL;                                                         \
                bool fused = Pb == P; /* bias sums share the scale's index */                            \
                for (int64_t j0 = 0; j0 < D; j0 += ps) {                                                 \
                    double *dsj = dsp + so, *dbj = dbp + so;                                             \
                    if (dxp && fused) { /* the usual case, branch-free */                                \
                        for (int64_t j = 0; j < ps; j++) {                                               \
                            CT xc = LD_##SUF(xp, j0 + j) - m_, e = LD_##SUF(dyp, j0 + j);               \
                            dsj[j] += (double)e * (double)(xc * a_);                                     \
                            dbj[j] += (double)e;                                                         \
                            ST_##SUF(dxp, j0 + j, a_ * e * LD_##SUF(sp, j) + xc * b_ + c_);              \
                        }                                                                                \
                        continue;                                                                        \
                    }                                                                                    \
                    if (dxp && Pb == 0) { /* no bias (RMSNormalization, LayerNormalization without B) */ \
                        for (int64_t j = 0; j < ps; j++) {                                               \
                            CT xc = LD_##SUF(xp, j0 + j) - m_, e = LD_##SUF(dyp, j0 + j);               \
                            dsj[j] += (double)e * (double)(xc * a_);                                     \
                            ST_##SUF(dxp, j0 + j, a_ * e * LD_##SUF(sp, j) + xc * b_ + c_);              \
                        }                                                                                \
                        continue;                                                                        \
                    }                                                                                    \
                    for (int64_t j = 0; j < ps; j++) {                                                   \
                        CT xc = LD_##SUF(xp, j0 + j) - m_, e = LD_##SUF(dyp, j0 + j);                   \
                        dsj[j] += (double)e * (double)(xc * a_);                                         \
                        if (fused) dbj[j] += (double)e;                                                  \
                        if (dxp) ST_##SUF(dxp, j0 + j, a_ * e * LD_##SUF(sp, j) + xc * b_ + c_);         \
                    }                                                                                    \
                }                                                                                        \
                if (!fused && Pb > 0)                                                                    \
                    for (int64_t j0 = 0; j0 < D; j0 += pbs)                                              \
                        for (int64_t j = 0; j < pbs; j++) dbp[bo + j] += (double)LD_##SUF(dyp, j0 + j);  \
            }                                                                                            \
        }                                                                                                \
    }

/* ---- GroupNormalization / InstanceNormalization: x (N, G, CG, S) ------------
 * One (n, g) slice per task; per-(n, scale entry) partial sums go to part,
 * reduced over n afterwards.  part layout: [0, N*K) dscale, [N*K, 2*N*K) dbias. */
#define OT_DEF_GN_GRAD(SUF, T, CT)                                                                       \
    static void ot_gn_grad_##SUF(const T *x, const T *dy, const T *scale, T *dx, int64_t N, int64_t G,   \
                                 int64_t CG, int64_t S, bool per_channel, double eps, double *part) {    \
        const int64_t K = per_channel ? G * CG : G, len = CG * S, slices = N * G;                        \
        double *ps_all = part, *pb_all = part + N * K;                                                   \
        _Pragma("omp parallel for schedule(static) if (slices * len >= OT_NORM_GRAD_PAR_MIN)")           \
        for (int64_t sl = 0; sl < slices; sl++) {                                                        \
            const int64_t n = sl / G, g = sl % G;                                                        \
            const T *xs = x + sl * len, *dys = dy + sl * len;                                            \
            double k = len > 0 ? (double)LD_##SUF(xs, 0) : 0, a[4] = {0}, mean, inv;                     \
            double *pss = ps_all + n * K + (per_channel ? g * CG : g);                                   \
            double *pbs = pb_all + n * K + (per_channel ? g * CG : g);                                   \
            /* per channel: sum(dy) and sum(dy * (x - k)) (shifted), then the scaled totals */         \
            double sg = 0, sgk = 0, tdy = 0, tdyk = 0;                                                   \
            for (int64_t cg = 0; cg < CG; cg++) {                                                        \
                double ac[4] = {0};                                                                      \
                ot_gacc_##SUF(xs + cg * S, dys + cg * S, S, k, ac);                                      \
                double w = (double)LD_##SUF(scale, per_channel ? g * CG + cg : g);                       \
                a[0] += ac[0];                                                                           \
                a[1] += ac[1];                                                                           \
                sg += w * ac[2];                                                                         \
                sgk += w * ac[3];                                                                        \
                if (per_channel) {                                                                       \
                    pbs[cg] = ac[2];                                                                     \
                    pss[cg] = ac[3];                                                                     \
                } else {                                                                                 \
                    tdy += ac[2];                                                                        \
                    tdyk += ac[3];                                                                       \
                }                                                                                        \
            }                                                                                            \
            ot_grad_stats(k, a, (double)len, eps, false, &mean, &inv);                                   \
            double shift = mean - k;                                                                     \
            if (per_channel) {                                                                           \
                for (int64_t cg = 0; cg < CG; cg++) pss[cg] = inv * (pss[cg] - shift * pbs[cg]);         \
            } else {                                                                                     \
                pbs[0] = tdy;                                                                            \
                pss[0] = inv * (tdyk - shift * tdy);                                                     \
            }                                                                                            \
            if (!dx || len == 0) continue;                                                               \
            double sgc = sgk - shift * sg; /* sum(g * (x - mean)) */                                     \
            const CT b_ = (CT)(-inv * inv * inv * sgc / (double)len), c_ = (CT)(-inv * sg / (double)len); \
            const CT m_ = (CT)mean;                                                                      \
            for (int64_t cg = 0; cg < CG; cg++) {                                                        \
                const CT a_ = (CT)(inv * (double)LD_##SUF(scale, per_channel ? g * CG + cg : g));        \
                const T *xc = xs + cg * S, *dyc = dys + cg * S;                                          \
                T *dxc = dx + sl * len + cg * S;                                                         \
                for (int64_t i = 0; i < S; i++)                                                          \
                    ST_##SUF(dxc, i, LD_##SUF(dyc, i) * a_ + (LD_##SUF(xc, i) - m_) * b_ + c_);          \
            }                                                                                            \
        }                                                                                                \
    }

#define OT_DEF_ALL_GRAD(SUF, T, CT) \
    OT_DEF_GACC(SUF, T)             \
    OT_DEF_BN_GRAD(SUF, T, CT)      \
    OT_DEF_LN_GRAD(SUF, T, CT)      \
    OT_DEF_GN_GRAD(SUF, T, CT)

OT_DEF_ALL_GRAD(f32, float, float)
OT_DEF_ALL_GRAD(f64, double, double)
OT_DEF_ALL_GRAD(f16, uint16_t, float)
OT_DEF_ALL_GRAD(bf16, uint16_t, float)

void ot_cpu_batch_norm_grad(ot_dtype dt, const void *x, const void *dy, void *dx, int64_t N, int64_t C, int64_t inner,
                            const ot_bn_grad_args *a) {
#define CALL(SUF, T) ot_bn_grad_##SUF((const T *)x, (const T *)dy, (T *)dx, N, C, inner, a)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
}

int ot_cpu_layer_norm_grad_blocks(int64_t rows, int64_t D, int64_t P, int64_t Pb) {
    /* Enough blocks for the threads, while the partial sums stay small next
       to the data (P may span several rows). */
    int64_t n = rows < OT_LN_GRAD_MAX_BLOCKS ? rows : OT_LN_GRAD_MAX_BLOCKS;
    while (n > 1 && n * (P + Pb) > 4 * rows * D + 65536) n /= 2;
    return n < 1 ? 1 : (int)n;
}

void ot_cpu_layer_norm_grad(ot_dtype dt, const void *x, const void *dy, const void *scale, int64_t P, int64_t Pb,
                            void *dx, int64_t rows, int64_t D, double eps, bool rms, const void *dmean,
                            ot_dtype dmean_dt, const void *dinv, ot_dtype dinv_dt, double *part, int nblk,
                            double *dscale, double *dbias) {
    if (P <= 0 || rows <= 0 || D <= 0) { /* nothing to normalise: zero parameter gradients */
        for (int64_t j = 0; j < P; j++) dscale[j] = 0;
        for (int64_t j = 0; j < Pb; j++) dbias[j] = 0;
        return;
    }
    if (Pb < 0) Pb = 0;
#define CALL(SUF, T)                                                                                           \
    ot_ln_grad_##SUF((const T *)x, (const T *)dy, (const T *)scale, P, Pb, (T *)dx, rows, D, eps, rms, dmean, \
                     dmean_dt, dinv, dinv_dt, part, nblk)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
    int64_t W = P + Pb;
#pragma omp parallel for schedule(static) if (W * nblk >= OT_NORM_GRAD_PAR_MIN)
    for (int64_t j = 0; j < W; j++) {
        double s = 0;
        for (int b = 0; b < nblk; b++) s += part[(int64_t)b * W + j];
        if (j < P) dscale[j] = s;
        else dbias[j - P] = s;
    }
}

void ot_cpu_group_norm_grad(ot_dtype dt, const void *x, const void *dy, const void *scale, void *dx, int64_t N,
                            int64_t G, int64_t CG, int64_t S, bool per_channel, double eps, double *part,
                            double *dscale, double *dbias) {
    int64_t K = per_channel ? G * CG : G;
#define CALL(SUF, T) \
    ot_gn_grad_##SUF((const T *)x, (const T *)dy, (const T *)scale, (T *)dx, N, G, CG, S, per_channel, eps, part)
    OT_FLOAT_DISPATCH(dt, CALL)
#undef CALL
    for (int64_t kk = 0; kk < K; kk++) {
        double s = 0, b = 0;
        for (int64_t n = 0; n < N; n++) {
            s += part[n * K + kk];
            b += part[N * K + n * K + kk];
        }
        dscale[kk] = s;
        dbias[kk] = b;
    }
}
