#include "fp_select.h" /* first: it sets optimisation pragmas */
#include "attention.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "elementwise_fastmath.h"
#include "matmul.h"
#include "simd_clones.h"
#include "src/core/dtype.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

/* Scores per row block: 32K float32 (128 KB) stay in L2 between the QK^T
   GEMM writing them, the row pass and the PV GEMM reading them. */
#define OT_ATTN_BLOCK 32768
/* Below this many multiply-adds a call is not worth a thread team. */
#define OT_ATTN_SMALL_WORK ((int64_t)1 << 17)

#define AT(p, off) ((char *)(p) + (size_t)(off)*es)
#define CAT(p, off) ((const char *)(p) + (size_t)(off)*es)

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ---- row passes (softcap, bias, softmax and its gradient) ------------------------ */

/* The row passes are compiled for AVX2 too (OT_SIMD_CLONES): they are the
   non-GEMM half of the work.  ACC: the type of the row sums. */
#define OT_ATTN_ROWS(SFX, T, ACC, EXP, TANH)                                                                           \
    /* s = c * tanh(s / c); tn (when given) keeps tanh(s / c) for the backward. */                                     \
    OT_SIMD_CLONES static void softcap_##SFX(T *s, T *tn, int64_t n, T c) {                                            \
        const T inv = (T)1 / c;                                                                                        \
        if (tn) {                                                                                                      \
            _Pragma("omp simd") for (int64_t j = 0; j < n; j++) {                                                      \
                T t = TANH(s[j] * inv);                                                                                \
                tn[j] = t;                                                                                             \
                s[j] = c * t;                                                                                          \
            }                                                                                                          \
        } else {                                                                                                       \
            _Pragma("omp simd") for (int64_t j = 0; j < n; j++) s[j] = c * TANH(s[j] * inv);                           \
        }                                                                                                              \
    }                                                                                                                  \
    /* The row's bias: the mask (bool: -inf where false; else added), and -inf                                         \
       from column `limit` on (causal, padding). */                                                                    \
    OT_SIMD_CLONES static void bias_##SFX(T *s, int64_t n, int64_t limit, const void *mask, ot_dtype mdt,              \
                                          int64_t step) {                                                              \
        int64_t m = min64(limit, n);                                                                                   \
        if (mask && mdt == OT_BOOL) {                                                                                  \
            const uint8_t *mb = mask;                                                                                  \
            _Pragma("omp simd") for (int64_t j = 0; j < m; j++) s[j] = mb[j * step] ? s[j] : (T)-INFINITY;             \
        } else if (mask) {                                                                                             \
            const T *mv = mask;                                                                                        \
            _Pragma("omp simd") for (int64_t j = 0; j < m; j++) s[j] += mv[j * step];                                  \
        }                                                                                                              \
        for (int64_t j = max64(m, 0); j < n; j++)                                                                      \
            s[j] = (T)-INFINITY;                                                                                       \
    }                                                                                                                  \
    /* Stable softmax in place.  A row with no finite score (every key masked)                                         \
       becomes zeros, as PyTorch's scaled_dot_product_attention gives: NaN                                             \
       would poison the whole step through rows a loss never reads. */                                                 \
    OT_SIMD_CLONES static void softmax_##SFX(T *s, int64_t n) {                                                        \
        T mx = (T)-INFINITY;                                                                                           \
        _Pragma("omp simd reduction(max:mx)") for (int64_t j = 0; j < n; j++) mx = s[j] > mx ? s[j] : mx;              \
        if (mx == (T)-INFINITY) {                                                                                      \
            memset(s, 0, sizeof(T) * (size_t)n);                                                                       \
            return;                                                                                                    \
        }                                                                                                              \
        ACC sum = 0;                                                                                                   \
        _Pragma("omp simd reduction(+:sum)") for (int64_t j = 0; j < n; j++) {                                         \
            T e = EXP(s[j] - mx);                                                                                      \
            s[j] = e;                                                                                                  \
            sum += e;                                                                                                  \
        }                                                                                                              \
        const T inv = (T)(1.0 / sum);                                                                                  \
        _Pragma("omp simd") for (int64_t j = 0; j < n; j++) s[j] *= inv;                                               \
    }                                                                                                                  \
    /* dp <- p * (dp - sum(p * dp)): the softmax's gradient for one row. */                                            \
    OT_SIMD_CLONES static void dsoftmax_##SFX(const T *p, T *dp, int64_t n) {                                          \
        ACC dot = 0;                                                                                                   \
        _Pragma("omp simd reduction(+:dot)") for (int64_t j = 0; j < n; j++) dot += p[j] * dp[j];                      \
        const T d = (T)dot;                                                                                            \
        _Pragma("omp simd") for (int64_t j = 0; j < n; j++) dp[j] = p[j] * (dp[j] - d);                                \
    }                                                                                                                  \
    /* dp *= 1 - t^2 (tanh's derivative: the softcap's gradient). */                                                   \
    OT_SIMD_CLONES static void dsoftcap_##SFX(const T *tn, T *dp, int64_t n) {                                         \
        _Pragma("omp simd") for (int64_t j = 0; j < n; j++) dp[j] *= (T)1 - tn[j] * tn[j];                             \
    }                                                                                                                  \
    OT_SIMD_CLONES static void add_##SFX(T *d, const T *s, int64_t n) {                                                \
        _Pragma("omp simd") for (int64_t j = 0; j < n; j++) d[j] += s[j];                                              \
    }

