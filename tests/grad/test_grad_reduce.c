/* Gradient checks for the reduce family: every Reduce* op in both opset forms
 * (axes attribute, axes input), keepdims 0/1, empty axes (all), negative
 * axes, noop_with_empty_axes, ties for ReduceMax / ReduceMin (PyTorch amax /
 * amin: shared evenly), zeros for ReduceProd, and CumSum (exclusive,
 * reverse).  Then the ReduceGrad kernel on large shapes (parallel and chunked
 * paths) against a naive reference, and float32 against float64. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/cpu/reduce_grad.h"
#include "src/core/alloc.h"
#include "src/core/half.h"

#define DPOS(...) {GC_DIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, .lo = 0.5, .hi = 2}
#define DV(vals, ...) {GC_DIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}, NULL, vals}
#define AXES(...) {GC_CONST, OT_INT64, 1, {sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)}, \
                   (const int64_t[]){__VA_ARGS__}}
static const int64_t no_axes[1] = {0};
#define AXES_EMPTY {GC_CONST, OT_INT64, 1, {0}, no_axes}

/* Axes as an attribute (opset `os`, below the op's axes-input opset). */
#define RA(nm, op_, os, x, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 1, .n_out = 1, .in = {x}, \
                                     .n_attrs = na, .attrs = {__VA_ARGS__}}
/* Axes as input 1. */
#define RI(nm, op_, os, x, ax, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 2, .n_out = 1, .in = {x, ax}, \
                                         .n_attrs = na, .attrs = {__VA_ARGS__}}

/* One op in the attribute form (opset 17, or 11 for ReduceSum) and the input
   form (18, or 13), with several axes / keepdims variants. */
#define REDUCE_SET(op_, X, osa, osi)                                                                       \
    RA(op_ "_attr_axis1_keep", op_, osa, X(2, 3, 4), 1, AL("axes", 1)),                                   \
    RA(op_ "_attr_axis1_nokeep", op_, osa, X(2, 3, 4), 2, AL("axes", 1), AI("keepdims", 0)),              \
    RA(op_ "_attr_axes02_nokeep", op_, osa, X(2, 3, 4), 2, AL("axes", 0, 2), AI("keepdims", 0)),          \
    RA(op_ "_attr_axis_neg1_keep", op_, osa, X(3, 4), 1, AL("axes", -1)),                                 \
    RA(op_ "_attr_axis0_nokeep", op_, osa, X(3, 4), 2, AL("axes", 0), AI("keepdims", 0)),                 \
    RA(op_ "_attr_all_keep", op_, osa, X(2, 3), 0, AI("", 0)),                                            \
    RA(op_ "_attr_all_nokeep", op_, osa, X(2, 1, 3), 1, AI("keepdims", 0)),                               \
    RI(op_ "_input_axes12_nokeep", op_, osi, X(2, 3, 4), AXES(1, 2), 1, AI("keepdims", 0)),               \
    RI(op_ "_input_axis_neg3_keep", op_, osi, X(2, 3, 4), AXES(-3), 0, AI("", 0)),                        \
    RI(op_ "_input_axes_absent_all", op_, osi, X(2, 3), {GC_ABSENT}, 1, AI("keepdims", 0)),               \
    RI(op_ "_input_axes_empty_all", op_, osi, X(2, 3), AXES_EMPTY, 0, AI("", 0)),                         \
    RI(op_ "_input_axes_empty_noop", op_, osi, X(2, 3), AXES_EMPTY, 1, AI("noop_with_empty_axes", 1)),    \
    RI(op_ "_input_axis1_noop_keep", op_, osi, X(2, 3, 2), AXES(1), 1, AI("noop_with_empty_axes", 1))

