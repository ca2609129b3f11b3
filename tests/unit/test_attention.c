/* Attention family: Attention (3-D / 4-D, GQA, causal, past caches, float /
   bool / integer / broadcast / padded masks, nonpad_kv_seqlen, scale, softcap,
   every qk_matmul_output_mode, float32 / float64 / float16 / bfloat16, shapes
   that span several row blocks and threads) and AttentionGrad against naive
   double-precision loops; RotaryEmbedding in every form; error cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OP_HARNESS_SEED 0x2545F4914F6CDD1Dull
#include "op_harness.h"
#include "ops/grad.h"

/* ---- naive attention --------------------------------------------------------------- */

typedef struct cfg {
    bool three_d, causal, pad; /* pad: opset 24 (short masks are padded) */
    int64_t B, Hq, Hkv, Sq, Skv, P, D, Dv;
    double scale, softcap; /* scale 0: 1 / sqrt(D) */
    int mode;
    ot_tensor *mask;
    const int64_t *nonpad;
} cfg;

typedef struct io {
    ot_tensor *q, *k, *v, *pk, *pv;
} io;

static double qv(const cfg *c, const io *t, int64_t b, int64_t h, int64_t i, int64_t d) {
    return at(t->q, c->three_d ? ((b * c->Sq + i) * c->Hq + h) * c->D + d : ((b * c->Hq + h) * c->Sq + i) * c->D + d);
}

/* Key / value j of the concatenated cache. */
static double kv(const cfg *c, const io *t, bool val, int64_t b, int64_t hk, int64_t j, int64_t d) {
    int64_t n = val ? c->Dv : c->D;
    if (j < c->P) return at(val ? t->pv : t->pk, ((b * c->Hkv + hk) * c->P + j) * n + d);
    j -= c->P;
    const ot_tensor *x = val ? t->v : t->k;
    return at(x, c->three_d ? ((b * c->Skv + j) * c->Hkv + hk) * n + d : ((b * c->Hkv + hk) * c->Skv + j) * n + d);
}

static double mask_at(const cfg *c, int64_t b, int64_t h, int64_t i, int64_t j) {
    const ot_tensor *m = c->mask;
    int64_t md[4] = {1, 1, 1, 1}, idx[4] = {b, h, i, j}, off = 0, T = c->P + c->Skv;
    for (int k = 0; k < m->rank; k++)
        md[4 - m->rank + k] = m->dims[k];
    if (c->pad && md[3] < T && j >= md[3]) return -INFINITY;
    for (int k = 0; k < 4; k++)
        off = off * md[k] + (md[k] == 1 ? 0 : idx[k]);
    if (m->dtype == OT_BOOL) return at(m, off) != 0 ? 0 : -INFINITY;
    return at(m, off);
}

/* Scores of row (b, h, i): s (raw), cap (softcapped), z (biased), p (probabilities). */
static void naive_row(const cfg *c, const io *t, int64_t b, int64_t h, int64_t i, double *s, double *cap, double *z,
                      double *p) {
    int64_t T = c->P + c->Skv, hk = h / (c->Hq / c->Hkv);
    double sc = c->scale ? (double)(float)c->scale : 1 / sqrt((double)c->D), mx = -INFINITY,
           sum = 0; /* the attribute is a float */
    for (int64_t j = 0; j < T; j++) {
        double acc = 0;
        for (int64_t d = 0; d < c->D; d++)
            acc += qv(c, t, b, h, i, d) * kv(c, t, false, b, hk, j, d);
        s[j] = acc * sc;
        cap[j] = c->softcap > 0 ? c->softcap * tanh(s[j] / c->softcap) : s[j];
        z[j] = cap[j] + (c->mask ? mask_at(c, b, h, i, j) : 0);
        if (c->causal && j > i + c->P) z[j] = -INFINITY;
        if (c->nonpad && j >= c->nonpad[b]) z[j] = -INFINITY;
        if (z[j] > mx) mx = z[j];
    }
    for (int64_t j = 0; j < T; j++)
        sum += p[j] = mx == -INFINITY ? 0 : exp(z[j] - mx);
    for (int64_t j = 0; j < T; j++)
        p[j] = sum > 0 ? p[j] / sum : 0;
}