OT_ATTN_ROWS(f32, float, float, ot_fast_expf, ot_fast_tanhf)
OT_ATTN_ROWS(f64, double, double, exp, tanh)

/* ---- plan -------------------------------------------------------------------------- */

/* Strides (elements) of one operand per batch, head and row. */
typedef struct lay {
    int64_t bs, hs, rs;
} lay;

static lay lay_of(bool three_d, int64_t H, int64_t S, int64_t D) {
    if (three_d) return (lay){S * H * D, D, H * D};
    return (lay){H * S * D, S * D, D};
}

typedef struct actx {
    const ot_attn_args *a;
    const void *mask; /* a->mask, or its copy in the compute dtype */
    ot_dtype mdt;     /* OT_BOOL or the compute dtype */
    lay q, k, v, y, pk, pv;
    size_t es;
    int64_t G;    /* query heads per key/value head */
    int64_t rows; /* query rows per block */
    int workers;
} actx;

/* Rows per block and threads.  The forward splits (b, h, row block) items
   over threads; the backward (b, kv head) items, each owning its dK / dV. */
static void plan(const ot_attn_args *a, bool backward, int64_t *rows, int *workers) {
    const ot_attn_shape *s = &a->sh;
    int64_t T = max64(s->T, 1), work = s->B * s->Hq * s->Sq * T * (s->D + s->Dv) * (backward ? 3 : 1);
    int t = work < OT_ATTN_SMALL_WORK ? 1 : omp_get_max_threads();
    int64_t r = min64(max64(OT_ATTN_BLOCK / T, 1), max64(s->Sq, 1));
    int64_t base = backward ? s->B * s->Hkv : s->B * s->Hq;
    while (!backward && r > 1 && base * ((s->Sq + r - 1) / r) < t)
        r = (r + 1) / 2;
    int64_t items = backward ? base : base * ((s->Sq + r - 1) / r);
    *rows = r;
    *workers = (int)max64(min64(items, t), 1);
}

/* Scratch elements per thread: scores, and in the backward dP and tanh(S / c). */
static int64_t per_thread(const ot_attn_args *a, bool backward, int64_t rows) {
    int64_t n = rows * a->sh.T;
    return backward ? n * (a->softcap > 0 ? 3 : 2) : n;
}

static size_t compute_size(ot_dtype dt) {
    return dt == OT_DOUBLE ? sizeof(double) : sizeof(float);
}

static bool mask_converted(const ot_attn_args *a) {
    ot_dtype ct = a->dtype == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT;
    return a->mask && a->mask_dtype != OT_BOOL && a->mask_dtype != ct;
}

/* Element counts of the float operands that half-precision calls stage in float32. */
typedef struct half_io {
    const void **in[9];
    int64_t in_n[9];
    void **out[10];
    int64_t out_n[10];
} half_io;

