/* Kernels of CausalConvWithState, LinearAttention and FlexAttention's
 * modifier path (see attention_ext.h).  The typed loops are written once
 * below `#ifdef AE_R` and compiled twice, for float and double, by this file
 * including itself. */
#ifndef AE_R

#include "attention_ext.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "src/core/dtype.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

/* ---- staging ----------------------------------------------------------------------- */

ot_dtype ot_ae_compute_type(ot_dtype main) { return main == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT; }

static void *convert_alloc(ot_dtype ct, int64_t n) { return ot_workspace_alloc((size_t)n * ot_dtype_size(ct)); }

ot_status ot_ae_stage_in(ot_dtype ct, const ot_tensor *t, const void **buf, void **owned) {
    *owned = NULL;
    *buf = NULL;
    if (!t) return OT_OK;
    if (t->dtype == ct) {
        *buf = t->data;
        return OT_OK;
    }
    int64_t n = ot_tensor_numel(t);
    void *b = convert_alloc(ct, n);
    if (!b) return ot_error(OT_ERR_NOMEM, "out of memory staging a %s operand", ot_dtype_name(t->dtype));
    for (int64_t i = 0; i < n; i++)
        ot_store_f64(ct, b, i, ot_load_f64(t->dtype, t->data, i));
    *buf = *owned = b;
    return OT_OK;
}

ot_status ot_ae_stage_buf(ot_dtype ct, ot_tensor *t, void **buf, void **owned) {
    *owned = NULL;
    *buf = NULL;
    if (!t) return OT_OK;
    if (t->dtype == ct) {
        *buf = t->data;
        return OT_OK;
    }
    void *b = convert_alloc(ct, ot_tensor_numel(t));
    if (!b) return ot_error(OT_ERR_NOMEM, "out of memory staging a %s output", ot_dtype_name(t->dtype));
    memset(b, 0, (size_t)ot_tensor_numel(t) * ot_dtype_size(ct));
    *buf = *owned = b;
    return OT_OK;
}

void ot_ae_stage_out(ot_dtype ct, ot_tensor *t, void *owned) {
    if (!owned) return;
    int64_t n = ot_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        ot_store_f64(t->dtype, t->data, i, ot_load_f64(ct, owned, i));
    ot_workspace_free(owned);
}

void ot_ae_release(void *owned) {
    if (owned) ot_workspace_free(owned);
}

/* ---- the typed loops, for float and double --------------------------------------------- */

#define AE_R float
#define AE_EXP expf
#define AE(name) name##_f32
#define AE_GEMM cblas_sgemm
#include "attention_ext.c"
#undef AE_R
#undef AE_EXP
#undef AE
#undef AE_GEMM

#define AE_R double
#define AE_EXP exp
#define AE(name) name##_f64
#define AE_GEMM cblas_dgemm
#include "attention_ext.c"

/* ---- entry points ------------------------------------------------------------------- */

void ot_ccs_forward(const ot_ccs_args *a) {
    if (a->dbl) ccs_fwd_f64(a);
    else ccs_fwd_f32(a);
}

ot_status ot_ccs_backward(const ot_ccs_args *a) {
    return a->dbl ? ccs_bwd_f64(a) : ccs_bwd_f32(a);
}

ot_status ot_la_forward(const ot_la_args *a) { return a->dbl ? la_fwd_f64(a) : la_fwd_f32(a); }
ot_status ot_la_backward(const ot_la_args *a) { return a->dbl ? la_bwd_f64(a) : la_bwd_f32(a); }

void ot_flex_scores(const ot_flex_args *a, void *scores) {
    if (a->dbl) flex_scores_f64(a, scores);
    else flex_scores_f32(a, scores);
}
void ot_flex_softmax(bool dbl, int64_t rows, int64_t len, void *x) {
    if (dbl) flex_softmax_f64(rows, len, x);
    else flex_softmax_f32(rows, len, x);
}
void ot_flex_pv(const ot_flex_args *a, const void *p, void *y) {
    if (a->dbl) flex_pv_f64(a, p, y);
    else flex_pv_f32(a, p, y);
}

#else /* AE_R: the typed loops */

typedef AE_R AE(real);
#define R AE(real)

/* ---- CausalConvWithState ------------------------------------------------------------ */

/* Element s of the padded sequence [past | x] of row (b, c). */
static inline R AE(ccs_p)(const ot_ccs_args *a, const R *past, const R *x, int64_t b, int64_t c, int64_t s) {
    int64_t K1 = a->K - 1;
    if (s < K1) return past ? past[(b * a->C + c) * K1 + s] : 0;
    return x[(b * a->C + c) * a->L + s - K1];
}

