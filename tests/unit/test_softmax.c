/* Softmax family: Softmax / LogSoftmax / Hardmax over every axis and both
   opset semantics, NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss with
   every reduction / weights / ignore_index combination, against naive
   double-precision loops; plus the fast exp, stability, in-place, thread-count
   independence and error cases. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OP_HARNESS_SEED 0x9E3779B97F4A7C15ull
#include "kernels/cpu/softmax.h"
#include "op_harness.h"

static double tol_for(ot_dtype dt) { return dt == OT_DOUBLE ? 1e-12 : dt == OT_FLOAT ? 3e-6 : 1e-2; }

/* ---- Softmax / LogSoftmax / Hardmax --------------------------------------------- */

/* Naive reference over (outer, C, inner), in double. */
static void naive_softmax(const ot_tensor *x, ot_softmax_mode mode, int64_t outer, int64_t C, int64_t inner,
                          double *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            double m = -INFINITY, s = 0;
            int64_t best = 0;
            for (int64_t c = 0; c < C; c++) {
                double v = at(x, (o * C + c) * inner + j);
                if (v > m) {
                    m = v;
                    best = c;
                }
            }
            for (int64_t c = 0; c < C; c++) s += exp(at(x, (o * C + c) * inner + j) - m);
            for (int64_t c = 0; c < C; c++) {
                int64_t i = (o * C + c) * inner + j;
                double v = at(x, i);
                y[i] = mode == OT_SOFTMAX_EXP ? exp(v - m) / s : mode == OT_SOFTMAX_LOG ? v - m - log(s) : c == best;
            }
        }
}

static void check_softmax(const char *op, ot_softmax_mode mode, ot_dtype dt, int64_t opset, int rank,
                          const int64_t *dims, int64_t axis, bool give_axis, double scale) {
    ot_tensor *x = rand_tensor(dt, rank, dims, scale);
    attr_spec a[1] = {INT("axis", axis)};
    op_run r;
    ot_status s = run_op(&r, op, opset, 1, &x, 1, a, give_axis ? 1 : 0);
    CHECK_MSG(s == OT_OK, "%s: %s", op, ot_last_error());
    if (s == OT_OK) {
        int64_t ax = give_axis ? axis : opset < 13 ? 1 : -1;
        if (ax < 0) ax += rank;
        int64_t outer = 1, C = 1, inner = 1;
        for (int i = 0; i < rank; i++) {
            if (i < ax) outer *= dims[i];
            else if (i == ax || opset < 13) C *= dims[i];
            else inner *= dims[i];
        }
        int64_t n = outer * C * inner;
        double *want = malloc(sizeof(double) * (size_t)n);
        naive_softmax(x, mode, outer, C, inner, want);
        CHECK(r.out[0]->rank == rank && r.out[0]->dtype == dt);
        char what[64];
        snprintf(what, sizeof what, "%s(%s, opset %lld, axis %lld)", op, ot_dtype_name(dt), (long long)opset,
                 (long long)axis);
        check_all(what, r.out[0], want, n, tol_for(dt) * (mode == OT_SOFTMAX_LOG ? 4 : 1));
        free(want);
    }
    run_free(&r);
    ot_tensor_free(x);
}

