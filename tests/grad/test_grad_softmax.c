/* Gradient checks for the softmax family: Softmax and LogSoftmax (both opset
 * forms), SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (every
 * reduction, ignore_index, weights, (N, C) and (N, C, d1, ...) layouts, the
 * optional log_prob output), plus direct checks of the float32 kernels
 * against the float64 ones on shapes that take the parallel and tiled paths. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/cpu/softmax_grad.h"
#include "src/core/alloc.h"
#include "src/core/half.h"

#define DF(...) {GC_DIFF, OT_FLOAT, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}}
/* int64 / int32 labels with the given values, shape dims. */
#define LBL(vals, ...) {GC_CONST, OT_INT64, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, vals}
#define LBL32(vals, ...) {GC_CONST, OT_INT32, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, vals}
#define WTS(vals, c) {GC_CONST, OT_DOUBLE, 1, {c}, NULL, vals}

#define SM(nm, op_, opset_, x, na, ...) {.name = nm, .op = op_, .opset = opset_, .n_in = 1, .n_out = 1, .in = {x}, \
                                         .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case softmax_cases[] = {
    SM("softmax_last_axis_opset13", "Softmax", 13, D(3, 5), 1, AI("axis", -1)),
    SM("softmax_default_axis_opset13", "Softmax", 13, D(2, 3, 4), 0, AI("axis", 0)),
    SM("softmax_axis1_rank3_opset13", "Softmax", 13, D(2, 4, 3), 1, AI("axis", 1)),
    SM("softmax_axis0_opset13", "Softmax", 13, D(4, 3), 1, AI("axis", 0)),
    SM("softmax_axis1_inner130_opset13", "Softmax", 13, D(1, 3, 130), 1, AI("axis", 1)),
    SM("softmax_rank1_opset13", "Softmax", 13, D(6), 0, AI("axis", 0)),
    SM("softmax_default_axis_opset11", "Softmax", 11, D(2, 3, 2), 0, AI("axis", 0)),
    SM("softmax_axis1_coerced_opset11", "Softmax", 11, D(2, 3, 4), 1, AI("axis", 1)),
    SM("softmax_axis0_coerced_opset11", "Softmax", 11, D(2, 3), 1, AI("axis", 0)),
    SM("softmax_axis2_coerced_opset1", "Softmax", 1, D(2, 2, 3, 2), 1, AI("axis", 2)),
    SM("softmax_neg_axis_coerced_opset11", "Softmax", 11, D(2, 3, 4), 1, AI("axis", -1)),
    SM("logsoftmax_last_axis_opset13", "LogSoftmax", 13, D(3, 5), 1, AI("axis", -1)),
    SM("logsoftmax_axis1_rank3_opset13", "LogSoftmax", 13, D(2, 4, 3), 1, AI("axis", 1)),
    SM("logsoftmax_axis0_opset13", "LogSoftmax", 13, D(4, 3), 1, AI("axis", 0)),
    SM("logsoftmax_axis1_inner130_opset13", "LogSoftmax", 13, D(1, 3, 130), 1, AI("axis", 1)),
    SM("logsoftmax_default_axis_opset11", "LogSoftmax", 11, D(2, 3, 2), 0, AI("axis", 0)),
    SM("logsoftmax_axis1_coerced_opset11", "LogSoftmax", 11, D(2, 3, 4), 1, AI("axis", 1)),
    SM("logsoftmax_axis0_coerced_opset11", "LogSoftmax", 11, D(2, 3), 1, AI("axis", 0)),
    /* float32 end to end (looser: float finite differences). */
    {.name = "softmax_f32_opset13", .op = "Softmax", .opset = 13, .n_in = 1, .n_out = 1, .in = {DF(3, 7)},
     .rtol = 2e-2, .atol = 2e-3, .h = 1e-2},
    {.name = "logsoftmax_f32_axis1_opset13", .op = "LogSoftmax", .opset = 13, .n_in = 1, .n_out = 1,
     .in = {DF(2, 5, 3)}, .n_attrs = 1, .attrs = {AI("axis", 1)}, .rtol = 2e-2, .atol = 2e-3, .h = 1e-2},
};