/* Y (the output's layout) and qk_matmul_output (B, Hq, Sq, T) per c->mode. */
static void naive_forward(const cfg *c, const io *t, double *y, double *qk) {
    int64_t T = c->P + c->Skv;
    double *s = malloc(sizeof(double) * (size_t)(4 * T + 1)), *cap = s + T, *z = cap + T, *p = z + T;
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t h = 0; h < c->Hq; h++)
            for (int64_t i = 0; i < c->Sq; i++) {
                naive_row(c, t, b, h, i, s, cap, z, p);
                const double *src = c->mode == 0 ? s : c->mode == 1 ? cap : c->mode == 2 ? z : p;
                for (int64_t j = 0; j < T; j++)
                    qk[((b * c->Hq + h) * c->Sq + i) * T + j] = src[j];
                for (int64_t d = 0; d < c->Dv; d++) {
                    double acc = 0;
                    for (int64_t j = 0; j < T; j++)
                        acc += p[j] * kv(c, t, true, b, h / (c->Hq / c->Hkv), j, d);
                    int64_t o = c->three_d ? ((b * c->Sq + i) * c->Hq + h) * c->Dv + d
                                           : ((b * c->Hq + h) * c->Sq + i) * c->Dv + d;
                    y[o] = acc;
                }
            }
    free(s);
}

static io make_io(const cfg *c, ot_dtype dt) {
    io t = {0};
    int64_t q4[4] = {c->B, c->Hq, c->Sq, c->D}, k4[4] = {c->B, c->Hkv, c->Skv, c->D},
            v4[4] = {c->B, c->Hkv, c->Skv, c->Dv};
    int64_t q3[3] = {c->B, c->Sq, c->Hq * c->D}, k3[3] = {c->B, c->Skv, c->Hkv * c->D},
            v3[3] = {c->B, c->Skv, c->Hkv * c->Dv};
    t.q = rand_tensor(dt, c->three_d ? 3 : 4, c->three_d ? q3 : q4, 1.5);
    t.k = rand_tensor(dt, c->three_d ? 3 : 4, c->three_d ? k3 : k4, 1.5);
    t.v = rand_tensor(dt, c->three_d ? 3 : 4, c->three_d ? v3 : v4, 1.0);
    if (c->P) {
        int64_t pk[4] = {c->B, c->Hkv, c->P, c->D}, pv[4] = {c->B, c->Hkv, c->P, c->Dv};
        t.pk = rand_tensor(dt, 4, pk, 1.5);
        t.pv = rand_tensor(dt, 4, pv, 1.0);
    }
    return t;
}

static void free_io(io *t) {
    ot_tensor_free(t->q);
    ot_tensor_free(t->k);
    ot_tensor_free(t->v);
    ot_tensor_free(t->pk);
    ot_tensor_free(t->pv);
}

static int n_attrs_of(const cfg *c, attr_spec *a) {
    int n = 0;
    if (c->three_d) {
        a[n++] = (attr_spec)INT("q_num_heads", c->Hq);
        a[n++] = (attr_spec)INT("kv_num_heads", c->Hkv);
    }
    if (c->causal) a[n++] = (attr_spec)INT("is_causal", 1);
    if (c->scale) a[n++] = (attr_spec)FLT("scale", (float)c->scale);
    if (c->softcap) a[n++] = (attr_spec)FLT("softcap", (float)c->softcap);
    if (c->mode) a[n++] = (attr_spec)INT("qk_matmul_output_mode", c->mode);
    return n;
}

static double tol_for(ot_dtype dt) {
    return dt == OT_DOUBLE ? 1e-11 : dt == OT_FLOAT ? 2e-5 : dt == OT_FLOAT16 ? 6e-3 : 4e-2;
}

