/* Gradient checks for the elementwise family: every rule against central
 * finite differences in float64 (gradcheck.h), including broadcast forms of
 * each binary op, every attribute that changes the math and each opset form.
 * Then what finite differences cannot see: zero-gradient ops (no gradient
 * flows, autodiff does not fail), PyTorch's conventions at kinks and ties,
 * the float32/float16 fast paths of the grad kernels against float64, and
 * DropoutGrad's mask regenerated bit-identically to the forward's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/check.h"
#include "gradcheck.h"
#include "kernels/cpu/elementwise_fastmath.h"
#include "kernels/cpu/elementwise_grad.h"
#include "src/core/alloc.h"
#include "src/passes/autodiff.h"

#define NDIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define DR(lo, hi, ...) {GC_DIFF, 0, NDIMS(__VA_ARGS__), {__VA_ARGS__}, NULL, NULL, lo, hi}
#define DV(vals, ...) {GC_DIFF, 0, NDIMS(__VA_ARGS__), {__VA_ARGS__}, NULL, vals}
#define NDR(lo, hi, ...) {GC_INPUT_NODIFF, 0, NDIMS(__VA_ARGS__), {__VA_ARGS__}, NULL, NULL, lo, hi}
#define D0 {GC_DIFF, 0, 0, {0}}
#define DR0(lo, hi) {GC_DIFF, 0, 0, {0}, NULL, NULL, lo, hi}
#define CF0(vals) {GC_CONST, 0, 0, {0}, NULL, vals}           /* double scalar constant */
#undef CI0 /* this file's own form */
#define CI0(dt, vals) {GC_CONST, dt, 0, {0}, vals}                  /* integer/bool scalar constant */
#undef CI /* this file's own form */
#define CI(dt, vals, ...) {GC_CONST, dt, NDIMS(__VA_ARGS__), {__VA_ARGS__}, vals}
#define ABSENT {GC_ABSENT, 0, 0, {0}}

#define BIN(nm, op_, a, b) {.name = nm, .op = op_, .n_in = 2, .n_out = 1, .in = {a, b}}
#define UN(nm, op_, x) {.name = nm, .op = op_, .n_in = 1, .n_out = 1, .in = {x}}
#define UNA(nm, op_, x, na, ...) {.name = nm, .op = op_, .n_in = 1, .n_out = 1, .in = {x}, .n_attrs = na, \
                                   .attrs = {__VA_ARGS__}}
#define UNO(nm, op_, opset_, x) {.name = nm, .op = op_, .opset = opset_, .n_in = 1, .n_out = 1, .in = {x}}

/* The broadcast forms every binary op is checked in. */
#define BIN_FORMS(pre, op_, B_LO, B_HI)                                          \
    BIN(pre "_same_2x3", op_, D(2, 3), DR(B_LO, B_HI, 2, 3)),                    \
    BIN(pre "_2x3_3", op_, D(2, 3), DR(B_LO, B_HI, 3)),                          \
    BIN(pre "_3_2x3", op_, D(3), DR(B_LO, B_HI, 2, 3)),                          \
    BIN(pre "_2x1x4_3x1", op_, D(2, 1, 4), DR(B_LO, B_HI, 3, 1)),                \
    BIN(pre "_2x3_scalar", op_, D(2, 3), DR0(B_LO, B_HI)),                       \
    BIN(pre "_scalar_2x3", op_, D0, DR(B_LO, B_HI, 2, 3)),                       \
    BIN(pre "_1x3_2x1", op_, D(1, 3), DR(B_LO, B_HI, 2, 1)),                     \
    BIN(pre "_a_only", op_, D(2, 3), NDR(B_LO, B_HI, 3)), \
    BIN(pre "_b_only", op_, ND(2, 3), DR(B_LO, B_HI, 2, 1, 3))

static const double tie_a[] = {1.0, 2.0, -3.0, 0.5, 4.0, -1.0}, tie_b[] = {1.0, -2.0, -3.0, 0.7, 3.0, -1.5};
static const int64_t cond_23[] = {1, 0, 0, 1, 1, 0}, cond_3[] = {0, 1, 1}, train_on[] = {1};
static const double ratio_03[] = {0.3}, lo_m05[] = {-0.5}, hi_04[] = {0.4}, one_f[] = {1.0};
static const double expo_2[] = {2.0}, expo_half[] = {0.5}, expo_m15[] = {-1.5};
static const int64_t expo_i3[] = {3};