static const int64_t l4[] = {1, 0, 4, 2}, l4_ign2[] = {2, 0, 2, 4}, l4_ignneg[] = {-1, 3, 0, -1};
static const int64_t l4_all_ign[] = {-100, -100, -100, -100};
static const int64_t l3x5[] = {0, 3, 1, 2, 3, 1, 1, 0, 2, 3, 2, 0, 3, 3, 1};
static const int64_t l3x5_ign[] = {0, -7, 1, 2, 3, -7, 1, 0, 2, -7, 2, 0, 3, 3, 1};
static const int64_t l2x2x3[] = {0, 2, 1, 1, 0, 2, 2, 2, 0, 1, 1, 0};
static const int64_t l1x130[130] = {0, 1, 2, 2, 1, 0, 1, 2, 0, 0, 1, 1, 2, 2, 0, 1, 2, 1, 0, 2, 1, 0, 2, 1, 1, 0,
                                    2, 2, 0, 1, 0, 1, 2, 0, 2, 1, 1, 2, 0, 0, 2, 1, 0, 1, 2, 2, 1, 0, 0, 2, 1, 1,
                                    0, 2, 2, 0, 1, 2, 1, 0, 0, 1, 2, 1, 2, 0, 2, 0, 1, 1, 0, 2, 2, 1, 0, 1, 0, 2,
                                    1, 2, 0, 0, 1, 2, 2, 1, 0, 1, 0, 2, 0, 1, 2, 1, 1, 0, 2, 0, 2, 1, 0, 0, 1, 2,
                                    2, 0, 1, 1, 2, 0, 0, 2, 1, 2, 1, 0, 1, 2, 0, 0, 2, 1, 1, 0, 2, 2, 1, 0};
static const double w5[] = {0.5, 2.0, 1.5, 0.25, 1.0}, w4[] = {1.0, 0.3, 2.0, 0.7}, w3[] = {0.2, 1.0, 3.0};

#define LOSS(nm, op_, nout, red, x, lbl, nextra, ...)                                                        \
    {.name = nm, .op = op_, .n_in = 2, .n_out = nout, .in = {x, lbl}, .n_attrs = 1 + (nextra),             \
     .attrs = {AS("reduction", red), __VA_ARGS__}}
#define LOSSW(nm, op_, nout, red, x, lbl, w, nextra, ...)                                                    \
    {.name = nm, .op = op_, .n_in = 3, .n_out = nout, .in = {x, lbl, w}, .n_attrs = 1 + (nextra),          \
     .attrs = {AS("reduction", red), __VA_ARGS__}}
#define SCE "SoftmaxCrossEntropyLoss"
#define NLL "NegativeLogLikelihoodLoss"