/* Runs Attention with every output and checks them against the naive loops. */
static void check_attention(const char *what, cfg c, ot_dtype dt) {
    io t = make_io(&c, dt);
    int64_t T = c.P + c.Skv, npad = 0;
    ot_tensor *np = NULL;
    if (c.nonpad) {
        int64_t nd[1] = {c.B};
        np = tensor(OT_INT64, 1, nd, c.nonpad);
        npad = 1;
    }
    ot_tensor *in[7] = {t.q, t.k, t.v, c.mask, t.pk, t.pv, np};
    attr_spec a[8];
    int na = n_attrs_of(&c, a);
    op_run r;
    ot_status s = run_op(&r, "Attention", c.pad || npad ? 24 : 23, npad ? 7 : 6, in, 4, a, na);
    CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
    if (s == OT_OK) {
        int64_t ny = c.B * c.Hq * c.Sq * c.Dv, nqk = c.B * c.Hq * c.Sq * T;
        double *y = malloc(sizeof(double) * (size_t)(ny + nqk + 1)), *qk = y + ny;
        cfg ref = c;
        naive_forward(&ref, &t, y, qk);
        char name[160];
        snprintf(name, sizeof name, "%s %s Y", what, ot_dtype_name(dt));
        check_all(name, r.out[0], y, ny, tol_for(dt));
        snprintf(name, sizeof name, "%s %s qk (mode %d)", what, ot_dtype_name(dt), c.mode);
        check_all(name, r.out[3], qk, nqk, tol_for(dt) * (c.mode == 3 ? 1 : 8));
        /* present caches: past then new keys, in (B, Hkv, T, D) */
        bool ok = true;
        for (int w = 0; w < 2; w++) {
            int64_t n = w ? c.Dv : c.D;
            for (int64_t b = 0; b < c.B; b++)
                for (int64_t hk = 0; hk < c.Hkv; hk++)
                    for (int64_t j = 0; j < T; j++)
                        for (int64_t d = 0; d < n; d++)
                            ok &= at(r.out[1 + w], ((b * c.Hkv + hk) * T + j) * n + d) == kv(&c, &t, w, b, hk, j, d);
        }
        CHECK_MSG(ok, "%s: present_key / present_value", what);
        free(y);
    }
    run_free(&r);
    free_io(&t);
    ot_tensor_free(np);
}

static ot_tensor *float_mask(int rank, const int64_t *dims, ot_dtype dt, double neg_inf_every) {
    ot_tensor *m = rand_tensor(dt, rank, dims, 1.0);
    for (int64_t i = 0; neg_inf_every > 0 && i < ot_tensor_numel(m); i++)
        if (fmod((double)i, neg_inf_every) == 1) ot_store_f64(dt, m->data, i, -INFINITY);
    return m;
}

