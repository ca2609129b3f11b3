/* Op family: reduce.  ReduceSum / Mean / Max / Min / Prod / L1 / L2 /
 * LogSum / LogSumExp / SumSquare, ArgMax / ArgMin, CumSum.
 * Numeric loops: kernels/cpu/reduce.c.
 *
 * Opset history that matters here: the `axes` attribute became an optional
 * second input (with the `noop_with_empty_axes` attribute) at opset 13 for
 * ReduceSum and at opset 18 for the others.  Its value decides the output
 * shape, so infer asks for it with ot_need_value.
 *
 * Gradient rules and the ai.onnxtrain ReduceGrad op: ops/reduce_grad.c. */
#include <string.h>

#include "reduce_ops.h"

/* ---- Reduce* ---------------------------------------------------------------- */


static const struct {
    const char *name;
    ot_reduce_op op;
    int axes_input_opset;
} reduce_kinds[] = {
    {"ReduceSum", OT_REDUCE_SUM, 13},       {"ReduceMean", OT_REDUCE_MEAN, 18},
    {"ReduceMax", OT_REDUCE_MAX, 18},       {"ReduceMin", OT_REDUCE_MIN, 18},
    {"ReduceProd", OT_REDUCE_PROD, 18},     {"ReduceL1", OT_REDUCE_L1, 18},
    {"ReduceL2", OT_REDUCE_L2, 18},         {"ReduceLogSum", OT_REDUCE_LOG_SUM, 18},
    {"ReduceLogSumExp", OT_REDUCE_LOG_SUM_EXP, 18}, {"ReduceSumSquare", OT_REDUCE_SUM_SQUARE, 18},
};

static const char *node_label(const ot_node *n) { return n->name && n->name[0] ? n->name : n->op_type; }

static ot_status reduce_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_reduce_attrs *a = attrs;
    int kind = -1;
    for (size_t i = 0; i < sizeof reduce_kinds / sizeof reduce_kinds[0]; i++)
        if (!strcmp(n->op_type, reduce_kinds[i].name)) kind = (int)i;
    if (kind < 0) return ot_error(OT_ERR_INTERNAL, "reduce_parse called for %s", n->op_type);
    a->op = reduce_kinds[kind].op;
    a->axes_input = opset >= reduce_kinds[kind].axes_input_opset;
    int64_t keep, noop;
    OT_TRY(ot_attr_get_int(n, "keepdims", 1, &keep));
    OT_TRY(ot_attr_get_int(n, "noop_with_empty_axes", 0, &noop));
    a->keepdims = keep != 0;
    a->noop_empty = noop != 0;
    const int64_t *ax;
    int count;
    OT_TRY(ot_attr_get_ints(n, "axes", &ax, &count));
    if (a->axes_input && count >= 0)
        return ot_error(OT_ERR_PARSE,
                        "node '%s' (%s): the 'axes' attribute was replaced by the 'axes' input at opset %d",
                        node_label(n), n->op_type, reduce_kinds[kind].axes_input_opset);
    if (!a->axes_input && ot_node_attr(n, "noop_with_empty_axes"))
        return ot_error(OT_ERR_PARSE, "node '%s' (%s): 'noop_with_empty_axes' exists only from opset %d",
                        node_label(n), n->op_type, reduce_kinds[kind].axes_input_opset);
    if (count > OT_MAX_RANK)
        return ot_error(OT_ERR_SHAPE, "node '%s' (%s): %d axes, but tensors have at most %d dimensions",
                        node_label(n), n->op_type, count, OT_MAX_RANK);
    a->n_axes = count;
    for (int i = 0; i < count; i++) a->axes[i] = ax[i];
    return OT_OK;
}

bool ot_reduce_op_of(const char *op_type, ot_reduce_op *op) {
    for (size_t i = 0; i < sizeof reduce_kinds / sizeof reduce_kinds[0]; i++) {
        if (!strcmp(op_type, reduce_kinds[i].name)) {
            *op = reduce_kinds[i].op;
            return true;
        }
    }
    return false;
}