static const gc_case reduce_cases[] = {
    REDUCE_SET("ReduceSum", D, 11, 13),
    RA("ReduceSum_opset1_axes", "ReduceSum", 1, D(2, 3), 1, AL("axes", 0)),
    REDUCE_SET("ReduceMean", D, 17, 18),
    REDUCE_SET("ReduceSumSquare", D, 17, 18),
    REDUCE_SET("ReduceL1", D, 17, 18),
    REDUCE_SET("ReduceL2", D, 17, 18),
    REDUCE_SET("ReduceLogSum", DPOS, 17, 18),
    REDUCE_SET("ReduceLogSumExp", D, 17, 18),
    REDUCE_SET("ReduceMax", D, 17, 18),
    REDUCE_SET("ReduceMin", D, 17, 18),
    REDUCE_SET("ReduceProd", D, 17, 18),
    RA("ReduceMean_opset13_attr", "ReduceMean", 13, D(2, 3, 4), 1, AL("axes", 2)),
    RA("ReduceMax_opset11_attr", "ReduceMax", 11, D(4, 3), 1, AL("axes", 1)),
};

/* Rows of (2, 4): ties of two in the reduced rows. */
static const double tie_max[] = {0.5, 0.9, 0.9, -0.2, 0.3, -0.7, 0.1, 0.2};
static const double tie_min[] = {0.5, -0.9, 0.2, -0.9, -0.3, 0.4, -0.3, 0.1};
/* (2, 3, 2): no zero, one zero, two zeros per reduced group along axis 1. */
static const double prod_zero1[] = {0.5, -1.2, 0.0, 0.7, 1.5, 0.9, -0.8, 0.0, 1.1, 0.6, 0.3, -1.4};
static const double prod_zero2[] = {0.0, -1.2, 0.0, 0.7, 1.5, 0.9, 0.0, 0.0, 1.1, 0.6, 0.3, 0.0};

static const gc_case special_cases[] = {
    RA("ReduceMax_ties_attr", "ReduceMax", 17, DV(tie_max, 2, 4), 1, AL("axes", 1)),
    RI("ReduceMax_ties_input_nokeep", "ReduceMax", 18, DV(tie_max, 2, 4), AXES(1), 1, AI("keepdims", 0)),
    RA("ReduceMax_ties_all", "ReduceMax", 17, DV(tie_max, 2, 4), 0, AI("", 0)),
    RA("ReduceMin_ties_attr", "ReduceMin", 17, DV(tie_min, 2, 4), 1, AL("axes", -1)),
    RI("ReduceMin_ties_input", "ReduceMin", 18, DV(tie_min, 2, 4), AXES(1), 0, AI("", 0)),
    RA("ReduceProd_one_zero", "ReduceProd", 17, DV(prod_zero1, 2, 3, 2), 1, AL("axes", 1)),
    RI("ReduceProd_two_zeros", "ReduceProd", 18, DV(prod_zero2, 2, 3, 2), AXES(1), 1, AI("keepdims", 0)),
    RA("ReduceProd_zeros_all", "ReduceProd", 17, DV(prod_zero1, 2, 3, 2), 0, AI("", 0)),
    RA("ReduceProd_two_zeros_axes02", "ReduceProd", 17, DV(prod_zero2, 2, 3, 2), 1, AL("axes", 0, 2)),
    RA("ReduceL2_attr_axis0_wide", "ReduceL2", 17, D(5, 2), 1, AL("axes", 0)),
};

#define CS(nm, os, x, ax, na, ...) {.name = nm, .op = "CumSum", .opset = os, .n_in = 2, .n_out = 1, .in = {x, ax}, \
                                    .n_attrs = na, .attrs = {__VA_ARGS__}}
#define AX1(v) {GC_CONST, OT_INT64, 0, {0}, (const int64_t[]){v}}
#define AX1_32(v) {GC_CONST, OT_INT32, 1, {1}, (const int64_t[]){v}}