static half_io half_io_of(ot_attn_args *f) {
    const ot_attn_shape *s = &f->sh;
    int64_t nq = s->B * s->Hq * s->Sq * s->D, nk = s->B * s->Hkv * s->Skv * s->D, nv = s->B * s->Hkv * s->Skv * s->Dv;
    int64_t npk = s->B * s->Hkv * s->P * s->D, npv = s->B * s->Hkv * s->P * s->Dv, ny = s->B * s->Hq * s->Sq * s->Dv;
    int64_t nqk = s->B * s->Hq * s->Sq * s->T, ntk = s->B * s->Hkv * s->T * s->D, ntv = s->B * s->Hkv * s->T * s->Dv;
    half_io h = {
        {&f->q, &f->k, &f->v, &f->past_k, &f->past_v, &f->dy, &f->dqk, &f->dpresent_k, &f->dpresent_v},
        {nq, nk, nv, npk, npv, ny, nqk, ntk, ntv},
        {&f->y, &f->present_k, &f->present_v, &f->qk, &f->dq, &f->dk, &f->dv, &f->dmask, &f->dpast_k, &f->dpast_v},
        {ny, ntk, ntv, nqk, nq, nk, nv, s->B * s->Hq * s->Sq * s->Tm, npk, npv},
    };
    return h;
}

static int64_t half_elems(const ot_attn_args *a) {
    if (a->dtype != OT_FLOAT16 && a->dtype != OT_BFLOAT16) return 0;
    ot_attn_args f = *a;
    half_io h = half_io_of(&f);
    int64_t n = 0;
    for (int i = 0; i < 9; i++)
        n += *h.in[i] ? h.in_n[i] : 0;
    for (int i = 0; i < 10; i++)
        n += *h.out[i] ? h.out_n[i] : 0;
    return n;
}

void ot_attention_request_scratch(const ot_attn_args *a, bool backward) {
    int64_t rows;
    int workers;
    plan(a, backward, &rows, &workers);
    size_t es = compute_size(a->dtype), n = (size_t)(workers * per_thread(a, backward, rows)) * es;
    if (mask_converted(a)) n += (size_t)a->sh.mask_numel * es;
    if (half_elems(a)) ot_workspace_request((size_t)half_elems(a) * sizeof(float)); /* run_staged's block */
    ot_workspace_request(n);                                                         /* setup's block */
}

/* ---- shared pieces ------------------------------------------------------------------ */

/* Columns from which row i of batch b sees no key: causal, nonpad, a short mask. */
static int64_t row_limit(const actx *x, int64_t b, int64_t i) {
    const ot_attn_args *a = x->a;
    int64_t lim = a->sh.T;
    if (a->causal) lim = min64(lim, i + a->sh.P + 1);
    if (a->nonpad) lim = min64(lim, max64(a->nonpad[b], 0));
    return min64(lim, a->sh.Tm);
}