ot_status ot_reduce_mask(const ot_kctx *c, int r, const ot_tensor *at, int n_attr, const int64_t *attr_axes,
                         bool noop_empty, bool *mask) {
    int64_t axes[OT_MAX_RANK];
    int64_t n = n_attr > 0 ? n_attr : 0;
    if (at) {
        if (at->rank > 1)
            return ot_op_error(c, OT_ERR_SHAPE, "axes must be a 1-D tensor, got rank %d", at->rank);
        if (ot_tensor_to_i64(at, axes, OT_MAX_RANK, &n) != OT_OK)
            return ot_op_error(c, OT_ERR_SHAPE, "axes input: %s", ot_last_error());
    } else {
        for (int64_t i = 0; i < n; i++) axes[i] = attr_axes[i];
    }
    for (int i = 0; i < r; i++) mask[i] = n == 0 && !noop_empty;
    for (int64_t i = 0; i < n; i++) {
        if (axes[i] < -r || axes[i] >= r)
            return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for an input of rank %d",
                               (long long)axes[i], r);
        int ax = (int)(axes[i] < 0 ? axes[i] + r : axes[i]);
        if (mask[ax]) return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is listed twice", (long long)axes[i]);
        mask[ax] = true;
    }
    return OT_OK;
}

/* The forward's mask.  Reads input 1 when the axes are an input (infer has
   called ot_need_value for it). */
static ot_status reduce_mask(const ot_kctx *c, bool *mask) {
    const ot_reduce_attrs *a = c->attrs;
    return ot_reduce_mask(c, c->in[0]->rank, a->axes_input ? ot_in(c, 1) : NULL, a->n_axes, a->axes,
                          a->axes_input && a->noop_empty, mask);
}

static ot_status reduce_infer(ot_kctx *c) {
    const ot_reduce_attrs *a = c->attrs;
    static const ot_dtype common[] = {OT_FLOAT,  OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_INT32,
                                      OT_INT64,  OT_UINT32, OT_UINT64,  OT_UNDEFINED};
    static const ot_dtype minmax[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_INT32, OT_INT64,
                                      OT_UINT32, OT_UINT64, OT_INT8,   OT_UINT8,    OT_BOOL,  OT_UNDEFINED};
    bool is_minmax = a->op == OT_REDUCE_MAX || a->op == OT_REDUCE_MIN;
    OT_TRY(ot_check_dtype(c, 0, is_minmax ? minmax : common));
    if (a->axes_input && ot_in(c, 1)) {
        const ot_tensor *at = c->in[1];
        if (at->dtype != OT_INT64 && at->dtype != OT_INT32)
            return ot_op_error(c, OT_ERR_TYPE, "axes must be int64, got %s", ot_dtype_name(at->dtype));
        OT_TRY(ot_need_value(c, 1));
    }
    const ot_tensor *x = c->in[0];
    bool mask[OT_MAX_RANK];
    OT_TRY(reduce_mask(c, mask));
    int64_t dims[OT_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!mask[i]) dims[r++] = x->dims[i];
        else if (a->keepdims) dims[r++] = 1;
    }
    ot_set_out(c, 0, x->dtype, r, dims);
    return OT_OK;
}

static ot_status reduce_cpu(ot_kctx *c) {
    const ot_reduce_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    bool mask[OT_MAX_RANK];
    OT_TRY(reduce_mask(c, mask));
    ot_cpu_reduce(a->op, x->dtype, x->data, c->out[0]->data, x->rank, x->dims, mask);
    return OT_OK;
}

/* ---- ArgMax / ArgMin -------------------------------------------------------- */

typedef struct arg_attrs {
    bool want_max;
    int64_t axis;
    bool keepdims;
    bool select_last;
} arg_attrs;