static void test_softmax_ops(void) {
    static const struct {
        const char *op;
        ot_softmax_mode mode;
    } ops[] = {{"Softmax", OT_SOFTMAX_EXP}, {"LogSoftmax", OT_SOFTMAX_LOG}, {"Hardmax", OT_SOFTMAX_HARD}};
    int64_t d3[3] = {3, 4, 5}, d4[4] = {2, 3, 300, 2}, d2[2] = {7, 1000};
    ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16};
    for (int k = 0; k < 3; k++) {
        for (int t = 0; t < 4; t++)
            for (int64_t axis = -3; axis < 3; axis++)
                check_softmax(ops[k].op, ops[k].mode, types[t], 13, 3, d3, axis, true, 3);
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 13, 3, d3, 0, false, 3); /* default -1 */
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 13, 4, d4, 2, true, 5);  /* tiles of inner */
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 13, 4, d4, 1, true, 5);
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 13, 2, d2, 1, true, 30); /* long rows */
        check_softmax(ops[k].op, ops[k].mode, OT_DOUBLE, 13, 2, d2, 1, true, 30);
        /* Before opset 13 the input is coerced to 2-D at axis. */
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 11, 3, d3, 1, false, 3);
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 11, 3, d3, 0, true, 3);
        check_softmax(ops[k].op, ops[k].mode, OT_DOUBLE, 1, 3, d3, -1, true, 3);
        check_softmax(ops[k].op, ops[k].mode, OT_FLOAT, 11, 3, d3, 3, true, 3); /* axis == rank: rows of 1 */
    }
}

static void test_softmax_special(void) {
    /* Large magnitudes, -inf entries and a whole row of equal values. */
    float x[3][4] = {{1000, 999, -1000, 998}, {-INFINITY, 0, -INFINITY, 0}, {5, 5, 5, 5}};
    float y[3][4], l[3][4], h[3][4];
    ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_EXP, x, y, 3, 4, 1);
    ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_LOG, x, l, 3, 4, 1);
    ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_HARD, x, h, 3, 4, 1);
    double s0 = 1 + exp(-1.0) + exp(-2.0);
    CHECK_CLOSE(y[0][0], 1 / s0, 1e-6, 0);
    CHECK_CLOSE(y[0][2], 0, 0, 1e-30);
    CHECK_CLOSE(l[0][1], -1 - log(s0), 1e-6, 0);
    CHECK_CLOSE(l[0][2], -2000 - log(s0), 1e-6, 0);
    CHECK(y[1][0] == 0 && y[1][1] == 0.5f && y[1][3] == 0.5f);
    CHECK(isinf(l[1][0]) && l[1][0] < 0);
    CHECK_CLOSE(l[1][1], -log(2.0), 1e-6, 0);
    CHECK(y[2][0] == 0.25f && y[2][3] == 0.25f);
    CHECK(h[0][0] == 1 && h[0][1] == 0 && h[1][1] == 1 && h[1][3] == 0);
    CHECK(h[2][0] == 1 && h[2][1] == 0 && h[2][2] == 0); /* ties: first index */
    /* A NaN poisons its whole row (as in PyTorch), and Hardmax picks it. */
    float xn[2][3] = {{1, NAN, 2}, {1, 2, 3}}, yn[2][3];
    ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_EXP, xn, yn, 2, 3, 1);
    CHECK(isnan(yn[0][0]) && isnan(yn[0][2]) && !isnan(yn[1][0]));
    ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_HARD, xn, yn, 2, 3, 1);
    CHECK(yn[0][1] == 1 && yn[0][2] == 0 && yn[1][2] == 1);

    /* In place, last axis and strided. */
    int64_t dims[3] = {4, 37, 150};
    for (int mode = 0; mode < 3; mode++)
        for (int strided = 0; strided < 2; strided++) {
            ot_tensor *a = rand_tensor(OT_FLOAT, 3, dims, 4), *b;
            ot_tensor_clone(a, &b);
            int64_t inner = strided ? 150 : 1, C = strided ? 37 : 150, outer = strided ? 4 : 148;
            float *ref = malloc(sizeof(float) * 4 * 37 * 150);
            ot_cpu_softmax(OT_FLOAT, (ot_softmax_mode)mode, a->data, ref, outer, C, inner);
            ot_cpu_softmax(OT_FLOAT, (ot_softmax_mode)mode, b->data, b->data, outer, C, inner);
            CHECK(!memcmp(ref, b->data, sizeof(float) * 4 * 37 * 150));
            free(ref);
            ot_tensor_free(a);
            ot_tensor_free(b);
        }
}

