/* Op family: elementwise.  This file: the family's helpers, the broadcasting
 * binary ops (arithmetic, comparisons, logic, bitwise, Mod, PRelu, Pow), the
 * variadic Min/Max/Sum/Mean, Where, and the family's one table.  Unary maps,
 * Clip and IsNaN/IsInf are in elementwise_unary.c; Cast, CastLike, Identity
 * and Dropout in elementwise_misc.c; gradient rules in elementwise_grad.c and
 * the ai.onnxtrain grad ops they emit in elementwise_grad_ops.c (rows at the
 * end of the table).  Kernels: kernels/cpu/elementwise*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "elementwise_ops.h"

/* ---- helpers -------------------------------------------------------------------- */
bool ot_ew_dtype_in(ot_dtype t, unsigned classes) {
    if (ot_dtype_is_float(t)) return classes & OT_EW_DT_FLOAT;
    if (t == OT_BOOL) return classes & OT_EW_DT_BOOL;
    if (ot_dtype_is_int(t)) return classes & (ot_dtype_is_signed(t) ? OT_EW_DT_SINT : OT_EW_DT_UINT);
    return false;
}

const char *ot_ew_classes_str(unsigned classes, char *buf, size_t cap) {
    static const struct {
        unsigned bit;
        const char *text;
    } parts[] = {{OT_EW_DT_FLOAT, "float16/bfloat16/float/double"},
                 {OT_EW_DT_SINT, "int8/int16/int32/int64"},
                 {OT_EW_DT_UINT, "uint8/uint16/uint32/uint64"},
                 {OT_EW_DT_BOOL, "bool"}};
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if ((classes & parts[i].bit) && n < cap) n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", parts[i].text);
    return buf;
}

const char *ot_ew_onnx_dtype_name(int t) {
    static const char *const extra[] = {"float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz",
                                        "uint4",        "int4",           "float4e2m1", "float8e8m0",
                                        "uint2",        "int2"};
    if (t >= 17 && t <= 26) return extra[t - 17];
    return ot_dtype_name((ot_dtype)t);
}

ot_status ot_ew_check_input(const ot_kctx *c, int i, unsigned classes) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return ot_op_error(c, OT_ERR_PARSE, "input %d is required", i);
    if (ot_ew_dtype_in(t->dtype, classes)) return OT_OK;
    char buf[160];
    return ot_op_error(c, OT_ERR_UNSUPPORTED, "unsupported dtype %s for input %d (supported: %s)",
                       ot_ew_onnx_dtype_name((int)t->dtype), i, ot_ew_classes_str(classes, buf, sizeof buf));
}

ot_status ot_ew_node_error(const ot_node *n, ot_status code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->name && n->name[0]) return ot_error(code, "node '%s' (%s): %s", n->name, n->op_type, msg);
    return ot_error(code, "%s node: %s", n->op_type, msg);
}

/* The broadcast shape of inputs [first, first + count) into out[0], all of
   input `first`'s dtype unless `same_dtype` is false. */
static ot_status ew_broadcast_out(ot_kctx *c, int first, int count, bool same_dtype, ot_dtype out_dtype) {
    const ot_tensor *t[OT_BCAST_MAX_OPERANDS];
    if (count > OT_BCAST_MAX_OPERANDS) return ot_op_error(c, OT_ERR_INTERNAL, "too many inputs");
    for (int k = 0; k < count; k++) {
        t[k] = ot_in(c, first + k);
        if (!t[k]) return ot_op_error(c, OT_ERR_PARSE, "input %d is required", first + k);
        if (same_dtype && t[k]->dtype != t[0]->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "input %d has type %s but input %d has %s; they must match",
                               first + k, ot_dtype_name(t[k]->dtype), first, ot_dtype_name(t[0]->dtype));
    }
    int rank;
    int64_t dims[OT_MAX_RANK];
    if (ot_bcast_shape(count, t, &rank, dims) != OT_OK) return ot_error_context(OT_ERR_SHAPE, "node '%s' (%s)", c->name, c->node->op_type);
    ot_set_out(c, 0, out_dtype, rank, dims);
    return OT_OK;
}