static const gc_case binary_cases[] = {
    BIN_FORMS("add", "Add", -1, 1),
    BIN_FORMS("sub", "Sub", -1, 1),
    BIN_FORMS("mul", "Mul", -1, 1),
    BIN_FORMS("div", "Div", 0.5, 2), /* denominators away from 0 */
    BIN("mul_same_input_twice", "Mul", D(2, 3), D(2, 3)),
    {.name = "add_opset7", .op = "Add", .opset = 7, .n_in = 2, .n_out = 1, .in = {D(2, 3), D(3)}},
    {.name = "div_opset13", .op = "Div", .opset = 13, .n_in = 2, .n_out = 1, .in = {D(2, 1, 4), DR(0.5, 2, 3, 1)}},
    /* Pow: positive bases for the exponent's log; negative exponents too */
    BIN("pow_same", "Pow", DR(0.5, 2, 2, 3), D(2, 3)),
    BIN("pow_2x3_3", "Pow", DR(0.5, 2, 2, 3), DR(-2, 2, 3)),
    BIN("pow_3_2x3", "Pow", DR(0.5, 2, 3), D(2, 3)),
    BIN("pow_2x1x4_3x1", "Pow", DR(0.5, 2, 2, 1, 4), DR(-1.5, 2.5, 3, 1)),
    BIN("pow_2x3_scalar", "Pow", DR(0.5, 2, 2, 3), DR0(-2, 3)),
    BIN("pow_scalar_2x3", "Pow", DR0(0.5, 2), D(2, 3)),
    BIN("pow_base_only", "Pow", DR(0.5, 2, 2, 3), ND(3)),
    BIN("pow_exponent_only", "Pow", NDR(0.5, 2, 2, 3), D(2, 3)),
    BIN("pow_square_const", "Pow", D(2, 3), CF0(expo_2)), /* x^2: negative bases fine */
    BIN("pow_sqrt_const", "Pow", DR(0.5, 2, 2, 3), CF0(expo_half)),
    BIN("pow_m15_const", "Pow", DR(0.5, 2, 3, 2), CF0(expo_m15)),
    BIN("pow_int_exponent", "Pow", D(2, 3), CI(OT_INT64, expo_i3, 1)),
    {.name = "pow_opset7", .op = "Pow", .opset = 7, .n_in = 2, .n_out = 1, .in = {DR(0.5, 2, 2, 3), D(3)}},
    /* PRelu: the slope broadcasts to X; its gradient is summed back */
    BIN("prelu_slope_full", "PRelu", D(2, 3, 4), D(2, 3, 4)),
    BIN("prelu_slope_c11", "PRelu", D(2, 3, 2, 2), D(3, 1, 1)),
    BIN("prelu_slope_last", "PRelu", D(2, 3, 4), D(4)),
    BIN("prelu_slope_scalar1", "PRelu", D(2, 3), D(1)),
    BIN("prelu_slope_rank0", "PRelu", D(2, 3), D0),
    BIN("prelu_x_only", "PRelu", D(2, 3), ND(3)),
    BIN("prelu_slope_only", "PRelu", ND(4, 3), D(3)),
    {.name = "prelu_opset9", .op = "PRelu", .opset = 9, .n_in = 2, .n_out = 1, .in = {D(2, 3, 2), D(3, 1)}},
};

#define VAR(nm, op_, n, ...) {.name = nm, .op = op_, .n_in = n, .n_out = 1, .in = {__VA_ARGS__}}
static const gc_case variadic_cases[] = {
    VAR("max_2x3_3", "Max", 2, D(2, 3), D(3)),
    VAR("max_2x1x4_3x1", "Max", 2, D(2, 1, 4), D(3, 1)),
    VAR("max_scalar", "Max", 2, D(2, 3), D0),
    VAR("max_three", "Max", 3, D(2, 3), D(3), D(2, 1)),
    VAR("max_one", "Max", 1, D(2, 3)),
    VAR("max_ties_split", "Max", 2, DV(tie_a, 6), DV(tie_b, 6)), /* central differences give 1/2 at a tie */
    VAR("max_six_inputs", "Max", 6, D(2, 3), D(3), D(2, 1), D0, D(1, 3), D(2, 3)), /* the many-input kernel */
    {.name = "max_opset8", .op = "Max", .opset = 8, .n_in = 2, .n_out = 1, .in = {D(2, 3), D(3)}},
    VAR("min_2x3_3", "Min", 2, D(2, 3), D(3)),
    VAR("min_2x1x4_3x1", "Min", 2, D(2, 1, 4), D(3, 1)),
    VAR("min_scalar", "Min", 2, D0, D(2, 3)),
    VAR("min_three", "Min", 3, D(3), D(2, 3), D(2, 1)),
    VAR("min_ties_split", "Min", 2, DV(tie_a, 2, 3), DV(tie_b, 2, 3)),
    VAR("min_second_frozen", "Min", 2, D(2, 3), ND(3)),
    VAR("sum_one", "Sum", 1, D(2, 3)),
    VAR("sum_2x3_3", "Sum", 2, D(2, 3), D(3)),
    VAR("sum_three_bcast", "Sum", 3, D(2, 1, 4), D(3, 1), D0),
    VAR("mean_2x3_3", "Mean", 2, D(2, 3), D(3)),
    VAR("mean_three_bcast", "Mean", 3, D(2, 1, 4), D(3, 1), D0),
    VAR("mean_one", "Mean", 1, D(2, 3)),
    VAR("mean_same_input", "Mean", 2, D(2, 3), D(2, 3)),
    {.name = "where_2x3_scalar", .op = "Where", .n_in = 3, .n_out = 1,
     .in = {CI(OT_BOOL, cond_23, 2, 3), D(2, 3), D0}},
    {.name = "where_bcast_all", .op = "Where", .n_in = 3, .n_out = 1,
     .in = {CI(OT_BOOL, cond_3, 3), D(2, 1, 3), D(4, 1)}},
    {.name = "where_y_only", .op = "Where", .opset = 16, .n_in = 3, .n_out = 1,
     .in = {CI(OT_BOOL, cond_23, 2, 3), ND(3), D(2, 3)}},
};