static void gemm(ot_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const void *A,
                 int64_t lda, const void *B, int64_t ldb, double beta, void *C, int64_t ldc) {
    if (dt == OT_FLOAT)
        ot_gemm_f32(ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc);
    else
        ot_gemm_f64(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Start of (b, kv head hk) in a past cache, NULL when there is no past. */
static const void *past_at(const actx *x, const void *p, const lay *l, int64_t b, int64_t hk) {
    size_t es = x->es;
    return x->a->sh.P > 0 && p ? CAT(p, b * l->bs + hk * l->hs) : NULL;
}

/* C (rows x N) = alpha * A B (+ beta * C) over the key columns [0, Tc) of a
   score-shaped A (rows x Tc, ld Tc): B's rows are the keys, the past
   segment's (ld ldp), then the new ones (ld ldn). */
static void keys_gemm(const actx *x, int64_t rows, int64_t N, int64_t Tc, double alpha, const void *A,
                      const void *Bpast, int64_t ldp, const void *Bnew, int64_t ldn, double beta, void *C,
                      int64_t ldc) {
    size_t es = x->es;
    int64_t P = x->a->sh.P, c1 = min64(P, Tc), ld = max64(Tc, 1);
    gemm(x->a->dtype, false, false, rows, N, c1, alpha, A, ld, Bpast, ldp, beta, C, ldc);
    if (Tc > P) gemm(x->a->dtype, false, false, rows, N, Tc - P, alpha, CAT(A, P), ld, Bnew, ldn, 1.0, C, ldc);
}

/* Probabilities of query rows [i0, i0 + rows) of (b, h) over key columns
   [0, Tc) into S (rows x Tc); tn keeps tanh(S / c) (softcap, backward);
   write_qk: the forward's qk_matmul_output. */
static void probs(const actx *x, int64_t b, int64_t h, int64_t i0, int64_t rows, int64_t Tc, void *S, void *tn,
                  bool write_qk) {
    const ot_attn_args *a = x->a;
    const ot_attn_shape *s = &a->sh;
    size_t es = x->es;
    int64_t hk = h / x->G, P = s->P, c1 = min64(P, Tc), ld = max64(Tc, 1);
    const void *q = CAT(a->q, b * x->q.bs + h * x->q.hs + i0 * x->q.rs);
    gemm(a->dtype, false, true, rows, c1, s->D, a->scale, q, x->q.rs, past_at(x, a->past_k, &x->pk, b, hk), s->D, 0.0,
         S, ld);
    if (Tc > P)
        gemm(a->dtype, false, true, rows, Tc - P, s->D, a->scale, q, x->q.rs, CAT(a->k, b * x->k.bs + hk * x->k.hs),
             x->k.rs, 0.0, AT(S, P), ld);
    bool qk = write_qk && a->qk;
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = i0 + r, lim = row_limit(x, b, i), row = (b * s->Hq + h) * s->Sq + i;
        char *sr = AT(S, r * Tc), *qo = qk ? AT(a->qk, row * s->T) : NULL;
        const void *m =
            x->mask ? (const char *)x->mask + (size_t)(b * s->mask_str[0] + h * s->mask_str[1] + i * s->mask_str[2]) *
                                                  (x->mdt == OT_BOOL ? 1 : es)
                    : NULL;
        if (qk && a->qk_mode == 0) memcpy(qo, sr, (size_t)Tc * es);
        if (a->dtype == OT_FLOAT) {
            if (a->softcap > 0) softcap_f32((float *)sr, tn ? (float *)AT(tn, r * Tc) : NULL, Tc, (float)a->softcap);
            if (qk && a->qk_mode == 1) memcpy(qo, sr, (size_t)Tc * es);
            bias_f32((float *)sr, Tc, lim, m, x->mdt, s->mask_str[3]);
            if (qk && a->qk_mode == 2) {
                memcpy(qo, sr, (size_t)Tc * es);
                for (int64_t j = Tc; j < s->T; j++)
                    ((float *)qo)[j] = -INFINITY;
            }
            softmax_f32((float *)sr, Tc);
        } else {
            if (a->softcap > 0) softcap_f64((double *)sr, tn ? (double *)AT(tn, r * Tc) : NULL, Tc, a->softcap);
            if (qk && a->qk_mode == 1) memcpy(qo, sr, (size_t)Tc * es);
            bias_f64((double *)sr, Tc, lim, m, x->mdt, s->mask_str[3]);
            if (qk && a->qk_mode == 2) {
                memcpy(qo, sr, (size_t)Tc * es);
                for (int64_t j = Tc; j < s->T; j++)
                    ((double *)qo)[j] = -INFINITY;
            }
            softmax_f64((double *)sr, Tc);
        }
        if (qk && a->qk_mode == 3) {
            memcpy(qo, sr, (size_t)Tc * es);
            memset(AT(qo, Tc), 0, (size_t)(s->T - Tc) * es);
        }
    }
}

/* Key columns a block of rows [i0, i1) computes: all of them when
   qk_matmul_output / its gradient needs the unmasked scores, else up to the
   last row's limit (causal blocks skip the keys they cannot see). */
static int64_t block_cols(const actx *x, int64_t b, int64_t i1, bool full) {
    return full ? x->a->sh.T : row_limit(x, b, i1 - 1);
}

/* Copies `rows` rows of n elements between strided layouts. */
static void copy_rows(size_t es, void *dst, int64_t drs, const void *src, int64_t srs, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++)
        memcpy(AT(dst, r * drs), CAT(src, r * srs), (size_t)n * es);
}

/* dst rows = the rows of a present cache (b, hk) (B, Hkv, T, n): the past
   part into the past layout, the rest into the new keys' layout; zeros when
   there is no present gradient. */
