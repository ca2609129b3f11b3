/* The rnn family: ONNX RNN, GRU and LSTM (schemas 7, 14, 22) — attributes,
 * shape inference, the CPU kernels of kernels/cpu/rnn.c — and the table,
 * which also holds the ai.onnxtrain gradient ops of ops/rnn_grad.c.
 *
 * Semantics where the spec leaves room (as onnxruntime does):
 *  - `clip` bounds the input of every gate activation (f and g); the cell
 *    state's activation h(C_t) in LSTM sees C_t unclipped.
 *  - activation_alpha / activation_beta are consumed in order by the
 *    activations that take them (Affine, LeakyRelu, ThresholdedRelu,
 *    ScaledTanh, HardSigmoid, Elu); missing ones take the ONNX operator's
 *    default; names match case-insensitively.
 *  - RNN accepts the schema's default list ["Tanh", "Tanh"] written out for
 *    one direction (the first is used).
 *  - A batch entry whose sequence_lens is 0 keeps its initial state in Y_h /
 *    Y_c, and the reverse direction starts each sequence at its own last
 *    valid step. */
#include <math.h>
#include <string.h>

#include "../kernels/cpu/matmul.h"
#include "../src/core/alloc.h"
#include "../src/runtime/workspace.h"
#include "op.h"
#include "rnn_ops.h"

#define OT_RNN_FLOATS "float32, float64, float16, bfloat16 (sequence_lens: int32, int64)"

static const char *ot_rnn_kind_name(ot_rnn_kind k) { return k == OT_RNN_LSTM ? "LSTM" : k == OT_RNN_GRU ? "GRU" : "RNN"; }

/* ---- attributes ---------------------------------------------------------------- */

static ot_status ot_rnn_flag(const ot_node *n, const char *name, bool *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, name, 0, &v));
    if (v != 0 && v != 1) return ot_node_error(n, OT_ERR_PARSE, "%s must be 0 or 1, got %lld", name, (long long)v);
    *out = v != 0;
    return OT_OK;
}

/* Activation names: the forward's STRINGS attribute, or the gradient op's
   comma-separated STRING.  Fills kinds[] (at most 6), *count. */
static ot_status ot_rnn_act_names(const ot_node *n, bool grad_op, int *kinds, int *count) {
    const ot_attr *at = ot_node_attr(n, "activations");
    *count = 0;
    if (!at) return OT_OK;
    if (grad_op) {
        if (at->type != OT_ATTR_STRING) return ot_node_error(n, OT_ERR_PARSE, "activations must be a string");
        for (const char *s = at->s; s && *s;) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (*count == 6) return ot_node_error(n, OT_ERR_PARSE, "more than 6 activations");
            if ((kinds[(*count)++] = ot_rnn_act_from_name(s, len)) < 0)
                return ot_node_error(n, OT_ERR_UNSUPPORTED, "activation '%.*s' is not supported", (int)len, s);
            s = e ? e + 1 : s + len;
        }
        return OT_OK;
    }
    if (at->type != OT_ATTR_STRINGS) return ot_node_error(n, OT_ERR_PARSE, "activations must be a list of strings");
    if (at->n > 6) return ot_node_error(n, OT_ERR_PARSE, "activations has %d names; at most 6 are used", at->n);
    for (int i = 0; i < at->n; i++) {
        const char *s = at->strings[i] ? at->strings[i] : "";
        if ((kinds[i] = ot_rnn_act_from_name(s, strlen(s))) < 0)
            return ot_node_error(n, OT_ERR_UNSUPPORTED,
                                 "activation '%s' is not supported (Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
                                 "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)", s);
    }
    *count = at->n;
    return OT_OK;
}