static const gc_case unary_cases[] = {
    UN("neg", "Neg", D(2, 3)),
    UN("abs", "Abs", D(2, 3, 4)),
    UN("sqrt", "Sqrt", DR(0.3, 3, 2, 3)),
    UN("reciprocal_pos", "Reciprocal", DR(0.5, 2, 2, 3)),
    UN("reciprocal_neg", "Reciprocal", DR(-2, -0.5, 3)),
    UN("exp", "Exp", DR(-2, 2, 2, 3)),
    UN("log", "Log", DR(0.2, 3, 2, 3)),
    UN("sin", "Sin", DR(-3, 3, 2, 3)),
    UN("cos", "Cos", DR(-3, 3, 2, 3)),
    UN("tan", "Tan", DR(-1.2, 1.2, 2, 3)),
    UN("tanh", "Tanh", DR(-3, 3, 2, 3, 4)),
    UN("sigmoid", "Sigmoid", DR(-5, 5, 2, 3, 4)),
    UN("relu", "Relu", D(2, 3, 4)),
    UNO("relu_opset13", "Relu", 13, D(3, 4)),
    UN("leakyrelu_default", "LeakyRelu", D(2, 3, 4)),
    UNA("leakyrelu_alpha02", "LeakyRelu", D(2, 3, 4), 1, AF("alpha", 0.2f)),
    UNA("leakyrelu_alpha_neg", "LeakyRelu", D(3, 4), 1, AF("alpha", -0.5f)),
    UN("elu_default", "Elu", DR(-3, 2, 2, 3, 4)),
    UNA("elu_alpha05", "Elu", DR(-3, 2, 3, 4), 1, AF("alpha", 0.5f)),
    UN("selu_default", "Selu", DR(-3, 2, 2, 3, 4)),
    UNA("selu_custom", "Selu", DR(-3, 2, 3, 4), 2, AF("alpha", 1.5f), AF("gamma", 2.0f)),
    UNO("celu_default", "Celu", 12, DR(-3, 2, 2, 3, 4)),
    {.name = "celu_alpha2", .op = "Celu", .opset = 12, .n_in = 1, .n_out = 1, .in = {DR(-3, 2, 3, 4)}, .n_attrs = 1,
     .attrs = {AF("alpha", 2.0f)}},
    UNO("gelu_none_default", "Gelu", 20, DR(-4, 4, 2, 3, 4)),
    {.name = "gelu_none", .op = "Gelu", .opset = 20, .n_in = 1, .n_out = 1, .in = {DR(-4, 4, 3, 4)}, .n_attrs = 1,
     .attrs = {AS("approximate", "none")}},
    {.name = "gelu_tanh", .op = "Gelu", .opset = 20, .n_in = 1, .n_out = 1, .in = {DR(-4, 4, 3, 4)}, .n_attrs = 1,
     .attrs = {AS("approximate", "tanh")}},
    UNO("erf", "Erf", 9, DR(-2.5, 2.5, 2, 3, 4)),
    UN("softplus", "Softplus", DR(-6, 6, 2, 3, 4)),
    UN("softsign", "Softsign", DR(-4, 4, 2, 3, 4)),
    UN("hardsigmoid_default", "HardSigmoid", DR(-4, 4, 2, 3, 4)),
    UNA("hardsigmoid_custom", "HardSigmoid", DR(-4, 4, 3, 4), 2, AF("alpha", 0.5f), AF("beta", 0.3f)),
    UNO("hardswish", "HardSwish", 14, DR(-5, 5, 2, 3, 4)),
    UNO("mish", "Mish", 18, DR(-6, 6, 2, 3, 4)),
    UN("acos", "Acos", DR(-0.9, 0.9, 2, 3)),
    UN("asin", "Asin", DR(-0.9, 0.9, 2, 3)),
    UN("atan", "Atan", DR(-3, 3, 2, 3)),
    UNO("sinh", "Sinh", 9, DR(-2, 2, 2, 3)),
    UNO("cosh", "Cosh", 9, DR(-2, 2, 2, 3)),
    UNO("asinh", "Asinh", 9, DR(-3, 3, 2, 3)),
    UNO("acosh", "Acosh", 9, DR(1.2, 4, 2, 3)),
    UNO("atanh", "Atanh", 9, DR(-0.9, 0.9, 2, 3)),
    {.name = "thresholdedrelu", .op = "ThresholdedRelu", .opset = 10, .n_in = 1, .n_out = 1, .in = {DR(-2, 2, 3, 4)},
     .n_attrs = 1, .attrs = {AF("alpha", 0.3f)}},
    {.name = "shrink", .op = "Shrink", .opset = 9, .n_in = 1, .n_out = 1, .in = {DR(-2, 2, 3, 4)}, .n_attrs = 2,
     .attrs = {AF("lambd", 0.3f), AF("bias", 0.1f)}},
    UN("identity", "Identity", D(2, 3)),
};

#define CLIP(nm, opset_, n, ...) {.name = nm, .op = "Clip", .opset = opset_, .n_in = n, .n_out = 1, .in = {__VA_ARGS__}}
static const gc_case clip_cases[] = {
    {.name = "clip_opset6_attrs", .op = "Clip", .opset = 6, .n_in = 1, .n_out = 1, .in = {D(2, 3, 4)}, .n_attrs = 2,
     .attrs = {AF("min", -0.5f), AF("max", 0.4f)}},
    {.name = "clip_opset6_min_only", .op = "Clip", .opset = 6, .n_in = 1, .n_out = 1, .in = {D(3, 4)}, .n_attrs = 1,
     .attrs = {AF("min", -0.25f)}},
    {.name = "clip_opset6_no_bounds", .op = "Clip", .opset = 6, .n_in = 1, .n_out = 1, .in = {D(3, 4)}},
    CLIP("clip_opset11_inputs", 11, 3, D(2, 3, 4), CF0(lo_m05), CF0(hi_04)),
    CLIP("clip_opset13_min_only", 13, 2, D(3, 4), CF0(lo_m05)),
    CLIP("clip_opset13_max_only", 13, 3, D(3, 4), ABSENT, CF0(hi_04)),
    CLIP("clip_opset13_no_bounds", 13, 1, D(3, 4)),
    CLIP("clip_opset12_bounds_as_inputs", 12, 3, D(3, 4), {GC_INPUT_NODIFF, 0, 0, {0}, NULL, lo_m05},
         {GC_INPUT_NODIFF, 0, 0, {0}, NULL, hi_04}),
};