static void test_attention_forward(void) {
    ot_dtype all[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16};
    for (int k = 0; k < 4; k++) {
        check_attention("4d", (cfg){.B = 2, .Hq = 3, .Hkv = 3, .Sq = 4, .Skv = 6, .D = 8, .Dv = 8}, all[k]);
        check_attention(
            "3d gqa causal past",
            (cfg){
                .three_d = true, .causal = true, .B = 2, .Hq = 6, .Hkv = 2, .Sq = 3, .Skv = 4, .P = 5, .D = 4, .Dv = 6},
            all[k]);
    }
    ot_dtype f[] = {OT_FLOAT, OT_DOUBLE};
    for (int k = 0; k < 2; k++) {
        ot_dtype dt = f[k];
        check_attention("3d diff head sizes",
                        (cfg){.three_d = true, .B = 2, .Hq = 3, .Hkv = 3, .Sq = 4, .Skv = 6, .D = 8, .Dv = 10}, dt);
        check_attention("mqa scaled",
                        (cfg){.B = 1, .Hq = 4, .Hkv = 1, .Sq = 5, .Skv = 5, .D = 6, .Dv = 3, .scale = 0.05}, dt);
        check_attention("causal cross (sq < skv)",
                        (cfg){.causal = true, .B = 2, .Hq = 2, .Hkv = 2, .Sq = 3, .Skv = 7, .D = 5, .Dv = 4}, dt);
        check_attention("causal sq > skv (empty rows)",
                        (cfg){.causal = true, .B = 1, .Hq = 2, .Hkv = 1, .Sq = 6, .Skv = 3, .D = 4, .Dv = 4}, dt);
        for (int mode = 0; mode < 4; mode++) {
            int64_t md[2] = {4, 9};
            ot_tensor *m = float_mask(2, md, dt, 5);
            check_attention("softcap + mask + past, every qk mode",
                            (cfg){.B = 2,
                                  .Hq = 2,
                                  .Hkv = 1,
                                  .Sq = 4,
                                  .Skv = 6,
                                  .P = 3,
                                  .D = 8,
                                  .Dv = 8,
                                  .softcap = 2.5,
                                  .mode = mode,
                                  .mask = m},
                            dt);
            check_attention("causal every qk mode",
                            (cfg){.causal = true,
                                  .B = 1,
                                  .Hq = 2,
                                  .Hkv = 2,
                                  .Sq = 5,
                                  .Skv = 4,
                                  .P = 2,
                                  .D = 3,
                                  .Dv = 3,
                                  .mode = mode},
                            dt);
            ot_tensor_free(m);
        }
        /* masks: 4-D per head, broadcast (B, 1, Sq, 1), bool, integer, float16 on float32, rank 1 */
        int64_t m4[4] = {2, 3, 4, 6}, mb[4] = {2, 1, 4, 1}, m1[1] = {6};
        ot_tensor *ms[] = {float_mask(4, m4, dt, 7),         float_mask(4, mb, dt, 0),
                           rand_tensor(OT_BOOL, 4, m4, 1),   rand_tensor(OT_INT32, 4, m4, 1),
                           float_mask(4, m4, OT_FLOAT16, 0), float_mask(1, m1, dt, 4)};
        for (int i = 0; i < 6; i++) {
            check_attention("mask forms",
                            (cfg){.B = 2, .Hq = 3, .Hkv = 3, .Sq = 4, .Skv = 6, .D = 8, .Dv = 8, .mask = ms[i]}, dt);
            check_attention(
                "mask forms + causal",
                (cfg){.causal = true, .B = 2, .Hq = 3, .Hkv = 1, .Sq = 4, .Skv = 6, .D = 8, .Dv = 8, .mask = ms[i]},
                dt);
            ot_tensor_free(ms[i]);
        }
        /* a fully masked row (all false) gives zeros */
        int64_t mr[2] = {3, 5};
        ot_tensor *allf = tensor(OT_BOOL, 2, mr, NULL);
        for (int64_t i = 0; i < 15; i++)
            ((uint8_t *)allf->data)[i] = i >= 5;
        check_attention("fully masked row",
                        (cfg){.B = 1, .Hq = 1, .Hkv = 1, .Sq = 3, .Skv = 5, .D = 4, .Dv = 4, .mask = allf}, dt);
        ot_tensor_free(allf);
        /* opset 24: nonpad_kv_seqlen, a short mask padded with -inf */
        int64_t np[2] = {4, 0}, ms4[4] = {2, 3, 4, 4};
        ot_tensor *sm = float_mask(4, ms4, dt, 0);
        check_attention("opset 24 nonpad + short mask",
                        (cfg){.pad = true,
                              .B = 2,
                              .Hq = 3,
                              .Hkv = 3,
                              .Sq = 4,
                              .Skv = 6,
                              .D = 8,
                              .Dv = 10,
                              .mask = sm,
                              .nonpad = np,
                              .mode = 2},
                        dt);
        ot_tensor_free(sm);
        /* several row blocks (T = 1100: 29 rows per block) and threads */
        check_attention(
            "blocks causal past",
            (cfg){
                .causal = true, .B = 2, .Hq = 2, .Hkv = 1, .Sq = 70, .Skv = 70, .P = 1030, .D = 8, .Dv = 4, .mode = 3},
            dt);
    }
    /* empty sequences */
    check_attention("no queries", (cfg){.B = 1, .Hq = 2, .Hkv = 2, .Sq = 0, .Skv = 3, .D = 4, .Dv = 4}, OT_FLOAT);
    check_attention("no keys", (cfg){.B = 1, .Hq = 2, .Hkv = 2, .Sq = 3, .Skv = 0, .D = 4, .Dv = 4}, OT_FLOAT);
}

static void expect_error(const char *what, int64_t opset, int n_in, ot_tensor **in, const attr_spec *a, int na,
                         ot_status want) {
    op_run r;
    run_opts o = {.infer_only = true};
    ot_status s = run_op_x(&r, "Attention", opset, n_in, in, 1, a, na, &o);
    CHECK_MSG(s == want, "%s: got %s (%s)", what, ot_status_name(s), ot_last_error());
    run_free(&r);
}

