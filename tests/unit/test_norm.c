/* Normalisation ops: BatchNormalization (inference and both training forms),
   LayerNormalization, InstanceNormalization and GroupNormalization against
   naive two-pass reference loops, plus accuracy and error cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/norm.h"
#include "op_harness.h"
#include "src/core/half.h"

static double tol_for(ot_dtype dt) { return dt == OT_DOUBLE ? 1e-11 : dt == OT_FLOAT ? 2e-5 : 2e-2; }

/* Naive mean / biased variance of n values at x[off + j * stride]. */
static void naive_moments(const ot_tensor *x, int64_t n, int64_t (*index)(int64_t j, const void *ctx),
                          const void *ctx, double *mean, double *var) {
    double s = 0, q = 0;
    for (int64_t j = 0; j < n; j++) s += at(x, index(j, ctx));
    *mean = s / (double)n;
    for (int64_t j = 0; j < n; j++) {
        double d = at(x, index(j, ctx)) - *mean;
        q += d * d;
    }
    *var = q / (double)n;
}

/* ---- BatchNormalization ---------------------------------------------------------- */

typedef struct bn_ctx {
    int64_t N, C, S, c;
} bn_ctx;
static int64_t bn_index(int64_t j, const void *p) {
    const bn_ctx *b = p;
    return ((j / b->S) * b->C + b->c) * b->S + j % b->S;
}

static void check_bn(ot_dtype dt, int64_t opset, int training, int n_out) {
    int64_t xd[4] = {3, 4, 5, 2}, cd[1] = {4};
    const int64_t N = 3, C = 4, S = 10;
    ot_tensor *in[5] = {rand_tensor(dt, 4, xd, 4), rand_tensor(dt, 1, cd, 4), rand_tensor(dt, 1, cd, 4),
                        rand_tensor(dt, 1, cd, 4), rand_tensor(dt, 1, cd, 4)};
    for (int c = 0; c < C; c++) ot_store_f64(dt, in[4]->data, c, fabs(at(in[4], c)) + 0.5); /* var > 0 */
    attr_spec a[3] = {FLT("epsilon", 0.01f), FLT("momentum", 0.8f), INT("training_mode", training)};
    op_run r;
    ot_status s = run_op(&r, "BatchNormalization", opset, 5, in, n_out, a, opset >= 14 ? 3 : 2);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        double *y = malloc(sizeof(double) * (size_t)(N * C * S)), rm[4], rv[4], bm[4], bv[4];
        for (int64_t c = 0; c < C; c++) {
            bn_ctx b = {N, C, S, c};
            double mean = at(in[3], c), var = at(in[4], c);
            if (training) naive_moments(in[0], N * S, bn_index, &b, &mean, &var);
            bm[c] = mean;
            bv[c] = var;
            rm[c] = at(in[3], c) * (double)0.8f + mean * (1 - (double)0.8f);
            rv[c] = at(in[4], c) * (double)0.8f + var * (1 - (double)0.8f);
            for (int64_t j = 0; j < N * S; j++) {
                int64_t i = bn_index(j, &b);
                y[i] = (at(in[0], i) - mean) / sqrt(var + (double)0.01f) * at(in[1], c) + at(in[2], c);
            }
        }
        check_all("BN Y", r.out[0], y, N * C * S, tol_for(dt));
        if (n_out > 1) check_all("BN running_mean", r.out[1], rm, C, tol_for(dt));
        if (n_out > 2) check_all("BN running_var", r.out[2], rv, C, tol_for(dt));
        if (n_out > 3) check_all("BN saved_mean", r.out[3], bm, C, tol_for(dt));
        if (n_out > 4) check_all("BN saved_var", r.out[4], bv, C, tol_for(dt));
        free(y);
    }
    run_free(&r);
    for (int i = 0; i < 5; i++) ot_tensor_free(in[i]);
}

static void test_batchnorm(void) {
    check_bn(OT_FLOAT, 15, 0, 1);
    check_bn(OT_DOUBLE, 15, 0, 1);
    check_bn(OT_FLOAT16, 15, 0, 1);
    check_bn(OT_FLOAT, 15, 1, 3);
    check_bn(OT_DOUBLE, 14, 1, 3);
    check_bn(OT_BFLOAT16, 15, 1, 3);
    check_bn(OT_FLOAT, 9, 0, 1);
    check_bn(OT_DOUBLE, 9, 1, 5); /* opset < 14: training when extra outputs are requested */
    check_bn(OT_FLOAT, 7, 1, 3);
}

