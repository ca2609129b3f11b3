/* Training the recurrent layers: the gradient rules of RNN, GRU and LSTM and
 * their fused ai.onnxtrain backward ops (RNNGrad, GRUGrad, LSTMGrad).
 *
 * One backward op per node takes the forward's own inputs and the
 * gradients of Y / Y_h / Y_c, recomputes the forward inside its kernel
 * (kernels/cpu/rnn_grad.c: nothing extra is kept alive between the forward
 * and the backward pass), and runs backpropagation through time for every
 * gradient the rule asks for (`grads`).  Outputs not asked for are empty
 * (0 elements), so e.g. a first layer over data never computes dX.
 *
 * Clip: the gradient is zero where a pre-activation was clipped and passes
 * where -clip <= x <= clip, as PyTorch's clamp backward (PyTorch's own
 * RNN/GRU/LSTM have no clip). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../src/runtime/workspace.h"
#include "rnn_ops.h"

/* ---- the gradient ops ------------------------------------------------------------- */

ot_status ot_rnn_grad_op_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_rnn_parse_common(n, opset, attrs, OT_RNN_SIMPLE, true);
}
ot_status ot_gru_grad_op_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_rnn_parse_common(n, opset, attrs, OT_RNN_GRU, true);
}
ot_status ot_lstm_grad_op_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_rnn_parse_common(n, opset, attrs, OT_RNN_LSTM, true);
}

static int ot_rnn_fwd_inputs(ot_rnn_kind k) { return k == OT_RNN_LSTM ? 8 : 6; }

/* The forward input whose gradient output k is: dX, dW, dR, dB, dinitial_h, dinitial_c, dP. */
static const int ot_rnn_grad_input[7] = {0, 1, 2, 3, 5, 6, 7};

/* The forward inputs (a view of c) that the geometry checks read. */
static ot_status ot_rnn_grad_geometry(ot_kctx *c, const ot_rnn_attrs *a, ot_rnn_desc *d) {
    ot_kctx fc = *c;
    fc.n_in = c->n_in < ot_rnn_fwd_inputs(a->kind) ? c->n_in : ot_rnn_fwd_inputs(a->kind);
    return ot_rnn_geometry(&fc, a, d);
}

ot_status ot_rnn_grad_op_infer(ot_kctx *c) {
    const ot_rnn_attrs *a = c->attrs;
    ot_rnn_desc d;
    OT_TRY(ot_rnn_grad_geometry(c, a, &d));
    const int nf = ot_rnn_fwd_inputs(a->kind), n_dy = a->kind == OT_RNN_LSTM ? 3 : 2;
    const ot_dtype dt = ot_in(c, 0)->dtype;
    int64_t y[4], st[3];
    ot_rnn_y_dims(&d, y, st);
    static const char *dy_names[3] = {"dY", "dY_h", "dY_c"};
    for (int k = 0; k < n_dy; k++) {
        const ot_tensor *t = ot_in(c, nf + k);
        if (!t) continue;
        const int rank = k ? 3 : 4;
        const int64_t *want = k ? st : y;
        if (t->dtype != dt || !ot_shape_equal(t->rank, t->dims, rank, want)) {
            char b1[160], b2[160];
            return ot_op_error(c, OT_ERR_SHAPE, "%s is %s %s; the forward's output is %s %s", dy_names[k],
                               ot_dtype_name(t->dtype), ot_shape_str(t->rank, t->dims, b1, sizeof b1), ot_dtype_name(dt),
                               ot_shape_str(rank, want, b2, sizeof b2));
        }
    }
    static const char *out_names[7] = {"dX", "dW", "dR", "dB", "dinitial_h", "dinitial_c", "dP"};
    for (int k = 0; k < c->n_out; k++) {
        const int64_t zero = 0;
        const ot_tensor *x = ot_in(c, ot_rnn_grad_input[k]);
        if (!(a->grads >> k & 1)) {
            ot_set_out(c, k, dt, 1, &zero); /* not asked for: empty */
            continue;
        }
        if (!x) return ot_op_error(c, OT_ERR_PARSE, "output %s needs the forward's input %d", out_names[k], ot_rnn_grad_input[k]);
        ot_set_out(c, k, dt, x->rank, x->dims);
    }
    ot_workspace_request(ot_rnn_backward_scratch(&d, dt) + sizeof(int64_t) * (size_t)d.B + 64);
    return OT_OK;
}