static void test_attention_errors(void) {
    int64_t q[4] = {1, 4, 3, 8}, k[4] = {1, 3, 5, 8}, k2[4] = {1, 2, 5, 8}, q3[3] = {1, 3, 32}, bad[2] = {3, 4};
    ot_tensor *Q = rand_tensor(OT_FLOAT, 4, q, 1), *K = rand_tensor(OT_FLOAT, 4, k, 1),
              *K2 = rand_tensor(OT_FLOAT, 4, k2, 1);
    ot_tensor *Q3 = rand_tensor(OT_FLOAT, 3, q3, 1), *Kd = rand_tensor(OT_DOUBLE, 4, k2, 1),
              *M = rand_tensor(OT_FLOAT, 2, bad, 1);
    expect_error("heads not a multiple", 23, 3, (ot_tensor *[]){Q, K, K}, NULL, 0, OT_ERR_SHAPE);
    expect_error("mixed types", 23, 3, (ot_tensor *[]){Q, K2, Kd}, NULL, 0, OT_ERR_UNSUPPORTED);
    expect_error("3-D without heads", 23, 3, (ot_tensor *[]){Q3, Q3, Q3}, NULL, 0, OT_ERR_INVALID_ARG);
    expect_error("mixed ranks", 23, 3, (ot_tensor *[]){Q3, K2, K2}, NULL, 0, OT_ERR_SHAPE);
    expect_error("bad mask", 23, 4, (ot_tensor *[]){Q, K2, K2, M}, NULL, 0, OT_ERR_SHAPE);
    expect_error("past_key alone", 23, 5, (ot_tensor *[]){Q, K2, K2, NULL, K2}, NULL, 0, OT_ERR_INVALID_ARG);
    attr_spec heads[2] = {INT("q_num_heads", 5), INT("kv_num_heads", 2)};
    expect_error("3-D hidden not a multiple", 23, 3, (ot_tensor *[]){Q3, Q3, Q3}, heads, 2, OT_ERR_SHAPE);
    attr_spec prec = INT("softmax_precision", OT_DOUBLE), bad_mode = INT("qk_matmul_output_mode", 4);
    expect_error("softmax_precision double on float", 23, 3, (ot_tensor *[]){Q, K2, K2}, &prec, 1, OT_ERR_UNSUPPORTED);
    op_run r;
    CHECK(run_op(&r, "Attention", 23, 3, (ot_tensor *[]){Q, K2, K2}, 1, &bad_mode, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    int64_t nd[1] = {1};
    ot_tensor *np = rand_tensor(OT_INT64, 1, nd, 1);
    expect_error("nonpad before opset 24", 23, 7, (ot_tensor *[]){Q, K2, K2, NULL, NULL, NULL, np}, NULL, 0,
                 OT_ERR_INVALID_ARG);
    ot_tensor *t[] = {Q, K, K2, Q3, Kd, M, np};
    for (int i = 0; i < 7; i++)
        ot_tensor_free(t[i]);
}

/* ---- AttentionGrad ------------------------------------------------------------------ */

/* Naive backward in double: dQ, dK, dV (inputs' layouts), dpast_k, dpast_v,
   dmask (B, Hq, Sq, T) from dY and dqk (both dense doubles). */
static void naive_backward(const cfg *c, const io *t, const double *dy, const double *dqk, double *dq, double *dk,
                           double *dv, double *dpk, double *dpv, double *dm) {
    int64_t T = c->P + c->Skv, G = c->Hq / c->Hkv;
    double *s = malloc(sizeof(double) * (size_t)(6 * T + 1)), *cap = s + T, *z = cap + T, *p = z + T, *dp = p + T,
           *ds = dp + T;
    double sc = c->scale ? (double)(float)c->scale : 1 / sqrt((double)c->D);
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t h = 0; h < c->Hq; h++)
            for (int64_t i = 0; i < c->Sq; i++) {
                naive_row(c, t, b, h, i, s, cap, z, p);
                int64_t hk = h / G, row = ((b * c->Hq + h) * c->Sq + i);
                int64_t yo = c->three_d ? ((b * c->Sq + i) * c->Hq + h) * c->Dv : row * c->Dv;
                const double *g = dqk + row * T;
                double dot = 0;
                for (int64_t j = 0; j < T; j++) {
                    dp[j] = 0;
                    for (int64_t d = 0; d < c->Dv; d++)
                        dp[j] += dy[yo + d] * kv(c, t, true, b, hk, j, d);
                    if (c->mode == 3) dp[j] += g[j];
                    dot += dp[j] * p[j];
                }
                for (int64_t j = 0; j < T; j++) {
                    double dz = p[j] * (dp[j] - dot) + (c->mode == 2 ? g[j] : 0);
                    dm[row * T + j] = dz;
                    double dc = dz + (c->mode == 1 ? g[j] : 0);
                    ds[j] =
                        (c->softcap > 0 ? dc * (1 - pow(tanh(s[j] / c->softcap), 2)) : dc) + (c->mode == 0 ? g[j] : 0);
                    for (int64_t d = 0; d < c->Dv; d++) {
                        double inc = p[j] * dy[yo + d];
                        if (j < c->P)
                            dpv[((b * c->Hkv + hk) * c->P + j) * c->Dv + d] += inc;
                        else
                            dv[c->three_d ? ((b * c->Skv + j - c->P) * c->Hkv + hk) * c->Dv + d
                                          : ((b * c->Hkv + hk) * c->Skv + j - c->P) * c->Dv + d] += inc;
                    }
                }
                for (int64_t d = 0; d < c->D; d++) {
                    int64_t qo = c->three_d ? ((b * c->Sq + i) * c->Hq + h) * c->D + d : row * c->D + d;
                    for (int64_t j = 0; j < T; j++) {
                        dq[qo] += sc * ds[j] * kv(c, t, false, b, hk, j, d);
                        double inc = sc * ds[j] * qv(c, t, b, h, i, d);
                        if (j < c->P)
                            dpk[((b * c->Hkv + hk) * c->P + j) * c->D + d] += inc;
                        else
                            dk[c->three_d ? ((b * c->Skv + j - c->P) * c->Hkv + hk) * c->D + d
                                          : ((b * c->Hkv + hk) * c->Skv + j - c->P) * c->D + d] += inc;
                    }
                }
            }
    free(s);
}

/* AttentionGrad run directly (the harness only reaches the default domain). */
static ot_status run_grad(op_run *r, ot_tensor **in, const attr_spec *attrs, int n_attrs) {
    memset(r, 0, sizeof *r);
    r->n_out = 6;
    const ot_op_def *def = ot_op_find(OT_DOMAIN_TRAIN, "AttentionGrad");
    if (!def) return ot_error(OT_ERR_UNSUPPORTED, "no AttentionGrad");
    ot_graph_new("t", &r->g);
    int ids_in[11], ids_out[6], node;
    char name[16];
    for (int i = 0; i < 11; i++) {
        snprintf(name, sizeof name, "in%d", i);
        ot_graph_value(r->g, name, &ids_in[i]);
        if (!in[i]) ids_in[i] = -1;
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "out%d", i);
        ot_graph_value(r->g, name, &ids_out[i]);
        ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &r->out[i]);
    }
    ot_graph_add_node(r->g, "AttentionGrad", OT_DOMAIN_TRAIN, "grad", 11, ids_in, 6, ids_out, &node);
    for (int i = 0; i < n_attrs; i++)
        harness_add_attr(r->g, node, &attrs[i]);
    r->attrs = calloc(1, def->attrs_size);
    OT_TRY(def->parse(&r->g->nodes[node], 1, r->attrs));
    ot_kctx c = {.node = &r->g->nodes[node],
                 .name = "grad",
                 .opset = 1,
                 .attrs = r->attrs,
                 .n_in = 11,
                 .in = in,
                 .n_out = 6,
                 .out = r->out,
                 .need_input = -1};
    OT_TRY(def->infer(&c));
    for (int i = 0; i < 6; i++)
        OT_TRY(ot_tensor_alloc_data(r->out[i]));
    return def->cpu(&c);
}

