/* Op family: softmax.  Softmax, LogSoftmax, Hardmax, and the classification
 * losses NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (the fused,
 * numerically stable log-softmax + NLL).  Numeric loops: kernels/cpu/softmax.c.
 * Gradient rules and the ai.onnxtrain grad ops (SoftmaxGrad, LogSoftmaxGrad,
 * SoftmaxCrossEntropyLossGrad, NegativeLogLikelihoodLossGrad) live in
 * ops/softmax_grad.c; their rows are in the table below. */
#include <string.h>

#include "softmax_ops.h"

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};
static const ot_dtype label_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};

/* ---- Softmax / LogSoftmax / Hardmax -------------------------------------- */

static ot_status softmax_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_softmax_attrs *a = attrs;
    a->coerce_2d = opset < 13;
    return ot_attr_get_int(n, "axis", a->coerce_2d ? 1 : -1, &a->axis);
}

/* The input viewed as (outer, C, inner) with the normalised axis as C.
   Before opset 13 the input is coerced to 2-D [d0 * ... * d(axis-1),
   d(axis) * ... * d(r-1)] and normalised over the whole second factor; from
   13 only dims[axis] is normalised. */
ot_status ot_softmax_layout(const ot_kctx *c, const ot_softmax_attrs *a, const ot_tensor *x, int64_t *outer,
                            int64_t *C, int64_t *inner) {
    int r = x->rank;
    /* The coerced form accepts axis == rank (a trailing factor of 1). */
    int hi = a->coerce_2d ? r : r - 1;
    if (a->axis < -r || a->axis > hi || r == 0)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for an input of rank %d", (long long)a->axis, r);
    int ax = (int)(a->axis < 0 ? a->axis + r : a->axis);
    *outer = 1;
    *C = 1;
    *inner = 1;
    for (int i = 0; i < ax; i++) *outer *= x->dims[i];
    if (a->coerce_2d) {
        for (int i = ax; i < r; i++) *C *= x->dims[i];
    } else {
        *C = x->dims[ax];
        for (int i = ax + 1; i < r; i++) *inner *= x->dims[i];
    }
    return OT_OK;
}

static ot_status softmax_infer(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, float_types));
    int64_t outer = 0, C = 0, inner = 0;
    OT_TRY(ot_softmax_layout(c, c->attrs, c->in[0], &outer, &C, &inner));
    ot_set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return OT_OK;
}

static ot_status softmax_run(ot_kctx *c, ot_softmax_mode mode) {
    int64_t outer = 0, C = 0, inner = 0;
    OT_TRY(ot_softmax_layout(c, c->attrs, c->in[0], &outer, &C, &inner));
    ot_cpu_softmax(c->in[0]->dtype, mode, c->in[0]->data, c->out[0]->data, outer, C, inner);
    return OT_OK;
}

static ot_status softmax_cpu(ot_kctx *c) { return softmax_run(c, OT_SOFTMAX_EXP); }
static ot_status logsoftmax_cpu(ot_kctx *c) { return softmax_run(c, OT_SOFTMAX_LOG); }
static ot_status hardmax_cpu(ot_kctx *c) { return softmax_run(c, OT_SOFTMAX_HARD); }

/* ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss ------------------ */

ot_status ot_loss_parse_attrs(const ot_node *n, ot_loss_attrs *a) {
    const char *red;
    OT_TRY(ot_attr_get_string(n, "reduction", "mean", &red));
    if (!strcmp(red, "none")) a->reduction = OT_LOSS_NONE;
    else if (!strcmp(red, "sum")) a->reduction = OT_LOSS_SUM;
    else if (!strcmp(red, "mean")) a->reduction = OT_LOSS_MEAN;
    else
        return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (%s): reduction '%s' is not one of 'none', 'sum', 'mean'",
                        n->name ? n->name : "", n->op_type, red);
    a->has_ignore = ot_node_attr(n, "ignore_index") != NULL;
    return ot_attr_get_int(n, "ignore_index", 0, &a->ignore_index);
}

static ot_status loss_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_loss_parse_attrs(n, attrs);
}