/* ---- binary ops -------------------------------------------------------------------- */
#define NUM OT_EW_DT_NUM
static const struct {
    const char *name;
    ot_binary_op op;
    unsigned dtypes;
} ew_binary_table[] = {
    {"Add", OT_BIN_ADD, NUM},
    {"Sub", OT_BIN_SUB, NUM},
    {"Mul", OT_BIN_MUL, NUM},
    {"Div", OT_BIN_DIV, NUM},
    {"Mod", OT_BIN_MOD, NUM}, /* fmod=1 -> OT_BIN_FMOD */
    {"Equal", OT_BIN_EQ, NUM | OT_EW_DT_BOOL},
    {"Less", OT_BIN_LT, NUM},
    {"LessOrEqual", OT_BIN_LE, NUM},
    {"Greater", OT_BIN_GT, NUM},
    {"GreaterOrEqual", OT_BIN_GE, NUM},
    {"And", OT_BIN_AND, OT_EW_DT_BOOL},
    {"Or", OT_BIN_OR, OT_EW_DT_BOOL},
    {"Xor", OT_BIN_XOR, OT_EW_DT_BOOL},
    {"BitwiseAnd", OT_BIN_BITAND, OT_EW_DT_INT},
    {"BitwiseOr", OT_BIN_BITOR, OT_EW_DT_INT},
    {"BitwiseXor", OT_BIN_BITXOR, OT_EW_DT_INT},
    {"BitShift", OT_BIN_SHL, OT_EW_DT_UINT}, /* direction=RIGHT -> OT_BIN_SHR */
    {"PRelu", OT_BIN_PRELU, NUM},
    {"Min", OT_BIN_MIN, NUM},
    {"Max", OT_BIN_MAX, NUM},
    {"Sum", OT_BIN_ADD, OT_EW_DT_FLOAT},
    {"Mean", OT_BIN_ADD, OT_EW_DT_FLOAT},
};

static ot_status ew_binary_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ew_binary_attrs *a = attrs;
    size_t i = 0, count = sizeof ew_binary_table / sizeof ew_binary_table[0];
    while (i < count && strcmp(ew_binary_table[i].name, n->op_type)) i++;
    if (i == count) return ot_ew_node_error(n, OT_ERR_INTERNAL, "not a binary elementwise op");
    a->op = ew_binary_table[i].op;
    a->dtypes = ew_binary_table[i].dtypes;
    if (a->op == OT_BIN_MOD) {
        int64_t fmod;
        OT_TRY(ot_attr_get_int(n, "fmod", 0, &fmod));
        if (fmod != 0 && fmod != 1)
            return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "fmod must be 0 or 1, got %lld", (long long)fmod);
        if (fmod) a->op = OT_BIN_FMOD;
    } else if (a->op == OT_BIN_SHL) {
        const char *dir;
        OT_TRY(ot_attr_get_string(n, "direction", NULL, &dir));
        if (!dir) return ot_ew_node_error(n, OT_ERR_PARSE, "attribute 'direction' is required");
        if (!strcmp(dir, "RIGHT")) a->op = OT_BIN_SHR;
        else if (strcmp(dir, "LEFT"))
            return ot_ew_node_error(n, OT_ERR_INVALID_ARG, "direction '%s' (expected LEFT or RIGHT)", dir);
    }
    return OT_OK;
}

