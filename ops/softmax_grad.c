/* Gradient rules of the softmax family and the ai.onnxtrain ops they emit.
 * Numeric loops: kernels/cpu/softmax_grad.c.
 *
 * Grad ops (domain ai.onnxtrain, opset 1; rows in ops/softmax.c):
 *
 *   SoftmaxGrad(dy, y) -> dx         dx = y * (dy - sum(dy * y))
 *   LogSoftmaxGrad(dy, y) -> dx      dx = dy - exp(y) * sum(dy)
 *       dy, y, dx: the forward's shape; y is the forward's output (softmax
 *       or log-softmax).  Attributes axis (default -1) and coerce_2d (default
 *       0): the sums run over dims[axis] only, or with coerce_2d = 1 (the
 *       ONNX form before opset 13) over all of dims[axis:] as one axis.
 *
 *   SoftmaxCrossEntropyLossGrad(dloss, x, labels [, weights]) -> dx
 *       x (N, C, d1..dk): the scores, or with from_log_prob = 1 the forward's
 *       log_prob output; labels (N, d1..dk) int32/int64; weights (C);
 *       dloss: (N, d1..dk) for reduction "none", else one element;
 *       dx (N, C, d1..dk) = (softmax - onehot(label)) * w[label] * dloss
 *       (/ sum of w[label] over non-ignored samples for "mean"), 0 for samples
 *       whose label is ignore_index.  Attributes reduction, ignore_index as
 *       the forward, from_log_prob (default 0).
 *
 *   NegativeLogLikelihoodLossGrad(dloss, labels [, weights]) -> dx
 *       dx (N, C, d1..dk) = -onehot(label) * w[label] * dloss (/ weight total
 *       for "mean"), C from the attribute num_classes; the rest as above.
 *
 * The labels and weights inputs of the losses get no gradient. */
#include <string.h>

#include "kernels/cpu/softmax_grad.h"
#include "softmax_ops.h"

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};
static const ot_dtype label_types[] = {OT_INT32, OT_INT64, OT_UNDEFINED};

static const char *reduction_name(ot_loss_reduction r) {
    return r == OT_LOSS_NONE ? "none" : r == OT_LOSS_SUM ? "sum" : "mean";
}

/* ---- rules ------------------------------------------------------------------ */

static ot_status softmax_like_grad(ot_grad_ctx *g, const char *grad_op) {
    int dy = ot_grad_dy(g, 0);
    if (!ot_grad_needs(g, 0) || dy < 0) return OT_OK;
    const ot_softmax_attrs *a = ot_grad_attrs(g);
    ot_grad_attr at[2] = {{.name = "axis", .type = OT_ATTR_INT, .i = a->axis},
                          {.name = "coerce_2d", .type = OT_ATTR_INT, .i = a->coerce_2d}};
    int in[2] = {dy, ot_grad_y(g, 0)}, dx;
    OT_TRY(ot_grad_emit(g, grad_op, OT_DOMAIN_TRAIN, 2, in, 1, &dx, 2, at));
    return ot_grad_set(g, 0, dx);
}

ot_status ot_softmax_grad_rule(ot_grad_ctx *g) { return softmax_like_grad(g, "SoftmaxGrad"); }
ot_status ot_logsoftmax_grad_rule(ot_grad_ctx *g) { return softmax_like_grad(g, "LogSoftmaxGrad"); }

/* The forward's reduction / ignore_index as grad-op attributes; returns the count. */
static int loss_grad_attrs(const ot_loss_attrs *a, ot_grad_attr *at) {
    int n = 0;
    at[n++] = (ot_grad_attr){.name = "reduction", .type = OT_ATTR_STRING, .s = reduction_name(a->reduction)};
    if (a->has_ignore) at[n++] = (ot_grad_attr){.name = "ignore_index", .type = OT_ATTR_INT, .i = a->ignore_index};
    return n;
}

/* Outputs: loss (0) and, when present, log_prob (1); both may carry a
   gradient.  The loss part uses the saved log_prob when the forward produced
   it (one exp per element) and recomputes the softmax from the scores
   otherwise; the log_prob part is LogSoftmax's gradient along axis 1. */
ot_status ot_sce_loss_grad_rule(ot_grad_ctx *g) {
    if (!ot_grad_needs(g, 0)) return OT_OK;
    const ot_loss_attrs *a = ot_grad_attrs(g);
    int dl = ot_grad_dy(g, 0), dlp = ot_grad_dy(g, 1), lp = ot_grad_y(g, 1), weights = ot_grad_x(g, 2);
    int dx = -1;
    if (dl >= 0) {
        ot_grad_attr at[3];
        int n = loss_grad_attrs(a, at);
        at[n++] = (ot_grad_attr){.name = "from_log_prob", .type = OT_ATTR_INT, .i = lp >= 0};
        int in[4] = {dl, lp >= 0 ? lp : ot_grad_x(g, 0), ot_grad_x(g, 1), weights};
        OT_TRY(ot_grad_emit(g, "SoftmaxCrossEntropyLossGrad", OT_DOMAIN_TRAIN, weights >= 0 ? 4 : 3, in, 1, &dx,
                            n, at));
    }
    if (dlp >= 0) {
        ot_grad_attr at[2] = {{.name = "axis", .type = OT_ATTR_INT, .i = 1},
                              {.name = "coerce_2d", .type = OT_ATTR_INT, .i = 0}};
        int in[2] = {dlp, lp}, dxl;
        OT_TRY(ot_grad_emit(g, "LogSoftmaxGrad", OT_DOMAIN_TRAIN, 2, in, 1, &dxl, 2, at));
        if (dx >= 0) OT_TRY(ot_grad_op2(g, "Add", dx, dxl, &dx));
        else dx = dxl;
    }
    return dx >= 0 ? ot_grad_set(g, 0, dx) : OT_OK;
}