static const gc_case cumsum_cases[] = {
    CS("cumsum_axis0", 11, D(4, 3), AX1(0), 0, AI("", 0)),
    CS("cumsum_axis1", 14, D(2, 5), AX1(1), 0, AI("", 0)),
    CS("cumsum_exclusive", 14, D(2, 5), AX1(1), 1, AI("exclusive", 1)),
    CS("cumsum_reverse", 14, D(2, 5), AX1(1), 1, AI("reverse", 1)),
    CS("cumsum_exclusive_reverse", 11, D(3, 4, 2), AX1(1), 2, AI("exclusive", 1), AI("reverse", 1)),
    CS("cumsum_neg_axis_int32", 14, D(2, 3, 4), AX1_32(-1), 1, AI("reverse", 1)),
    CS("cumsum_rank1", 14, D(7), AX1(0), 1, AI("exclusive", 1)),
};

/* ---- the kernel on large shapes against a naive reference -------------------- */

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double uniform(double lo, double hi) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

/* Output index (kept axes in order) of x's flat element i; also the index of
   i inside its group (reduced axes in order) in *r. */
static int64_t out_index(int64_t i, int rank, const int64_t *dims, const bool *mask, int64_t *r) {
    int64_t o = 0, om = 1, ri = 0, rm = 1;
    for (int d = rank - 1; d >= 0; d--) {
        int64_t k = i % dims[d];
        i /= dims[d];
        if (mask[d]) ri += k * rm, rm *= dims[d];
        else o += k * om, om *= dims[d];
    }
    *r = ri;
    return o;
}

/* y (O) and dx (N) by definition, in double. */
static void naive(ot_reduce_op op, const double *x, const double *dy, double *y, double *dx, int rank,
                  const int64_t *dims, const bool *mask) {
    int64_t N = 1, O = 1, R = 1, r;
    for (int d = 0; d < rank; d++) {
        N *= dims[d];
        if (mask[d]) R *= dims[d];
        else O *= dims[d];
    }
    double *acc = ot_malloc(sizeof(double) * O), *cnt = ot_malloc(sizeof(double) * O);
    int64_t *members = ot_malloc(sizeof(int64_t) * N); /* [o * R + r]: x index of group o's r-th element */
    for (int64_t o = 0; o < O; o++) {
        acc[o] = op == OT_REDUCE_MAX ? -INFINITY : op == OT_REDUCE_MIN ? INFINITY : op == OT_REDUCE_PROD ? 1 : 0;
        cnt[o] = 0;
    }
    for (int64_t i = 0; i < N; i++) {
        int64_t o = out_index(i, rank, dims, mask, &r);
        double v = x[i];
        members[o * R + r] = i;
        switch (op) {
        case OT_REDUCE_MAX: acc[o] = fmax(acc[o], v); break;
        case OT_REDUCE_MIN: acc[o] = fmin(acc[o], v); break;
        case OT_REDUCE_PROD: acc[o] *= v; break;
        case OT_REDUCE_L1: acc[o] += fabs(v); break;
        case OT_REDUCE_L2: case OT_REDUCE_SUM_SQUARE: acc[o] += v * v; break;
        case OT_REDUCE_LOG_SUM_EXP: acc[o] += exp(v); break;
        default: acc[o] += v; break;
        }
    }
    for (int64_t o = 0; o < O; o++) {
        double a = acc[o];
        y[o] = op == OT_REDUCE_MEAN ? a / (double)R : op == OT_REDUCE_L2 ? sqrt(a)
               : op == OT_REDUCE_LOG_SUM || op == OT_REDUCE_LOG_SUM_EXP ? log(a) : a;
    }
    for (int64_t i = 0; i < N; i++) {
        int64_t o = out_index(i, rank, dims, mask, &r);
        if (x[i] == y[o]) cnt[o] += 1;
    }
    for (int64_t i = 0; i < N; i++) {
        int64_t o = out_index(i, rank, dims, mask, &r);
        double v = x[i], g = dy[o], p = 1;
        switch (op) {
        case OT_REDUCE_SUM: dx[i] = g; break;
        case OT_REDUCE_MEAN: dx[i] = g / (double)R; break;
        case OT_REDUCE_SUM_SQUARE: dx[i] = 2 * v * g; break;
        case OT_REDUCE_L1: dx[i] = (v > 0 ? 1 : v < 0 ? -1 : 0) * g; break;
        case OT_REDUCE_L2: dx[i] = y[o] == 0 ? 0 : v / y[o] * g; break;
        case OT_REDUCE_LOG_SUM: dx[i] = g / exp(y[o]); break;
        case OT_REDUCE_LOG_SUM_EXP: dx[i] = g * exp(v - y[o]); break;
        case OT_REDUCE_MAX: case OT_REDUCE_MIN: dx[i] = v == y[o] ? g / cnt[o] : 0; break;
        case OT_REDUCE_PROD:
            for (int64_t k = 0; k < R; k++) /* every other element of the group */
                if (k != r) p *= x[members[o * R + k]];
            dx[i] = p * g;
            break;
        }
    }
    ot_free(acc);
    ot_free(cnt);
    ot_free(members);
}