static ot_status ew_binary_infer(ot_kctx *c) {
    const ot_ew_binary_attrs *a = c->attrs;
    OT_TRY(ot_ew_check_input(c, 0, a->dtypes));
    const ot_tensor *x = ot_in(c, 0);
    if (a->op == OT_BIN_MOD && ot_dtype_is_float(x->dtype))
        return ot_op_error(c, OT_ERR_INVALID_ARG, "Mod on %s requires fmod=1 (fmod=0 is integer-only)",
                           ot_dtype_name(x->dtype));
    if (!ot_cpu_binary_fn(a->op, x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "no kernel for input type %s", ot_dtype_name(x->dtype));
    ot_dtype out = ot_binary_is_compare(a->op) ? OT_BOOL : x->dtype;
    OT_TRY(ew_broadcast_out(c, 0, 2, true, out));
    if (a->op == OT_BIN_PRELU) { /* slope broadcasts to X, never the other way */
        const ot_tensor *y = c->out[0];
        if (y && !ot_shape_equal(y->rank, y->dims, x->rank, x->dims)) {
            char sx[128], ss[128];
            const ot_tensor *s = ot_in(c, 1);
            return ot_op_error(c, OT_ERR_SHAPE, "slope of shape %s does not broadcast to X of shape %s",
                               ot_shape_str(s->rank, s->dims, ss, sizeof ss), ot_shape_str(x->rank, x->dims, sx, sizeof sx));
        }
    }
    return OT_OK;
}

static ot_status ew_binary_cpu(ot_kctx *c) {
    const ot_ew_binary_attrs *a = c->attrs;
    return ot_cpu_binary(a->op, c->in[0], c->in[1], c->out[0]);
}

/* ---- Min / Max / Sum / Mean: a left fold of the binary op into the output ---- */
static ot_status ew_variadic_infer(ot_kctx *c) {
    const ot_ew_binary_attrs *a = c->attrs;
    OT_TRY(ot_ew_check_input(c, 0, a->dtypes));
    if (c->n_in > OT_BCAST_MAX_OPERANDS) { /* the shape fold below takes a bounded list */
        const ot_tensor *x = ot_in(c, 0);
        int rank = x->rank;
        int64_t dims[OT_MAX_RANK];
        memcpy(dims, x->dims, sizeof(int64_t) * (size_t)rank);
        for (int k = 1; k < c->n_in; k++) {
            const ot_tensor *t = ot_in(c, k);
            if (!t || t->dtype != x->dtype)
                return ot_op_error(c, OT_ERR_TYPE, "input %d is absent or not of type %s", k, ot_dtype_name(x->dtype));
            if (ot_shape_broadcast(rank, dims, t->rank, t->dims, &rank, dims) != OT_OK)
                return ot_error_context(OT_ERR_SHAPE, "node '%s' (%s)", c->name, c->node->op_type);
        }
        ot_set_out(c, 0, x->dtype, rank, dims);
        return OT_OK;
    }
    return ew_broadcast_out(c, 0, c->n_in, true, ot_in(c, 0)->dtype);
}

static ot_status ew_variadic_cpu(ot_kctx *c) {
    const ot_ew_binary_attrs *a = c->attrs;
    ot_tensor *y = c->out[0];
    if (c->n_in == 1) {
        ot_cpu_copy(c->in[0], y);
        return OT_OK;
    }
    OT_TRY(ot_cpu_binary(a->op, c->in[0], c->in[1], y));
    for (int k = 2; k < c->n_in; k++) OT_TRY(ot_cpu_binary(a->op, y, c->in[k], y));
    if (!strcmp(c->node->op_type, "Mean")) OT_TRY(ot_cpu_scale(y, 1.0 / c->n_in));
    return OT_OK;
}

/* ---- Pow: the exponent may have another numeric type (opset 12+) ---------------- */
static ot_status ew_pow_infer(ot_kctx *c) {
    OT_TRY(ot_ew_check_input(c, 0, OT_EW_DT_FLOAT | OT_EW_DT_SINT));
    OT_TRY(ot_ew_check_input(c, 1, NUM));
    const ot_tensor *x = ot_in(c, 0), *e = ot_in(c, 1);
    if (!ot_cpu_pow_supports(x->dtype, e->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "unsupported dtype: base %s (supported: float types, int32, int64)",
                           ot_dtype_name(x->dtype));
    return ew_broadcast_out(c, 0, 2, false, x->dtype);
}

static ot_status ew_pow_cpu(ot_kctx *c) { return ot_cpu_pow(c->in[0], c->in[1], c->out[0]); }

/* ---- Where ------------------------------------------------------------------------ */
static ot_status ew_where_infer(ot_kctx *c) {
    OT_TRY(ot_ew_check_input(c, 0, OT_EW_DT_BOOL));
    OT_TRY(ot_ew_check_input(c, 1, NUM | OT_EW_DT_BOOL));
    OT_TRY(ew_broadcast_out(c, 1, 2, true, ot_in(c, 1)->dtype));
    return ew_broadcast_out(c, 0, 3, false, ot_in(c, 1)->dtype);
}

static ot_status ew_where_cpu(ot_kctx *c) { return ot_cpu_where(c->in[0], c->in[1], c->in[2], c->out[0]); }

/* ---- the table ------------------------------------------------------------------------ */
#define EW_FLOATS "float16, bfloat16, float, double"
#define EW_NUMS "float16, bfloat16, float, double, int8-64, uint8-64"
#define EW_TRAITS (OT_TRAIT_ELEMENTWISE | OT_TRAIT_INPLACE)
/* Designated initializers: fields added to ot_op_def later default to 0/NULL.
   gr: the gradient rule (ops/elementwise_grad.c), NULL where none flows. */
#define EW_ROW(nm, first, last, nin0, nin1, nout0, nout1, attrs, size, parse_fn, infer_fn, cpu_fn, tr, dt, gr)   \
    {.name = nm, .domain = "", .min_opset = first, .max_opset = last, .min_inputs = nin0, .max_inputs = nin1,   \
     .min_outputs = nout0, .max_outputs = nout1, .attr_names = attrs, .attrs_size = size, .parse = parse_fn,    \
     .infer = infer_fn, .cpu = cpu_fn, .traits = tr, .dtypes = dt, .grad = gr}
#define EW_UNARY_G(name, first, attrs, dtypes, gr)                                                           \
    EW_ROW(name, first, 23, 1, 1, 1, 1, attrs, sizeof(ot_ew_unary_attrs), ot_ew_unary_parse, ot_ew_unary_infer, \
           ot_ew_unary_cpu, EW_TRAITS, dtypes, gr)
#define EW_UNARY(name, first, attrs, dtypes) EW_UNARY_G(name, first, attrs, dtypes, ot_ew_unary_grad_rule)
#define EW_BINARY(name, first, attrs, traits, dtypes, gr)                                                        \
    EW_ROW(name, first, 23, 2, 2, 1, 1, attrs, sizeof(ot_ew_binary_attrs), ew_binary_parse, ew_binary_infer, \
           ew_binary_cpu, traits, dtypes, gr)
#define EW_CMP(name, first, dtypes) EW_BINARY(name, first, "", OT_TRAIT_ELEMENTWISE, dtypes " -> bool", NULL)
#define EW_VARIADIC(name, dtypes, gr)                                                                          \
    EW_ROW(name, 6, 23, 1, -1, 1, 1, "", sizeof(ot_ew_binary_attrs), ew_binary_parse, ew_variadic_infer, \
           ew_variadic_cpu, EW_TRAITS, dtypes, gr)
/* Grad ops: domain ai.onnxtrain, opset 1 (documented in elementwise_grad_ops.c). */
#define EW_GRAD_ROW(nm, nin0, nin1, attrs, size, fn, tr)                                                        \
    {.name = nm, .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = nin0,                 \
     .max_inputs = nin1, .min_outputs = 1, .max_outputs = 1, .attr_names = attrs, .attrs_size = size,          \
     .parse = ot_ew_##fn##_parse, .infer = ot_ew_##fn##_infer, .cpu = ot_ew_##fn##_cpu, .traits = tr,          \
     .dtypes = EW_FLOATS}
#define EW_UGRAD(nm, attrs) EW_GRAD_ROW(nm, 2, 2, attrs, sizeof(ot_ew_ugrad_attrs), ugrad, EW_TRAITS)

const ot_op_def ot_ops_elementwise[] = {
    EW_BINARY("Add", 7, "", EW_TRAITS, EW_NUMS, ot_ew_add_grad_rule),
    EW_BINARY("Sub", 7, "", EW_TRAITS, EW_NUMS, ot_ew_sub_grad_rule),
    EW_BINARY("Mul", 7, "", EW_TRAITS, EW_NUMS, ot_ew_mul_grad_rule),
    EW_BINARY("Div", 7, "", EW_TRAITS, EW_NUMS " (integers truncate)", ot_ew_div_grad_rule),
    EW_BINARY("Mod", 10, "fmod", EW_TRAITS, EW_NUMS " (floats need fmod=1)", NULL),
    EW_BINARY("PRelu", 7, "", EW_TRAITS, EW_NUMS, ot_ew_prelu_grad_rule),
    EW_BINARY("BitwiseAnd", 18, "", EW_TRAITS, "int8-64, uint8-64", NULL),
    EW_BINARY("BitwiseOr", 18, "", EW_TRAITS, "int8-64, uint8-64", NULL),
    EW_BINARY("BitwiseXor", 18, "", EW_TRAITS, "int8-64, uint8-64", NULL),
    EW_BINARY("BitShift", 11, "direction", EW_TRAITS, "uint8-64", NULL),
    EW_BINARY("And", 7, "", EW_TRAITS, "bool", NULL),
    EW_BINARY("Or", 7, "", EW_TRAITS, "bool", NULL),
    EW_BINARY("Xor", 7, "", EW_TRAITS, "bool", NULL),
    EW_CMP("Equal", 7, EW_NUMS ", bool"),
    EW_CMP("Less", 7, EW_NUMS),
    EW_CMP("LessOrEqual", 12, EW_NUMS),
    EW_CMP("Greater", 7, EW_NUMS),
    EW_CMP("GreaterOrEqual", 12, EW_NUMS),
    EW_ROW("Pow", 7, 23, 2, 2, 1, 1, "", 0, NULL, ew_pow_infer, ew_pow_cpu, EW_TRAITS,
           "base: float types, int32, int64; exponent: float types, int8-64, uint8-64", ot_ew_pow_grad_rule),
    EW_VARIADIC("Min", EW_NUMS, ot_ew_minmax_grad_rule),
    EW_VARIADIC("Max", EW_NUMS, ot_ew_minmax_grad_rule),
    EW_VARIADIC("Sum", EW_FLOATS, ot_ew_sum_grad_rule),
    EW_VARIADIC("Mean", EW_FLOATS, ot_ew_mean_grad_rule),
    EW_ROW("Where", 9, 23, 3, 3, 1, 1, "", 0, NULL, ew_where_infer, ew_where_cpu, OT_TRAIT_ELEMENTWISE,
           "condition: bool; X, Y: " EW_NUMS ", bool", ot_ew_where_grad_rule),

    EW_UNARY("Neg", 6, "", EW_FLOATS ", int8-64"),
    EW_UNARY("Abs", 6, "", EW_NUMS),
    EW_UNARY("Sqrt", 6, "", EW_FLOATS),
    EW_UNARY("Reciprocal", 6, "", EW_FLOATS),
    EW_UNARY("Exp", 6, "", EW_FLOATS),
    EW_UNARY("Log", 6, "", EW_FLOATS),
    EW_UNARY("Sin", 7, "", EW_FLOATS),
    EW_UNARY("Cos", 7, "", EW_FLOATS),
    EW_UNARY("Tan", 7, "", EW_FLOATS),
    EW_UNARY("Tanh", 6, "", EW_FLOATS),
    EW_UNARY("Sigmoid", 6, "", EW_FLOATS),
    EW_UNARY("Relu", 6, "", EW_FLOATS ", int8-64"),
    EW_UNARY("LeakyRelu", 6, "alpha", EW_FLOATS),
    EW_UNARY("Elu", 6, "alpha", EW_FLOATS),
    EW_UNARY("Selu", 6, "alpha,gamma", EW_FLOATS),
    EW_UNARY("Celu", 12, "alpha", EW_FLOATS),
    EW_UNARY("Gelu", 20, "approximate", EW_FLOATS),
    EW_UNARY("Erf", 9, "", EW_NUMS),
    EW_UNARY("Softplus", 1, "", EW_FLOATS),
    EW_UNARY("Softsign", 1, "", EW_FLOATS),
    EW_UNARY("HardSigmoid", 6, "alpha,beta", EW_FLOATS),
    EW_UNARY("HardSwish", 14, "", EW_FLOATS),
    EW_UNARY("Mish", 18, "", EW_FLOATS),
    EW_UNARY_G("Floor", 6, "", EW_FLOATS, ot_ew_zero_grad_rule),
    EW_UNARY_G("Ceil", 6, "", EW_FLOATS, ot_ew_zero_grad_rule),
    EW_UNARY_G("Round", 11, "", EW_FLOATS " (half to even)", ot_ew_zero_grad_rule),
    EW_UNARY_G("Sign", 9, "", EW_NUMS, ot_ew_zero_grad_rule),
    EW_UNARY("Acos", 7, "", EW_FLOATS),
    EW_UNARY("Asin", 7, "", EW_FLOATS),
    EW_UNARY("Atan", 7, "", EW_FLOATS),
    EW_UNARY("Sinh", 9, "", EW_FLOATS),
    EW_UNARY("Cosh", 9, "", EW_FLOATS),
    EW_UNARY("Asinh", 9, "", EW_FLOATS),
    EW_UNARY("Acosh", 9, "", EW_FLOATS),
    EW_UNARY("Atanh", 9, "", EW_FLOATS),
    EW_UNARY("ThresholdedRelu", 10, "alpha", EW_FLOATS),
    EW_UNARY("Shrink", 9, "lambd,bias", EW_NUMS),
    EW_UNARY_G("Not", 1, "", "bool", NULL),
    EW_UNARY_G("BitwiseNot", 18, "", "int8-64, uint8-64", NULL),

    EW_ROW("Clip", 6, 23, 1, 3, 1, 1, "min,max", sizeof(ot_ew_clip_attrs), ot_ew_clip_parse, ot_ew_clip_infer,
           ot_ew_clip_cpu, EW_TRAITS, EW_FLOATS "; integers from opset 12", ot_ew_clip_grad_rule),
    EW_ROW("IsNaN", 9, 23, 1, 1, 1, 1, "", 0, NULL, ot_ew_isnan_infer, ot_ew_isnan_cpu, OT_TRAIT_ELEMENTWISE,
           EW_FLOATS " -> bool", NULL),
    EW_ROW("IsInf", 10, 23, 1, 1, 1, 1, "detect_negative,detect_positive", sizeof(ot_ew_isinf_attrs),
     ot_ew_isinf_parse, ot_ew_isinf_infer, ot_ew_isinf_cpu, OT_TRAIT_ELEMENTWISE, EW_FLOATS " -> bool", NULL),
    /* Cast/CastLike rows reach opset 25: versions 24 and 25 add float8e8m0,
       int2/uint2 and round_mode (float8e8m0 only). */
    EW_ROW("Cast", 6, 25, 1, 1, 1, 1, "to,saturate,round_mode", sizeof(ot_ew_cast_attrs), ot_ew_cast_parse,
           ot_ew_cast_infer, ot_ew_cast_cpu, OT_TRAIT_ELEMENTWISE,
           "every numeric type, bool, float8/float4/int4/int2 types, both ways (no string)", ot_ew_cast_grad_rule),
    EW_ROW("CastLike", 15, 25, 2, 2, 1, 1, "saturate,round_mode", sizeof(ot_ew_cast_attrs), ot_ew_cast_parse,
           ot_ew_castlike_infer, ot_ew_cast_cpu, OT_TRAIT_ELEMENTWISE,
           "every numeric type, bool, float8/float4/int4/int2 types, both ways (no string)", ot_ew_cast_grad_rule),
    /* Identity 24/25 only add the float8e8m0 and int2/uint2 types. */
    EW_ROW("Identity", 1, 25, 1, 1, 1, 1, "", 0, NULL, ot_ew_identity_infer, ot_ew_identity_cpu,
           OT_TRAIT_ALIAS, "every numeric type and bool (tensors only)", ot_ew_identity_grad_rule),
    EW_ROW("Dropout", 7, 23, 1, 3, 1, 2, "ratio,seed", sizeof(ot_ew_dropout_attrs), ot_ew_dropout_parse,
           ot_ew_dropout_infer, ot_ew_dropout_cpu, OT_TRAIT_ELEMENTWISE | OT_TRAIT_INPLACE | OT_TRAIT_RANDOM,
           EW_FLOATS, ot_ew_dropout_grad_rule),

    /* ---- gradient ops (ai.onnxtrain) ---- */
    EW_UGRAD("ReluGrad", ""),
    EW_UGRAD("SigmoidGrad", ""),
    EW_UGRAD("TanhGrad", ""),
    EW_UGRAD("SqrtGrad", ""),
    EW_UGRAD("ReciprocalGrad", ""),
    EW_UGRAD("TanGrad", ""),
    EW_UGRAD("AbsGrad", ""),
    EW_UGRAD("SinGrad", ""),
    EW_UGRAD("CosGrad", ""),
    EW_UGRAD("LeakyReluGrad", "alpha"),
    EW_UGRAD("EluGrad", "alpha"),
    EW_UGRAD("SeluGrad", "alpha,gamma"),
    EW_UGRAD("CeluGrad", "alpha"),
    EW_UGRAD("GeluGrad", "approximate"),
    EW_UGRAD("ErfGrad", ""),
    EW_UGRAD("SoftplusGrad", ""),
    EW_UGRAD("SoftsignGrad", ""),
    EW_UGRAD("HardSigmoidGrad", "alpha,beta"),
    EW_UGRAD("HardSwishGrad", ""),
    EW_UGRAD("MishGrad", ""),
    EW_UGRAD("AcosGrad", ""),
    EW_UGRAD("AsinGrad", ""),
    EW_UGRAD("AtanGrad", ""),
    EW_UGRAD("SinhGrad", ""),
    EW_UGRAD("CoshGrad", ""),
    EW_UGRAD("AsinhGrad", ""),
    EW_UGRAD("AcoshGrad", ""),
    EW_UGRAD("AtanhGrad", ""),
    EW_UGRAD("ThresholdedReluGrad", "alpha"),
    EW_UGRAD("ShrinkGrad", "lambd"),
    EW_GRAD_ROW("PowGrad", 3, 4, "wrt", sizeof(ot_ew_wrt_attrs), pow_grad, EW_TRAITS),
    EW_GRAD_ROW("PReluGrad", 3, 3, "wrt", sizeof(ot_ew_wrt_attrs), prelu_grad, EW_TRAITS),
    /* Not in place: with many inputs the output holds tie counts before dy is read. */
    EW_GRAD_ROW("MinMaxGrad", 3, -1, "input", sizeof(ot_ew_minmax_grad_attrs), minmax_grad, OT_TRAIT_ELEMENTWISE),
    EW_GRAD_ROW("ClipGrad", 2, 4, "min,max", sizeof(ot_ew_clip_grad_attrs), clip_grad, EW_TRAITS),
    EW_GRAD_ROW("DropoutGrad", 1, 4, "seed_node,seed,ratio", sizeof(ot_ew_dropout_grad_attrs), dropout_grad,
                EW_TRAITS | OT_TRAIT_RANDOM),
};
const int ot_ops_elementwise_count = sizeof ot_ops_elementwise / sizeof ot_ops_elementwise[0];