static ot_status arg_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    arg_attrs *a = attrs;
    int64_t keep, last;
    a->want_max = !strcmp(n->op_type, "ArgMax");
    OT_TRY(ot_attr_get_int(n, "axis", 0, &a->axis));
    OT_TRY(ot_attr_get_int(n, "keepdims", 1, &keep));
    OT_TRY(ot_attr_get_int(n, "select_last_index", 0, &last));
    a->keepdims = keep != 0;
    a->select_last = last != 0;
    return OT_OK;
}

/* x viewed as (outer, n, inner) around the axis. */
static ot_status arg_layout(const ot_kctx *c, int *axis, int64_t *outer, int64_t *n, int64_t *inner) {
    const arg_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    if (x->rank == 0 || a->axis < -x->rank || a->axis >= x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for an input of rank %d", (long long)a->axis,
                           x->rank);
    *axis = (int)(a->axis < 0 ? a->axis + x->rank : a->axis);
    *outer = *inner = 1;
    for (int i = 0; i < *axis; i++) *outer *= x->dims[i];
    for (int i = *axis + 1; i < x->rank; i++) *inner *= x->dims[i];
    *n = x->dims[*axis];
    return OT_OK;
}

static ot_status arg_infer(ot_kctx *c) {
    static const ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_INT8,   OT_UINT8,  OT_INT16,
                                     OT_UINT16, OT_INT32, OT_UINT32, OT_INT64,    OT_UINT64, OT_UNDEFINED};
    const arg_attrs *a = c->attrs;
    OT_TRY(ot_check_dtype(c, 0, types));
    int axis = 0;
    int64_t outer = 0, n = 0, inner = 0;
    OT_TRY(arg_layout(c, &axis, &outer, &n, &inner));
    if (n == 0 && outer * inner > 0)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %d has size 0: there is no %s to take", axis,
                           a->want_max ? "maximum" : "minimum");
    const ot_tensor *x = c->in[0];
    int64_t dims[OT_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i != axis) dims[r++] = x->dims[i];
        else if (a->keepdims) dims[r++] = 1;
    }
    ot_set_out(c, 0, OT_INT64, r, dims);
    return OT_OK;
}

static ot_status arg_cpu(ot_kctx *c) {
    const arg_attrs *a = c->attrs;
    int axis = 0;
    int64_t outer = 0, n = 0, inner = 0;
    OT_TRY(arg_layout(c, &axis, &outer, &n, &inner));
    ot_cpu_argreduce(a->want_max, a->select_last, c->in[0]->dtype, c->in[0]->data, c->out[0]->data, outer, n,
                     inner);
    return OT_OK;
}

/* ---- CumSum ----------------------------------------------------------------- */

static ot_status cumsum_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_cumsum_attrs *a = attrs;
    int64_t ex, rev;
    OT_TRY(ot_attr_get_int(n, "exclusive", 0, &ex));
    OT_TRY(ot_attr_get_int(n, "reverse", 0, &rev));
    a->exclusive = ex != 0;
    a->reverse = rev != 0;
    return OT_OK;
}

ot_status ot_cumulative_axis(const ot_kctx *c, const ot_tensor *x, const ot_tensor *at, int *axis) {
    int64_t v, n;
    if (ot_tensor_numel(at) != 1 || at->rank > 1 || ot_tensor_to_i64(at, &v, 1, &n) != OT_OK)
        return ot_op_error(c, OT_ERR_SHAPE, "axis must be a scalar int32/int64 tensor");
    int r = x->rank;
    if (r == 0 || v < -r || v >= r)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for an input of rank %d", (long long)v, r);
    *axis = (int)(v < 0 ? v + r : v);
    return OT_OK;
}

