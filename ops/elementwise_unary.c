/* Elementwise family, part 2: unary maps (one table row each, described by
 * the info table below), Clip, IsNaN, IsInf. */
#include <float.h>
#include <string.h>

#include "elementwise_ops.h"

#define F OT_EW_DT_FLOAT
#define S OT_EW_DT_SINT
#define NUM OT_EW_DT_NUM

/* One row per op: kernel, accepted dtypes and up to three float attributes
   (name and default) that land in ot_unary_params alpha/beta/gamma. */
typedef struct {
    const char *name;
    ot_unary_op op;
    unsigned dtypes;
    const char *a;
    float a_def;
    const char *b;
    float b_def;
    const char *g;
    float g_def;
} ew_unary_info;

static const ew_unary_info ew_unary_table[] = {
    {"Neg", OT_UN_NEG, F | S, 0, 0, 0, 0, 0, 0},
    {"Abs", OT_UN_ABS, NUM, 0, 0, 0, 0, 0, 0},
    {"Sqrt", OT_UN_SQRT, F, 0, 0, 0, 0, 0, 0},
    {"Reciprocal", OT_UN_RECIPROCAL, F, 0, 0, 0, 0, 0, 0},
    {"Exp", OT_UN_EXP, F, 0, 0, 0, 0, 0, 0},
    {"Log", OT_UN_LOG, F, 0, 0, 0, 0, 0, 0},
    {"Sin", OT_UN_SIN, F, 0, 0, 0, 0, 0, 0},
    {"Cos", OT_UN_COS, F, 0, 0, 0, 0, 0, 0},
    {"Tan", OT_UN_TAN, F, 0, 0, 0, 0, 0, 0},
    {"Tanh", OT_UN_TANH, F, 0, 0, 0, 0, 0, 0},
    {"Sigmoid", OT_UN_SIGMOID, F, 0, 0, 0, 0, 0, 0},
    {"Relu", OT_UN_RELU, F | S, 0, 0, 0, 0, 0, 0},
    {"LeakyRelu", OT_UN_LEAKY_RELU, F, "alpha", 0.01f, 0, 0, 0, 0},
    {"Elu", OT_UN_ELU, F, "alpha", 1.0f, 0, 0, 0, 0},
    {"Selu", OT_UN_SELU, F, "alpha", 1.67326319217681884765625f, 0, 0, "gamma", 1.05070102214050292968750f},
    {"Celu", OT_UN_CELU, F, "alpha", 1.0f, 0, 0, 0, 0},
    {"Gelu", OT_UN_GELU, F, 0, 0, 0, 0, 0, 0}, /* approximate="tanh" -> OT_UN_GELU_TANH */
    {"Erf", OT_UN_ERF, NUM, 0, 0, 0, 0, 0, 0},
    {"Softplus", OT_UN_SOFTPLUS, F, 0, 0, 0, 0, 0, 0},
    {"Softsign", OT_UN_SOFTSIGN, F, 0, 0, 0, 0, 0, 0},
    {"HardSigmoid", OT_UN_HARD_SIGMOID, F, "alpha", 0.2f, "beta", 0.5f, 0, 0},
    {"HardSwish", OT_UN_HARD_SWISH, F, 0, 0, 0, 0, 0, 0},
    {"Mish", OT_UN_MISH, F, 0, 0, 0, 0, 0, 0},
    {"Floor", OT_UN_FLOOR, F, 0, 0, 0, 0, 0, 0},
    {"Ceil", OT_UN_CEIL, F, 0, 0, 0, 0, 0, 0},
    {"Round", OT_UN_ROUND, F, 0, 0, 0, 0, 0, 0},
    {"Sign", OT_UN_SIGN, NUM, 0, 0, 0, 0, 0, 0},
    {"Acos", OT_UN_ACOS, F, 0, 0, 0, 0, 0, 0},
    {"Asin", OT_UN_ASIN, F, 0, 0, 0, 0, 0, 0},
    {"Atan", OT_UN_ATAN, F, 0, 0, 0, 0, 0, 0},
    {"Sinh", OT_UN_SINH, F, 0, 0, 0, 0, 0, 0},
    {"Cosh", OT_UN_COSH, F, 0, 0, 0, 0, 0, 0},
    {"Asinh", OT_UN_ASINH, F, 0, 0, 0, 0, 0, 0},
    {"Acosh", OT_UN_ACOSH, F, 0, 0, 0, 0, 0, 0},
    {"Atanh", OT_UN_ATANH, F, 0, 0, 0, 0, 0, 0},
    {"ThresholdedRelu", OT_UN_THRESHOLDED_RELU, F, "alpha", 1.0f, 0, 0, 0, 0},
    {"Shrink", OT_UN_SHRINK, NUM, "lambd", 0.5f, "bias", 0.0f, 0, 0},
    {"Not", OT_UN_NOT, OT_EW_DT_BOOL, 0, 0, 0, 0, 0, 0},
    {"BitwiseNot", OT_UN_BITWISE_NOT, OT_EW_DT_INT, 0, 0, 0, 0, 0, 0},
};

static ot_status ew_float_attr(const ot_node *n, const char *name, float dflt, float *out) {
    if (!name) {
        *out = 0.0f;
        return OT_OK;
    }
    return ot_attr_get_float(n, name, dflt, out);
}