static void split_present(const actx *x, const void *pres, int64_t n, int64_t b, int64_t hk, void *dpast, const lay *lp,
                          void *dnew, const lay *ln) {
    const ot_attn_shape *s = &x->a->sh;
    size_t es = x->es;
    const char *src = pres ? CAT(pres, (b * s->Hkv + hk) * s->T * n) : NULL;
    if (dpast) {
        char *d = AT(dpast, b * lp->bs + hk * lp->hs);
        if (src)
            memcpy(d, src, (size_t)(s->P * n) * es);
        else
            memset(d, 0, (size_t)(s->P * n) * es);
    }
    if (dnew) {
        char *d = AT(dnew, b * ln->bs + hk * ln->hs);
        for (int64_t r = 0; r < s->Skv; r++) {
            if (src)
                memcpy(AT(d, r * ln->rs), CAT(src, (s->P + r) * n), (size_t)n * es);
            else
                memset(AT(d, r * ln->rs), 0, (size_t)n * es);
        }
    }
}

/* ---- forward ------------------------------------------------------------------------ */

static void forward_item(const actx *x, int64_t b, int64_t h, int64_t i0, int64_t rows, void *S) {
    const ot_attn_args *a = x->a;
    const ot_attn_shape *s = &a->sh;
    size_t es = x->es;
    int64_t hk = h / x->G, Tc = block_cols(x, b, i0 + rows, a->qk && a->qk_mode <= 1);
    probs(x, b, h, i0, rows, Tc, S, NULL, true);
    keys_gemm(x, rows, s->Dv, Tc, 1.0, S, past_at(x, a->past_v, &x->pv, b, hk), s->Dv,
              CAT(a->v, b * x->v.bs + hk * x->v.hs), x->v.rs, 0.0, AT(a->y, b * x->y.bs + h * x->y.hs + i0 * x->y.rs),
              x->y.rs);
}

static void present_item(const actx *x, int64_t b, int64_t hk) {
    const ot_attn_args *a = x->a;
    const ot_attn_shape *s = &a->sh;
    size_t es = x->es;
    const lay *src[2] = {&x->k, &x->v};
    const void *past[2] = {a->past_k, a->past_v}, *cur[2] = {a->k, a->v};
    void *dst[2] = {a->present_k, a->present_v};
    int64_t n[2] = {s->D, s->Dv};
    for (int w = 0; w < 2; w++) {
        if (!dst[w]) continue;
        char *d = AT(dst[w], (b * s->Hkv + hk) * s->T * n[w]);
        if (s->P) memcpy(d, CAT(past[w], (b * s->Hkv + hk) * s->P * n[w]), (size_t)(s->P * n[w]) * es);
        copy_rows(es, AT(d, s->P * n[w]), n[w], CAT(cur[w], b * src[w]->bs + hk * src[w]->hs), src[w]->rs, s->Skv,
                  n[w]);
    }
}

static ot_status setup(actx *x, const ot_attn_args *a, bool backward, void **scratch) {
    const ot_attn_shape *s = &a->sh;
    memset(x, 0, sizeof *x);
    x->a = a;
    x->es = compute_size(a->dtype);
    x->G = s->Hkv ? s->Hq / s->Hkv : 1;
    x->q = lay_of(s->three_d, s->Hq, s->Sq, s->D);
    x->k = lay_of(s->three_d, s->Hkv, s->Skv, s->D);
    x->v = lay_of(s->three_d, s->Hkv, s->Skv, s->Dv);
    x->y = lay_of(s->three_d, s->Hq, s->Sq, s->Dv);
    x->pk = lay_of(false, s->Hkv, s->P, s->D);
    x->pv = lay_of(false, s->Hkv, s->P, s->Dv);
    plan(a, backward, &x->rows, &x->workers);
    size_t main = (size_t)(x->workers * per_thread(a, backward, x->rows)) * x->es;
    size_t extra = mask_converted(a) ? (size_t)s->mask_numel * x->es : 0;
    *scratch = ot_workspace_alloc(main + extra);
    if (!*scratch) return ot_error(OT_ERR_NOMEM, "out of memory for %zu bytes of attention scratch", main + extra);
    x->mask = a->mask;
    x->mdt = a->mask ? a->mask_dtype : OT_UNDEFINED;
    if (extra) { /* an integer or other-precision mask: one copy in the compute dtype */
        void *m = (char *)*scratch + main;
        ot_dtype ct = a->dtype == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT;
        for (int64_t i = 0; i < s->mask_numel; i++)
            ot_store_f64(ct, m, i, ot_load_f64(a->mask_dtype, a->mask, i));
        x->mask = m;
        x->mdt = ct;
    }
    return OT_OK;
}