static void check_grad(const char *what, cfg c, ot_dtype dt) {
    io t = make_io(&c, dt);
    int64_t T = c.P + c.Skv, ny = c.B * c.Hq * c.Sq * c.Dv, nqk = c.B * c.Hq * c.Sq * T;
    int64_t y4[4] = {c.B, c.Hq, c.Sq, c.Dv}, y3[3] = {c.B, c.Sq, c.Hq * c.Dv}, qk4[4] = {c.B, c.Hq, c.Sq, T};
    ot_tensor *dy = rand_tensor(dt, c.three_d ? 3 : 4, c.three_d ? y3 : y4, 1), *dqk = rand_tensor(dt, 4, qk4, 1);
    int64_t nq = ot_tensor_numel(t.q), nk = ot_tensor_numel(t.k), nv = ot_tensor_numel(t.v);
    int64_t npk = c.B * c.Hkv * c.P * c.D, npv = c.B * c.Hkv * c.P * c.Dv;
    double *buf = calloc((size_t)(2 * ny + 2 * nqk + nq + nk + nv + npk + npv + 1), sizeof(double));
    double *gy = buf, *gqk = gy + ny, *dq = gqk + nqk, *dk = dq + nq, *dv = dk + nk, *dpk = dv + nv, *dpv = dpk + npk,
           *dm = dpv + npv;
    for (int64_t i = 0; i < ny; i++)
        gy[i] = at(dy, i);
    for (int64_t i = 0; i < nqk; i++)
        gqk[i] = at(dqk, i);
    naive_backward(&c, &t, gy, gqk, dq, dk, dv, dpk, dpv, dm);
    ot_tensor *in[11] = {dy, t.q, t.k, t.v, c.mask, t.pk, t.pv, NULL, NULL, NULL, dqk};
    attr_spec a[10];
    int na = n_attrs_of(&c, a);
    bool float_mask = c.mask && ot_dtype_is_float(c.mask->dtype) && c.mask->rank == 4;
    a[na++] = (attr_spec)INT("grads", (c.P ? 0x30 : 0) | 7 | (float_mask ? 8 : 0));
    op_run r;
    ot_status s = run_grad(&r, in, a, na);
    CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
    if (s == OT_OK) {
        char name[160];
        const double *want[6] = {dq, dk, dv, dm, dpk, dpv};
        int64_t n[6] = {nq, nk, nv, nqk, npk, npv};
        const char *nm[6] = {"dQ", "dK", "dV", "dmask", "dpast_key", "dpast_value"};
        for (int i = 0; i < 6; i++) {
            if (i == 3 && !float_mask) continue;
            if (i >= 4 && !c.P) continue;
            snprintf(name, sizeof name, "%s %s %s", what, ot_dtype_name(dt), nm[i]);
            check_all(name, r.out[i], want[i], n[i], tol_for(dt) * 10);
        }
        if (!c.P) CHECK(ot_tensor_numel(r.out[4]) == 0);
    }
    run_free(&r);
    free(buf);
    free_io(&t);
    ot_tensor_free(dy);
    ot_tensor_free(dqk);
}