static int kernel_case(ot_reduce_op op, int rank, const int64_t *dims, const bool *mask) {
    int64_t N = 1, O = 1;
    for (int d = 0; d < rank; d++) N *= dims[d], O *= mask[d] ? 1 : dims[d];
    double *x = ot_malloc(sizeof(double) * N), *dx = ot_malloc(sizeof(double) * N);
    double *ref = ot_malloc(sizeof(double) * N), *y = ot_malloc(sizeof(double) * O);
    double *dy = ot_malloc(sizeof(double) * O);
    float *xf = ot_malloc(sizeof(float) * N), *dxf = ot_malloc(sizeof(float) * N), *yf = ot_malloc(sizeof(float) * O),
          *dyf = ot_malloc(sizeof(float) * O);
    for (int64_t i = 0; i < N; i++) {
        /* few distinct values (ties for max / min), some zeros for prod */
        double v = op == OT_REDUCE_LOG_SUM ? uniform(0.5, 2) : (double)(int)uniform(-8, 8) / 4;
        if (op == OT_REDUCE_PROD) v = uniform(0, 1) < 0.1 ? 0 : uniform(0.8, 1.25);
        x[i] = xf[i] = (float)v;
    }
    for (int64_t o = 0; o < O; o++) dy[o] = dyf[o] = (float)uniform(-1, 1);
    naive(op, x, dy, y, ref, rank, dims, mask);
    for (int64_t o = 0; o < O; o++) yf[o] = (float)y[o];
    int bad = 0;
    double worst = 0, worst32 = 0;
    if (ot_cpu_reduce_grad(op, OT_DOUBLE, dy, x, y, dx, rank, dims, mask) ||
        ot_cpu_reduce_grad(op, OT_FLOAT, dyf, xf, yf, dxf, rank, dims, mask))
        bad = 1;
    for (int64_t i = 0; i < N && !bad; i++) {
        worst = fmax(worst, fabs(dx[i] - ref[i]) / (1 + fabs(ref[i])));
        worst32 = fmax(worst32, fabs(dxf[i] - ref[i]) / (1 + fabs(ref[i])));
    }
    if (bad || worst > 1e-12 || worst32 > 1e-5) {
        printf("ReduceGrad kernel op %d rank %d N %lld: float64 error %g, float32 error %g\n", (int)op, rank,
               (long long)N, worst, worst32);
        bad = 1;
    }
    ot_free(x), ot_free(dx), ot_free(ref), ot_free(y), ot_free(dy), ot_free(xf), ot_free(dxf), ot_free(yf);
    ot_free(dyf);
    return bad;
}