/* Resolves the activations of both directions with their alpha / beta. */
static ot_status ot_rnn_parse_acts(const ot_node *n, bool grad_op, ot_rnn_attrs *a) {
    static const int dflt[3][3] = {{OT_RNN_ACT_TANH}, {OT_RNN_ACT_SIGMOID, OT_RNN_ACT_TANH},
                                   {OT_RNN_ACT_SIGMOID, OT_RNN_ACT_TANH, OT_RNN_ACT_TANH}};
    const int per = ot_rnn_acts(a->kind), want = per * a->nd;
    int kinds[6], count;
    OT_TRY(ot_rnn_act_names(n, grad_op, kinds, &count));
    if (count == 0) {
        for (int i = 0; i < want; i++) kinds[i] = dflt[a->kind][i % per];
    } else if (count == 2 && a->kind == OT_RNN_SIMPLE && a->nd == 1) {
        count = 1; /* the schema's default ["Tanh", "Tanh"] written out */
    } else if (count != want) {
        return ot_node_error(n, OT_ERR_PARSE, "activations has %d names; %s with %d direction(s) takes %d", count,
                             ot_rnn_kind_name(a->kind), a->nd, want);
    }
    const float *al = NULL, *be = NULL;
    int nal = 0, nbe = 0;
    OT_TRY(ot_attr_get_floats(n, grad_op ? "alphas" : "activation_alpha", &al, &nal));
    OT_TRY(ot_attr_get_floats(n, grad_op ? "betas" : "activation_beta", &be, &nbe));
    if (grad_op && ((nal >= 0 && nal != want) || (nbe >= 0 && nbe != want)))
        return ot_node_error(n, OT_ERR_PARSE, "alphas and betas need one value per activation (%d)", want);
    int ia = 0, ib = 0;
    for (int i = 0; i < want; i++) {
        ot_rnn_act *x = &a->act[i / per][i % per];
        x->kind = kinds[i];
        x->alpha = ot_rnn_act_default_alpha(x->kind);
        x->beta = ot_rnn_act_default_beta(x->kind);
        if (grad_op) {
            if (nal > 0) x->alpha = al[i];
            if (nbe > 0) x->beta = be[i];
            continue;
        }
        if (ot_rnn_act_takes_alpha(x->kind) && ia < nal) x->alpha = al[ia++];
        if (ot_rnn_act_takes_beta(x->kind) && ib < nbe) x->beta = be[ib++];
    }
    return OT_OK;
}

ot_status ot_rnn_parse_common(const ot_node *n, int64_t opset, ot_rnn_attrs *a, ot_rnn_kind kind, bool grad_op) {
    memset(a, 0, sizeof *a);
    a->kind = kind;
    OT_TRY(ot_attr_get_int(n, "hidden_size", -1, &a->hidden_size));
    if (ot_node_attr(n, "hidden_size") && a->hidden_size < 1)
        return ot_node_error(n, OT_ERR_PARSE, "hidden_size must be >= 1, got %lld", (long long)a->hidden_size);
    const char *dir;
    OT_TRY(ot_attr_get_string(n, "direction", "forward", &dir));
    if (!strcmp(dir, "forward") || !strcmp(dir, "reverse")) a->nd = 1, a->reverse = dir[0] == 'r';
    else if (!strcmp(dir, "bidirectional")) a->nd = 2;
    else return ot_node_error(n, OT_ERR_PARSE, "direction '%s' is not forward, reverse or bidirectional", dir);
    int64_t layout;
    OT_TRY(ot_attr_get_int(n, "layout", 0, &layout));
    if (layout != 0 && layout != 1) return ot_node_error(n, OT_ERR_PARSE, "layout must be 0 or 1, got %lld", (long long)layout);
    if (layout && !grad_op && opset < 14)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "attribute 'layout' exists from opset 14 (the model uses %lld)",
                             (long long)opset);
    a->layout = (int)layout;
    a->clip = INFINITY;
    if (ot_node_attr(n, "clip")) {
        float clip;
        OT_TRY(ot_attr_get_float(n, "clip", 0, &clip));
        if (!(clip > 0)) return ot_node_error(n, OT_ERR_PARSE, "clip must be > 0, got %g", (double)clip);
        a->clip = clip;
    }
    if (kind == OT_RNN_GRU || grad_op) OT_TRY(ot_rnn_flag(n, "linear_before_reset", &a->linear_before_reset));
    if (kind == OT_RNN_LSTM || grad_op) OT_TRY(ot_rnn_flag(n, "input_forget", &a->input_forget));
    if (grad_op) OT_TRY(ot_attr_get_int(n, "grads", 0x7f, &a->grads));
    return ot_rnn_parse_acts(n, grad_op, a);
}