static void test_attention_grad_op(void) {
    ot_dtype f[] = {OT_FLOAT, OT_DOUBLE};
    for (int k = 0; k < 2; k++) {
        ot_dtype dt = f[k];
        for (int mode = 0; mode < 4; mode++) {
            int64_t m4[4] = {2, 1, 5, 7};
            ot_tensor *m = float_mask(4, m4, dt, 6);
            check_grad("3d gqa past softcap mask",
                       (cfg){.three_d = true,
                             .causal = mode & 1,
                             .B = 2,
                             .Hq = 4,
                             .Hkv = 2,
                             .Sq = 5,
                             .Skv = 4,
                             .P = 3,
                             .D = 6,
                             .Dv = 5,
                             .softcap = 1.5,
                             .mode = mode,
                             .mask = m},
                       dt);
            ot_tensor_free(m);
        }
        /* several row blocks per head (T = 1100), causal column limits */
        check_grad(
            "blocks",
            (cfg){
                .causal = true, .B = 1, .Hq = 2, .Hkv = 1, .Sq = 40, .Skv = 40, .P = 1060, .D = 4, .Dv = 3, .mode = 3},
            dt);
    }
    check_grad("float16", (cfg){.B = 1, .Hq = 2, .Hkv = 2, .Sq = 3, .Skv = 4, .D = 4, .Dv = 4}, OT_FLOAT16);
}

/* ---- RotaryEmbedding ---------------------------------------------------------------- */

/* The ONNX reference algorithm, in double, for 4-D or 3-D x. */
static void naive_rotary(const ot_tensor *x, const ot_tensor *cs, const ot_tensor *sn, const ot_tensor *pos,
                         int64_t heads, int64_t rd, bool interleaved, double *y) {
    bool three = x->rank == 3;
    int64_t B = x->dims[0], H = three ? heads : x->dims[1], S = three ? x->dims[1] : x->dims[2];
    int64_t hd = three ? x->dims[2] / heads : x->dims[3];
    if (!rd) rd = hd;
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++)
            for (int64_t h = 0; h < H; h++) {
                int64_t off = three ? (b * S + s) * H * hd + h * hd : ((b * H + h) * S + s) * hd;
                int64_t row = pos ? ((const int64_t *)pos->data)[b * S + s] : b * S + s;
                for (int64_t d = 0; d < hd; d++)
                    y[off + d] = at(x, off + d);
                for (int64_t k = 0; k < rd / 2; k++) {
                    int64_t i1 = interleaved ? 2 * k : k, i2 = interleaved ? 2 * k + 1 : k + rd / 2;
                    double c = at(cs, row * (rd / 2) + k), sv = at(sn, row * (rd / 2) + k);
                    y[off + i1] = c * at(x, off + i1) - sv * at(x, off + i2);
                    y[off + i2] = sv * at(x, off + i1) + c * at(x, off + i2);
                }
            }
}