ot_status ot_rnn_grad_op_cpu(ot_kctx *c) {
    const ot_rnn_attrs *a = c->attrs;
    ot_rnn_desc d;
    OT_TRY(ot_rnn_grad_geometry(c, a, &d));
    int64_t *lens;
    OT_TRY(ot_rnn_lens(c, &d, &lens));
    const int nf = ot_rnn_fwd_inputs(a->kind);
    void *in[11] = {0}, *out[7] = {0};
    for (int i = 0; i < c->n_in && i < 11; i++)
        if (ot_in(c, i)) in[i] = ot_in(c, i)->data;
    for (int k = 0; k < c->n_out && k < 7; k++)
        if (ot_out(c, k) && (a->grads >> k & 1)) out[k] = ot_out(c, k)->data;
    const bool lstm = a->kind == OT_RNN_LSTM;
    ot_rnn_bwd_io io = {{in[0], in[1], in[2], in[3], in[5], lstm ? in[6] : NULL, lstm ? in[7] : NULL, lens, NULL, NULL,
                         NULL},
                        in[nf], in[nf + 1], lstm ? in[nf + 2] : NULL,
                        out[0], out[1], out[2], out[3], out[4], out[5], out[6]};
    ot_status s = ot_rnn_backward(&d, ot_in(c, 0)->dtype, &io);
    if (s) ot_error_context(s, "node '%s' (%s)", c->name, c->node ? c->node->op_type : "?");
    ot_workspace_free(lens);
    return s;
}

/* ---- the rule ---------------------------------------------------------------------- */

/* RNN / GRU / LSTM: one backward op for all the inputs that need a gradient. */
ot_status ot_rnn_grad(ot_grad_ctx *g) {
    const ot_rnn_attrs *a = ot_grad_attrs(g);
    const int nf = ot_rnn_fwd_inputs(a->kind), n_dy = a->kind == OT_RNN_LSTM ? 3 : 2, n_grad = a->kind == OT_RNN_LSTM ? 7 : 5;
    int in[11], n_in = nf + n_dy;
    bool any_dy = false;
    for (int i = 0; i < nf; i++) in[i] = ot_grad_x(g, i);
    for (int k = 0; k < n_dy; k++) {
        in[nf + k] = ot_grad_dy(g, k);
        any_dy |= in[nf + k] >= 0;
    }
    int64_t mask = 0;
    int n_out = 0;
    for (int k = 0; k < n_grad; k++)
        if (ot_grad_needs(g, ot_rnn_grad_input[k])) mask |= (int64_t)1 << k, n_out = k + 1;
    if (!any_dy || !mask) return OT_OK;
    while (n_in > 0 && in[n_in - 1] < 0) n_in--;

    const int per = ot_rnn_acts(a->kind), n_act = per * a->nd;
    char names[128] = "";
    float alphas[6], betas[6];
    for (int i = 0; i < n_act; i++) {
        const ot_rnn_act *x = &a->act[i / per][i % per];
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", i ? "," : "", ot_rnn_act_name(x->kind));
        alphas[i] = x->alpha;
        betas[i] = x->beta;
    }
    const int64_t H = ot_grad_value(g, ot_grad_x(g, 2))->dims[2];
    ot_grad_attr at[10] = {
        {.name = "hidden_size", .type = OT_ATTR_INT, .i = H},
        {.name = "direction", .type = OT_ATTR_STRING, .s = a->nd == 2 ? "bidirectional" : a->reverse ? "reverse" : "forward"},
        {.name = "layout", .type = OT_ATTR_INT, .i = a->layout},
        {.name = "linear_before_reset", .type = OT_ATTR_INT, .i = a->linear_before_reset},
        {.name = "input_forget", .type = OT_ATTR_INT, .i = a->input_forget},
        {.name = "activations", .type = OT_ATTR_STRING, .s = names},
        {.name = "alphas", .type = OT_ATTR_FLOATS, .floats = alphas, .n = n_act},
        {.name = "betas", .type = OT_ATTR_FLOATS, .floats = betas, .n = n_act},
        {.name = "grads", .type = OT_ATTR_INT, .i = mask},
        {.name = "clip", .type = OT_ATTR_FLOAT, .f = (float)a->clip},
    };
    static const char *ops[3] = {"RNNGrad", "GRUGrad", "LSTMGrad"};
    int out[7];
    OT_TRY(ot_grad_emit(g, ops[a->kind], OT_DOMAIN_TRAIN, n_in, in, n_out, out, isinf(a->clip) ? 9 : 10, at));
    for (int k = 0; k < n_out; k++)
        if (mask >> k & 1) OT_TRY(ot_grad_set(g, ot_rnn_grad_input[k], out[k]));
    return OT_OK;
}