/* Casting to float32 and back loses precision: larger steps, looser tolerance. */
static const gc_case cast_cases[] = {
    {.name = "cast_double_to_float", .op = "Cast", .n_in = 1, .n_out = 1, .in = {D(2, 3)}, .n_attrs = 1,
     .attrs = {AI("to", OT_FLOAT)}, .rtol = 1e-4, .atol = 1e-6, .h = 1e-2},
    {.name = "cast_double_to_double", .op = "Cast", .opset = 13, .n_in = 1, .n_out = 1, .in = {D(2, 3)},
     .n_attrs = 1, .attrs = {AI("to", OT_DOUBLE)}},
    {.name = "cast_opset6", .op = "Cast", .opset = 6, .n_in = 1, .n_out = 1, .in = {D(3)}, .n_attrs = 1,
     .attrs = {AI("to", OT_FLOAT)}, .rtol = 1e-4, .atol = 1e-6, .h = 1e-2},
    {.name = "castlike_to_float", .op = "CastLike", .opset = 15, .n_in = 2, .n_out = 1,
     .in = {D(2, 3), {GC_CONST, OT_FLOAT, 0, {0}, NULL, one_f}}, .rtol = 1e-4, .atol = 1e-6, .h = 1e-2},
    {.name = "castlike_to_double", .op = "CastLike", .opset = 19, .n_in = 2, .n_out = 1,
     .in = {D(2, 3), CF0(one_f)}},
};

/* Dropout: the harness compiles for inference, so before opset 12 Dropout
   is the identity; from 12 training_mode = true turns it on.  The forward
   and the finite-difference runs draw the same mask (same seed, node, step). */
static const gc_case dropout_cases[] = {
    {.name = "dropout_opset7_float_mask_inference", .op = "Dropout", .opset = 7, .n_in = 1, .n_out = 2,
     .in = {D(2, 3)}, .n_attrs = 1, .attrs = {AF("ratio", 0.2f)}},
    {.name = "dropout_opset10_mask_inference", .op = "Dropout", .opset = 10, .n_in = 1, .n_out = 2, .in = {D(2, 3)}},
    {.name = "dropout_opset13_train_mask", .op = "Dropout", .opset = 13, .n_in = 3, .n_out = 2,
     .in = {D(4, 5), CF0(ratio_03), CI0(OT_BOOL, train_on)}},
    {.name = "dropout_opset13_train_default_ratio_mask", .op = "Dropout", .opset = 13, .n_in = 3, .n_out = 2,
     .in = {D(4, 5), ABSENT, CI0(OT_BOOL, train_on)}},
};

/* Without the mask output the rule regenerates it (needs ot_grad_node_index). */
static const gc_case dropout_regen_cases[] = {
    {.name = "dropout_opset7_inference", .op = "Dropout", .opset = 7, .n_in = 1, .n_out = 1, .in = {D(2, 3)},
     .n_attrs = 1, .attrs = {AF("ratio", 0.3f)}},
    {.name = "dropout_opset13_inference", .op = "Dropout", .opset = 13, .n_in = 2, .n_out = 1,
     .in = {D(3, 4), CF0(ratio_03)}},
    {.name = "dropout_opset13_train_regen", .op = "Dropout", .opset = 13, .n_in = 3, .n_out = 1,
     .in = {D(4, 5), CF0(ratio_03), CI0(OT_BOOL, train_on)}},
    {.name = "dropout_opset12_train_seed_regen", .op = "Dropout", .opset = 12, .n_in = 3, .n_out = 1,
     .in = {D(6, 7), CF0(ratio_03), CI0(OT_BOOL, train_on)}, .n_attrs = 1, .attrs = {AI("seed", 1234)}},
};


/* ---- what finite differences cannot check ------------------------------------------ */

/* One node op(x) with x double (2, 3); loss seeds its output.  Returns the
   autodiff status and the gradient value id of x. */
static ot_status one_node_autodiff(const char *op, int64_t cast_to, int *grad) {
    ot_graph *g;
    OT_TRY(ot_graph_new(op, &g));
    g->opsets = ot_calloc(2, sizeof *g->opsets);
    g->opsets[0].domain = ot_strdup("");
    g->opsets[0].version = 17;
    g->opsets[1].domain = ot_strdup(OT_DOMAIN_TRAIN);
    g->opsets[1].version = 1;
    g->n_opsets = 2;
    int x, y, w, node;
    ot_status s = ot_graph_value(g, "x", &x);
    if (!s) s = ot_graph_value(g, "y", &y);
    if (!s) s = ot_graph_value(g, "w", &w);
    if (!s) s = ot_graph_add_node(g, op, "", op, 1, &x, 1, &y, &node);
    if (!s && cast_to) {
        ot_attr *at;
        s = ot_node_add_attr(g, node, "to", OT_ATTR_INT, &at);
        if (!s) at->i = cast_to;
    }
    if (!s) {
        ot_dtype ty = cast_to ? (ot_dtype)cast_to : OT_DOUBLE;
        const int64_t dims[2] = {2, 3};
        int ids[3] = {x, y, w};
        ot_dtype types[3] = {OT_DOUBLE, ty, ty};
        for (int k = 0; k < 3; k++) {
            g->values[ids[k]].dtype = types[k];
            g->values[ids[k]].rank = 2;
            memcpy(g->values[ids[k]].dims, dims, sizeof dims);
        }
        ot_autodiff_request r = {y, w, 0, NULL, NULL, 1, &x, grad};
        s = ot_autodiff(g, &r);
    }
    ot_graph_free(g);
    return s;
}