static void test_fast_exp(void) {
    double worst = 0;
    for (int i = 0; i <= 400000; i++) {
        float x = -103.0f + 191.7f * (float)i / 400000.0f;
        double want = exp((double)x), got = ot_fast_expf(x);
        if (want > 1.2e-38 && want < 3.4e38) {
            double e = fabs(got - want) / want;
            if (e > worst) worst = e;
        }
    }
    CHECK_MSG(worst < 3e-7, "fast exp relative error %g", worst);
    CHECK(ot_fast_expf(0) == 1.0f);
    CHECK(ot_fast_expf(-INFINITY) == 0);
    CHECK(isinf(ot_fast_expf(INFINITY)) && isinf(ot_fast_expf(89.0f)));
    CHECK(isnan(ot_fast_expf(NAN)));
    CHECK(ot_fast_expf(-200.0f) == 0);
    float sub = ot_fast_expf(-100.0f); /* subnormal result */
    CHECK_CLOSE(sub, exp(-100.0), 0, 1.5e-45); /* within one subnormal step */
}

/* ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss ------------------------- */

typedef struct loss_case {
    int rank;
    int64_t dims[5];
    bool weights, int32_labels, log_prob;
    const char *reduction;
    bool ignore;
    int64_t ignore_index;
} loss_case;

static void check_loss(const char *op, ot_dtype dt, const loss_case *lc) {
    bool sce = !strcmp(op, "SoftmaxCrossEntropyLoss");
    int64_t N = lc->dims[0], C = lc->dims[1], D = 1, ldims[4];
    ldims[0] = N;
    for (int i = 2; i < lc->rank; i++) {
        D *= lc->dims[i];
        ldims[i - 1] = lc->dims[i];
    }
    ot_tensor *in[3] = {rand_tensor(dt, lc->rank, lc->dims, 3), NULL, NULL};
    ot_tensor_new(lc->int32_labels ? OT_INT32 : OT_INT64, lc->rank - 1, ldims, &in[1]);
    for (int64_t i = 0; i < N * D; i++) {
        int64_t t = (int64_t)(next_u64() % (uint64_t)C);
        if (lc->ignore && next_u64() % 4 == 0) t = lc->ignore_index;
        ot_store_i64(in[1]->dtype, in[1]->data, i, t);
    }
    int64_t cd[1] = {C};
    if (lc->weights) {
        in[2] = rand_tensor(dt, 1, cd, 1);
        for (int64_t c = 0; c < C; c++) ot_store_f64(dt, in[2]->data, c, fabs(at(in[2], c)) + 0.1);
    }
    attr_spec a[2] = {STR("reduction", lc->reduction), INT("ignore_index", lc->ignore_index)};
    op_run r;
    int n_out = sce && lc->log_prob ? 2 : 1;
    ot_status s = run_op(&r, op, 13, lc->weights ? 3 : 2, in, n_out, a, lc->ignore ? 2 : 1);
    CHECK_MSG(s == OT_OK, "%s: %s", op, ot_last_error());
    if (s == OT_OK) {
        double *lp = malloc(sizeof(double) * (size_t)(N * C * D)), *l = malloc(sizeof(double) * (size_t)(N * D));
        double lsum = 0, wsum = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t d = 0; d < D; d++) {
                double m = -INFINITY, se = 0;
                for (int64_t c = 0; c < C; c++) m = fmax(m, at(in[0], (n * C + c) * D + d));
                for (int64_t c = 0; c < C; c++) se += exp(at(in[0], (n * C + c) * D + d) - m);
                for (int64_t c = 0; c < C; c++) {
                    int64_t i = (n * C + c) * D + d;
                    lp[i] = sce ? at(in[0], i) - m - log(se) : at(in[0], i);
                }
                int64_t t = ot_load_i64(in[1]->dtype, in[1]->data, n * D + d);
                double w = 0;
                l[n * D + d] = 0;
                if (!(lc->ignore && t == lc->ignore_index)) {
                    w = lc->weights ? at(in[2], t) : 1;
                    l[n * D + d] = -lp[(n * C + t) * D + d] * w;
                }
                lsum += l[n * D + d];
                wsum += w;
            }
        char what[96];
        snprintf(what, sizeof what, "%s %s %s", op, ot_dtype_name(dt), lc->reduction);
        double tol = tol_for(dt) * 10;
        if (!strcmp(lc->reduction, "none")) {
            CHECK(r.out[0]->rank == lc->rank - 1);
            check_all(what, r.out[0], l, N * D, tol);
        } else {
            double want = !strcmp(lc->reduction, "sum") ? lsum : lsum / wsum;
            CHECK(r.out[0]->rank == 0);
            check_all(what, r.out[0], &want, 1, tol);
        }
        if (n_out == 2) check_all("log_prob", r.out[1], lp, N * C * D, tol);
        free(lp);
        free(l);
    }
    run_free(&r);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