static ot_status ot_rnn_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_rnn_parse_common(n, opset, attrs, OT_RNN_SIMPLE, false);
}
static ot_status ot_gru_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_rnn_parse_common(n, opset, attrs, OT_RNN_GRU, false);
}
static ot_status ot_lstm_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_rnn_parse_common(n, opset, attrs, OT_RNN_LSTM, false);
}

/* ---- shapes ------------------------------------------------------------------------ */

static ot_status ot_rnn_expect(ot_kctx *c, int i, const char *name, ot_dtype dt, int rank, const int64_t *dims,
                               const char *what) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return OT_OK;
    if (t->dtype != dt)
        return ot_op_error(c, OT_ERR_TYPE, "%s has type %s; it must match X (%s)", name, ot_dtype_name(t->dtype),
                           ot_dtype_name(dt));
    if (!ot_shape_equal(t->rank, t->dims, rank, dims)) {
        char b1[160], b2[160];
        return ot_op_error(c, OT_ERR_SHAPE, "%s has shape %s; expected %s (%s)", name,
                           ot_shape_str(t->rank, t->dims, b1, sizeof b1), ot_shape_str(rank, dims, b2, sizeof b2), what);
    }
    return OT_OK;
}

ot_status ot_rnn_geometry(ot_kctx *c, const ot_rnn_attrs *a, ot_rnn_desc *d) {
    const ot_tensor *x = ot_in(c, 0), *r = ot_in(c, 2);
    char b1[160];
    if (x->dtype != OT_FLOAT && x->dtype != OT_DOUBLE && x->dtype != OT_FLOAT16 && x->dtype != OT_BFLOAT16)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "X has type %s; supported: %s", ot_dtype_name(x->dtype), OT_RNN_FLOATS);
    if (x->rank != 3)
        return ot_op_error(c, OT_ERR_SHAPE, "X must have rank 3 (%s), got %s",
                           a->layout ? "batch, seq_length, input_size" : "seq_length, batch, input_size",
                           ot_shape_str(x->rank, x->dims, b1, sizeof b1));
    if (r->rank != 3) return ot_op_error(c, OT_ERR_SHAPE, "R must have rank 3, got %s", ot_shape_str(r->rank, r->dims, b1, sizeof b1));
    memset(d, 0, sizeof *d);
    d->kind = a->kind;
    d->H = r->dims[2];
    if (a->hidden_size >= 0 && a->hidden_size != d->H)
        return ot_op_error(c, OT_ERR_SHAPE, "hidden_size is %lld but R's last dim is %lld", (long long)a->hidden_size,
                           (long long)d->H);
    d->T = x->dims[a->layout ? 1 : 0];
    d->B = x->dims[a->layout ? 0 : 1];
    d->I = x->dims[2];
    d->nd = a->nd;
    d->reverse = a->reverse;
    d->layout = a->layout;
    d->clip = a->clip;
    d->linear_before_reset = a->linear_before_reset;
    d->input_forget = a->input_forget;
    memcpy(d->act, a->act, sizeof d->act);
    const int64_t G = ot_rnn_gates(a->kind), H = d->H, GH = G * H, nd = d->nd;
    const int64_t wd[3] = {nd, GH, d->I}, rd[3] = {nd, GH, H}, bd[2] = {nd, 2 * GH}, pd[2] = {nd, 3 * H};
    const int64_t sd[3] = {a->layout ? d->B : nd, a->layout ? nd : d->B, H};
    const char *gates = a->kind == OT_RNN_LSTM ? "4 gates (i, o, f, c)" : a->kind == OT_RNN_GRU ? "3 gates (z, r, h)" : "1 gate";
    OT_TRY(ot_rnn_expect(c, 1, "W", x->dtype, 3, wd, "num_directions, gates * hidden_size, input_size"));
    OT_TRY(ot_rnn_expect(c, 2, "R", x->dtype, 3, rd, gates));
    OT_TRY(ot_rnn_expect(c, 3, "B", x->dtype, 2, bd, "num_directions, 2 * gates * hidden_size"));
    const ot_tensor *sl = ot_in(c, 4);
    if (sl) {
        if (sl->dtype != OT_INT32 && sl->dtype != OT_INT64)
            return ot_op_error(c, OT_ERR_TYPE, "sequence_lens has type %s; it must be int32", ot_dtype_name(sl->dtype));
        if (sl->rank != 1 || sl->dims[0] != d->B)
            return ot_op_error(c, OT_ERR_SHAPE, "sequence_lens has shape %s; expected (%lld) (batch_size)",
                               ot_shape_str(sl->rank, sl->dims, b1, sizeof b1), (long long)d->B);
    }
    const char *sw = a->layout ? "batch_size, num_directions, hidden_size" : "num_directions, batch_size, hidden_size";
    OT_TRY(ot_rnn_expect(c, 5, "initial_h", x->dtype, 3, sd, sw));
    if (a->kind == OT_RNN_LSTM) {
        OT_TRY(ot_rnn_expect(c, 6, "initial_c", x->dtype, 3, sd, sw));
        OT_TRY(ot_rnn_expect(c, 7, "P", x->dtype, 2, pd, "num_directions, 3 * hidden_size"));
    }
    /* OpenBLAS takes int dims: rows of the input GEMM, the gate width, I, H. */
    int64_t rows, n;
    OT_TRY(ot_shape_numel(2, (const int64_t[]){d->T, d->B}, &rows));
    OT_TRY(ot_shape_numel(4, (const int64_t[]){d->T, d->B, nd, GH}, &n));
    if (!ot_blas_fits(rows) || !ot_blas_fits(GH) || !ot_blas_fits(d->I) || !ot_blas_fits(d->B))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "sizes beyond 2^31 elements per GEMM dimension are not supported");
    return OT_OK;
}