static void check_zero_gradient_ops(void) {
    static const char *const ops[] = {"Floor", "Ceil", "Round", "Sign"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int grad = 0;
        ot_status s = one_node_autodiff(ops[i], 0, &grad);
        CHECK_MSG(s == OT_OK && grad == -1, "%s: status %d grad %d", ops[i], (int)s, grad);
    }
    int grad = 0;
    ot_status s = one_node_autodiff("Cast", OT_INT64, &grad);
    CHECK_MSG(s == OT_OK && grad == -1, "Cast to int64: status %d grad %d", (int)s, grad);
}

static ot_tensor *make_tensor(ot_dtype dt, int rank, const int64_t *dims, const double *vals) {
    ot_tensor *t = NULL;
    if (ot_tensor_new(dt, rank, dims, &t)) return NULL;
    for (int64_t i = 0; vals && i < ot_tensor_numel(t); i++) ot_store_f64(dt, t->data, i, vals[i]);
    return t;
}

/* PyTorch 1.13's values where finite differences are ambiguous (kinks, ties). */
static void check_conventions(void) {
    const int64_t d6[1] = {6}, d1[1] = {1};
    const double x[6] = {-1, 0, 0.5, 2, 3, -3}, ones[6] = {1, 1, 1, 1, 1, 1};
    ot_tensor *tx = make_tensor(OT_DOUBLE, 1, d6, x), *dy = make_tensor(OT_DOUBLE, 1, d6, ones);
    ot_tensor *out = make_tensor(OT_DOUBLE, 1, d6, NULL), *y = make_tensor(OT_DOUBLE, 1, d6, NULL);
    if (!tx || !dy || !out || !y) {
        CHECK(!"out of memory");
        return;
    }
    const double *o = out->data;
    /* clamp(x, 0, 2): gradient passes where 0 <= x <= 2, bounds included */
    ot_tensor *lo = make_tensor(OT_DOUBLE, 0, NULL, (const double[]){0}), *hi = make_tensor(OT_DOUBLE, 1, d1, (const double[]){2});
    CHECK(ot_cpu_clip_grad(dy, tx, lo, hi, 0, 0, out) == OT_OK);
    const double clip_ref[6] = {0, 1, 1, 1, 0, 0};
    for (int i = 0; i < 6; i++) CHECK_CLOSE(o[i], clip_ref[i], 0, 0);
    /* relu at 0 is 0 (through y = relu(x)); abs at 0 is 0 */
    const double relu_y[6] = {0, 0, 0.5, 2, 3, 0};
    memcpy(y->data, relu_y, sizeof relu_y);
    CHECK(ot_cpu_unary_grad(OT_UG_RELU, NULL, dy, y, out) == OT_OK);
    for (int i = 0; i < 6; i++) CHECK_CLOSE(o[i], relu_y[i] > 0 ? 1.0 : 0.0, 0, 0);
    CHECK(ot_cpu_unary_grad(OT_UG_ABS, NULL, dy, tx, out) == OT_OK);
    const double abs_ref[6] = {-1, 0, 1, 1, 1, -1};
    for (int i = 0; i < 6; i++) CHECK_CLOSE(o[i], abs_ref[i], 0, 0);
    /* leaky_relu(0.1) and elu(0.5) take the negative branch at 0 */
    ot_unary_params p = {0.1f, 0, 0};
    CHECK(ot_cpu_unary_grad(OT_UG_LEAKY_RELU, &p, dy, tx, out) == OT_OK);
    CHECK_CLOSE(o[1], (double)0.1f, 0, 0);
    p.alpha = 0.5f;
    CHECK(ot_cpu_unary_grad(OT_UG_ELU, &p, dy, tx, out) == OT_OK);
    CHECK_CLOSE(o[1], 0.5, 0, 0);
    /* hardswish: x/3 + 1/2 on [-3, 3] (so -1/2 at -3, 3/2 at 3); hardsigmoid 0 at the ends */
    CHECK(ot_cpu_unary_grad(OT_UG_HARD_SWISH, NULL, dy, tx, out) == OT_OK);
    CHECK_CLOSE(o[4], 1.5, 1e-15, 0);
    CHECK_CLOSE(o[5], -0.5, 1e-15, 0);
    p = (ot_unary_params){1.0f / 6.0f, 0.5f, 0};
    CHECK(ot_cpu_unary_grad(OT_UG_HARD_SIGMOID, &p, dy, tx, out) == OT_OK);
    CHECK_CLOSE(o[4], 0, 0, 0);
    CHECK_CLOSE(o[5], 0, 0, 0);
    CHECK_CLOSE(o[1], (double)(1.0f / 6.0f), 1e-15, 0);
    /* pow: base gradient 0 where the exponent is 0 (even at x = 0); the
       exponent's gradient 0 where x <= 0 */
    const double base[3] = {0, -2, 2}, expo[3] = {0, 2, 1};
    const int64_t d3[1] = {3};
    ot_tensor *tb = make_tensor(OT_DOUBLE, 1, d3, base), *te = make_tensor(OT_DOUBLE, 1, d3, expo);
    ot_tensor *d3y = make_tensor(OT_DOUBLE, 1, d3, ones), *o3 = make_tensor(OT_DOUBLE, 1, d3, NULL);
    CHECK(ot_cpu_pow_grad(0, d3y, tb, te, NULL, o3) == OT_OK);
    const double *q = o3->data;
    CHECK(q[0] == 0 && q[1] == -4 && q[2] == 1);
    CHECK(ot_cpu_pow_grad(1, d3y, tb, te, NULL, o3) == OT_OK);
    CHECK(q[0] == 0 && q[1] == 0);
    CHECK_CLOSE(q[2], 2 * log(2.0), 1e-15, 0);
    /* Max of three with a three-way tie: one third each; two-way: one half */
    const double a3[3] = {1, 5, 2}, b3[3] = {1, 5, 0}, c3[3] = {1, 0, 0}, m3[3] = {1, 5, 2};
    ot_tensor *ta = make_tensor(OT_DOUBLE, 1, d3, a3), *tb3 = make_tensor(OT_DOUBLE, 1, d3, b3);
    ot_tensor *tc = make_tensor(OT_DOUBLE, 1, d3, c3), *tm = make_tensor(OT_DOUBLE, 1, d3, m3);
    const ot_tensor *xs[3] = {ta, tb3, tc};
    CHECK(ot_cpu_minmax_grad(0, 3, xs, d3y, tm, o3) == OT_OK);
    CHECK_CLOSE(q[0], 1.0 / 3.0, 1e-15, 0);
    CHECK_CLOSE(q[1], 0.5, 0, 0);
    CHECK_CLOSE(q[2], 1.0, 0, 0);
    CHECK(ot_cpu_minmax_grad(2, 3, xs, d3y, tm, o3) == OT_OK);
    CHECK_CLOSE(q[0], 1.0 / 3.0, 1e-15, 0);
    CHECK(q[1] == 0 && q[2] == 0);
    ot_tensor *all[] = {tx, dy, out, y, lo, hi, tb, te, d3y, o3, ta, tb3, tc, tm};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ot_tensor_free(all[i]);
}