/* scores (N, C, d1..dk), labels (N, d1..dk), weights (C) [, log_prob]. */
static ot_status loss_infer(ot_kctx *c) {
    const ot_loss_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *t = c->in[1], *w = ot_in(c, 2);
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(ot_check_dtype(c, 1, label_types));
    char sx[128], st[128];
    if (x->rank < 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input 0 must be (N, C) or (N, C, d1, ...), got %s",
                           ot_shape_str(x->rank, x->dims, sx, sizeof sx));
    bool match = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int i = 1; match && i < t->rank; i++) match = t->dims[i] == x->dims[i + 1];
    if (!match)
        return ot_op_error(c, OT_ERR_SHAPE,
                           "labels %s do not match input %s: expected (N, d1, ...) for input (N, C, d1, ...)",
                           ot_shape_str(t->rank, t->dims, st, sizeof st),
                           ot_shape_str(x->rank, x->dims, sx, sizeof sx));
    if (w) {
        if (w->dtype != x->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "weights are %s but the input is %s", ot_dtype_name(w->dtype),
                               ot_dtype_name(x->dtype));
        if (w->rank != 1 || w->dims[0] != x->dims[1])
            return ot_op_error(c, OT_ERR_SHAPE, "weights must have shape (C) = (%lld), got %s", (long long)x->dims[1],
                               ot_shape_str(w->rank, w->dims, st, sizeof st));
    }
    if (a->reduction == OT_LOSS_NONE) ot_set_out(c, 0, x->dtype, t->rank, t->dims);
    else ot_set_out(c, 0, x->dtype, 0, NULL);
    ot_set_out(c, 1, x->dtype, x->rank, x->dims); /* SoftmaxCrossEntropyLoss's log_prob */
    return OT_OK;
}

ot_status ot_loss_check_labels(const ot_kctx *c, const ot_loss_attrs *a, const ot_tensor *t, int64_t C) {
    ot_nll_args args = {.label_dtype = t->dtype, .labels = t->data, .N = ot_tensor_numel(t), .C = C, .D = 1,
                        .has_ignore = a->has_ignore, .ignore_index = a->ignore_index};
    int64_t bad = ot_cpu_nll_find_bad_label(&args);
    if (bad < 0) return OT_OK;
    /* Name the sample as its index in the labels tensor: [n, d1, ...]. */
    char where[160];
    int64_t idx[OT_MAX_RANK], rem = bad;
    for (int i = t->rank - 1; i >= 0; i--) {
        idx[i] = t->dims[i] ? rem % t->dims[i] : 0;
        rem = t->dims[i] ? rem / t->dims[i] : 0;
    }
    ot_shape_str(t->rank, idx, where, sizeof where);
    int64_t v = t->dtype == OT_INT32 ? ((const int32_t *)t->data)[bad] : ((const int64_t *)t->data)[bad];
    if (a->has_ignore)
        return ot_op_error(c, OT_ERR_INVALID_ARG,
                           "label %lld at sample %s is outside [0, %lld) (C = %lld classes) and is not "
                           "ignore_index %lld",
                           (long long)v, where, (long long)C, (long long)C, (long long)a->ignore_index);
    return ot_op_error(c, OT_ERR_INVALID_ARG, "label %lld at sample %s is outside [0, %lld) (C = %lld classes)",
                       (long long)v, where, (long long)C, (long long)C);
}

static ot_status loss_run(ot_kctx *c, bool from_scores) {
    const ot_loss_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *t = c->in[1], *w = ot_in(c, 2);
    ot_tensor *lp = from_scores ? ot_out(c, 1) : NULL;
    OT_TRY(ot_loss_check_labels(c, a, t, x->dims[1]));
    ot_nll_args args = {
        .dtype = x->dtype,
        .x = x->data,
        .from_scores = from_scores,
        .label_dtype = t->dtype,
        .labels = t->data,
        .weights = w ? w->data : NULL,
        .N = x->dims[0],
        .C = x->dims[1],
        .D = 1,
        .has_ignore = a->has_ignore,
        .ignore_index = a->ignore_index,
        .reduction = a->reduction,
        .loss = c->out[0]->data,
        .log_prob = lp ? lp->data : NULL,
    };
    for (int i = 2; i < x->rank; i++) args.D *= x->dims[i];
    ot_cpu_nll_loss(&args);
    return OT_OK;
}

static ot_status nll_cpu(ot_kctx *c) { return loss_run(c, false); }
static ot_status sce_cpu(ot_kctx *c) { return loss_run(c, true); }

#define FLOATS "float32, float64, float16, bfloat16"

/* Grad ops of the ai.onnxtrain domain (ops/softmax_grad.c): inputs and
   shapes are documented there. */