static void test_losses(void) {
    const char *reds[3] = {"none", "sum", "mean"};
    ot_dtype types[3] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16};
    for (int op = 0; op < 2; op++)
        for (int ri = 0; ri < 3; ri++)
            for (int ti = 0; ti < 3; ti++)
                for (int v = 0; v < 4; v++) {
                    loss_case lc = {.reduction = reds[ri], .weights = v & 1, .ignore = v & 2, .log_prob = true,
                                    .int32_labels = ti == 1, .ignore_index = v == 3 ? -7 : 2};
                    if (ri == 0 && v == 0) lc.log_prob = false;
                    static const int64_t shapes[3][5] = {{6, 5}, {3, 4, 7}, {2, 3, 130, 2}};
                    for (int sh = 0; sh < 3; sh++) {
                        lc.rank = sh + 2;
                        memcpy(lc.dims, shapes[sh], sizeof lc.dims);
                        check_loss(op ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss", types[ti], &lc);
                    }
                }
    /* Long rows (a vocabulary-sized C). */
    loss_case big = {.rank = 2, .dims = {16, 5000}, .reduction = "mean", .log_prob = true};
    check_loss("SoftmaxCrossEntropyLoss", OT_FLOAT, &big);
}

static void test_loss_errors(void) {
    int64_t xd[3] = {2, 3, 2}, td[2] = {2, 2}, bad_td[2] = {2, 3};
    ot_tensor *x = rand_tensor(OT_FLOAT, 3, xd, 1), *t;
    int64_t labels[4] = {0, 2, 1, 3}; /* 3 is out of range at sample [1, 1] */
    ot_tensor_new(OT_INT64, 2, td, &t);
    memcpy(t->data, labels, sizeof labels);
    ot_tensor *in[2] = {x, t};
    op_run r;
    attr_spec a[2] = {STR("reduction", "sum"), INT("ignore_index", -1)};
    ot_status s = run_op(&r, "SoftmaxCrossEntropyLoss", 13, 2, in, 1, a, 1);
    CHECK(s == OT_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ot_last_error(), "mynode") && strstr(ot_last_error(), "label 3") &&
                  strstr(ot_last_error(), "(1, 1)"),
              "%s", ot_last_error());
    run_free(&r);
    labels[3] = -1; /* now ignored */
    memcpy(t->data, labels, sizeof labels);
    s = run_op(&r, "NegativeLogLikelihoodLoss", 13, 2, in, 1, a, 2);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    run_free(&r);
    s = run_op(&r, "NegativeLogLikelihoodLoss", 13, 2, in, 1, a, 1); /* -1 without ignore_index */
    CHECK(s == OT_ERR_INVALID_ARG);
    run_free(&r);
    ot_tensor_free(t);
    ot_tensor_new(OT_INT64, 2, bad_td, &t);
    in[1] = t;
    s = run_op(&r, "SoftmaxCrossEntropyLoss", 13, 2, in, 1, a, 1);
    CHECK(s == OT_ERR_SHAPE);
    run_free(&r);
    attr_spec bad[1] = {STR("reduction", "avg")};
    s = run_op(&r, "SoftmaxCrossEntropyLoss", 13, 2, in, 1, bad, 1);
    CHECK(s == OT_ERR_UNSUPPORTED && strstr(ot_last_error(), "avg"));
    run_free(&r);
    ot_tensor_free(t);
    ot_tensor_new(OT_FLOAT, 2, td, &t); /* float labels */
    in[1] = t;
    s = run_op(&r, "SoftmaxCrossEntropyLoss", 13, 2, in, 1, a, 1);
    CHECK(s == OT_ERR_UNSUPPORTED);
    run_free(&r);
    ot_tensor_free(t);
    ot_tensor_free(x);
    /* Softmax axis out of range; scalar input. */
    ot_tensor *y = rand_tensor(OT_FLOAT, 3, xd, 1);
    attr_spec ax[1] = {INT("axis", 3)};
    s = run_op(&r, "Softmax", 13, 1, &y, 1, ax, 1);
    CHECK(s == OT_ERR_SHAPE && strstr(ot_last_error(), "axis 3"));
    run_free(&r);
    ot_tensor_free(y);
    y = rand_tensor(OT_INT32, 3, xd, 1);
    s = run_op(&r, "Softmax", 13, 1, &y, 1, NULL, 0);
    CHECK(s == OT_ERR_UNSUPPORTED);
    run_free(&r);
    ot_tensor_free(y);
}

