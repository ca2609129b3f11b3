/* Misc family: ops that belong to no larger family.  This file holds
 * CumProd, LRN, Det, Swish, Binarizer (ai.onnx.ml), EyeLike and BitCast,
 * and the family's table; the data-movement ops are in misc_layout.c, the
 * random ones in misc_random.c, Unique in misc_unique.c, gradients and the
 * ai.onnxtrain grad ops in misc_grad.c.  Loops: kernels/cpu/misc*.c. */
#include <string.h>

#include "kernels/cpu/misc.h"
#include "misc_ops.h"
#include "reduce_ops.h"
#include "src/runtime/workspace.h"

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};

ot_status ot_misc_check_float(const ot_kctx *c, int i) { return ot_check_dtype(c, i, float_types); }

/* ---- CumProd (26) ---------------------------------------------------------------- */

ot_status ot_cumprod_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_cumprod_attrs *a = attrs;
    int64_t ex, rev;
    OT_TRY(ot_attr_get_int(n, "exclusive", 0, &ex));
    OT_TRY(ot_attr_get_int(n, "reverse", 0, &rev));
    if ((ex != 0 && ex != 1) || (rev != 0 && rev != 1))
        return ot_node_error(n, OT_ERR_INVALID_ARG, "'exclusive' and 'reverse' must be 0 or 1 (got %lld, %lld)",
                             (long long)ex, (long long)rev);
    a->exclusive = ex != 0;
    a->reverse = rev != 0;
    return OT_OK;
}

static ot_status cumprod_infer(ot_kctx *c) {
    OT_TRY(ot_cumulative_infer(c)); /* CumSum's: same inputs and checks */
    const ot_tensor *x = c->in[0];
    if (ot_misc_is_half(x->dtype)) ot_workspace_request((size_t)ot_tensor_numel(x) * sizeof(float) + 64);
    return OT_OK;
}

static ot_status cumprod_cpu(ot_kctx *c) {
    const ot_cumprod_attrs *a = c->attrs;
    int axis;
    OT_TRY(ot_cumulative_axis(c, c->in[0], c->in[1], &axis));
    return ot_cpu_cumprod(c->in[0], axis, a->exclusive, a->reverse, c->out[0]);
}

/* ---- LRN (1, 13) --------------------------------------------------------------------- */

ot_status ot_lrn_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_lrn_attrs *a = attrs;
    if (!ot_node_attr(n, "size")) return ot_node_error(n, OT_ERR_PARSE, "attribute 'size' is required");
    OT_TRY(ot_attr_get_int(n, "size", 1, &a->size));
    OT_TRY(ot_attr_get_float(n, "alpha", 1e-4f, &a->alpha));
    OT_TRY(ot_attr_get_float(n, "beta", 0.75f, &a->beta));
    OT_TRY(ot_attr_get_float(n, "bias", 1.0f, &a->bias));
    if (a->size < 1) return ot_node_error(n, OT_ERR_INVALID_ARG, "'size' must be >= 1, got %lld", (long long)a->size);
    return OT_OK;
}

static ot_status lrn_infer(ot_kctx *c) {
    OT_TRY(ot_misc_check_float(c, 0));
    const ot_tensor *x = c->in[0];
    if (x->rank < 2) return ot_op_error(c, OT_ERR_SHAPE, "input must be (N, C, ...), got rank %d", x->rank);
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    if (ot_misc_is_half(x->dtype)) ot_workspace_request(2 * (size_t)ot_tensor_numel(x) * sizeof(float) + 128);
    return OT_OK;
}

static ot_status lrn_cpu(ot_kctx *c) {
    ot_lrn_params p = ot_misc_lrn_params(c->attrs);
    return ot_cpu_lrn(c->in[0], &p, c->out[0]);
}

/* ---- Det (11, 22) ------------------------------------------------------------------------ */

static ot_status det_infer(ot_kctx *c) {
    OT_TRY(ot_misc_check_float(c, 0));
    const ot_tensor *x = c->in[0];
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2]) {
        char b[160];
        return ot_op_error(c, OT_ERR_SHAPE, "input must be (..., M, M), got %s", ot_shape_str(x->rank, x->dims, b, sizeof b));
    }
    ot_set_out(c, 0, x->dtype, x->rank - 2, x->dims);
    int64_t batch = 1, m = x->dims[x->rank - 1];
    for (int d = 0; d < x->rank - 2; d++) batch *= x->dims[d];
    ot_workspace_request(ot_cpu_det_workspace(x->dtype, batch, m, false));
    return OT_OK;
}