#define GRAD_ROW(nm, n_in_min, n_in_max, attrs, st, prs, inf, fn, tr)                                        \
    {.name = nm, .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = n_in_min,         \
     .max_inputs = n_in_max, .min_outputs = 1, .max_outputs = 1, .attr_names = attrs, .attrs_size = sizeof(st), \
     .parse = prs, .infer = inf, .cpu = fn, .traits = tr, .dtypes = FLOATS}

const ot_op_def ot_ops_softmax[] = {
    {.name = "Softmax", .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axis", .attrs_size = sizeof(ot_softmax_attrs),
     .parse = softmax_parse, .infer = softmax_infer, .cpu = softmax_cpu, .traits = OT_TRAIT_INPLACE,
     .dtypes = FLOATS, .grad = ot_softmax_grad_rule},
    {.name = "LogSoftmax", .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axis", .attrs_size = sizeof(ot_softmax_attrs),
     .parse = softmax_parse, .infer = softmax_infer, .cpu = logsoftmax_cpu, .traits = OT_TRAIT_INPLACE,
     .dtypes = FLOATS, .grad = ot_logsoftmax_grad_rule},
    /* Hardmax is piecewise constant: no gradient rule. */
    {.name = "Hardmax", .domain = "", .min_opset = 1, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axis", .attrs_size = sizeof(ot_softmax_attrs),
     .parse = softmax_parse, .infer = softmax_infer, .cpu = hardmax_cpu, .traits = OT_TRAIT_INPLACE,
     .dtypes = FLOATS},
    {.name = "NegativeLogLikelihoodLoss", .domain = "", .min_opset = 12, .max_opset = 23, .min_inputs = 2,
     .max_inputs = 3, .min_outputs = 1, .max_outputs = 1, .attr_names = "reduction,ignore_index",
     .attrs_size = sizeof(ot_loss_attrs), .parse = loss_parse, .infer = loss_infer, .cpu = nll_cpu, .traits = 0,
     .dtypes = FLOATS "; labels int32, int64", .grad = ot_nll_loss_grad_rule},
    {.name = "SoftmaxCrossEntropyLoss", .domain = "", .min_opset = 12, .max_opset = 23, .min_inputs = 2,
     .max_inputs = 3, .min_outputs = 1, .max_outputs = 2, .attr_names = "reduction,ignore_index",
     .attrs_size = sizeof(ot_loss_attrs), .parse = loss_parse, .infer = loss_infer, .cpu = sce_cpu, .traits = 0,
     .dtypes = FLOATS "; labels int32, int64", .grad = ot_sce_loss_grad_rule},
    /* The same loss in onnxtrain's domain: the trainer attaches it to models
       whose opset (< 12) predates SoftmaxCrossEntropyLoss. */
    {.name = "SoftmaxCrossEntropyLoss", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2,
     .max_inputs = 3, .min_outputs = 1, .max_outputs = 2, .attr_names = "reduction,ignore_index",
     .attrs_size = sizeof(ot_loss_attrs), .parse = loss_parse, .infer = loss_infer, .cpu = sce_cpu, .traits = 0,
     .dtypes = FLOATS "; labels int32, int64", .grad = ot_sce_loss_grad_rule},
    GRAD_ROW("SoftmaxGrad", 2, 2, "axis,coerce_2d", ot_softmax_attrs, ot_softmax_grad_parse, ot_softmax_grad_infer,
             ot_softmax_grad_cpu, OT_TRAIT_INPLACE),
    GRAD_ROW("LogSoftmaxGrad", 2, 2, "axis,coerce_2d", ot_softmax_attrs, ot_softmax_grad_parse,
             ot_softmax_grad_infer, ot_logsoftmax_grad_cpu, OT_TRAIT_INPLACE),
    GRAD_ROW("SoftmaxCrossEntropyLossGrad", 3, 4, "reduction,ignore_index,from_log_prob", ot_loss_grad_attrs,
             ot_loss_grad_parse, ot_sce_loss_grad_infer, ot_sce_loss_grad_cpu, 0),
    GRAD_ROW("NegativeLogLikelihoodLossGrad", 2, 3, "reduction,ignore_index,num_classes", ot_loss_grad_attrs,
             ot_loss_grad_parse, ot_nll_loss_grad_infer, ot_nll_loss_grad_cpu, 0),
};
const int ot_ops_softmax_count = sizeof(ot_ops_softmax) / sizeof(ot_ops_softmax[0]);