ot_status ot_ew_unary_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_unary_attrs *a = attrs;
    const ew_unary_info *info = NULL;
    for (size_t i = 0; i < sizeof ew_unary_table / sizeof ew_unary_table[0]; i++)
        if (!strcmp(ew_unary_table[i].name, n->op_type)) info = &ew_unary_table[i];
    if (!info) return ot_ew_node_error(n, OT_ERR_INTERNAL, "not a unary elementwise op");
    a->op = info->op;
    a->dtypes = info->dtypes;
    OT_TRY(ew_float_attr(n, info->a, info->a_def, &a->p.alpha));
    OT_TRY(ew_float_attr(n, info->b, info->b_def, &a->p.beta));
    OT_TRY(ew_float_attr(n, info->g, info->g_def, &a->p.gamma));
    if (info->op == OT_UN_CELU && a->p.alpha == 0.0f)
        return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "alpha must be nonzero (Celu divides by it)");
    if (info->op == OT_UN_GELU) {
        const char *approx;
        OT_TRY(ot_attr_get_string(n, "approximate", "none", &approx));
        if (!strcmp(approx, "tanh")) a->op = OT_UN_GELU_TANH;
        else if (strcmp(approx, "none"))
            return ot_ew_node_error(n, OT_ERR_UNSUPPORTED, "approximate='%s' (expected 'none' or 'tanh')", approx);
    }
    return OT_OK;
}

ot_status ot_ew_unary_infer(ot_kctx *c) {
    const ot_ew_unary_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    OT_TRY(ot_ew_check_input(c, 0, a->dtypes));
    if (!ot_cpu_unary_supports(a->op, x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "no kernel for input type %s", ot_dtype_name(x->dtype));
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_unary_cpu(ot_kctx *c) {
    const ot_ew_unary_attrs *a = c->attrs;
    return ot_cpu_unary(a->op, &a->p, c->in[0], c->out[0]);
}

/* ---- Clip --------------------------------------------------------------------- */
ot_status ot_ew_clip_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_ew_clip_attrs *a = attrs;
    a->lo = -FLT_MAX;
    a->hi = FLT_MAX;
    if (opset >= 11) {
        if (ot_node_attr(n, "min") || ot_node_attr(n, "max"))
            return ot_ew_node_error(n, OT_ERR_PARSE,
                                    "attributes min/max belong to Clip before opset 11; from 11 they are inputs");
        return OT_OK;
    }
    OT_TRY(ot_attr_get_float(n, "min", -FLT_MAX, &a->lo));
    OT_TRY(ot_attr_get_float(n, "max", FLT_MAX, &a->hi));
    return OT_OK;
}

ot_status ot_ew_clip_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    OT_TRY(ot_ew_check_input(c, 0, c->opset >= 12 ? NUM : F));
    static const char *const names[3] = {"input", "min", "max"};
    for (int i = 1; i < 3; i++) {
        const ot_tensor *t = ot_in(c, i);
        if (!t) continue;
        if (c->opset < 11) return ot_op_error(c, OT_ERR_PARSE, "Clip before opset 11 has one input");
        if (t->dtype != x->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "'%s' has type %s; it must match the input's type %s", names[i],
                               ot_dtype_name(t->dtype), ot_dtype_name(x->dtype));
        int64_t n;
        OT_TRY(ot_shape_numel(t->rank, t->dims, &n));
        if (n != 1 || t->rank > 1)
            return ot_op_error(c, OT_ERR_SHAPE, "'%s' must be a scalar, got rank %d with %lld elements", names[i],
                               t->rank, (long long)n);
    }
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_clip_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    if (c->opset >= 11) return ot_cpu_clip(x, ot_in(c, 1), ot_in(c, 2), c->out[0]);
    const ot_ew_clip_attrs *a = c->attrs;
    /* The attributes as one-element tensors of x's dtype. */
    double lo_v = 0, hi_v = 0;
    ot_tensor lo = {0}, hi = {0};
    lo.dtype = hi.dtype = x->dtype;
    lo.data = &lo_v;
    hi.data = &hi_v;
    ot_store_f64(x->dtype, lo.data, 0, a->lo);
    ot_store_f64(x->dtype, hi.data, 0, a->hi);
    return ot_cpu_clip(x, &lo, &hi, c->out[0]);
}

/* ---- IsNaN / IsInf ------------------------------------------------------------ */
static ot_status ew_classify_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    OT_TRY(ot_ew_check_input(c, 0, F));
    ot_set_out(c, 0, OT_BOOL, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_ew_isnan_infer(ot_kctx *c) { return ew_classify_infer(c); }
ot_status ot_ew_isnan_cpu(ot_kctx *c) { return ot_cpu_isnan(c->in[0], c->out[0]); }

ot_status ot_ew_isinf_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_isinf_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "detect_negative", 1, &a->detect_negative));
    OT_TRY(ot_attr_get_int(n, "detect_positive", 1, &a->detect_positive));
    return OT_OK;
}

ot_status ot_ew_isinf_infer(ot_kctx *c) { return ew_classify_infer(c); }

ot_status ot_ew_isinf_cpu(ot_kctx *c) {
    const ot_ew_isinf_attrs *a = c->attrs;
    return ot_cpu_isinf(c->in[0], a->detect_positive != 0, a->detect_negative != 0, c->out[0]);
}