static ot_status det_cpu(ot_kctx *c) { return ot_cpu_det(c->in[0], c->out[0]); }

/* ---- Swish (24) ---------------------------------------------------------------------------- */

ot_status ot_swish_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_attr_get_float(n, "alpha", 1.0f, &((ot_swish_attrs *)attrs)->alpha);
}

static ot_status swish_infer(ot_kctx *c) {
    OT_TRY(ot_misc_check_float(c, 0));
    const ot_tensor *x = c->in[0];
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    if (ot_misc_is_half(x->dtype)) ot_workspace_request((size_t)ot_tensor_numel(x) * sizeof(float) + 64);
    return OT_OK;
}

static ot_status swish_cpu(ot_kctx *c) {
    return ot_cpu_swish(c->in[0], ((const ot_swish_attrs *)c->attrs)->alpha, c->out[0]);
}

/* ---- Binarizer (ai.onnx.ml 1) ---------------------------------------------------------------- */

typedef struct { float threshold; } binarizer_attrs;

static ot_status binarizer_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_attr_get_float(n, "threshold", 0.0f, &((binarizer_attrs *)attrs)->threshold);
}

static ot_status binarizer_infer(ot_kctx *c) {
    static const ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_INT64, OT_INT32, OT_UNDEFINED};
    OT_TRY(ot_check_dtype(c, 0, types));
    ot_set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return OT_OK;
}

static ot_status binarizer_cpu(ot_kctx *c) {
    return ot_cpu_binarizer(c->in[0], ((const binarizer_attrs *)c->attrs)->threshold, c->out[0]);
}

/* ---- EyeLike (9, 22) --------------------------------------------------------------------------- */

typedef struct { int64_t dtype, k; } eyelike_attrs;

static ot_status eyelike_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    eyelike_attrs *a = attrs;
    OT_TRY(ot_attr_get_int(n, "dtype", 0, &a->dtype));
    OT_TRY(ot_attr_get_int(n, "k", 0, &a->k));
    if (a->dtype && !ot_dtype_is_numeric((ot_dtype)a->dtype))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "'dtype' %lld is not a numeric or bool type onnxtrain supports",
                             (long long)a->dtype);
    return OT_OK;
}