static const gc_case loss_cases[] = {
    /* (N, C) */
    LOSS("sce_mean_NC", SCE, 1, "mean", D(4, 5), LBL(l4, 4), 0, AI("", 0)),
    LOSS("sce_sum_NC", SCE, 1, "sum", D(4, 5), LBL(l4, 4), 0, AI("", 0)),
    LOSS("sce_none_NC", SCE, 1, "none", D(4, 5), LBL(l4, 4), 0, AI("", 0)),
    LOSS("sce_mean_NC_int32", SCE, 1, "mean", D(4, 5), LBL32(l4, 4), 0, AI("", 0)),
    LOSSW("sce_mean_NC_weights", SCE, 1, "mean", D(4, 5), LBL(l4, 4), WTS(w5, 5), 0, AI("", 0)),
    LOSSW("sce_sum_NC_weights", SCE, 1, "sum", D(4, 5), LBL(l4, 4), WTS(w5, 5), 0, AI("", 0)),
    LOSSW("sce_none_NC_weights", SCE, 1, "none", D(4, 5), LBL(l4, 4), WTS(w5, 5), 0, AI("", 0)),
    LOSS("sce_mean_NC_ignore2", SCE, 1, "mean", D(4, 5), LBL(l4_ign2, 4), 1, AI("ignore_index", 2)),
    LOSS("sce_mean_NC_ignore_neg", SCE, 1, "mean", D(4, 5), LBL(l4_ignneg, 4), 1, AI("ignore_index", -1)),
    LOSSW("sce_mean_NC_weights_ignore", SCE, 1, "mean", D(4, 5), LBL(l4_ign2, 4), WTS(w5, 5), 1,
          AI("ignore_index", 2)),
    LOSSW("sce_none_NC_weights_ignore", SCE, 1, "none", D(4, 5), LBL(l4_ignneg, 4), WTS(w5, 5), 1,
          AI("ignore_index", -1)),
    LOSS("sce_sum_NC_all_ignored", SCE, 1, "sum", D(4, 5), LBL(l4_all_ign, 4), 1, AI("ignore_index", -100)),
    /* (N, C, d1...) */
    LOSS("sce_mean_NCd", SCE, 1, "mean", D(3, 4, 5), LBL(l3x5, 3, 5), 0, AI("", 0)),
    LOSS("sce_none_NCd", SCE, 1, "none", D(3, 4, 5), LBL(l3x5, 3, 5), 0, AI("", 0)),
    LOSSW("sce_sum_NCd_weights_ignore", SCE, 1, "sum", D(3, 4, 5), LBL(l3x5_ign, 3, 5), WTS(w4, 4), 1,
          AI("ignore_index", -7)),
    LOSSW("sce_mean_NCd_weights_ignore", SCE, 1, "mean", D(3, 4, 5), LBL(l3x5_ign, 3, 5), WTS(w4, 4), 1,
          AI("ignore_index", -7)),
    LOSSW("sce_mean_NCd1d2_weights", SCE, 1, "mean", D(2, 3, 2, 3), LBL(l2x2x3, 2, 2, 3), WTS(w3, 3), 0,
          AI("", 0)),
    LOSS("sce_mean_NCd_130", SCE, 1, "mean", D(1, 3, 130), LBL(l1x130, 1, 130), 0, AI("", 0)),
    /* log_prob output present and seeded: the gradient goes through both. */
    LOSS("sce_mean_NC_logprob", SCE, 2, "mean", D(4, 5), LBL(l4, 4), 0, AI("", 0)),
    LOSSW("sce_none_NC_logprob_weights_ignore", SCE, 2, "none", D(4, 5), LBL(l4_ign2, 4), WTS(w5, 5), 1,
          AI("ignore_index", 2)),
    LOSSW("sce_mean_NCd_logprob_weights_ignore", SCE, 2, "mean", D(3, 4, 5), LBL(l3x5_ign, 3, 5), WTS(w4, 4), 1,
          AI("ignore_index", -7)),
    LOSS("sce_sum_NCd1d2_logprob", SCE, 2, "sum", D(2, 3, 2, 3), LBL(l2x2x3, 2, 2, 3), 0, AI("", 0)),
    /* NegativeLogLikelihoodLoss (x: log-probabilities, any values) */
    LOSS("nll_mean_NC", NLL, 1, "mean", D(4, 5), LBL(l4, 4), 0, AI("", 0)),
    LOSS("nll_sum_NC", NLL, 1, "sum", D(4, 5), LBL(l4, 4), 0, AI("", 0)),
    LOSS("nll_none_NC", NLL, 1, "none", D(4, 5), LBL32(l4, 4), 0, AI("", 0)),
    LOSSW("nll_mean_NC_weights_ignore", NLL, 1, "mean", D(4, 5), LBL(l4_ign2, 4), WTS(w5, 5), 1,
          AI("ignore_index", 2)),
    LOSSW("nll_none_NC_weights_ignore", NLL, 1, "none", D(4, 5), LBL(l4_ignneg, 4), WTS(w5, 5), 1,
          AI("ignore_index", -1)),
    LOSSW("nll_mean_NCd_weights_ignore", NLL, 1, "mean", D(3, 4, 5), LBL(l3x5_ign, 3, 5), WTS(w4, 4), 1,
          AI("ignore_index", -7)),
    LOSS("nll_none_NCd1d2", NLL, 1, "none", D(2, 3, 2, 3), LBL(l2x2x3, 2, 2, 3), 0, AI("", 0)),
    LOSS("nll_sum_NCd_130", NLL, 1, "sum", D(1, 3, 130), LBL(l1x130, 1, 130), 0, AI("", 0)),
    /* float32 end to end */
    {.name = "sce_f32_mean_NC_weights", .op = SCE, .n_in = 3, .n_out = 1,
     .in = {DF(4, 5), LBL(l4, 4), {GC_CONST, OT_FLOAT, 1, {5}, NULL, w5}}, .n_attrs = 1,
     .attrs = {AS("reduction", "mean")}, .rtol = 2e-2, .atol = 2e-3, .h = 1e-2},
    {.name = "sce_f32_sum_NCd_logprob", .op = SCE, .n_in = 2, .n_out = 2, .in = {DF(3, 4, 5), LBL(l3x5, 3, 5)},
     .n_attrs = 1, .attrs = {AS("reduction", "sum")}, .rtol = 2e-2, .atol = 2e-3, .h = 1e-2},
};