/* The pre-activation z[t] of row (b, c). */
static inline R AE(ccs_z)(const ot_ccs_args *a, const R *x, const R *w, const R *bias, const R *past, int64_t b,
                          int64_t c, int64_t t) {
    R z = bias ? bias[c] : 0;
    const R *wc = w + c * a->K;
    if (t >= a->K - 1) { /* the window lies inside x: the common, vectorisable case */
        const R *xs = x + (b * a->C + c) * a->L + t - (a->K - 1);
        for (int64_t j = 0; j < a->K; j++)
            z += wc[j] * xs[j];
    } else {
        for (int64_t j = 0; j < a->K; j++)
            z += wc[j] * AE(ccs_p)(a, past, x, b, c, t + j);
    }
    return z;
}

static void AE(ccs_fwd)(const ot_ccs_args *a) {
    const R *x = a->x, *w = a->w, *bias = a->bias, *past = a->past;
    R *y = a->y, *present = a->present;
    int64_t K1 = a->K - 1, rows = a->B * a->C;
#pragma omp parallel for schedule(static) if (rows * a->L * a->K > 32768)
    for (int64_t bc = 0; bc < rows; bc++) {
        int64_t b = bc / a->C, c = bc % a->C;
        if (y)
            for (int64_t t = 0; t < a->L; t++) {
                R z = AE(ccs_z)(a, x, w, bias, past, b, c, t);
                y[bc * a->L + t] = a->silu ? z / (1 + AE_EXP(-z)) : z;
            }
        if (present)
            for (int64_t s = 0; s < K1; s++)
                present[bc * K1 + s] = AE(ccs_p)(a, past, x, b, c, a->L + s);
    }
}

static ot_status AE(ccs_bwd)(const ot_ccs_args *a) {
    const R *x = a->x, *w = a->w, *bias = a->bias, *past = a->past, *dy = a->dy, *dpres = a->dpresent;
    R *dx = a->dx, *dw = a->dw, *dbias = a->dbias, *dpast = a->dpast;
    int64_t K = a->K, K1 = K - 1, L = a->L, P = L + K1;
    int failed = 0;
    /* One channel per iteration: dw and dbias sum over the batch without races. */
#pragma omp parallel for schedule(static) if (a->C * a->B * L * K > 32768)
    for (int64_t c = 0; c < a->C; c++) {
        R *dz = ot_workspace_alloc(sizeof(R) * (size_t)(L + P));
        if (!dz) {
#pragma omp atomic write
            failed = 1;
            continue;
        }
        R *dp = dz + L; /* gradient of the padded sequence (P) */
        R db = 0;
        if (dw)
            for (int64_t j = 0; j < K; j++)
                dw[c * K + j] = 0;
        for (int64_t b = 0; b < a->B; b++) {
            int64_t bc = b * a->C + c;
            for (int64_t t = 0; t < L; t++) {
                R g = dy ? dy[bc * L + t] : 0;
                if (a->silu && g != 0) {
                    R z = AE(ccs_z)(a, x, w, bias, past, b, c, t), s = 1 / (1 + AE_EXP(-z));
                    g *= s * (1 + z * (1 - s));
                }
                dz[t] = g;
                db += g;
            }
            for (int64_t s = 0; s < P; s++)
                dp[s] = 0;
            for (int64_t s = 0; s < K1 && dpres; s++)
                dp[L + s] += dpres[bc * K1 + s];
            const R *wc = w + c * K;
            for (int64_t t = 0; t < L; t++)
                for (int64_t j = 0; j < K; j++)
                    dp[t + j] += wc[j] * dz[t];
            if (dw)
                for (int64_t j = 0; j < K; j++) {
                    R acc = 0;
                    for (int64_t t = 0; t < L; t++)
                        acc += dz[t] * AE(ccs_p)(a, past, x, b, c, t + j);
                    dw[c * K + j] += acc;
                }
            if (dx)
                for (int64_t t = 0; t < L; t++)
                    dx[bc * L + t] = dp[K1 + t];
            if (dpast)
                for (int64_t s = 0; s < K1; s++)
                    dpast[bc * K1 + s] = dp[s];
        }
        if (dbias) dbias[c] = db;
        ot_workspace_free(dz);
    }
    return failed ? ot_error(OT_ERR_NOMEM, "out of memory in CausalConvWithState's backward") : OT_OK;
}