/* float16 / bfloat16: every operand staged in float32, the call run there. */
static ot_status run_staged(const ot_attn_args *a, bool backward) {
    ot_attn_args f = *a;
    f.dtype = OT_FLOAT;
    half_io h = half_io_of(&f);
    int64_t total = half_elems(a);
    float *buf = ot_workspace_alloc((size_t)total * sizeof(float)), *p = buf;
    if (!buf) return ot_error(OT_ERR_NOMEM, "out of memory staging float16 attention operands");
    for (int i = 0; i < 9; i++) {
        if (!*h.in[i]) continue;
        ot_half_to_f32(a->dtype, *h.in[i], p, h.in_n[i]);
        *h.in[i] = p;
        p += h.in_n[i];
    }
    void *dst[10];
    for (int i = 0; i < 10; i++) {
        dst[i] = *h.out[i];
        if (!dst[i]) continue;
        *h.out[i] = p;
        p += h.out_n[i];
    }
    ot_status s = backward ? ot_attention_backward(&f) : ot_attention_forward(&f);
    for (int i = 0; i < 10 && !s; i++)
        if (dst[i]) ot_f32_to_half(a->dtype, *h.out[i], dst[i], h.out_n[i]);
    ot_workspace_free(buf);
    return s;
}

ot_status ot_attention_forward(const ot_attn_args *a) {
    if (a->dtype == OT_FLOAT16 || a->dtype == OT_BFLOAT16) return run_staged(a, false);
    const ot_attn_shape *s = &a->sh;
    actx x;
    void *scratch;
    OT_TRY(setup(&x, a, false, &scratch));
    if (a->present_k || a->present_v) {
        int64_t n = s->B * s->Hkv;
#pragma omp parallel for schedule(static) num_threads(x.workers) if (x.workers > 1)
        for (int64_t it = 0; it < n; it++)
            present_item(&x, it / s->Hkv, it % s->Hkv);
    }
    int64_t nb = (s->Sq + x.rows - 1) / x.rows, items = s->B * s->Hq * nb;
    size_t per = (size_t)per_thread(a, false, x.rows) * x.es;
    /* Dynamic: causal blocks differ in width.  Items write disjoint outputs,
       so the result does not depend on which thread takes which. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(x.workers) if (x.workers > 1)
    for (int64_t it = 0; it < items; it++) {
        int64_t bh = it / nb, i0 = it % nb * x.rows;
        void *S = (char *)scratch + (size_t)omp_get_thread_num() * per;
        forward_item(&x, bh / s->Hq, bh % s->Hq, i0, min64(x.rows, s->Sq - i0), S);
    }
    ot_workspace_free(scratch);
    return OT_OK;
}

/* ---- backward ----------------------------------------------------------------------- */

/* Adds the gradient of qk_matmul_output (row `row` of dqk) into d when the
   output's mode is `mode`: it enters the chain at the step it was taken. */
static void add_dqk(const actx *x, int mode, void *d, int64_t row, int64_t Tc) {
    const ot_attn_args *a = x->a;
    size_t es = x->es;
    if (!a->dqk || a->qk_mode != mode) return;
    const void *g = CAT(a->dqk, row * a->sh.T);
    if (a->dtype == OT_FLOAT)
        add_f32(d, g, Tc);
    else
        add_f64(d, g, Tc);
}

/* One query row block of (b, h): dP, dS in place, then dV, dQ, dK. */
static void backward_block(const actx *x, int64_t b, int64_t h, int64_t i0, int64_t rows, char *S, char *dS, char *tn) {
    const ot_attn_args *a = x->a;
    const ot_attn_shape *s = &a->sh;
    size_t es = x->es;
    int64_t hk = h / x->G, P = s->P;
    int64_t Tc = block_cols(x, b, i0 + rows, a->dqk && a->qk_mode <= 2), ld = max64(Tc, 1), c1 = min64(P, Tc);
    probs(x, b, h, i0, rows, Tc, S, a->softcap > 0 ? tn : NULL, false);
    const void *dy = a->dy ? CAT(a->dy, b * x->y.bs + h * x->y.hs + i0 * x->y.rs) : NULL;
    const void *pv = past_at(x, a->past_v, &x->pv, b, hk), *pk = past_at(x, a->past_k, &x->pk, b, hk);
    const void *vv = CAT(a->v, b * x->v.bs + hk * x->v.hs), *kk = CAT(a->k, b * x->k.bs + hk * x->k.hs);
    bool need_ds = a->dq || a->dk || a->dpast_k || a->dmask;
    if (need_ds) {
        if (dy) { /* dP = dY V^T over both key segments */
            gemm(a->dtype, false, true, rows, c1, s->Dv, 1.0, dy, x->y.rs, pv, s->Dv, 0.0, dS, ld);
            if (Tc > P)
                gemm(a->dtype, false, true, rows, Tc - P, s->Dv, 1.0, dy, x->y.rs, vv, x->v.rs, 0.0, dS + P * es, ld);
        } else {
            memset(dS, 0, (size_t)(rows * Tc) * es);
        }
        for (int64_t r = 0; r < rows; r++) {
            int64_t row = (b * s->Hq + h) * s->Sq + i0 + r;
            char *d = dS + (size_t)(r * Tc) * es, *p = S + (size_t)(r * Tc) * es;
            add_dqk(x, 3, d, row, Tc);
            if (a->dtype == OT_FLOAT)
                dsoftmax_f32((float *)p, (float *)d, Tc);
            else
                dsoftmax_f64((double *)p, (double *)d, Tc);
            add_dqk(x, 2, d, row, Tc);
            if (a->dmask) { /* dense (B, Hq, Sq, Tm): zeros past the block's columns */
                char *dm = AT(a->dmask, row * s->Tm);
                int64_t n = min64(Tc, s->Tm);
                memcpy(dm, d, (size_t)n * es);
                memset(AT(dm, n), 0, (size_t)(s->Tm - n) * es);
            }
            add_dqk(x, 1, d, row, Tc);
            if (a->softcap > 0) {
                char *t = tn + (size_t)(r * Tc) * es;
                if (a->dtype == OT_FLOAT)
                    dsoftcap_f32((float *)t, (float *)d, Tc);
                else
                    dsoftcap_f64((double *)t, (double *)d, Tc);
            }
            add_dqk(x, 0, d, row, Tc);
        }
    }
    if (dy) { /* dV += P^T dY per key segment */
        if (a->dpast_v && c1 > 0)
            gemm(a->dtype, true, false, c1, s->Dv, rows, 1.0, S, ld, dy, x->y.rs, 1.0,
                 AT(a->dpast_v, b * x->pv.bs + hk * x->pv.hs), s->Dv);
        if (a->dv && Tc > P)
            gemm(a->dtype, true, false, Tc - P, s->Dv, rows, 1.0, S + P * es, ld, dy, x->y.rs, 1.0,
                 AT(a->dv, b * x->v.bs + hk * x->v.hs), x->v.rs);
    }
    if (!need_ds) return;
    const void *q = CAT(a->q, b * x->q.bs + h * x->q.hs + i0 * x->q.rs);
    if (a->dq) /* dQ = scale * dS K */
        keys_gemm(x, rows, s->D, Tc, a->scale, dS, pk, s->D, kk, x->k.rs, 0.0,
                  AT(a->dq, b * x->q.bs + h * x->q.hs + i0 * x->q.rs), x->q.rs);
    if (a->dpast_k && c1 > 0) /* dK += scale * dS^T Q */
        gemm(a->dtype, true, false, c1, s->D, rows, a->scale, dS, ld, q, x->q.rs, 1.0,
             AT(a->dpast_k, b * x->pk.bs + hk * x->pk.hs), s->D);
    if (a->dk && Tc > P)
        gemm(a->dtype, true, false, Tc - P, s->D, rows, a->scale, dS + P * es, ld, q, x->q.rs, 1.0,
             AT(a->dk, b * x->k.bs + hk * x->k.hs), x->k.rs);
}

ot_status ot_attention_backward(const ot_attn_args *a) {
    if (a->dtype == OT_FLOAT16 || a->dtype == OT_BFLOAT16) return run_staged(a, true);
    const ot_attn_shape *s = &a->sh;
    actx x;
    void *scratch;
    OT_TRY(setup(&x, a, true, &scratch));
    int64_t items = s->B * s->Hkv, n = x.rows * s->T;
    size_t per = (size_t)per_thread(a, true, x.rows) * x.es;
#pragma omp parallel for schedule(static) num_threads(x.workers) if (x.workers > 1)
    for (int64_t it = 0; it < items; it++) {
        int64_t b = it / s->Hkv, hk = it % s->Hkv;
        char *S = (char *)scratch + (size_t)omp_get_thread_num() * per, *dS = S + (size_t)n * x.es;
        char *tn = dS + (size_t)n * x.es;
        /* dK / dV of this kv head start as the present caches' gradients. */
        split_present(&x, a->dpresent_k, s->D, b, hk, a->dpast_k, &x.pk, a->dk, &x.k);
        split_present(&x, a->dpresent_v, s->Dv, b, hk, a->dpast_v, &x.pv, a->dv, &x.v);
        for (int64_t g = 0; g < x.G; g++)
            for (int64_t i0 = 0; i0 < s->Sq; i0 += x.rows)
                backward_block(&x, b, hk * x.G + g, i0, min64(x.rows, s->Sq - i0), S, dS, tn);
    }
    ot_workspace_free(scratch);
    return OT_OK;
}

/* ---- RotaryEmbedding ------------------------------------------------------------------ */

#define OT_ROTARY(SFX, T)                                                                                              \
    static void rotary_##SFX(const ot_rotary_args *a) {                                                                \
        const T *X = a->x, *C = a->cos, *Sn = a->sin;                                                                  \
        T *Y = a->y;                                                                                                   \
        int64_t half = a->rd / 2, n = a->B * a->S * a->H, hd = a->hd;                                                  \
        _Pragma("omp parallel for schedule(static) if (n * hd > 65536)") for (int64_t r = 0; r < n; r++) {             \
            int64_t b = r / (a->S * a->H), s = r / a->H % a->S, h = r % a->H, bs = b * a->S + s;                       \
            int64_t off = a->three_d ? bs * a->H * hd + h * hd : ((b * a->H + h) * a->S + s) * hd;                     \
            const T *x = X + off, *c = C + (a->pos ? a->pos[bs] : bs) * half;                                          \
            const T *sn = Sn + (a->pos ? a->pos[bs] : bs) * half;                                                      \
            T *y = Y + off;                                                                                            \
            int64_t s1 = a->interleaved ? 2 : 1, o2 = a->interleaved ? 1 : half;                                       \
            for (int64_t k = 0; k < half; k++) {                                                                       \
                T x1 = x[k * s1], x2 = x[k * s1 + o2];                                                                 \
                y[k * s1] = c[k] * x1 - sn[k] * x2;                                                                    \
                y[k * s1 + o2] = sn[k] * x1 + c[k] * x2;                                                               \
            }                                                                                                          \
            if (y != x) memcpy(y + a->rd, x + a->rd, sizeof(T) * (size_t)(hd - a->rd));                                \
        }                                                                                                              \
    }