/* ---- float32 kernels against float64 on large shapes --------------------------- */

static uint64_t rng = 88172645463325252ull;
static double uniform(double lo, double hi) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static int compare(const char *what, const float *a, const double *b, int64_t n, double tol) {
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(a[i] - b[i]));
    if (worst <= tol * (scale > 0 ? scale : 1)) return 0;
    printf("%s: float32 kernel differs from float64 by %g (max |ref| %g)\n", what, worst, scale);
    return 1;
}

static int softmax_grad_f32(int64_t outer, int64_t C, int64_t inner, ot_softmax_mode mode) {
    int64_t n = outer * C * inner;
    double *x = ot_malloc(sizeof(double) * n), *y = ot_malloc(sizeof(double) * n), *dy = ot_malloc(sizeof(double) * n),
           *dx = ot_malloc(sizeof(double) * n);
    float *yf = ot_malloc(sizeof(float) * n), *dyf = ot_malloc(sizeof(float) * n), *dxf = ot_malloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++) {
        x[i] = uniform(-4, 4);
        dy[i] = uniform(-1, 1);
    }
    ot_cpu_softmax(OT_DOUBLE, mode, x, y, outer, C, inner);
    for (int64_t i = 0; i < n; i++) {
        yf[i] = (float)y[i];
        dyf[i] = (float)dy[i];
        y[i] = yf[i]; /* both kernels see the same rounded inputs */
        dy[i] = dyf[i];
    }
    ot_cpu_softmax_grad(OT_DOUBLE, mode, dy, y, dx, outer, C, inner);
    ot_cpu_softmax_grad(OT_FLOAT, mode, dyf, yf, dxf, outer, C, inner);
    char what[96];
    snprintf(what, sizeof what, "%s grad (%lld, %lld, %lld)", mode == OT_SOFTMAX_EXP ? "softmax" : "logsoftmax",
             (long long)outer, (long long)C, (long long)inner);
    int bad = compare(what, dxf, dx, n, 1e-5);
    ot_cpu_softmax_grad(OT_FLOAT, mode, dyf, yf, dyf, outer, C, inner); /* in place: dx == dy */
    bad += compare(what, dyf, dx, n, 1e-5);
    ot_free(x), ot_free(y), ot_free(dy), ot_free(dx), ot_free(yf), ot_free(dyf), ot_free(dxf);
    return bad;
}