/* ---- float32 / float16 fast paths against float64 ------------------------------------ */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double uniform(double lo, double hi) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return lo + (hi - lo) * (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* A random tensor of dtype dt and its exact float64 twin. */
static void random_pair(ot_dtype dt, int rank, const int64_t *dims, double lo, double hi, ot_tensor **t, ot_tensor **t64) {
    *t = make_tensor(dt, rank, dims, NULL);
    *t64 = make_tensor(OT_DOUBLE, rank, dims, NULL);
    for (int64_t i = 0; *t && *t64 && i < ot_tensor_numel(*t); i++) {
        ot_store_f64(dt, (*t)->data, i, uniform(lo, hi));
        ((double *)(*t64)->data)[i] = ot_load_f64(dt, (*t)->data, i);
    }
}

static int compare_to_f64(const char *what, const ot_tensor *a, const ot_tensor *ref, double rtol, double atol) {
    int bad = 0;
    for (int64_t i = 0; i < ot_tensor_numel(ref); i++) {
        double va = ot_load_f64(a->dtype, a->data, i), vr = ((const double *)ref->data)[i];
        if (!check_close(va, vr, rtol, atol)) {
            if (bad++ < 3) fprintf(stderr, "%s[%lld]: %.9g vs float64 %.9g\n", what, (long long)i, va, vr);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d elements differ", what, bad);
    return bad;
}

/* Per op: the input range (of x, or of y for the ops reading the output)
   and the parameters. */
static void ugrad_case(ot_unary_grad_op op, double *lo, double *hi, ot_unary_params *p) {
    *lo = -4, *hi = 4;
    *p = (ot_unary_params){0, 0, 0};
    switch (op) {
    case OT_UG_SIGMOID: *lo = 0.01, *hi = 0.99; break;
    case OT_UG_TANH: case OT_UG_ACOS: case OT_UG_ASIN: case OT_UG_ATANH: *lo = -0.95, *hi = 0.95; break;
    case OT_UG_SQRT: case OT_UG_RECIPROCAL: *lo = 0.3, *hi = 3; break;
    case OT_UG_ACOSH: *lo = 1.2, *hi = 4; break;
    case OT_UG_TAN: *lo = -1.2, *hi = 1.2; break;
    case OT_UG_MISH: case OT_UG_SOFTPLUS: *lo = -30, *hi = 30; break; /* the clamp of the float32 mish */
    case OT_UG_LEAKY_RELU: p->alpha = 0.1f; break;
    case OT_UG_ELU: p->alpha = 1.0f; break;
    case OT_UG_SELU: p->alpha = 1.67326319217681884765625f, p->gamma = 1.05070102214050292968750f; break;
    case OT_UG_CELU: p->alpha = 1.5f; break;
    case OT_UG_HARD_SIGMOID: p->alpha = 0.2f, p->beta = 0.5f; *lo = -6, *hi = 6; break;
    case OT_UG_HARD_SWISH: *lo = -5, *hi = 5; break;
    case OT_UG_THRESHOLDED_RELU: p->alpha = 0.3f; break;
    case OT_UG_SHRINK: p->alpha = 0.3f; break;
    default: break;
    }
}

static void check_unary_fast_paths(void) {
    const int64_t dims[1] = {1003};
    for (int op = 0; op < OT_UG_COUNT; op++) {
        double lo, hi;
        ot_unary_params p;
        ugrad_case((ot_unary_grad_op)op, &lo, &hi, &p);
        const ot_dtype types[3] = {OT_FLOAT, OT_FLOAT16, OT_BFLOAT16};
        for (int k = 0; k < 3; k++) {
            ot_tensor *dy, *dy64, *v, *v64;
            random_pair(types[k], 1, dims, -2, 2, &dy, &dy64);
            random_pair(types[k], 1, dims, lo, hi, &v, &v64);
            ot_tensor *dx = make_tensor(types[k], 1, dims, NULL), *dx64 = make_tensor(OT_DOUBLE, 1, dims, NULL);
            CHECK(ot_cpu_unary_grad((ot_unary_grad_op)op, &p, dy, v, dx) == OT_OK);
            CHECK(ot_cpu_unary_grad((ot_unary_grad_op)op, &p, dy64, v64, dx64) == OT_OK);
            char what[64];
            snprintf(what, sizeof what, "unary grad %d (%s)", op, ot_dtype_name(types[k]));
            /* float16/bfloat16 round the result (and the float32 math's inputs) */
            /* absolute error on the scale of |dy| (2): derivatives such as
               gelu's cancel terms of order 1 */
            double rtol = k == 0 ? 3e-5 : k == 1 ? 2e-3 : 1.6e-2;
            compare_to_f64(what, dx, dx64, rtol, k == 0 ? 2e-6 : rtol * 1e-2);
            ot_tensor_free(dy), ot_tensor_free(dy64), ot_tensor_free(v), ot_tensor_free(v64);
            ot_tensor_free(dx), ot_tensor_free(dx64);
        }
    }
    /* a size that runs the parallel chunks */
    const int64_t big[1] = {300001};
    ot_tensor *dy, *dy64, *v, *v64;
    random_pair(OT_FLOAT, 1, big, -2, 2, &dy, &dy64);
    random_pair(OT_FLOAT, 1, big, -4, 4, &v, &v64);
    ot_tensor *dx = make_tensor(OT_FLOAT, 1, big, NULL), *dx64 = make_tensor(OT_DOUBLE, 1, big, NULL);
    CHECK(ot_cpu_unary_grad(OT_UG_GELU_TANH, NULL, dy, v, dx) == OT_OK);
    CHECK(ot_cpu_unary_grad(OT_UG_GELU_TANH, NULL, dy64, v64, dx64) == OT_OK);
    compare_to_f64("gelu tanh grad, parallel", dx, dx64, 3e-5, 2e-6);
    ot_tensor_free(dy), ot_tensor_free(dy64), ot_tensor_free(v), ot_tensor_free(v64);
    ot_tensor_free(dx), ot_tensor_free(dx64);
}

/* PowGrad, PReluGrad, MinMaxGrad, ClipGrad in float32 and float16 against float64, broadcast. */
static void check_broadcast_fast_paths(void) {
    const int64_t sa[3] = {2, 1, 4}, sb[2] = {3, 1}, so[3] = {2, 3, 4}, s1[1] = {1}, s4[1] = {4};
    const ot_dtype types[2] = {OT_FLOAT, OT_FLOAT16};
    for (int k = 0; k < 2; k++) {
        const ot_dtype t = types[k];
        const double rtol = t == OT_FLOAT ? 1e-5 : 2e-3;
        ot_tensor *dy, *dy64, *x, *x64, *e, *e64, *xf, *xf64, *sl, *sl64, *b, *b64;
        random_pair(t, 3, so, -1, 1, &dy, &dy64);
        random_pair(t, 3, sa, 0.5, 2, &x, &x64);
        random_pair(t, 2, sb, -2, 2, &e, &e64);
        random_pair(t, 3, so, -1, 1, &xf, &xf64);
        random_pair(t, 1, s4, -1, 1, &sl, &sl64);
        random_pair(t, 2, sb, -1, 1, &b, &b64);
        ot_tensor *o = make_tensor(t, 3, so, NULL), *o64 = make_tensor(OT_DOUBLE, 3, so, NULL);
        char what[64];
        for (int wrt = 0; wrt < 2; wrt++) {
            CHECK(ot_cpu_pow_grad(wrt, dy, x, e, NULL, o) == OT_OK);
            CHECK(ot_cpu_pow_grad(wrt, dy64, x64, e64, NULL, o64) == OT_OK);
            snprintf(what, sizeof what, "pow grad wrt %d (%s)", wrt, ot_dtype_name(t));
            compare_to_f64(what, o, o64, rtol * 4, rtol * 1e-2);
            CHECK(ot_cpu_prelu_grad(wrt, dy, xf, sl, o) == OT_OK);
            CHECK(ot_cpu_prelu_grad(wrt, dy64, xf64, sl64, o64) == OT_OK);
            snprintf(what, sizeof what, "prelu grad wrt %d (%s)", wrt, ot_dtype_name(t));
            compare_to_f64(what, o, o64, rtol, rtol * 1e-2);
        }
        /* scalar exponents: x^2 and x^1 have their own loops, x^0.5 the general one */
        const double scalars[3] = {2.0, 1.0, 0.5};
        for (int j = 0; j < 3; j++) {
            ot_tensor *es = make_tensor(t, 1, s1, &scalars[j]), *es64 = make_tensor(OT_DOUBLE, 1, s1, &scalars[j]);
            ot_tensor *xo, *xo64;
            random_pair(t, 3, so, 0.5, 2, &xo, &xo64);
            CHECK(ot_cpu_pow_grad(0, dy, xo, es, NULL, o) == OT_OK);
            CHECK(ot_cpu_pow_grad(0, dy64, xo64, es64, NULL, o64) == OT_OK);
            snprintf(what, sizeof what, "pow grad scalar exponent %g (%s)", scalars[j], ot_dtype_name(t));
            compare_to_f64(what, o, o64, rtol * 4, rtol * 1e-2);
            ot_tensor_free(es), ot_tensor_free(es64), ot_tensor_free(xo), ot_tensor_free(xo64);
        }
        /* min/max: y = max(xf, b) computed here; both inputs' gradients */
        ot_tensor *y = make_tensor(t, 3, so, NULL), *y64 = make_tensor(OT_DOUBLE, 3, so, NULL);
        const ot_tensor *in[2] = {xf, b}, *in64[2] = {xf64, b64};
        CHECK(ot_cpu_binary(OT_BIN_MAX, xf, b, y) == OT_OK);
        CHECK(ot_cpu_binary(OT_BIN_MAX, xf64, b64, y64) == OT_OK);
        for (int j = 0; j < 2; j++) {
            CHECK(ot_cpu_minmax_grad(j, 2, in, dy, y, o) == OT_OK);
            CHECK(ot_cpu_minmax_grad(j, 2, in64, dy64, y64, o64) == OT_OK);
            snprintf(what, sizeof what, "max grad input %d (%s)", j, ot_dtype_name(t));
            compare_to_f64(what, o, o64, rtol, 0);
        }
        /* clip in float32 with attribute bounds */
        CHECK(ot_cpu_clip_grad(dy, xf, NULL, NULL, -0.3, 0.6, o) == OT_OK);
        CHECK(ot_cpu_clip_grad(dy64, xf64, NULL, NULL, (double)(float)-0.3, (double)(float)0.6, o64) == OT_OK);
        snprintf(what, sizeof what, "clip grad (%s)", ot_dtype_name(t));
        compare_to_f64(what, o, o64, 0, 0);
        ot_tensor *all[] = {dy, dy64, x, x64, e, e64, xf, xf64, sl, sl64, b, b64, o, o64, y, y64};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ot_tensor_free(all[i]);
    }
}

/* The vectorised erfc behind GeluGrad's normal CDF: absolute error below
   5e-7, relative below 1e-5 while erfc > 1e-35. */
static void check_fast_erfc(void) {
    double worst_abs = 0, worst_rel = 0;
    for (int i = 0; i <= 200000; i++) {
        const float x = (float)(-10.0 + 20.0 * i / 200000);
        const double ref = erfc((double)x), f = ot_fast_erfcf(x);
        if (fabs(f - ref) > worst_abs) worst_abs = fabs(f - ref);
        if (ref > 1e-35 && fabs(f - ref) / ref > worst_rel) worst_rel = fabs(f - ref) / ref;
    }
    CHECK_MSG(worst_abs < 5e-7, "fast erfc absolute error %g", worst_abs);
    CHECK_MSG(worst_rel < 1e-5, "fast erfc relative error %g", worst_rel);
    CHECK(isnan(ot_fast_erfcf(NAN)));
    CHECK(ot_fast_erfcf(INFINITY) == 0.0f && ot_fast_erfcf(-INFINITY) == 2.0f);
}

/* DropoutGrad without a mask draws exactly the forward's decisions: with
   dy = x the gradient equals the forward's output bit for bit. */
static void check_dropout_regeneration(void) {
    const int64_t dims[1] = {100003};
    const ot_dtype types[4] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16};
    const ot_rng rng = ot_rng_make(7, 5, 11);
    for (int k = 0; k < 4; k++) {
        ot_tensor *x, *x64;
        random_pair(types[k], 1, dims, -1, 1, &x, &x64);
        ot_tensor *y = make_tensor(types[k], 1, dims, NULL), *mask = make_tensor(OT_BOOL, 1, dims, NULL);
        ot_tensor *dx = make_tensor(types[k], 1, dims, NULL), *dxm = make_tensor(types[k], 1, dims, NULL);
        CHECK(ot_cpu_dropout(x, 0.3, true, &rng, y, mask) == OT_OK);
        CHECK(ot_cpu_dropout_grad(x, 0.3, true, &rng, NULL, dx) == OT_OK);
        CHECK(ot_cpu_dropout_grad(x, 0.3, true, &rng, mask, dxm) == OT_OK);
        CHECK_MSG(!memcmp(y->data, dx->data, ot_tensor_nbytes(y)), "dropout regenerated mask differs (%s)",
                  ot_dtype_name(types[k]));
        CHECK_MSG(!memcmp(y->data, dxm->data, ot_tensor_nbytes(y)), "dropout mask path differs (%s)",
                  ot_dtype_name(types[k]));
        int64_t kept = 0;
        for (int64_t i = 0; i < dims[0]; i++) kept += ((const uint8_t *)mask->data)[i];
        CHECK_MSG(fabs((double)kept / (double)dims[0] - 0.7) < 0.01, "kept fraction %g", (double)kept / (double)dims[0]);
        /* inference: identity */
        CHECK(ot_cpu_dropout_grad(x, 0.3, false, &rng, NULL, dx) == OT_OK);
        CHECK(!memcmp(x->data, dx->data, ot_tensor_nbytes(x)));
        ot_tensor *all[] = {x, x64, y, mask, dx, dxm};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ot_tensor_free(all[i]);
    }
}

int main(void) {
    int failed = 0;
    failed += gc_run_all(binary_cases, sizeof binary_cases / sizeof binary_cases[0]);
    failed += gc_run_all(variadic_cases, sizeof variadic_cases / sizeof variadic_cases[0]);
    failed += gc_run_all(unary_cases, sizeof unary_cases / sizeof unary_cases[0]);
    failed += gc_run_all(clip_cases, sizeof clip_cases / sizeof clip_cases[0]);
    failed += gc_run_all(cast_cases, sizeof cast_cases / sizeof cast_cases[0]);
    failed += gc_run_all(dropout_cases, sizeof dropout_cases / sizeof dropout_cases[0]);
    failed += gc_run_all(dropout_regen_cases, sizeof dropout_regen_cases / sizeof dropout_regen_cases[0]);
    check_zero_gradient_ops();
    check_conventions();
    check_fast_erfc();
    check_unary_fast_paths();
    check_broadcast_fast_paths();
    check_dropout_regeneration();
    return check_done() || failed ? 1 : 0;
}