ot_status ot_nll_loss_grad_rule(ot_grad_ctx *g) {
    int dl = ot_grad_dy(g, 0);
    if (!ot_grad_needs(g, 0) || dl < 0) return OT_OK;
    const ot_loss_attrs *a = ot_grad_attrs(g);
    int64_t C = ot_grad_value(g, ot_grad_x(g, 0))->dims[1];
    int weights = ot_grad_x(g, 2);
    ot_grad_attr at[3];
    int n = loss_grad_attrs(a, at);
    at[n++] = (ot_grad_attr){.name = "num_classes", .type = OT_ATTR_INT, .i = C};
    int in[3] = {dl, ot_grad_x(g, 1), weights}, dx;
    OT_TRY(ot_grad_emit(g, "NegativeLogLikelihoodLossGrad", OT_DOMAIN_TRAIN, weights >= 0 ? 3 : 2, in, 1, &dx, n,
                        at));
    return ot_grad_set(g, 0, dx);
}

/* ---- SoftmaxGrad / LogSoftmaxGrad -------------------------------------------- */

ot_status ot_softmax_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_softmax_attrs *a = attrs;
    int64_t coerce;
    OT_TRY(ot_attr_get_int(n, "axis", -1, &a->axis));
    OT_TRY(ot_attr_get_int(n, "coerce_2d", 0, &coerce));
    a->coerce_2d = coerce != 0;
    return OT_OK;
}

/* dy (0) and y (1) of the same dtype and shape. */
ot_status ot_softmax_grad_infer(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, float_types));
    const ot_tensor *dy = c->in[0], *y = c->in[1];
    char s0[128], s1[128];
    if (y->dtype != dy->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "dy is %s but y is %s", ot_dtype_name(dy->dtype), ot_dtype_name(y->dtype));
    if (!ot_shape_equal(dy->rank, dy->dims, y->rank, y->dims))
        return ot_op_error(c, OT_ERR_SHAPE, "dy %s and y %s must have the same shape",
                           ot_shape_str(dy->rank, dy->dims, s0, sizeof s0),
                           ot_shape_str(y->rank, y->dims, s1, sizeof s1));
    int64_t outer = 0, C = 0, inner = 0;
    OT_TRY(ot_softmax_layout(c, c->attrs, y, &outer, &C, &inner));
    ot_set_out(c, 0, dy->dtype, dy->rank, dy->dims);
    return OT_OK;
}

static ot_status softmax_grad_run(ot_kctx *c, ot_softmax_mode mode) {
    int64_t outer = 0, C = 0, inner = 0;
    OT_TRY(ot_softmax_layout(c, c->attrs, c->in[1], &outer, &C, &inner));
    ot_cpu_softmax_grad(c->in[0]->dtype, mode, c->in[0]->data, c->in[1]->data, c->out[0]->data, outer, C, inner);
    return OT_OK;
}

ot_status ot_softmax_grad_cpu(ot_kctx *c) { return softmax_grad_run(c, OT_SOFTMAX_EXP); }
ot_status ot_logsoftmax_grad_cpu(ot_kctx *c) { return softmax_grad_run(c, OT_SOFTMAX_LOG); }

/* ---- SoftmaxCrossEntropyLossGrad / NegativeLogLikelihoodLossGrad ------------- */

ot_status ot_loss_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_loss_grad_attrs *a = attrs;
    int64_t from_lp;
    OT_TRY(ot_loss_parse_attrs(n, &a->loss));
    OT_TRY(ot_attr_get_int(n, "from_log_prob", 0, &from_lp));
    a->from_log_prob = from_lp != 0;
    return ot_attr_get_int(n, "num_classes", -1, &a->num_classes);
}

/* Checks labels t (N, d1..dk), weights w (C) and dloss against the class
   scores' shape (rank, dims) = (N, C, d1..dk) and dtype. */
