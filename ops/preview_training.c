/* Op family: preview_training (domain ai.onnx.preview.training, version 1).
 * The optimizers ONNX defines for training graphs, as exporters emit them:
 *
 *   Adagrad(R, T, X_1..X_n, G_1..G_n, H_1..H_n) -> X_new_1..n, H_new_1..n
 *   Adam(R, T, X.., G.., V.., H..)               -> X_new.., V_new.., H_new..
 *   Momentum(R, T, X.., G.., V..)                -> X_new.., V_new..
 *
 *   R  float/double, one element: the learning rate
 *   T  int64, one element: the update count (0 for the first step)
 *   X, G and each state: one float type per tensor, all of X_i's shape.
 *
 * Unlike OptimizerUpdate (ops/optimizer.c) these are pure functions: new
 * values come out as outputs, inputs are untouched.  Their formulas are the
 * ONNX ones (kernels/cpu/preview_training.c), not PyTorch's.
 *
 * Gradient (same domain) is not here: it differentiates the enclosing graph,
 * which needs the compiler, not a kernel; models using it are rejected as an
 * unknown op. */
#include <math.h>
#include <string.h>

#include "../kernels/cpu/preview_training.h"
#include "op.h"

#define PT_DOMAIN "ai.onnx.preview.training"

typedef enum pt_kind { PT_ADAGRAD, PT_ADAM, PT_MOMENTUM } pt_kind;

typedef struct pt_attrs {
    float norm_coefficient;
    float norm_coefficient_post; /* Adam */
    float epsilon;               /* Adagrad, Adam */
    float decay_factor;          /* Adagrad */
    float alpha, beta;           /* Adam, Momentum */
    bool nesterov;               /* Momentum: mode */
} pt_attrs;

/* State tensors per optimized tensor. */
static int pt_n_state(pt_kind k) { return k == PT_ADAM ? 2 : 1; }

static ot_status pt_parse_adagrad(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    pt_attrs *a = attrs;
    OT_TRY(ot_attr_get_float(n, "norm_coefficient", 0.0f, &a->norm_coefficient));
    OT_TRY(ot_attr_get_float(n, "epsilon", 1e-6f, &a->epsilon));
    OT_TRY(ot_attr_get_float(n, "decay_factor", 0.0f, &a->decay_factor));
    return OT_OK;
}

static ot_status pt_parse_adam(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    pt_attrs *a = attrs;
    OT_TRY(ot_attr_get_float(n, "norm_coefficient", 0.0f, &a->norm_coefficient));
    OT_TRY(ot_attr_get_float(n, "norm_coefficient_post", 0.0f, &a->norm_coefficient_post));
    OT_TRY(ot_attr_get_float(n, "epsilon", 1e-6f, &a->epsilon));
    OT_TRY(ot_attr_get_float(n, "alpha", 0.9f, &a->alpha));
    OT_TRY(ot_attr_get_float(n, "beta", 0.999f, &a->beta));
    return OT_OK;
}

static ot_status pt_parse_momentum(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    pt_attrs *a = attrs;
    /* The schema gives Momentum no defaults: all four are required. */
    static const char *const required[] = {"alpha", "beta", "mode", "norm_coefficient"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!ot_node_attr(n, required[i]))
            return ot_node_error(n, OT_ERR_PARSE, "required attribute '%s' is missing", required[i]);
    OT_TRY(ot_attr_get_float(n, "alpha", 0.0f, &a->alpha));
    OT_TRY(ot_attr_get_float(n, "beta", 0.0f, &a->beta));
    OT_TRY(ot_attr_get_float(n, "norm_coefficient", 0.0f, &a->norm_coefficient));
    const char *mode = NULL;
    OT_TRY(ot_attr_get_string(n, "mode", NULL, &mode));
    if (!strcmp(mode, "standard")) a->nesterov = false;
    else if (!strcmp(mode, "nesterov")) a->nesterov = true;
    else
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "mode '%s' is not supported (want 'standard' or 'nesterov')",
                             mode);
    return OT_OK;
}

/* Inputs are R, T, then `groups` blocks of n tensors (X, G, states...):
   the tensor count n, or an error when the arity does not fit. */
static ot_status pt_count(const ot_kctx *c, pt_kind k, int *count) {
    int groups = 2 + pt_n_state(k);
    int rest = c->n_in - 2;
    if (rest < groups || rest % groups)
        return ot_op_error(c, OT_ERR_SHAPE, "%d inputs: want R, T, then %d groups of equal length (X, G, %s)",
                           c->n_in, groups, k == PT_ADAM ? "V, H" : k == PT_ADAGRAD ? "H" : "V");
    int n = rest / groups;
    if (c->n_out != n * (1 + pt_n_state(k)))
        return ot_op_error(c, OT_ERR_SHAPE, "%d outputs for %d optimized tensors: want %d", c->n_out, n,
                           n * (1 + pt_n_state(k)));
    *count = n;
    return OT_OK;
}