/* float16 / bfloat16 through the naive reference computed on the rounded values. */
static int half_case(ot_reduce_op op, bool bf, const bool *mask) {
    static const int64_t dims[3] = {16, 30, 5};
    enum { N = 16 * 30 * 5 };
    static double x[N], dx[N], y[N], dy[N];
    static uint16_t xh[N], dxh[N], yh[N], dyh[N];
    int64_t O = 1;
    for (int d = 0; d < 3; d++) O *= mask[d] ? 1 : dims[d];
#define TO_H(v) (bf ? ot_f32_to_bf16((float)(v)) : ot_f32_to_f16((float)(v)))
#define FROM_H(h) (bf ? (double)ot_bf16_to_f32(h) : (double)ot_f16_to_f32(h))
    for (int i = 0; i < N; i++) {
        double v = op == OT_REDUCE_LOG_SUM ? uniform(0.5, 2) : (double)(int)uniform(-8, 8) / 4;
        if (op == OT_REDUCE_PROD) v = uniform(0, 1) < 0.1 ? 0 : uniform(0.8, 1.25);
        xh[i] = TO_H(v);
        x[i] = FROM_H(xh[i]);
    }
    for (int64_t o = 0; o < O; o++) {
        dyh[o] = TO_H(uniform(-1, 1));
        dy[o] = FROM_H(dyh[o]);
    }
    naive(op, x, dy, y, dx, 3, dims, mask);
    for (int64_t o = 0; o < O; o++) yh[o] = TO_H(y[o]);
    int bad = ot_cpu_reduce_grad(op, bf ? OT_BFLOAT16 : OT_FLOAT16, dyh, xh, yh, dxh, 3, dims, mask) != OT_OK;
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(FROM_H(dxh[i]) - dx[i]) / (0.05 + fabs(dx[i])));
#undef TO_H
#undef FROM_H
    if (bad || worst > (bf ? 4e-2 : 5e-3)) {
        printf("ReduceGrad %s op %d: relative error %g\n", bf ? "bfloat16" : "float16", (int)op, worst);
        return 1;
    }
    return 0;
}

static int kernel_checks(void) {
    static const int64_t big[3] = {64, 300, 5}, wide[2] = {3, 20000}, small[3] = {300, 6, 4};
    static const bool masks3[7][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}, {0, 0, 0}};
    static const bool masks2[2][2] = {{0, 1}, {1, 0}};
    static const ot_reduce_op ops[] = {OT_REDUCE_SUM, OT_REDUCE_MEAN, OT_REDUCE_SUM_SQUARE, OT_REDUCE_L1,
                                       OT_REDUCE_L2, OT_REDUCE_LOG_SUM, OT_REDUCE_LOG_SUM_EXP, OT_REDUCE_MAX,
                                       OT_REDUCE_MIN};
    int bad = 0;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int m = 0; m < 7; m++) bad += kernel_case(ops[k], 3, big, masks3[m]);
        for (int m = 0; m < 2; m++) bad += kernel_case(ops[k], 2, wide, masks2[m]);
    }
    /* Prod's reference costs N * R: smaller groups. */
    for (int m = 0; m < 7; m++)
        if (m != 5) bad += kernel_case(OT_REDUCE_PROD, 3, small, masks3[m]);
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (int h = 0; h < 2; h++) bad += half_case(ops[k], h, masks3[h ? 2 : 3]);
    bad += half_case(OT_REDUCE_PROD, false, masks3[1]) + half_case(OT_REDUCE_PROD, true, masks3[4]);
    printf("ReduceGrad kernel checks: %s\n", bad ? "FAILED" : "passed");
    return bad;
}

int main(void) {
    int failed = 0;
    failed += gc_run_all(reduce_cases, sizeof reduce_cases / sizeof reduce_cases[0]);
    failed += gc_run_all(special_cases, sizeof special_cases / sizeof special_cases[0]);
    failed += gc_run_all(cumsum_cases, sizeof cumsum_cases / sizeof cumsum_cases[0]);
    failed += kernel_checks();
    return failed ? 1 : 0;
}