static int nll_grad_f32(int64_t N, int64_t C, int64_t D, ot_nll_grad_source src, ot_loss_reduction red, bool weights) {
    int64_t n = N * C * D, nl = N * D, nd = red == OT_LOSS_NONE ? nl : 1;
    double *x = ot_malloc(sizeof(double) * n), *dx = ot_malloc(sizeof(double) * n), *w = ot_malloc(sizeof(double) * C),
           *dl = ot_malloc(sizeof(double) * nd);
    float *xf = ot_malloc(sizeof(float) * n), *dxf = ot_malloc(sizeof(float) * n), *wf = ot_malloc(sizeof(float) * C),
          *dlf = ot_malloc(sizeof(float) * nd);
    int64_t *lbl = ot_malloc(sizeof(int64_t) * nl);
    for (int64_t i = 0; i < n; i++) x[i] = uniform(-6, 6);
    if (src == OT_NLL_GRAD_LOG_PROB) ot_cpu_softmax(OT_DOUBLE, OT_SOFTMAX_LOG, x, x, N, C, D);
    for (int64_t i = 0; i < n; i++) x[i] = xf[i] = (float)x[i];
    for (int64_t c = 0; c < C; c++) w[c] = wf[c] = (float)uniform(0.1, 2);
    for (int64_t i = 0; i < nd; i++) dl[i] = dlf[i] = (float)uniform(-1, 1);
    for (int64_t i = 0; i < nl; i++) lbl[i] = i % 7 == 3 ? -1 : (int64_t)(uniform(0, 1) * (double)C) % C;
    ot_nll_grad_args a = {.dtype = OT_DOUBLE, .source = src, .x = x, .label_dtype = OT_INT64, .labels = lbl,
                          .weights = weights ? w : NULL, .N = N, .C = C, .D = D, .has_ignore = true,
                          .ignore_index = -1, .reduction = red, .dloss = dl, .dx = dx};
    ot_cpu_nll_grad(&a);
    a.dtype = OT_FLOAT, a.x = xf, a.weights = weights ? wf : NULL, a.dloss = dlf, a.dx = dxf;
    ot_cpu_nll_grad(&a);
    char what[96];
    snprintf(what, sizeof what, "loss grad source %d reduction %d (%lld, %lld, %lld)", (int)src, (int)red,
             (long long)N, (long long)C, (long long)D);
    int bad = compare(what, dxf, dx, n, 1e-5);
    ot_free(x), ot_free(dx), ot_free(w), ot_free(dl), ot_free(xf), ot_free(dxf), ot_free(wf), ot_free(dlf);
    ot_free(lbl);
    return bad;
}