/* ---- LinearAttention --------------------------------------------------------------- */

/* Row pointers of step t for kv head h of batch b. */
#define LA_K(a, b, t, h) ((const R *)(a)->k + (((b) * (a)->T + (t)) * (a)->Hkv + (h)) * (a)->dk)
#define LA_V(a, b, t, h) ((const R *)(a)->v + (((b) * (a)->T + (t)) * (a)->Hkv + (h)) * (a)->dv)
#define LA_Q(a, b, t, hq) ((const R *)(a)->q + (((b) * (a)->T + (t)) * (a)->Hq + (hq)) * (a)->dk)
#define LA_ROW(b, t, h, H, n) ((((b) * T + (t)) * (H) + (h)) * (n))

/* The decay factors a_i = exp(g_i) of step t (dk of them), and beta. */
static void AE(la_gate)(const ot_la_args *a, int64_t b, int64_t t, int64_t h, R *gate, R *beta) {
    int64_t T = a->T;
    if (a->gated) {
        const R *g = a->decay;
        if (a->decay_per_key)
            for (int64_t i = 0; i < a->dk; i++)
                gate[i] = AE_EXP(g[LA_ROW(b, t, h, a->Hkv, a->dk) + i]);
        else
            for (int64_t i = 0; i < a->dk; i++)
                gate[i] = AE_EXP(g[(b * T + t) * a->Hkv + h]);
    }
    if (a->delta) *beta = ((const R *)a->beta)[(b * T + t) * a->nbeta + (a->nbeta == 1 ? 0 : h)];
}

/* One step on state S (dk, dv): gate, retrieve r = S^T k, u, write k u^T.
   A (when non-NULL) receives the gated state before the write. */
static void AE(la_step)(const ot_la_args *a, R *S, const R *gate, R beta, const R *kt, const R *vt, R *u, R *r) {
    int64_t dk = a->dk, dv = a->dv;
    if (a->gated)
        for (int64_t i = 0; i < dk; i++)
            for (int64_t m = 0; m < dv; m++)
                S[i * dv + m] *= gate[i];
    if (a->delta) {
        for (int64_t m = 0; m < dv; m++)
            r[m] = 0;
        for (int64_t i = 0; i < dk; i++)
            for (int64_t m = 0; m < dv; m++)
                r[m] += S[i * dv + m] * kt[i];
        for (int64_t m = 0; m < dv; m++)
            u[m] = beta * (vt[m] - r[m]);
    } else {
        for (int64_t m = 0; m < dv; m++)
            u[m] = vt[m];
    }
    for (int64_t i = 0; i < dk; i++)
        for (int64_t m = 0; m < dv; m++)
            S[i * dv + m] += kt[i] * u[m];
}

static ot_status AE(la_fwd)(const ot_la_args *a) {
    int64_t T = a->T, dk = a->dk, dv = a->dv, G = a->Hq / a->Hkv, n = a->B * a->Hkv;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) if (n > 1 && T * dk * dv * n > 16384)
    for (int64_t bh = 0; bh < n; bh++) {
        int64_t b = bh / a->Hkv, h = bh % a->Hkv;
        R *tmp = ot_workspace_alloc(sizeof(R) * (size_t)(dk * dv + 2 * dv + dk));
        if (!tmp) {
#pragma omp atomic write
            failed = 1;
            continue;
        }
        R *S = tmp, *u = S + dk * dv, *r = u + dv, *gate = r + dv, beta = 0;
        if (a->past) memcpy(S, (const R *)a->past + bh * dk * dv, sizeof(R) * (size_t)(dk * dv));
        else memset(S, 0, sizeof(R) * (size_t)(dk * dv));
        for (int64_t t = 0; t < T; t++) {
            AE(la_gate)(a, b, t, h, gate, &beta);
            AE(la_step)(a, S, gate, beta, LA_K(a, b, t, h), LA_V(a, b, t, h), u, r);
            if (!a->o) continue;
            for (int64_t j = 0; j < G; j++) {
                const R *qt = LA_Q(a, b, t, h * G + j);
                R *o = (R *)a->o + LA_ROW(b, t, h * G + j, a->Hq, dv);
                for (int64_t m = 0; m < dv; m++)
                    o[m] = 0;
                for (int64_t i = 0; i < dk; i++)
                    for (int64_t m = 0; m < dv; m++)
                        o[m] += qt[i] * S[i * dv + m];
                for (int64_t m = 0; m < dv; m++)
                    o[m] *= (R)a->scale;
            }
        }
        if (a->present) memcpy((R *)a->present + bh * dk * dv, S, sizeof(R) * (size_t)(dk * dv));
        ot_workspace_free(tmp);
    }
    return failed ? ot_error(OT_ERR_NOMEM, "out of memory in LinearAttention") : OT_OK;
}