static ot_status eyelike_infer(ot_kctx *c) {
    const eyelike_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    if (!ot_dtype_is_numeric(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input type %s is not supported", ot_dtype_name(x->dtype));
    if (x->rank != 2) return ot_op_error(c, OT_ERR_SHAPE, "input must be 2-D, got rank %d", x->rank);
    ot_set_out(c, 0, a->dtype ? (ot_dtype)a->dtype : x->dtype, 2, x->dims);
    return OT_OK;
}

/* Reads only the input's shape (OT_TRAIT_SHAPE_ONLY: folded at compile time). */
static ot_status eyelike_cpu(ot_kctx *c) {
    ot_cpu_eyelike(c->out[0], ((const eyelike_attrs *)c->attrs)->k);
    return OT_OK;
}

/* ---- BitCast (26) ---------------------------------------------------------------------------------- */

typedef struct { int64_t to; } bitcast_attrs;

static bool bitcast_type_ok(int64_t t) {
    return t > 0 && t != OT_STRING && t <= OT_BFLOAT16 && ot_dtype_size((ot_dtype)t) > 0;
}

static ot_status bitcast_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    bitcast_attrs *a = attrs;
    if (!ot_node_attr(n, "to")) return ot_node_error(n, OT_ERR_PARSE, "attribute 'to' is required");
    OT_TRY(ot_attr_get_int(n, "to", 0, &a->to));
    if (!bitcast_type_ok(a->to))
        return ot_node_error(n, OT_ERR_UNSUPPORTED,
                             "'to' = %lld is not a type onnxtrain supports (no string, float8, int4/int2, float4)",
                             (long long)a->to);
    return OT_OK;
}

static ot_status bitcast_infer(ot_kctx *c) {
    const bitcast_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    if (!bitcast_type_ok(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input type %s is not supported", ot_dtype_name(x->dtype));
    if (ot_dtype_size(x->dtype) != ot_dtype_size((ot_dtype)a->to))
        return ot_op_error(c, OT_ERR_TYPE, "%s (%zu bits) and %s (%zu bits) differ in width", ot_dtype_name(x->dtype),
                           8 * ot_dtype_size(x->dtype), ot_dtype_name((ot_dtype)a->to),
                           8 * ot_dtype_size((ot_dtype)a->to));
    ot_set_out(c, 0, (ot_dtype)a->to, x->rank, x->dims);
    return OT_OK;
}

/* Little-endian bytes on every host onnxtrain builds for: a plain copy. */
static ot_status bitcast_cpu(ot_kctx *c) {
    size_t n = ot_tensor_nbytes(c->in[0]);
    if (n && c->out[0]->data != c->in[0]->data) memcpy(c->out[0]->data, c->in[0]->data, n);
    return OT_OK;
}

/* ---- the table ------------------------------------------------------------------------------------- */

#define FLOATS "float32, float64, float16, bfloat16"
#define MOVE_TYPES "every numeric type, bool, complex (not string)"

#define ROW(nm, lo, hi, nin_lo, nin_hi, nout_lo, nout_hi, attrs, atype, parse_, infer_, cpu_, traits_, dt, grad_, \
            nograd)                                                                                               \
    {.name = nm, .domain = "", .min_opset = lo, .max_opset = hi, .min_inputs = nin_lo, .max_inputs = nin_hi,      \
     .min_outputs = nout_lo, .max_outputs = nout_hi, .attr_names = attrs, .attrs_size = atype, .parse = parse_,   \
     .infer = infer_, .cpu = cpu_, .traits = traits_, .dtypes = dt, .grad = grad_, .no_grad_inputs = nograd}
#define GRAD_ROW(nm, nin_lo, nin_hi, attrs, atype, parse_, infer_, cpu_, traits_, dt)                              \
    {.name = nm, .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = nin_lo,                 \
     .max_inputs = nin_hi, .min_outputs = 1, .max_outputs = 1, .attr_names = attrs, .attrs_size = atype,          \
     .parse = parse_, .infer = infer_, .cpu = cpu_, .traits = traits_, .dtypes = dt}

const ot_op_def ot_ops_misc[] = {
    ROW("CumProd", 26, 26, 2, 2, 1, 1, "exclusive,reverse", sizeof(ot_cumprod_attrs), ot_cumprod_parse, cumprod_infer,
        cumprod_cpu, OT_TRAIT_INPLACE, FLOATS ", int32, int64, uint32, uint64 (integers wrap)", ot_cumprod_grad_rule,
        1u << 1),
    ROW("SpaceToDepth", 1, 23, 1, 1, 1, 1, "blocksize", sizeof(ot_d2s_attrs), ot_d2s_parse, ot_s2d_infer, ot_s2d_cpu,
        0, MOVE_TYPES, ot_s2d_grad_rule, 0),
    ROW("DepthToSpace", 1, 23, 1, 1, 1, 1, "blocksize,mode", sizeof(ot_d2s_attrs), ot_d2s_parse, ot_d2s_infer,
        ot_d2s_cpu, 0, MOVE_TYPES " (modes DCR, CRD)", ot_d2s_grad_rule, 0),
    ROW("ReverseSequence", 10, 23, 2, 2, 1, 1, "batch_axis,time_axis", sizeof(ot_revseq_attrs), ot_revseq_parse,
        ot_revseq_infer, ot_revseq_cpu, 0, MOVE_TYPES, ot_revseq_grad_rule, 1u << 1),
    ROW("LRN", 1, 23, 1, 1, 1, 1, "size,alpha,beta,bias", sizeof(ot_lrn_attrs), ot_lrn_parse, lrn_infer, lrn_cpu, 0,
        FLOATS, ot_lrn_grad_rule, 0),
    ROW("Det", 11, 23, 1, 1, 1, 1, "", 0, NULL, det_infer, det_cpu, 0, FLOATS " (LU in float64)", ot_det_grad_rule, 0),
    ROW("Swish", 24, 24, 1, 1, 1, 1, "alpha", sizeof(ot_swish_attrs), ot_swish_parse, swish_infer, swish_cpu,
        OT_TRAIT_ELEMENTWISE | OT_TRAIT_INPLACE, FLOATS, ot_swish_grad_rule, 0),
    ROW("EyeLike", 9, 23, 1, 1, 1, 1, "dtype,k", sizeof(eyelike_attrs), eyelike_parse, eyelike_infer, eyelike_cpu,
        OT_TRAIT_SHAPE_ONLY, "every numeric type and bool", ot_misc_zero_grad_rule, 0),
    ROW("BitCast", 26, 26, 1, 1, 1, 1, "to", sizeof(bitcast_attrs), bitcast_parse, bitcast_infer, bitcast_cpu, 0,
        "equal-width pairs of numeric types, bool, complex (no string, float8, int4/int2)", NULL, 0),
    ROW("RandomUniformLike", 1, 23, 1, 1, 1, 1, "dtype,high,low,seed", sizeof(ot_random_attrs), ot_random_parse,
        ot_random_uniform_like_infer, ot_random_uniform_like_cpu, OT_TRAIT_RANDOM,
        "any numeric or bool input -> " FLOATS, ot_misc_zero_grad_rule, 0),
    ROW("Bernoulli", 15, 23, 1, 1, 1, 1, "dtype,seed", sizeof(ot_random_attrs), ot_random_parse, ot_bernoulli_infer,
        ot_bernoulli_cpu, OT_TRAIT_RANDOM, FLOATS " -> every numeric type and bool", ot_misc_zero_grad_rule, 0),
    ROW("TensorScatter", 24, 24, 2, 3, 1, 1, "mode,axis", sizeof(ot_tscatter_attrs), ot_tscatter_parse,
        ot_tscatter_infer, ot_tscatter_cpu, OT_TRAIT_INPLACE, MOVE_TYPES " (no float8, int4)", NULL, 1u << 2),
    ROW("CenterCropPad", 18, 23, 2, 2, 1, 1, "axes", sizeof(ot_ccpad_attrs), ot_ccpad_parse, ot_ccpad_infer,
        ot_ccpad_cpu, 0, MOVE_TYPES, ot_ccpad_grad_rule, 1u << 1),
    ROW("Unique", 11, 23, 1, 1, 1, 4, "axis,sorted", sizeof(ot_unique_attrs), ot_unique_parse, ot_unique_infer,
        ot_unique_cpu, 0, "every numeric type and bool (input value known when compiling)", NULL, 0),
    {.name = "Binarizer", .domain = "ai.onnx.ml", .min_opset = 1, .max_opset = 5, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "threshold", .attrs_size = sizeof(binarizer_attrs),
     .parse = binarizer_parse, .infer = binarizer_infer, .cpu = binarizer_cpu,
     .traits = OT_TRAIT_ELEMENTWISE | OT_TRAIT_INPLACE, .dtypes = "float32, float64, int32, int64",
     .grad = ot_misc_zero_grad_rule},

    /* ---- gradient ops (ai.onnxtrain), documented in misc_grad.c ---- */
    GRAD_ROW("CumProdGrad", 3, 3, "exclusive,reverse", sizeof(ot_cumprod_attrs), ot_cumprod_parse,
             ot_cumprod_grad_infer, ot_cumprod_grad_cpu, 0, FLOATS),
    GRAD_ROW("LRNGrad", 2, 2, "size,alpha,beta,bias", sizeof(ot_lrn_attrs), ot_lrn_parse, ot_lrn_grad_infer,
             ot_lrn_grad_cpu, 0, FLOATS),
    GRAD_ROW("DetGrad", 2, 2, "", 0, NULL, ot_det_grad_infer, ot_det_grad_cpu, 0, FLOATS),
    GRAD_ROW("SwishGrad", 2, 2, "alpha", sizeof(ot_swish_attrs), ot_swish_parse, ot_swish_grad_infer,
             ot_swish_grad_cpu, OT_TRAIT_ELEMENTWISE, FLOATS),
};
const int ot_ops_misc_count = sizeof ot_ops_misc / sizeof ot_ops_misc[0];