/* float16 / bfloat16: the float64 kernel's result within half precision. */
static int half_checks(void) {
    enum { O = 40, C = 33, I = 3, NN = O * C * I };
    static double x[NN], y[NN], dy[NN], dx[NN];
    static uint16_t yh[NN], dyh[NN], dxh[NN];
    int bad = 0;
    for (int k = 0; k < 4; k++) {
        bool bf = k & 1;
        ot_softmax_mode mode = k & 2 ? OT_SOFTMAX_LOG : OT_SOFTMAX_EXP;
        for (int i = 0; i < NN; i++) x[i] = uniform(-3, 3), dy[i] = uniform(-1, 1);
        ot_cpu_softmax(OT_DOUBLE, mode, x, y, O, C, I);
        for (int i = 0; i < NN; i++) {
            yh[i] = bf ? ot_f32_to_bf16((float)y[i]) : ot_f32_to_f16((float)y[i]);
            dyh[i] = bf ? ot_f32_to_bf16((float)dy[i]) : ot_f32_to_f16((float)dy[i]);
            y[i] = bf ? ot_bf16_to_f32(yh[i]) : ot_f16_to_f32(yh[i]);
            dy[i] = bf ? ot_bf16_to_f32(dyh[i]) : ot_f16_to_f32(dyh[i]);
        }
        ot_cpu_softmax_grad(OT_DOUBLE, mode, dy, y, dx, O, C, I);
        ot_cpu_softmax_grad(bf ? OT_BFLOAT16 : OT_FLOAT16, mode, dyh, yh, dxh, O, C, I);
        double worst = 0;
        for (int i = 0; i < NN; i++) {
            double v = bf ? ot_bf16_to_f32(dxh[i]) : ot_f16_to_f32(dxh[i]);
            worst = fmax(worst, fabs(v - dx[i]) / (0.05 + fabs(dx[i])));
        }
        if (worst > (bf ? 3e-2 : 4e-3)) {
            printf("%s softmax grad mode %d: relative error %g\n", bf ? "bfloat16" : "float16", (int)mode, worst);
            bad++;
        }
    }
    /* The loss gradient from scores, (N, C, D) = (O, C, I), sum reduction. */
    static uint16_t xh[NN];
    static int64_t lbl[O * I];
    for (int i = 0; i < O * I; i++) lbl[i] = (i * 5) % C;
    for (int k = 0; k < 2; k++) {
        bool bf = k;
        for (int i = 0; i < NN; i++) {
            xh[i] = bf ? ot_f32_to_bf16((float)uniform(-3, 3)) : ot_f32_to_f16((float)uniform(-3, 3));
            x[i] = bf ? ot_bf16_to_f32(xh[i]) : ot_f16_to_f32(xh[i]);
        }
        double dl = 0.75;
        uint16_t dlh = bf ? ot_f32_to_bf16(0.75f) : ot_f32_to_f16(0.75f);
        ot_nll_grad_args a = {.dtype = OT_DOUBLE, .source = OT_NLL_GRAD_SCORES, .x = x, .label_dtype = OT_INT64,
                              .labels = lbl, .N = O, .C = C, .D = I, .reduction = OT_LOSS_SUM, .dloss = &dl, .dx = dx};
        ot_cpu_nll_grad(&a);
        a.dtype = bf ? OT_BFLOAT16 : OT_FLOAT16, a.x = xh, a.dloss = &dlh, a.dx = dxh;
        ot_cpu_nll_grad(&a);
        double worst = 0;
        for (int i = 0; i < NN; i++) {
            double v = bf ? ot_bf16_to_f32(dxh[i]) : ot_f16_to_f32(dxh[i]);
            worst = fmax(worst, fabs(v - dx[i]) / (0.05 + fabs(dx[i])));
        }
        if (worst > (bf ? 3e-2 : 4e-3)) {
            printf("%s loss grad: relative error %g\n", bf ? "bfloat16" : "float16", worst);
            bad++;
        }
    }
    return bad;
}

static int kernel_checks(void) {
    int bad = 0;
    for (int m = 0; m < 2; m++) {
        ot_softmax_mode mode = m ? OT_SOFTMAX_LOG : OT_SOFTMAX_EXP;
        bad += softmax_grad_f32(64, 1000, 1, mode);  /* rows, parallel */
        bad += softmax_grad_f32(4, 37, 300, mode);   /* tiles with a partial last tile */
        bad += softmax_grad_f32(3, 5, 1, mode);      /* tiny */
    }
    for (int s = 0; s < 3; s++) {
        for (int r = 0; r < 3; r++) {
            bad += nll_grad_f32(64, 1000, 1, (ot_nll_grad_source)s, (ot_loss_reduction)r, r == 2);
            bad += nll_grad_f32(4, 37, 300, (ot_nll_grad_source)s, (ot_loss_reduction)r, r != 1);
        }
    }
    bad += half_checks();
    printf("float32 / float16 / bfloat16 kernel checks: %s\n", bad ? "FAILED" : "passed");
    return bad;
}

int main(void) {
    int failed = 0;
    failed += gc_run_all(softmax_cases, sizeof softmax_cases / sizeof softmax_cases[0]);
    failed += gc_run_all(loss_cases, sizeof loss_cases / sizeof loss_cases[0]);
    failed += kernel_checks();
    return failed ? 1 : 0;
}
