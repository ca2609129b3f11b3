/* Op family: softmax.  Softmax, LogSoftmax, Hardmax, and the classification
 * losses NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (the fused,
 * numerically stable log-softmax + NLL).  Numeric loops: kernels/cpu/softmax.c. */
#include <string.h>

#include "kernels/cpu/softmax.h"
#include "op.h"

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};
static const ot_dtype label_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};

/* ---- Softmax / LogSoftmax / Hardmax -------------------------------------- */

typedef struct softmax_attrs {
    int64_t axis;
    bool coerce_2d; /* opset < 13: the input is flattened to 2-D at `axis` */
} softmax_attrs;

static ot_status softmax_parse(const ot_node *n, int64_t opset, void *attrs) {
    softmax_attrs *a = attrs;
    a->coerce_2d = opset < 13;
    return ot_attr_get_int(n, "axis", a->coerce_2d ? 1 : -1, &a->axis);
}

/* The input viewed as (outer, C, inner) with the normalised axis as C.
   Before opset 13 the input is coerced to 2-D [d0 * ... * d(axis-1),
   d(axis) * ... * d(r-1)] and normalised over the whole second factor; from
   13 only dims[axis] is normalised. */
static ot_status softmax_layout(const ot_kctx *c, int64_t *outer, int64_t *C, int64_t *inner) {
    const softmax_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
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
    int64_t outer, C, inner;
    OT_TRY(softmax_layout(c, &outer, &C, &inner));
    ot_set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return OT_OK;
}

static ot_status softmax_run(ot_kctx *c, ot_softmax_mode mode) {
    int64_t outer, C, inner;
    OT_TRY(softmax_layout(c, &outer, &C, &inner));
    ot_cpu_softmax(c->in[0]->dtype, mode, c->in[0]->data, c->out[0]->data, outer, C, inner);
    return OT_OK;
}

static ot_status softmax_cpu(ot_kctx *c) { return softmax_run(c, OT_SOFTMAX_EXP); }
static ot_status logsoftmax_cpu(ot_kctx *c) { return softmax_run(c, OT_SOFTMAX_LOG); }
static ot_status hardmax_cpu(ot_kctx *c) { return softmax_run(c, OT_SOFTMAX_HARD); }

/* ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss ------------------ */

typedef struct loss_attrs {
    ot_loss_reduction reduction;
    bool has_ignore;
    int64_t ignore_index;
} loss_attrs;

static ot_status loss_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    loss_attrs *a = attrs;
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

/* scores (N, C, d1..dk), labels (N, d1..dk), weights (C) [, log_prob]. */
static ot_status loss_infer(ot_kctx *c) {
    const loss_attrs *a = c->attrs;
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

static ot_status loss_run(ot_kctx *c, bool from_scores) {
    const loss_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0], *t = c->in[1], *w = ot_in(c, 2);
    ot_tensor *lp = from_scores ? ot_out(c, 1) : NULL;
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
    int64_t bad = ot_cpu_nll_find_bad_label(&args);
    if (bad >= 0) {
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
                               (long long)v, where, (long long)args.C, (long long)args.C,
                               (long long)a->ignore_index);
        return ot_op_error(c, OT_ERR_INVALID_ARG, "label %lld at sample %s is outside [0, %lld) (C = %lld classes)",
                           (long long)v, where, (long long)args.C, (long long)args.C);
    }
    ot_cpu_nll_loss(&args);
    return OT_OK;
}

static ot_status nll_cpu(ot_kctx *c) { return loss_run(c, false); }
static ot_status sce_cpu(ot_kctx *c) { return loss_run(c, true); }

#define FLOATS "float32, float64, float16, bfloat16"

const ot_op_def ot_ops_softmax[] = {
    {"Softmax", "", 1, 23, 1, 1, 1, 1, "axis", sizeof(softmax_attrs), softmax_parse, softmax_infer, softmax_cpu,
     OT_TRAIT_INPLACE, FLOATS},
    {"LogSoftmax", "", 1, 23, 1, 1, 1, 1, "axis", sizeof(softmax_attrs), softmax_parse, softmax_infer,
     logsoftmax_cpu, OT_TRAIT_INPLACE, FLOATS},
    {"Hardmax", "", 1, 23, 1, 1, 1, 1, "axis", sizeof(softmax_attrs), softmax_parse, softmax_infer, hardmax_cpu,
     OT_TRAIT_INPLACE, FLOATS},
    {"NegativeLogLikelihoodLoss", "", 12, 23, 2, 3, 1, 1, "reduction,ignore_index", sizeof(loss_attrs), loss_parse,
     loss_infer, nll_cpu, 0, FLOATS "; labels int32, int64"},
    {"SoftmaxCrossEntropyLoss", "", 12, 23, 2, 3, 1, 2, "reduction,ignore_index", sizeof(loss_attrs), loss_parse,
     loss_infer, sce_cpu, 0, FLOATS "; labels int32, int64"},
};
const int ot_ops_softmax_count = sizeof(ot_ops_softmax) / sizeof(ot_ops_softmax[0]);
