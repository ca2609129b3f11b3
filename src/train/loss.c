/* Losses, appended to the derived graph as ordinary nodes so that autodiff
 * differentiates them like the model (PyTorch's definitions:
 * reference/pytorch-semantics.md; axis rules: CONTRACTS.md "Losses"). */
#include <string.h>

#include "../passes/emit.h"
#include "trainer.h"

ot_status ot_loss_output(const ot_graph *g, const ot_train_options *o, int *out) {
    const char *want = o->loss == OT_LOSS_OUTPUT ? o->loss_output : o->output;
    if (!want) {
        if (!g->n_outputs) return ot_error(OT_ERR_INVALID_ARG, "the model has no outputs");
        *out = g->outputs[0];
        return OT_OK;
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (!strcmp(g->values[g->outputs[k]].name, want)) {
            *out = g->outputs[k];
            return OT_OK;
        }
    return ot_error(OT_ERR_INVALID_ARG, "the model has no output named '%s'", want);
}

/* Which axis of logits (rank r) removed gives the label shape. */
static bool ot_axis_fits(const ot_value *x, const ot_value *y, int k) {
    if (y->rank != x->rank - 1) return false;
    for (int d = 0, e = 0; d < x->rank; d++) {
        if (d == k) continue;
        if (x->dims[d] != y->dims[e++]) return false;
    }
    return true;
}

static ot_status ot_cross_entropy(ot_emitter *e, const ot_train_options *o, int x, int y, int *loss, int *class_axis) {
    const ot_value *vx = &e->g->values[x], *vy = &e->g->values[y];
    int r = vx->rank;
    char sx[128], sy[128];
    ot_shape_str(vx->rank, vx->dims, sx, sizeof sx);
    ot_shape_str(vy->rank, vy->dims, sy, sizeof sy);
    if (vy->dtype != OT_INT64 && vy->dtype != OT_INT32)
        return ot_error(OT_ERR_TYPE, "cross-entropy labels must be int64 or int32, got %s", ot_dtype_name(vy->dtype));
    if (!ot_dtype_is_float(vx->dtype))
        return ot_error(OT_ERR_TYPE, "cross-entropy needs float logits, output '%s' is %s", vx->name, ot_dtype_name(vx->dtype));
    if (r < 2) return ot_error(OT_ERR_SHAPE, "cross-entropy logits '%s' %s must have a class axis (rank >= 2)", vx->name, sx);
    int k = -1;
    if (o->class_axis >= 0) {
        if (o->class_axis >= r || !ot_axis_fits(vx, vy, o->class_axis))
            return ot_error(OT_ERR_SHAPE, "--class-axis %d: logits %s without that axis do not match labels %s", o->class_axis, sx, sy);
        k = o->class_axis;
    } else if (ot_axis_fits(vx, vy, r - 1)) {
        k = r - 1; /* (N, C) and sequence models (N, T, C) */
    } else if (ot_axis_fits(vx, vy, 1)) {
        k = 1;     /* the ONNX/PyTorch layout (N, C, d1, ...) */
    } else {
        return ot_error(OT_ERR_SHAPE, "cross-entropy: labels %s do not match logits %s with any class axis (expected the logits' shape without the class axis)",
                        sy, sx);
    }
    *class_axis = k;
    int scores = x;
    if (k != 1) { /* SoftmaxCrossEntropyLoss wants (N, C, d1, ...): move axis k to 1 */
        int64_t perm[OT_MAX_RANK];
        int n = 0;
        perm[n++] = 0;
        perm[n++] = k;
        for (int d = 1; d < r; d++)
            if (d != k) perm[n++] = d;
        ot_grad_attr at = {.name = "perm", .type = OT_ATTR_INTS, .ints = perm, .n = r};
        OT_TRY(ot_emit(e, "Transpose", "", 1, &x, 1, &scores, 1, &at));
    }
    int in[2] = {scores, y};
    ot_grad_attr at[2] = {{.name = "reduction", .type = OT_ATTR_STRING, .s = "mean"},
                          {.name = "ignore_index", .type = OT_ATTR_INT, .i = o->ignore_index}};
    /* ONNX has the op from opset 12; older models get onnxtrain's copy. */
    const char *domain = ot_graph_opset(e->g, "") >= 12 ? "" : OT_DOMAIN_TRAIN;
    return ot_emit(e, "SoftmaxCrossEntropyLoss", domain, 2, in, 1, loss, 2, at);
}

/* Float labels shaped like the output (a label array with the same element
   count, e.g. (N) for an (N, 1) output, is reshaped). */
static ot_status ot_match_labels(ot_emitter *e, int x, int *y) {
    const ot_value *vx = &e->g->values[x], *vy = &e->g->values[*y];
    if (!ot_dtype_is_float(vy->dtype) || vy->dtype != vx->dtype)
        return ot_error(OT_ERR_TYPE, "labels must be %s like output '%s', got %s", ot_dtype_name(vx->dtype), vx->name,
                        ot_dtype_name(vy->dtype));
    if (ot_shape_equal(vx->rank, vx->dims, vy->rank, vy->dims)) return OT_OK;
    int64_t nx, ny;
    OT_TRY(ot_shape_numel(vx->rank, vx->dims, &nx));
    OT_TRY(ot_shape_numel(vy->rank, vy->dims, &ny));
    if (nx != ny) {
        char sx[128], sy[128];
        return ot_error(OT_ERR_SHAPE, "labels %s do not match output '%s' %s", ot_shape_str(vy->rank, vy->dims, sy, sizeof sy),
                        vx->name, ot_shape_str(vx->rank, vx->dims, sx, sizeof sx));
    }
    int64_t dims[OT_MAX_RANK];
    int rank = vx->rank;
    memcpy(dims, vx->dims, sizeof(int64_t) * (size_t)rank);
    return ot_emit_reshape(e, *y, rank, dims, y);
}

static ot_status ot_mean_all(ot_emitter *e, int x, int *loss) {
    ot_grad_attr kd = {.name = "keepdims", .type = OT_ATTR_INT, .i = 0};
    return ot_emit(e, "ReduceMean", "", 1, &x, 1, loss, 1, &kd); /* no axes: every axis, at any opset */
}

ot_status ot_loss_attach(ot_graph *g, const ot_train_options *o, int out, int labels, int *loss, int *class_axis) {
    ot_emitter e = {g, "onnxtrain/loss", 0};
    *class_axis = -1;
    int d, t, u, v;
    switch (o->loss) {
    case OT_LOSS_CROSS_ENTROPY: return ot_cross_entropy(&e, o, out, labels, loss, class_axis);
    case OT_LOSS_MSE: /* mean((x - y)^2) */
        OT_TRY(ot_match_labels(&e, out, &labels));
        OT_TRY(ot_emit(&e, "Sub", "", 2, (int[]){out, labels}, 1, &d, 0, NULL));
        OT_TRY(ot_emit(&e, "Mul", "", 2, (int[]){d, d}, 1, &t, 0, NULL));
        return ot_mean_all(&e, t, loss);
    case OT_LOSS_L1: /* mean(|x - y|) */
        OT_TRY(ot_match_labels(&e, out, &labels));
        OT_TRY(ot_emit(&e, "Sub", "", 2, (int[]){out, labels}, 1, &d, 0, NULL));
        OT_TRY(ot_emit(&e, "Abs", "", 1, &d, 1, &t, 0, NULL));
        return ot_mean_all(&e, t, loss);
    case OT_LOSS_BCE_LOGITS: /* mean(max(x,0) - x*y + log(1 + exp(-|x|))) */
        OT_TRY(ot_match_labels(&e, out, &labels));
        OT_TRY(ot_emit(&e, "Relu", "", 1, &out, 1, &d, 0, NULL));
        OT_TRY(ot_emit(&e, "Mul", "", 2, (int[]){out, labels}, 1, &t, 0, NULL));
        OT_TRY(ot_emit(&e, "Sub", "", 2, (int[]){d, t}, 1, &d, 0, NULL)); /* inputs are read before d is reassigned */
        OT_TRY(ot_emit(&e, "Abs", "", 1, &out, 1, &u, 0, NULL));
        OT_TRY(ot_emit(&e, "Neg", "", 1, &u, 1, &t, 0, NULL));
        OT_TRY(ot_emit(&e, "Softplus", "", 1, &t, 1, &v, 0, NULL));
        OT_TRY(ot_emit(&e, "Add", "", 2, (int[]){d, v}, 1, &t, 0, NULL));
        return ot_mean_all(&e, t, loss);
    case OT_LOSS_OUTPUT: {
        const ot_value *vl = &g->values[out];
        int64_t n;
        OT_TRY(ot_shape_numel(vl->rank, vl->dims, &n));
        if (n != 1 || !ot_dtype_is_float(vl->dtype))
            return ot_error(OT_ERR_SHAPE, "loss output '%s' must be a float scalar, it is %s with %lld elements", vl->name,
                            ot_dtype_name(vl->dtype), (long long)n);
        if (vl->rank == 0) {
            *loss = out;
            return OT_OK;
        }
        return ot_emit_reshape(&e, out, 0, NULL, loss);
    }
    }
    return ot_error(OT_ERR_INVALID_ARG, "unknown loss kind %d", (int)o->loss);
}