static ot_status loss_grad_check(const ot_kctx *c, ot_dtype dtype, int rank, const int64_t *dims, const ot_tensor *dl,
                                 const ot_tensor *t, const ot_tensor *w) {
    const ot_loss_grad_attrs *a = c->attrs;
    char s0[128], s1[128];
    bool match = t->rank == rank - 1 && t->dims[0] == dims[0];
    for (int i = 1; match && i < t->rank; i++) match = t->dims[i] == dims[i + 1];
    if (!match)
        return ot_op_error(c, OT_ERR_SHAPE,
                           "labels %s do not match scores %s: expected (N, d1, ...) for (N, C, d1, ...)",
                           ot_shape_str(t->rank, t->dims, s0, sizeof s0), ot_shape_str(rank, dims, s1, sizeof s1));
    if (w && (w->dtype != dtype || w->rank != 1 || w->dims[0] != dims[1]))
        return ot_op_error(c, OT_ERR_SHAPE, "weights must be %s of shape (C) = (%lld), got %s %s", ot_dtype_name(dtype),
                           (long long)dims[1], ot_dtype_name(w->dtype), ot_shape_str(w->rank, w->dims, s0, sizeof s0));
    if (dl->dtype != dtype)
        return ot_op_error(c, OT_ERR_TYPE, "dloss is %s, expected %s", ot_dtype_name(dl->dtype), ot_dtype_name(dtype));
    bool ok = a->loss.reduction == OT_LOSS_NONE ? ot_shape_equal(dl->rank, dl->dims, t->rank, t->dims)
                                                : ot_tensor_numel(dl) == 1;
    if (!ok)
        return ot_op_error(c, OT_ERR_SHAPE, "dloss %s does not match reduction '%s' for labels %s",
                           ot_shape_str(dl->rank, dl->dims, s0, sizeof s0), reduction_name(a->loss.reduction),
                           ot_shape_str(t->rank, t->dims, s1, sizeof s1));
    return OT_OK;
}

ot_status ot_sce_loss_grad_infer(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(ot_check_dtype(c, 1, float_types));
    OT_TRY(ot_check_dtype(c, 2, label_types));
    const ot_tensor *x = c->in[1];
    char s[128];
    if (x->rank < 2)
        return ot_op_error(c, OT_ERR_SHAPE, "input 1 must be (N, C) or (N, C, d1, ...), got %s",
                           ot_shape_str(x->rank, x->dims, s, sizeof s));
    OT_TRY(loss_grad_check(c, x->dtype, x->rank, x->dims, c->in[0], c->in[2], ot_in(c, 3)));
    ot_set_out(c, 0, x->dtype, x->rank, x->dims);
    return OT_OK;
}

ot_status ot_nll_loss_grad_infer(ot_kctx *c) {
    const ot_loss_grad_attrs *a = c->attrs;
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(ot_check_dtype(c, 1, label_types));
    const ot_tensor *t = c->in[1];
    if (a->num_classes < 1) return ot_op_error(c, OT_ERR_INVALID_ARG, "attribute num_classes must be >= 1");
    if (t->rank < 1 || t->rank + 1 > OT_MAX_RANK)
        return ot_op_error(c, OT_ERR_SHAPE, "labels must have rank 1..%d, got %d", OT_MAX_RANK - 1, t->rank);
    int64_t dims[OT_MAX_RANK];
    dims[0] = t->dims[0];
    dims[1] = a->num_classes;
    for (int i = 1; i < t->rank; i++) dims[i + 1] = t->dims[i];
    OT_TRY(loss_grad_check(c, c->in[0]->dtype, t->rank + 1, dims, c->in[0], t, ot_in(c, 2)));
    ot_set_out(c, 0, c->in[0]->dtype, t->rank + 1, dims);
    return OT_OK;
}

static ot_status loss_grad_run(ot_kctx *c, ot_nll_grad_source src, const ot_tensor *x, const ot_tensor *t,
                               const ot_tensor *w) {
    const ot_loss_grad_attrs *a = c->attrs;
    const ot_tensor *dx = c->out[0];
    OT_TRY(ot_loss_check_labels(c, &a->loss, t, dx->dims[1]));
    ot_nll_grad_args args = {
        .dtype = dx->dtype,
        .source = src,
        .x = x ? x->data : NULL,
        .label_dtype = t->dtype,
        .labels = t->data,
        .weights = w ? w->data : NULL,
        .N = dx->dims[0],
        .C = dx->dims[1],
        .D = 1,
        .has_ignore = a->loss.has_ignore,
        .ignore_index = a->loss.ignore_index,
        .reduction = a->loss.reduction,
        .dloss = c->in[0]->data,
        .dx = dx->data,
    };
    for (int i = 2; i < dx->rank; i++) args.D *= dx->dims[i];
    ot_cpu_nll_grad(&args);
    return OT_OK;
}

ot_status ot_sce_loss_grad_cpu(ot_kctx *c) {
    const ot_loss_grad_attrs *a = c->attrs;
    return loss_grad_run(c, a->from_log_prob ? OT_NLL_GRAD_LOG_PROB : OT_NLL_GRAD_SCORES, c->in[1], c->in[2],
                         ot_in(c, 3));
}

ot_status ot_nll_loss_grad_cpu(ot_kctx *c) { return loss_grad_run(c, OT_NLL_GRAD_LABELS, NULL, c->in[1], ot_in(c, 2)); }