static ot_status pt_infer(ot_kctx *c, pt_kind k) {
    int n;
    OT_TRY(pt_count(c, k, &n));
    for (int i = 0; i < c->n_in; i++)
        if (!c->in[i]) return ot_op_error(c, OT_ERR_SHAPE, "input %d is absent: no input is optional", i);
    static const ot_dtype floats[] = {OT_FLOAT, OT_DOUBLE, OT_UNDEFINED};
    static const ot_dtype i64[] = {OT_INT64, OT_UNDEFINED};
    OT_TRY(ot_check_dtype(c, 0, floats));
    OT_TRY(ot_check_dtype(c, 1, i64));
    if (ot_tensor_numel(c->in[0]) != 1)
        return ot_op_error(c, OT_ERR_SHAPE, "R (learning rate) must hold one element, has %lld",
                           (long long)ot_tensor_numel(c->in[0]));
    if (ot_tensor_numel(c->in[1]) != 1)
        return ot_op_error(c, OT_ERR_SHAPE, "T (update count) must hold one element, has %lld",
                           (long long)ot_tensor_numel(c->in[1]));
    int groups = 2 + pt_n_state(k);
    for (int j = 0; j < n; j++) {
        const ot_tensor *x = c->in[2 + j];
        OT_TRY(ot_check_dtype(c, 2 + j, floats));
        for (int g = 1; g < groups; g++) {
            int idx = 2 + g * n + j;
            const ot_tensor *t = c->in[idx];
            if (t->dtype != x->dtype)
                return ot_op_error(c, OT_ERR_TYPE, "input %d is %s but its X (input %d) is %s", idx,
                                   ot_dtype_name(t->dtype), 2 + j, ot_dtype_name(x->dtype));
            if (!ot_shape_equal(t->rank, t->dims, x->rank, x->dims))
                return ot_op_error(c, OT_ERR_SHAPE, "input %d's shape differs from its X's (input %d)", idx, 2 + j);
        }
        /* Outputs: X_new_j, then each state's new value, block by block. */
        for (int g = 0; g < 1 + pt_n_state(k); g++) ot_set_out(c, g * n + j, x->dtype, x->rank, x->dims);
    }
    return OT_OK;
}

static ot_status pt_infer_adagrad(ot_kctx *c) { return pt_infer(c, PT_ADAGRAD); }
static ot_status pt_infer_adam(ot_kctx *c) { return pt_infer(c, PT_ADAM); }
static ot_status pt_infer_momentum(ot_kctx *c) { return pt_infer(c, PT_MOMENTUM); }

static void *pt_out_data(const ot_kctx *c, int i) {
    ot_tensor *t = ot_out(c, i);
    return t ? t->data : NULL;
}

static ot_status pt_cpu(ot_kctx *c, pt_kind k) {
    const pt_attrs *a = c->attrs;
    int n;
    OT_TRY(pt_count(c, k, &n));
    double r = ot_load_f64(c->in[0]->dtype, c->in[0]->data, 0);
    int64_t t = ((const int64_t *)c->in[1]->data)[0];
    ot_ptrain_coef kc = {.rate = r, .norm = a->norm_coefficient, .norm_post = a->norm_coefficient_post,
                         .epsilon = a->epsilon, .alpha = a->alpha, .beta = a->beta, .nesterov = a->nesterov};
    if (k == PT_ADAGRAD) kc.rate = r / (1.0 + (double)t * a->decay_factor);
    /* Adam's bias correction and Momentum's unit first-step scale both key on
       T > 0: T counts the updates already made. */
    if (k == PT_ADAM && t > 0)
        kc.rate = r * sqrt(1.0 - pow(a->beta, (double)t)) / (1.0 - pow(a->alpha, (double)t));
    if (k == PT_MOMENTUM && t <= 0) kc.beta = 1.0;
    for (int j = 0; j < n; j++) {
        const ot_tensor *x = c->in[2 + j];
        int64_t m = ot_tensor_numel(x);
        const void *g = c->in[2 + n + j]->data, *s0 = c->in[2 + 2 * n + j]->data;
        if (k == PT_ADAGRAD)
            ot_ptrain_adagrad(x->dtype, m, &kc, x->data, g, s0, pt_out_data(c, j), pt_out_data(c, n + j));
        else if (k == PT_ADAM)
            ot_ptrain_adam(x->dtype, m, &kc, x->data, g, s0, c->in[2 + 3 * n + j]->data, pt_out_data(c, j),
                           pt_out_data(c, n + j), pt_out_data(c, 2 * n + j));
        else
            ot_ptrain_momentum(x->dtype, m, &kc, x->data, g, s0, pt_out_data(c, j), pt_out_data(c, n + j));
    }
    return OT_OK;
}

static ot_status pt_cpu_adagrad(ot_kctx *c) { return pt_cpu(c, PT_ADAGRAD); }
static ot_status pt_cpu_adam(ot_kctx *c) { return pt_cpu(c, PT_ADAM); }
static ot_status pt_cpu_momentum(ot_kctx *c) { return pt_cpu(c, PT_MOMENTUM); }

const ot_op_def ot_ops_preview_training[] = {
    {.name = "Adagrad", .domain = PT_DOMAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 5, .max_inputs = -1,
     .min_outputs = 2, .max_outputs = -1, .attr_names = "norm_coefficient,epsilon,decay_factor",
     .attrs_size = sizeof(pt_attrs), .parse = pt_parse_adagrad, .infer = pt_infer_adagrad, .cpu = pt_cpu_adagrad,
     .dtypes = "float, double (R float/double, T int64)"},
    {.name = "Adam", .domain = PT_DOMAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 6, .max_inputs = -1,
     .min_outputs = 3, .max_outputs = -1, .attr_names = "norm_coefficient,norm_coefficient_post,epsilon,alpha,beta",
     .attrs_size = sizeof(pt_attrs), .parse = pt_parse_adam, .infer = pt_infer_adam, .cpu = pt_cpu_adam,
     .dtypes = "float, double (R float/double, T int64)"},
    {.name = "Momentum", .domain = PT_DOMAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 5, .max_inputs = -1,
     .min_outputs = 2, .max_outputs = -1, .attr_names = "norm_coefficient,alpha,beta,mode",
     .attrs_size = sizeof(pt_attrs), .parse = pt_parse_momentum, .infer = pt_infer_momentum,
     .cpu = pt_cpu_momentum, .dtypes = "float, double (R float/double, T int64)"},
};
const int ot_ops_preview_training_count = sizeof ot_ops_preview_training / sizeof ot_ops_preview_training[0];