static void check_rotary(const char *what, ot_dtype dt, bool three, bool with_pos, bool interleaved, int64_t rd) {
    int64_t B = 2, H = 4, S = 3, hd = 8, half = (rd ? rd : hd) / 2, maxpos = 50;
    int64_t x4[4] = {B, H, S, hd}, x3[3] = {B, S, H * hd}, c2[2] = {maxpos, half}, c3[3] = {B, S, half}, p2[2] = {B, S};
    ot_tensor *x = rand_tensor(dt, three ? 3 : 4, three ? x3 : x4, 2.0);
    ot_tensor *cs = rand_tensor(dt, with_pos ? 2 : 3, with_pos ? c2 : c3, 1.0),
              *sn = rand_tensor(dt, with_pos ? 2 : 3, with_pos ? c2 : c3, 1.0);
    ot_tensor *pos = NULL;
    if (with_pos) {
        pos = tensor(OT_INT64, 2, p2, NULL);
        for (int64_t i = 0; i < B * S; i++)
            ((int64_t *)pos->data)[i] = (int64_t)(next_u64() % (uint64_t)maxpos);
    }
    attr_spec a[3];
    int na = 0;
    if (three) a[na++] = (attr_spec)INT("num_heads", H);
    if (interleaved) a[na++] = (attr_spec)INT("interleaved", 1);
    if (rd) a[na++] = (attr_spec)INT("rotary_embedding_dim", rd);
    ot_tensor *in[4] = {x, cs, sn, pos};
    op_run r;
    ot_status s = run_op(&r, "RotaryEmbedding", 23, with_pos ? 4 : 3, in, 1, a, na);
    CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
    if (s == OT_OK) {
        int64_t n = ot_tensor_numel(x);
        double *want = malloc(sizeof(double) * (size_t)n);
        naive_rotary(x, cs, sn, pos, H, rd, interleaved, want);
        char name[128];
        snprintf(name, sizeof name, "%s %s", what, ot_dtype_name(dt));
        check_all(name, r.out[0], want, n,
                  dt == OT_DOUBLE    ? 1e-14
                  : dt == OT_FLOAT   ? 1e-6
                  : dt == OT_FLOAT16 ? 4e-3
                                     : 3e-2);
        free(want);
    }
    run_free(&r);
    if (pos) { /* an out-of-range position is an error */
        ((int64_t *)pos->data)[3] = maxpos;
        CHECK(run_op(&r, "RotaryEmbedding", 23, 4, in, 1, a, na) == OT_ERR_INVALID_ARG);
        run_free(&r);
    }
    ot_tensor_free(x);
    ot_tensor_free(cs);
    ot_tensor_free(sn);
    ot_tensor_free(pos);
}

static void test_rotary(void) {
    ot_dtype all[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16};
    for (int k = 0; k < 4; k++)
        for (int form = 0; form < 16; form++) {
            bool three = form & 1, pos = form & 2, inter = form & 4;
            check_rotary("rotary", all[k], three, pos, inter, form & 8 ? 4 : 0);
        }
    /* errors: 3-D without num_heads, odd rotary dim, wrong cache width */
    int64_t x3[3] = {1, 2, 8}, x4[4] = {1, 2, 2, 8}, c3[3] = {1, 2, 4}, c3b[3] = {1, 2, 3};
    ot_tensor *x = rand_tensor(OT_FLOAT, 3, x3, 1), *xx = rand_tensor(OT_FLOAT, 4, x4, 1),
              *cs = rand_tensor(OT_FLOAT, 3, c3, 1);
    ot_tensor *cb = rand_tensor(OT_FLOAT, 3, c3b, 1);
    op_run r;
    run_opts o = {.infer_only = true};
    CHECK(run_op_x(&r, "RotaryEmbedding", 23, 3, (ot_tensor *[]){x, cs, cs}, 1, NULL, 0, &o) == OT_ERR_INVALID_ARG);
    run_free(&r);
    attr_spec odd = INT("rotary_embedding_dim", 3);
    CHECK(run_op_x(&r, "RotaryEmbedding", 23, 3, (ot_tensor *[]){xx, cs, cs}, 1, &odd, 1, &o) == OT_ERR_SHAPE);
    run_free(&r);
    CHECK(run_op_x(&r, "RotaryEmbedding", 23, 3, (ot_tensor *[]){xx, cb, cb}, 1, NULL, 0, &o) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(x);
    ot_tensor_free(xx);
    ot_tensor_free(cs);
    ot_tensor_free(cb);
}

int main(void) {
    test_attention_forward();
    test_attention_errors();
    test_attention_grad_op();
    test_rotary();
    return check_done();
}