/* The loss sums use a fixed partition: bit-identical for any thread count. */
static void test_determinism(void) {
    int64_t xd[3] = {64, 10, 300}, td[2] = {64, 300};
    ot_tensor *x = rand_tensor(OT_FLOAT, 3, xd, 4), *t;
    ot_tensor_new(OT_INT64, 2, td, &t);
    for (int64_t i = 0; i < 64 * 300; i++) ((int64_t *)t->data)[i] = (int64_t)(next_u64() % 10);
    ot_tensor *in[2] = {x, t};
    float res[2];
    int before = omp_get_max_threads();
    for (int k = 0; k < 2; k++) {
        omp_set_num_threads(k ? 3 : 1);
        op_run r;
        CHECK(run_op(&r, "SoftmaxCrossEntropyLoss", 13, 2, in, 1, NULL, 0) == OT_OK);
        res[k] = ((float *)r.out[0]->data)[0];
        run_free(&r);
    }
    omp_set_num_threads(before);
    CHECK(res[0] == res[1]);
    ot_tensor_free(x);
    ot_tensor_free(t);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Not a pass/fail check (the machine is shared): prints throughput. */
static void bench_softmax(void) {
    int64_t rows = 256, C = 4096;
    float *x = malloc(sizeof(float) * (size_t)(rows * C)), *y = malloc(sizeof(float) * (size_t)(rows * C));
    for (int64_t i = 0; i < rows * C; i++) x[i] = (float)rand_unit() * 8;
    ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_EXP, x, y, rows, C, 1);
    double t0 = now_ms();
    for (int k = 0; k < 10; k++) ot_cpu_softmax(OT_FLOAT, OT_SOFTMAX_EXP, x, y, rows, C, 1);
    double t1 = now_ms();
    printf("softmax (256, 4096) float32: %.3f ms, %.2f ns/element\n", (t1 - t0) / 10,
           (t1 - t0) / 10 * 1e6 / (double)(rows * C));
    free(x);
    free(y);
}

int main(void) {
    test_softmax_ops();
    test_softmax_special();
    test_fast_exp();
    test_losses();
    test_loss_errors();
    test_determinism();
    bench_softmax();
    return check_done();
}