ot_status ot_cumulative_infer(ot_kctx *c) {
    static const ot_dtype types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_INT32,
                                     OT_INT64, OT_UINT32, OT_UINT64,  OT_UNDEFINED};
    static const ot_dtype axis_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};
    OT_TRY(ot_check_dtype(c, 0, types));
    OT_TRY(ot_check_dtype(c, 1, axis_types));
    const ot_tensor *x = c->in[0];
    if (x->rank == 0) return ot_op_error(c, OT_ERR_SHAPE, "input must have rank >= 1");
    /* The shape does not depend on the axis: check it now only if known. */
    if (c->in[1]->data) {
        int axis;
        OT_TRY(ot_cumulative_axis(c, c->in[0], c->in[1], &axis));
    }
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

static ot_status cumsum_cpu(ot_kctx *c) {
    const ot_cumsum_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    int axis;
    OT_TRY(ot_cumulative_axis(c, c->in[0], c->in[1], &axis));
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++) inner *= x->dims[i];
    ot_cpu_cumsum(x->dtype, x->data, c->out[0]->data, outer, x->dims[axis], inner, a->exclusive, a->reverse);
    return OT_OK;
}

/* ---- table ------------------------------------------------------------------ */

#define NUM_TYPES "float32, float64, float16, bfloat16, int32, int64, uint32, uint64"
#define REDUCE_ROW(nm, types)                                                                                 \
    {.name = nm, .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 1, .max_inputs = 2,           \
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axes,keepdims,noop_with_empty_axes",               \
     .attrs_size = sizeof(ot_reduce_attrs), .parse = reduce_parse, .infer = reduce_infer, .cpu = reduce_cpu,  \
     .traits = 0, .dtypes = types, .grad = ot_reduce_grad_rule}
#define ARG_ROW(nm)                                                                                           \
    {.name = nm, .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,           \
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axis,keepdims,select_last_index",                  \
     .attrs_size = sizeof(arg_attrs), .parse = arg_parse, .infer = arg_infer, .cpu = arg_cpu, .traits = 0, \
     .dtypes = "float32, float64, float16, bfloat16, int8..int64, uint8..uint64"}

/* ArgMax / ArgMin have integer outputs: no gradient.  ReduceGrad's inputs and
   attributes are documented in ops/reduce_grad.c. */
const ot_op_def ot_ops_reduce[] = {
    REDUCE_ROW("ReduceSum", NUM_TYPES),
    REDUCE_ROW("ReduceMean", NUM_TYPES),
    REDUCE_ROW("ReduceMax", NUM_TYPES ", int8, uint8, bool"),
    REDUCE_ROW("ReduceMin", NUM_TYPES ", int8, uint8, bool"),
    REDUCE_ROW("ReduceProd", NUM_TYPES),
    REDUCE_ROW("ReduceL1", NUM_TYPES),
    REDUCE_ROW("ReduceL2", NUM_TYPES),
    REDUCE_ROW("ReduceLogSum", NUM_TYPES),
    REDUCE_ROW("ReduceLogSumExp", NUM_TYPES),
    REDUCE_ROW("ReduceSumSquare", NUM_TYPES),
    ARG_ROW("ArgMax"),
    ARG_ROW("ArgMin"),
    {.name = "CumSum", .domain = "", .min_opset = 11, .max_opset = 23, .min_inputs = 2, .max_inputs = 2,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "exclusive,reverse", .attrs_size = sizeof(ot_cumsum_attrs),
     .parse = cumsum_parse, .infer = ot_cumulative_infer, .cpu = cumsum_cpu, .traits = OT_TRAIT_INPLACE,
     .dtypes = NUM_TYPES, .grad = ot_cumsum_grad_rule},
    {.name = "ReduceGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 1,
     .max_inputs = 4, .min_outputs = 1, .max_outputs = 1,
     .attr_names = "mode,axes,keepdims,noop_with_empty_axes,shape",
     .attrs_size = sizeof(ot_reduce_grad_attrs), .parse = ot_reduce_grad_parse, .infer = ot_reduce_grad_infer,
     .cpu = ot_reduce_grad_cpu, .traits = 0, .dtypes = "float32, float64, float16, bfloat16"},
};
const int ot_ops_reduce_count = sizeof(ot_ops_reduce) / sizeof(ot_ops_reduce[0]);