void ot_rnn_y_dims(const ot_rnn_desc *d, int64_t *y, int64_t *state) {
    const int64_t nd = d->nd;
    if (d->layout) {
        y[0] = d->B, y[1] = d->T, y[2] = nd, y[3] = d->H;
        state[0] = d->B, state[1] = nd, state[2] = d->H;
    } else {
        y[0] = d->T, y[1] = nd, y[2] = d->B, y[3] = d->H;
        state[0] = nd, state[1] = d->B, state[2] = d->H;
    }
}

ot_status ot_rnn_lens(ot_kctx *c, const ot_rnn_desc *d, int64_t **out) {
    const ot_tensor *sl = ot_in(c, 4);
    *out = NULL;
    if (!sl) return OT_OK;
    int64_t *lens = ot_workspace_alloc(sizeof(int64_t) * (size_t)(d->B ? d->B : 1));
    if (!lens) return ot_op_error(c, OT_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; b < d->B; b++) {
        lens[b] = ot_load_i64(sl->dtype, sl->data, b);
        if (lens[b] < 0 || lens[b] > d->T) {
            ot_status s = ot_op_error(c, OT_ERR_INVALID_ARG, "sequence_lens[%lld] = %lld is outside [0, seq_length = %lld]",
                                      (long long)b, (long long)lens[b], (long long)d->T);
            ot_workspace_free(lens);
            return s;
        }
    }
    *out = lens;
    return OT_OK;
}

/* ---- the forward ops ------------------------------------------------------------------ */

static ot_status ot_rnn_infer(ot_kctx *c) {
    const ot_rnn_attrs *a = c->attrs;
    ot_rnn_desc d;
    OT_TRY(ot_rnn_geometry(c, a, &d));
    int64_t y[4], st[3];
    ot_rnn_y_dims(&d, y, st);
    ot_dtype dt = ot_in(c, 0)->dtype;
    ot_set_out(c, 0, dt, 4, y);
    ot_set_out(c, 1, dt, 3, st);
    if (a->kind == OT_RNN_LSTM) ot_set_out(c, 2, dt, 3, st);
    ot_workspace_request(ot_rnn_forward_scratch(&d, dt) + sizeof(int64_t) * (size_t)d.B + 64);
    return OT_OK;
}