static void test_batchnorm_errors(void) {
    int64_t xd[4] = {2, 3, 2, 2}, cd[1] = {3}, bad[1] = {2};
    ot_tensor *in[5] = {rand_tensor(OT_FLOAT, 4, xd, 4), rand_tensor(OT_FLOAT, 1, cd, 4),
                        rand_tensor(OT_FLOAT, 1, cd, 4), rand_tensor(OT_FLOAT, 1, cd, 4),
                        rand_tensor(OT_FLOAT, 1, bad, 4)};
    op_run r;
    CHECK(run_op(&r, "BatchNormalization", 15, 5, in, 1, NULL, 0) == OT_ERR_SHAPE);
    CHECK(strstr(ot_last_error(), "var") != NULL);
    run_free(&r);
    attr_spec sp[] = {INT("spatial", 0)};
    CHECK(run_op(&r, "BatchNormalization", 7, 5, in, 1, sp, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    CHECK(run_op(&r, "BatchNormalization", 9, 5, in, 1, sp, 1) == OT_ERR_PARSE);
    run_free(&r);
    ot_tensor_free(in[4]);
    in[4] = rand_tensor(OT_FLOAT, 1, cd, 4);
    CHECK(run_op(&r, "BatchNormalization", 15, 5, in, 3, NULL, 0) == OT_ERR_PARSE); /* outputs need training */
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = rand_tensor(OT_DOUBLE, 1, cd, 4);
    CHECK(run_op(&r, "BatchNormalization", 14, 5, in, 1, NULL, 0) == OT_ERR_TYPE);
    run_free(&r);
    for (int i = 0; i < 5; i++) ot_tensor_free(in[i]);
}

/* The shifted one-pass statistics stay accurate when |mean| >> std. */
static void test_moments_accuracy(void) {
    enum { N = 4, C = 2, S = 1000 };
    float *x = malloc(sizeof(float) * N * C * S);
    for (int i = 0; i < N * C * S; i++) x[i] = 10000.0f + (float)(i % 7) * 0.01f;
    double mean[C], var[C], wm = 0, wv = 0;
    ot_cpu_channel_moments(OT_FLOAT, x, N, C, S, mean, var);
    for (int i = 0; i < N * S; i++) wm += x[(i / S) * C * S + i % S];
    wm /= N * S;
    for (int i = 0; i < N * S; i++) {
        double d = x[(i / S) * C * S + i % S] - wm;
        wv += d * d;
    }
    wv /= N * S;
    CHECK_CLOSE(mean[0], wm, 1e-12, 0);
    CHECK_CLOSE(var[0], wv, 1e-6, 0);
    free(x);
}

/* ---- LayerNormalization ----------------------------------------------------------- */

static void check_ln(ot_dtype dt, int rank, const int64_t *xd, int64_t axis, int srank, const int64_t *sd,
                     int with_bias, int n_out, int64_t stash) {
    ot_tensor *in[3] = {rand_tensor(dt, rank, xd, 4), rand_tensor(dt, srank, sd, 4), NULL};
    if (with_bias) /* with_bias 2: B is only the last dim, a shorter period than Scale */
        in[2] = with_bias == 2 ? rand_tensor(dt, 1, sd + srank - 1, 4) : rand_tensor(dt, srank, sd, 4);
    attr_spec a[3] = {INT("axis", axis), FLT("epsilon", 0.1f), INT("stash_type", stash)};
    op_run r;
    ot_status s = run_op(&r, "LayerNormalization", 17, with_bias ? 3 : 2, in, n_out, a, 3);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        int ax = (int)(axis < 0 ? axis + rank : axis);
        int64_t rows = 1, D = 1, n = ot_tensor_numel(in[0]), P = ot_tensor_numel(in[1]);
        int64_t Pb = with_bias ? ot_tensor_numel(in[2]) : 1;
        for (int i = 0; i < rank; i++) *(i < ax ? &rows : &D) *= xd[i];
        double *y = malloc(sizeof(double) * (size_t)n), *mu = malloc(sizeof(double) * (size_t)rows),
               *iv = malloc(sizeof(double) * (size_t)rows);
        for (int64_t row = 0; row < rows; row++) {
            double m = 0, q = 0;
            for (int64_t j = 0; j < D; j++) m += at(in[0], row * D + j);
            m /= (double)D;
            for (int64_t j = 0; j < D; j++) q += (at(in[0], row * D + j) - m) * (at(in[0], row * D + j) - m);
            mu[row] = m;
            iv[row] = 1 / sqrt(q / (double)D + (double)0.1f);
            for (int64_t j = 0; j < D; j++) {
                int64_t i = row * D + j; /* Scale broadcasts over X by its trailing dims */
                y[i] = (at(in[0], i) - m) * iv[row] * at(in[1], i % P) + (with_bias ? at(in[2], i % Pb) : 0);
            }
        }
        check_all("LN Y", r.out[0], y, n, tol_for(dt));
        if (n_out > 1) {
            CHECK(r.out[1]->dtype == (ot_dtype)stash && r.out[1]->rank == rank);
            for (int i = 0; i < rank; i++) CHECK(r.out[1]->dims[i] == (i < ax ? xd[i] : 1));
            check_all("LN Mean", r.out[1], mu, rows, tol_for((ot_dtype)stash));
            check_all("LN InvStdDev", r.out[2], iv, rows, tol_for((ot_dtype)stash));
        }
        free(y);
        free(mu);
        free(iv);
    }
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

static void test_layernorm(void) {
    int64_t x4[4] = {2, 3, 4, 5}, x2[2] = {64, 300};
    check_ln(OT_FLOAT, 4, x4, -1, 1, x4 + 3, 1, 3, OT_FLOAT);
    check_ln(OT_FLOAT, 4, x4, 1, 3, x4 + 1, 1, 3, OT_FLOAT);
    check_ln(OT_DOUBLE, 4, x4, 0, 4, x4, 0, 3, OT_DOUBLE);
    check_ln(OT_DOUBLE, 4, x4, -2, 1, x4 + 3, 1, 1, OT_FLOAT);       /* scale (5,) repeats in the row */
    int64_t s1[3] = {1, 4, 5};
    check_ln(OT_FLOAT, 4, x4, 3, 3, s1, 1, 3, OT_FLOAT);            /* scale (1, 4, 5) spans rows */
    check_ln(OT_FLOAT16, 4, x4, -1, 1, x4 + 3, 1, 3, OT_FLOAT);
    check_ln(OT_BFLOAT16, 4, x4, 2, 2, x4 + 2, 1, 3, OT_BFLOAT16);
    check_ln(OT_FLOAT, 2, x2, 1, 1, x2 + 1, 1, 3, OT_FLOAT);        /* the threaded path */
    check_ln(OT_FLOAT, 4, x4, 1, 3, x4 + 1, 2, 1, OT_FLOAT);        /* B (5,) with Scale (3, 4, 5) */
    check_ln(OT_DOUBLE, 4, x4, 3, 3, s1, 2, 1, OT_FLOAT);           /* Scale spans rows, B does not */
}

static void test_layernorm_errors(void) {
    int64_t xd[3] = {2, 3, 4}, sd[2] = {3, 1}, sd2[1] = {3};
    ot_tensor *in[2] = {rand_tensor(OT_FLOAT, 3, xd, 4), rand_tensor(OT_FLOAT, 2, sd, 4)};
    op_run r;
    CHECK(run_op(&r, "LayerNormalization", 17, 2, in, 1, NULL, 0) == OT_ERR_UNSUPPORTED); /* (3, 1) */
    run_free(&r);
    ot_tensor_free(in[1]);
    in[1] = rand_tensor(OT_FLOAT, 1, sd2, 4);
    CHECK(run_op(&r, "LayerNormalization", 17, 2, in, 1, NULL, 0) == OT_ERR_SHAPE); /* (3,) vs (.., 4) */
    run_free(&r);
    attr_spec ax[] = {INT("axis", 3)};
    CHECK(run_op(&r, "LayerNormalization", 17, 2, in, 1, ax, 1) == OT_ERR_SHAPE);
    run_free(&r);
    attr_spec st[] = {INT("stash_type", 7)};
    CHECK(run_op(&r, "LayerNormalization", 17, 2, in, 1, st, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    for (int i = 0; i < 2; i++) ot_tensor_free(in[i]);
}

/* ---- InstanceNormalization / GroupNormalization ----------------------------------- */

static void check_gn(const char *op, ot_dtype dt, int64_t opset, int64_t G, int64_t n_scale) {
    int64_t xd[4] = {3, 6, 4, 5}, cd[1] = {n_scale};
    const int64_t N = 3, C = 6, S = 20, CG = C / G;
    ot_tensor *in[3] = {rand_tensor(dt, 4, xd, 4), rand_tensor(dt, 1, cd, 4), rand_tensor(dt, 1, cd, 4)};
    attr_spec a[2] = {FLT("epsilon", 0.01f), INT("num_groups", G)};
    op_run r;
    ot_status s = run_op(&r, op, opset, 3, in, 1, a, strcmp(op, "GroupNormalization") ? 1 : 2);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        double y[3 * 6 * 20];
        for (int64_t n = 0; n < N; n++)
            for (int64_t g = 0; g < G; g++) {
                int64_t base = (n * C + g * CG) * S, len = CG * S;
                double m = 0, q = 0;
                for (int64_t j = 0; j < len; j++) m += at(in[0], base + j);
                m /= (double)len;
                for (int64_t j = 0; j < len; j++) q += (at(in[0], base + j) - m) * (at(in[0], base + j) - m);
                double inv = 1 / sqrt(q / (double)len + (double)0.01f);
                for (int64_t j = 0; j < len; j++) {
                    int64_t k = n_scale == C ? g * CG + j / S : g;
                    y[base + j] = (at(in[0], base + j) - m) * inv * at(in[1], k) + at(in[2], k);
                }
            }
        check_all(op, r.out[0], y, N * C * S, tol_for(dt));
    }
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

static void test_group_instance(void) {
    check_gn("InstanceNormalization", OT_FLOAT, 22, 6, 6);
    check_gn("InstanceNormalization", OT_DOUBLE, 7, 6, 6);
    check_gn("InstanceNormalization", OT_FLOAT16, 22, 6, 6);
    check_gn("GroupNormalization", OT_FLOAT, 21, 2, 6);
    check_gn("GroupNormalization", OT_DOUBLE, 21, 3, 6);
    check_gn("GroupNormalization", OT_FLOAT, 18, 3, 3); /* opset 18: scale per group */
    check_gn("GroupNormalization", OT_DOUBLE, 18, 1, 1);

    int64_t xd[3] = {2, 6, 3}, cd[1] = {6};
    ot_tensor *in[3] = {rand_tensor(OT_FLOAT, 3, xd, 4), rand_tensor(OT_FLOAT, 1, cd, 4),
                        rand_tensor(OT_FLOAT, 1, cd, 4)};
    attr_spec a[] = {INT("num_groups", 4)};
    op_run r;
    CHECK(run_op(&r, "GroupNormalization", 21, 3, in, 1, a, 1) == OT_ERR_SHAPE); /* 4 does not divide 6 */
    run_free(&r);
    attr_spec a3[] = {INT("num_groups", 3)};
    CHECK(run_op(&r, "GroupNormalization", 18, 3, in, 1, a3, 1) == OT_ERR_SHAPE); /* opset 18 wants (3) */
    CHECK(strstr(ot_last_error(), "group") != NULL);
    run_free(&r);
    CHECK(run_op(&r, "GroupNormalization", 21, 3, in, 1, NULL, 0) == OT_ERR_PARSE); /* num_groups missing */
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

/* ---- RMSNormalization, LpNormalization, MeanVarianceNormalization ----------------- */

static void test_rms_lp(void) {
    int64_t xd[3] = {3, 4, 6}, sd[2] = {4, 6};
    ot_tensor *in[2] = {rand_tensor(OT_FLOAT, 3, xd, 4), rand_tensor(OT_FLOAT, 2, sd, 4)};
    attr_spec a[2] = {INT("axis", 1), FLT("epsilon", 0.01f)};
    op_run r;
    CHECK(run_op(&r, "RMSNormalization", 23, 2, in, 1, a, 2) == OT_OK);
    double y[72];
    for (int row = 0; row < 3; row++) {
        double q = 0;
        for (int j = 0; j < 24; j++) q += at(in[0], row * 24 + j) * at(in[0], row * 24 + j);
        double inv = 1 / sqrt(q / 24 + (double)0.01f);
        for (int j = 0; j < 24; j++) y[row * 24 + j] = at(in[0], row * 24 + j) * inv * at(in[1], j);
    }
    check_all("RMS Y", r.out[0], y, 72, 2e-5);
    run_free(&r);

    for (int p = 1; p <= 2; p++) { /* axis 1 of (3, 4, 6): strided norm */
        attr_spec lp[2] = {INT("axis", -2), INT("p", p)};
        for (int l = 0; l < 4; l++) ot_store_f64(OT_FLOAT, in[0]->data, 24 + l * 6, 0); /* a zero column */
        CHECK(run_op(&r, "LpNormalization", 22, 1, in, 1, lp, 2) == OT_OK);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 6; i++) {
                double nrm = 0;
                for (int l = 0; l < 4; l++) {
                    double v = at(in[0], o * 24 + l * 6 + i);
                    nrm += p == 1 ? fabs(v) : v * v;
                }
                if (p == 2) nrm = sqrt(nrm);
                for (int l = 0; l < 4; l++) y[o * 24 + l * 6 + i] = nrm > 0 ? at(in[0], o * 24 + l * 6 + i) / nrm : 0;
            }
        check_all("LpNorm Y", r.out[0], y, 72, 1e-6);
        run_free(&r);
    }
    attr_spec p3[1] = {INT("p", 3)};
    CHECK(run_op(&r, "LpNormalization", 22, 1, in, 1, p3, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    for (int i = 0; i < 2; i++) ot_tensor_free(in[i]);
}

static void check_mvn(int n_axes, const int64_t *axes) {
    int64_t xd[4] = {2, 3, 4, 5};
    ot_tensor *x = rand_tensor(OT_DOUBLE, 4, xd, 4);
    attr_spec a = {.name = "axes", .kind = 'l', .n = n_axes};
    if (n_axes > 0) memcpy(a.ints, axes, sizeof(int64_t) * (size_t)n_axes);
    op_run r;
    CHECK(run_op(&r, "MeanVarianceNormalization", 13, 1, &x, 1, &a, n_axes >= 0 ? 1 : 0) == OT_OK);
    int red[4] = {0};
    if (n_axes < 0) red[0] = red[2] = red[3] = 1;
    for (int i = 0; i < n_axes; i++) red[axes[i] < 0 ? axes[i] + 4 : axes[i]] = 1;
    double y[120], sum[120] = {0}, sq[120] = {0}, cnt[120] = {0};
    int64_t key[120];
    for (int64_t i = 0; i < 120; i++) { /* group key: coordinates on kept axes */
        int64_t c[4] = {i / 60, i / 20 % 3, i / 5 % 4, i % 5}, k = 0;
        for (int d = 0; d < 4; d++) k = k * xd[d] + (red[d] ? 0 : c[d]);
        key[i] = k;
        sum[k] += at(x, i);
        cnt[k] += 1;
    }
    for (int64_t i = 0; i < 120; i++) {
        double m = sum[key[i]] / cnt[key[i]];
        sq[key[i]] += (at(x, i) - m) * (at(x, i) - m);
    }
    for (int64_t i = 0; i < 120; i++) {
        double m = sum[key[i]] / cnt[key[i]];
        y[i] = (at(x, i) - m) / (sqrt(sq[key[i]] / cnt[key[i]]) + 1e-9);
    }
    check_all("MVN Y", r.out[0], y, 120, 1e-10);
    run_free(&r);
    ot_tensor_free(x);
}

static void test_mvn(void) {
    check_mvn(-1, NULL); /* default axes [0, 2, 3] */
    check_mvn(1, (const int64_t[]){1});
    check_mvn(2, (const int64_t[]){0, -2});
    check_mvn(4, (const int64_t[]){3, 2, 1, 0});
}

int main(void) {
    test_batchnorm();
    test_batchnorm_errors();
    test_moments_accuracy();
    test_layernorm();
    test_layernorm_errors();
    test_group_instance();
    test_rms_lp();
    test_mvn();
    return check_done();
}