OT_ROTARY(f32, float)
OT_ROTARY(f64, double)

void ot_rotary_request_scratch(const ot_rotary_args *a, int64_t cache_rows) {
    if (a->dtype != OT_FLOAT16 && a->dtype != OT_BFLOAT16) return;
    int64_t nx = a->B * a->S * a->H * a->hd, nc = cache_rows * (a->rd / 2);
    ot_workspace_request((size_t)(2 * nx + 2 * nc) * sizeof(float));
}

ot_status ot_rotary_forward(const ot_rotary_args *a, int64_t cache_rows) {
    if (a->dtype == OT_FLOAT)
        rotary_f32(a);
    else if (a->dtype == OT_DOUBLE)
        rotary_f64(a);
    else { /* float16 / bfloat16 through float32 */
        int64_t nx = a->B * a->S * a->H * a->hd, nc = cache_rows * (a->rd / 2);
        float *buf = ot_workspace_alloc((size_t)(2 * nx + 2 * nc) * sizeof(float));
        if (!buf) return ot_error(OT_ERR_NOMEM, "out of memory staging float16 rotary embedding operands");
        ot_rotary_args f = *a;
        f.dtype = OT_FLOAT;
        ot_half_to_f32(a->dtype, a->x, buf, nx);
        ot_half_to_f32(a->dtype, a->cos, buf + nx, nc);
        ot_half_to_f32(a->dtype, a->sin, buf + nx + nc, nc);
        f.x = buf;
        f.cos = buf + nx;
        f.sin = buf + nx + nc;
        f.y = buf + nx + 2 * nc;
        rotary_f32(&f);
        ot_f32_to_half(a->dtype, f.y, a->y, nx);
        ot_workspace_free(buf);
    }
    return OT_OK;
}