static ot_status ot_rnn_cpu(ot_kctx *c) {
    const ot_rnn_attrs *a = c->attrs;
    ot_rnn_desc d;
    OT_TRY(ot_rnn_geometry(c, a, &d));
    int64_t *lens;
    OT_TRY(ot_rnn_lens(c, &d, &lens));
    const ot_tensor *in[8];
    for (int i = 0; i < 8; i++) in[i] = ot_in(c, i);
#define OT_DATA(t) ((t) ? (t)->data : NULL)
    ot_rnn_fwd_io io = {in[0]->data, in[1]->data, in[2]->data, OT_DATA(in[3]), OT_DATA(in[5]), NULL, NULL, lens,
                        OT_DATA(ot_out(c, 0)), OT_DATA(ot_out(c, 1)), NULL};
    if (a->kind == OT_RNN_LSTM) io.c0 = OT_DATA(in[6]), io.P = OT_DATA(in[7]), io.Yc = OT_DATA(ot_out(c, 2));
#undef OT_DATA
    ot_status s = ot_rnn_forward(&d, in[0]->dtype, &io);
    if (s) ot_error_context(s, "node '%s' (%s)", c->name, c->node ? c->node->op_type : "?");
    ot_workspace_free(lens);
    return s;
}

#define OT_RNN_ATTRS "activation_alpha,activation_beta,activations,clip,direction,hidden_size,layout"

const ot_op_def ot_ops_rnn[] = {
    {.name = "RNN", .domain = "", .min_opset = 7, .max_opset = 23, .min_inputs = 3, .max_inputs = 6,
     .min_outputs = 0, .max_outputs = 2, .attr_names = OT_RNN_ATTRS, .attrs_size = sizeof(ot_rnn_attrs),
     .parse = ot_rnn_parse, .infer = ot_rnn_infer, .cpu = ot_rnn_cpu, .traits = 0, .dtypes = OT_RNN_FLOATS,
     .grad = ot_rnn_grad},
    {.name = "GRU", .domain = "", .min_opset = 7, .max_opset = 23, .min_inputs = 3, .max_inputs = 6,
     .min_outputs = 0, .max_outputs = 2, .attr_names = OT_RNN_ATTRS ",linear_before_reset",
     .attrs_size = sizeof(ot_rnn_attrs), .parse = ot_gru_parse, .infer = ot_rnn_infer, .cpu = ot_rnn_cpu,
     .traits = 0, .dtypes = OT_RNN_FLOATS, .grad = ot_rnn_grad},
    {.name = "LSTM", .domain = "", .min_opset = 7, .max_opset = 23, .min_inputs = 3, .max_inputs = 8,
     .min_outputs = 0, .max_outputs = 3, .attr_names = OT_RNN_ATTRS ",input_forget", .attrs_size = sizeof(ot_rnn_attrs),
     .parse = ot_lstm_parse, .infer = ot_rnn_infer, .cpu = ot_rnn_cpu, .traits = 0, .dtypes = OT_RNN_FLOATS,
     .grad = ot_rnn_grad},
    {.name = "RNNGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 3, .max_inputs = 8,
     .min_outputs = 1, .max_outputs = 5, .attr_names = OT_RNN_GRAD_ATTRS, .attrs_size = sizeof(ot_rnn_attrs),
     .parse = ot_rnn_grad_op_parse, .infer = ot_rnn_grad_op_infer, .cpu = ot_rnn_grad_op_cpu, .traits = 0,
     .dtypes = OT_RNN_FLOATS},
    {.name = "GRUGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 3, .max_inputs = 8,
     .min_outputs = 1, .max_outputs = 5, .attr_names = OT_RNN_GRAD_ATTRS, .attrs_size = sizeof(ot_rnn_attrs),
     .parse = ot_gru_grad_op_parse, .infer = ot_rnn_grad_op_infer, .cpu = ot_rnn_grad_op_cpu, .traits = 0,
     .dtypes = OT_RNN_FLOATS},
    {.name = "LSTMGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 3, .max_inputs = 11,
     .min_outputs = 1, .max_outputs = 7, .attr_names = OT_RNN_GRAD_ATTRS, .attrs_size = sizeof(ot_rnn_attrs),
     .parse = ot_lstm_grad_op_parse, .infer = ot_rnn_grad_op_infer, .cpu = ot_rnn_grad_op_cpu, .traits = 0,
     .dtypes = OT_RNN_FLOATS},
};
const int ot_ops_rnn_count = sizeof ot_ops_rnn / sizeof ot_ops_rnn[0];