/* Reverse mode through the recurrence.  The forward is replayed first,
   keeping the state entering every step (T x dk x dv per kv head); then the
   steps run backwards carrying dS, the gradient of the state after step t. */
static ot_status AE(la_bwd)(const ot_la_args *a) {
    int64_t T = a->T, dk = a->dk, dv = a->dv, G = a->Hq / a->Hkv, n = a->B * a->Hkv, ss = dk * dv;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) if (n > 1 && T * ss * n > 16384)
    for (int64_t bh = 0; bh < n; bh++) {
        int64_t b = bh / a->Hkv, h = bh % a->Hkv;
        R *mem = ot_workspace_alloc(sizeof(R) * (size_t)((T + 3) * ss + 4 * dv + 2 * dk));
        if (!mem) {
#pragma omp atomic write
            failed = 1;
            continue;
        }
        R *Ps = mem, *S = Ps + T * ss, *A = S + ss, *dS = A + ss, *u = dS + ss, *r = u + dv, *du = r + dv,
          *dr = du + dv, *gate = dr + dv, *dkt = gate + dk, beta = 0;
        if (a->past) memcpy(S, (const R *)a->past + bh * ss, sizeof(R) * (size_t)ss);
        else memset(S, 0, sizeof(R) * (size_t)ss);
        for (int64_t t = 0; t < T; t++) {
            memcpy(Ps + t * ss, S, sizeof(R) * (size_t)ss);
            AE(la_gate)(a, b, t, h, gate, &beta);
            AE(la_step)(a, S, gate, beta, LA_K(a, b, t, h), LA_V(a, b, t, h), u, r);
        }
        if (a->dpresent) memcpy(dS, (const R *)a->dpresent + bh * ss, sizeof(R) * (size_t)ss);
        else memset(dS, 0, sizeof(R) * (size_t)ss);
        R sc = (R)a->scale;
        for (int64_t t = T - 1; t >= 0; t--) {
            const R *P = Ps + t * ss, *kt = LA_K(a, b, t, h), *vt = LA_V(a, b, t, h);
            /* recompute step t: A = gate * P, then S = A + k u^T */
            AE(la_gate)(a, b, t, h, gate, &beta);
            memcpy(A, P, sizeof(R) * (size_t)ss);
            memcpy(S, P, sizeof(R) * (size_t)ss);
            AE(la_step)(a, S, gate, beta, kt, vt, u, r);
            if (a->gated)
                for (int64_t i = 0; i < dk; i++)
                    for (int64_t m = 0; m < dv; m++)
                        A[i * dv + m] *= gate[i];
            /* the reads o = sc S^T q of every query head in the group */
            for (int64_t j = 0; j < G && !a->dout && a->dq; j++)
                memset((R *)a->dq + LA_ROW(b, t, h * G + j, a->Hq, dk), 0, sizeof(R) * (size_t)dk);
            for (int64_t j = 0; j < G && a->dout; j++) {
                int64_t hq = h * G + j;
                const R *qt = LA_Q(a, b, t, hq), *dot = (const R *)a->dout + LA_ROW(b, t, hq, a->Hq, dv);
                for (int64_t i = 0; i < dk; i++) {
                    R acc = 0, qi = sc * qt[i];
                    for (int64_t m = 0; m < dv; m++) {
                        acc += S[i * dv + m] * dot[m];
                        dS[i * dv + m] += qi * dot[m];
                    }
                    if (a->dq) ((R *)a->dq)[LA_ROW(b, t, hq, a->Hq, dk) + i] = sc * acc;
                }
            }
            /* the write S = A + k u^T */
            for (int64_t m = 0; m < dv; m++)
                du[m] = 0;
            for (int64_t i = 0; i < dk; i++) {
                R acc = 0;
                for (int64_t m = 0; m < dv; m++) {
                    du[m] += dS[i * dv + m] * kt[i];
                    acc += dS[i * dv + m] * u[m];
                }
                dkt[i] = acc;
            }
            R *dvt = a->dv_ ? (R *)a->dv_ + LA_ROW(b, t, h, a->Hkv, dv) : NULL;
            if (a->delta) { /* u = beta (v - A^T k) */
                R db = 0;
                for (int64_t m = 0; m < dv; m++) {
                    db += du[m] * (vt[m] - r[m]);
                    dr[m] = -beta * du[m];
                    if (dvt) dvt[m] = beta * du[m];
                }
                if (a->dbeta) ((R *)a->dbeta)[(b * T + t) * a->Hkv + h] = db;
                for (int64_t i = 0; i < dk; i++) {
                    R acc = 0;
                    for (int64_t m = 0; m < dv; m++) {
                        acc += A[i * dv + m] * dr[m];
                        dS[i * dv + m] += kt[i] * dr[m]; /* dS now holds dA */
                    }
                    dkt[i] += acc;
                }
            } else if (dvt) {
                for (int64_t m = 0; m < dv; m++)
                    dvt[m] = du[m];
            }
            if (a->dk_) memcpy((R *)a->dk_ + LA_ROW(b, t, h, a->Hkv, dk), dkt, sizeof(R) * (size_t)dk);
            /* the gate A = exp(g) P: dg_i = exp(g_i) sum_m dA P, dP = exp(g) dA */
            if (a->gated) {
                R tot = 0;
                for (int64_t i = 0; i < dk; i++) {
                    R acc = 0;
                    for (int64_t m = 0; m < dv; m++) {
                        acc += dS[i * dv + m] * P[i * dv + m];
                        dS[i * dv + m] *= gate[i];
                    }
                    acc *= gate[i];
                    if (a->decay_per_key && a->ddecay) ((R *)a->ddecay)[LA_ROW(b, t, h, a->Hkv, dk) + i] = acc;
                    tot += acc;
                }
                if (!a->decay_per_key && a->ddecay) ((R *)a->ddecay)[(b * T + t) * a->Hkv + h] = tot;
            }
        }
        if (a->dpast) memcpy((R *)a->dpast + bh * ss, dS, sizeof(R) * (size_t)ss);
        ot_workspace_free(mem);
    }
    return failed ? ot_error(OT_ERR_NOMEM, "out of memory in LinearAttention's backward") : OT_OK;
}

#undef LA_K
#undef LA_V
#undef LA_Q
#undef LA_ROW

/* ---- FlexAttention: scores, softmax, P V ------------------------------------------------- */

static void AE(flex_scores)(const ot_flex_args *a, void *scores) {
    int64_t G = a->Hq / a->Hkv, n = a->B * a->Hq;
#pragma omp parallel for schedule(static) if (n > 1 && n * a->L * a->S * a->D > 65536)
    for (int64_t bh = 0; bh < n; bh++) {
        int64_t b = bh / a->Hq, hk = (bh % a->Hq) / G;
        const R *q = (const R *)a->q + bh * a->L * a->D, *k = (const R *)a->k + (b * a->Hkv + hk) * a->S * a->D;
        AE_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)a->L, (int)a->S, (int)a->D, (R)a->scale, q, (int)a->D, k,
                (int)a->D, 0, (R *)scores + bh * a->L * a->S, (int)a->S);
    }
}

static void AE(flex_softmax)(int64_t rows, int64_t len, void *xv) {
#pragma omp parallel for schedule(static) if (rows * len > 65536)
    for (int64_t r = 0; r < rows; r++) {
        R *x = (R *)xv + r * len, mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < len; j++)
            mx = x[j] > mx ? x[j] : mx;
        if (mx == -INFINITY) mx = 0; /* a fully masked row: NaN, as exp(-inf - -inf) in the reference */
        for (int64_t j = 0; j < len; j++) {
            x[j] = AE_EXP(x[j] - mx);
            sum += x[j];
        }
        for (int64_t j = 0; j < len; j++)
            x[j] /= sum;
    }
}

static void AE(flex_pv)(const ot_flex_args *a, const void *p, void *y) {
    int64_t G = a->Hq / a->Hkv, n = a->B * a->Hq;
#pragma omp parallel for schedule(static) if (n > 1 && n * a->L * a->S * a->Dv > 65536)
    for (int64_t bh = 0; bh < n; bh++) {
        int64_t b = bh / a->Hq, hk = (bh % a->Hq) / G;
        const R *v = (const R *)a->v + (b * a->Hkv + hk) * a->S * a->Dv;
        AE_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)a->L, (int)a->Dv, (int)a->S, 1, (const R *)p + bh * a->L * a->S,
                (int)a->S, v, (int)a->Dv, 0, (R *)y + bh * a->L * a->Dv, (int)a->Dv);
    }
}

#undef R

#endif /* AE_R */
