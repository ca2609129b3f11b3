/* Op family: attention extensions.  CausalConvWithState (opset 27: stateful
 * causal depthwise 1-D convolution with fused SiLU), LinearAttention (opset
 * 27: recurrent linear attention, linear / gated / delta / gated_delta) and
 * FlexAttention (ai.onnx.preview 1: scaled dot-product attention with
 * score_mod / prob_mod subgraphs).  Numeric loops: kernels/cpu/attention_ext.c
 * (and the Attention kernels for FlexAttention without modifiers).  Gradient
 * rules and the backward ops: ops/attention_ext_grad.c.
 *
 * Beyond the spec's types, every op also runs in float64 (gradient checks). */
#include <math.h>
#include <string.h>

#include "grad.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_ext.h"
#include "kernels/cpu/matmul.h"
#include "src/runtime/program.h"
#include "src/runtime/workspace.h"

/* ops/attention_ext_grad.c */
ot_status ot_ccs_grad_rule(ot_grad_ctx *g);
ot_status ot_ccs_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_ccs_grad_infer(ot_kctx *c);
ot_status ot_ccs_grad_cpu(ot_kctx *c);
ot_status ot_la_grad_rule(ot_grad_ctx *g);
ot_status ot_la_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_la_grad_infer(ot_kctx *c);
ot_status ot_la_grad_cpu(ot_kctx *c);
ot_status ot_flex_grad_rule(ot_grad_ctx *g);

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};

static ot_status shape_error(const ot_kctx *c, const char *what, const ot_tensor *t, const char *want) {
    char b[128];
    return ot_op_error(c, OT_ERR_SHAPE, "%s has shape %s; expected %s", what,
                       ot_shape_str(t->rank, t->dims, b, sizeof b), want);
}

/* ---- CausalConvWithState ------------------------------------------------------------ */

ot_status ot_ccs_parse_common(const ot_node *n, ot_ccs_attrs *a) {
    const char *act;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_attr_get_string(n, "activation", "none", &act));
    if (!strcmp(act, "silu") || !strcmp(act, "swish")) a->silu = true;
    else if (strcmp(act, "none"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "activation '%s' is not one of 'none', 'silu', 'swish'", act);
    return OT_OK;
}

static ot_status ccs_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_ccs_parse_common(n, attrs);
}

/* Validates input, weight, bias, past_state (inputs base .. base + 3) and
   fills the shape part of args.  Shared with the grad op. */
ot_status ot_ccs_setup(const ot_kctx *c, int base, ot_ccs_args *a, ot_dtype *dt) {
    const ot_tensor *X = ot_in(c, base), *W = ot_in(c, base + 1), *Bi = ot_in(c, base + 2), *P = ot_in(c, base + 3);
    memset(a, 0, sizeof *a);
    if (!X || !W) return ot_op_error(c, OT_ERR_INVALID_ARG, "input and weight are required");
    for (int i = 0; i < 4; i++)
        OT_TRY(ot_check_dtype(c, base + i, float_types));
    for (int i = 1; i < 4; i++)
        if (ot_in(c, base + i) && ot_in(c, base + i)->dtype != X->dtype)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "input %d has type %s; all inputs must have input's type %s",
                               base + i, ot_dtype_name(ot_in(c, base + i)->dtype), ot_dtype_name(X->dtype));
    if (X->rank != 3) return shape_error(c, "input", X, "rank 3 (batch_size, channels, length)");
    a->B = X->dims[0], a->C = X->dims[1], a->L = X->dims[2];
    if (W->rank != 3 || W->dims[0] != a->C || W->dims[1] != 1 || W->dims[2] < 1)
        return shape_error(c, "weight", W, "(channels, 1, k) with k >= 1 (depthwise)");
    a->K = W->dims[2];
    if (Bi && (Bi->rank != 1 || Bi->dims[0] != a->C)) return shape_error(c, "bias", Bi, "(channels)");
    if (P && (P->rank != 3 || P->dims[0] != a->B || P->dims[1] != a->C || P->dims[2] != a->K - 1))
        return shape_error(c, "past_state", P, "(batch_size, channels, k - 1)");
    *dt = X->dtype;
    a->dbl = X->dtype == OT_DOUBLE;
    return OT_OK;
}

static ot_status ccs_infer(ot_kctx *c) {
    ot_ccs_args a;
    ot_dtype dt;
    OT_TRY(ot_ccs_setup(c, 0, &a, &dt));
    ot_set_out(c, 0, dt, 3, (int64_t[]){a.B, a.C, a.L});
    ot_set_out(c, 1, dt, 3, (int64_t[]){a.B, a.C, a.K - 1});
    return OT_OK;
}

static ot_status ccs_cpu(ot_kctx *c) {
    const ot_ccs_attrs *at = c->attrs;
    ot_ccs_args a;
    ot_dtype dt;
    OT_TRY(ot_ccs_setup(c, 0, &a, &dt));
    a.silu = at->silu;
    ot_dtype ct = ot_ae_compute_type(dt);
    void *own[6] = {0};
    ot_status s = OT_OK;
    if (!s) s = ot_ae_stage_in(ct, c->in[0], &a.x, &own[0]);
    if (!s) s = ot_ae_stage_in(ct, c->in[1], &a.w, &own[1]);
    if (!s) s = ot_ae_stage_in(ct, ot_in(c, 2), &a.bias, &own[2]);
    if (!s) s = ot_ae_stage_in(ct, ot_in(c, 3), &a.past, &own[3]);
    if (!s) s = ot_ae_stage_buf(ct, ot_out(c, 0), &a.y, &own[4]);
    if (!s) s = ot_ae_stage_buf(ct, ot_out(c, 1), &a.present, &own[5]);
    if (!s) {
        ot_ccs_forward(&a);
        ot_ae_stage_out(ct, ot_out(c, 0), own[4]);
        ot_ae_stage_out(ct, ot_out(c, 1), own[5]);
        own[4] = own[5] = NULL;
    }
    for (int i = 0; i < 6; i++)
        ot_ae_release(own[i]);
    return s ? ot_error_context(s, "node '%s' (CausalConvWithState)", c->name) : OT_OK;
}

/* ---- LinearAttention ---------------------------------------------------------------- */

ot_status ot_la_parse_common(const ot_node *n, ot_la_attrs *a) {
    memset(a, 0, sizeof *a);
    if (!ot_node_attr(n, "q_num_heads") || !ot_node_attr(n, "kv_num_heads"))
        return ot_node_error(n, OT_ERR_PARSE, "the q_num_heads and kv_num_heads attributes are required");
    OT_TRY(ot_attr_get_int(n, "q_num_heads", 0, &a->q_heads));
    OT_TRY(ot_attr_get_int(n, "kv_num_heads", 0, &a->kv_heads));
    if (a->q_heads <= 0 || a->kv_heads <= 0 || a->q_heads % a->kv_heads)
        return ot_node_error(n, OT_ERR_PARSE, "q_num_heads (%lld) must be a positive multiple of kv_num_heads (%lld)",
                             (long long)a->q_heads, (long long)a->kv_heads);
    OT_TRY(ot_attr_get_float(n, "scale", 0.0f, &a->scale));
    if (!isfinite(a->scale))
        return ot_node_error(n, OT_ERR_PARSE, "scale must be finite (0: 1 / sqrt(d_k)), got %g", (double)a->scale);
    int64_t chunk;
    OT_TRY(ot_attr_get_int(n, "chunk_size", 64, &chunk)); /* a tuning hint: the recurrence is exact */
    if (chunk <= 0) return ot_node_error(n, OT_ERR_PARSE, "chunk_size must be positive, got %lld", (long long)chunk);
    const char *rule;
    OT_TRY(ot_attr_get_string(n, "update_rule", "gated_delta", &rule));
    if (!strcmp(rule, "linear")) {
    } else if (!strcmp(rule, "gated")) a->gated = true;
    else if (!strcmp(rule, "delta")) a->delta = true;
    else if (!strcmp(rule, "gated_delta")) a->gated = a->delta = true;
    else
        return ot_node_error(n, OT_ERR_UNSUPPORTED,
                             "update_rule '%s' is not one of 'linear', 'gated', 'delta', 'gated_delta'", rule);
    return OT_OK;
}

static ot_status la_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_la_parse_common(n, attrs);
}

/* Validates query, key, value, past_state, decay, beta (inputs base .. base
   + 5); fills the shape part of args, *dt (activations' type) and *st (the
   state's type: past_state's, else query's).  Shared with the grad op. */
ot_status ot_la_setup(const ot_kctx *c, const ot_la_attrs *at, int base, ot_la_args *a, ot_dtype *dt, ot_dtype *st) {
    const ot_tensor *Q = ot_in(c, base), *K = ot_in(c, base + 1), *V = ot_in(c, base + 2), *P = ot_in(c, base + 3);
    const ot_tensor *G = ot_in(c, base + 4), *Bt = ot_in(c, base + 5);
    memset(a, 0, sizeof *a);
    if (!Q || !K || !V) return ot_op_error(c, OT_ERR_INVALID_ARG, "query, key and value are required");
    for (int i = 0; i < 6; i++)
        OT_TRY(ot_check_dtype(c, base + i, float_types));
    const ot_tensor *same[] = {K, V, G, Bt};
    for (int i = 0; i < 4; i++)
        if (same[i] && same[i]->dtype != Q->dtype)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "key, value, decay and beta must have query's type %s (got %s)",
                               ot_dtype_name(Q->dtype), ot_dtype_name(same[i]->dtype));
    if (Q->rank != 3 || K->rank != 3 || V->rank != 3)
        return ot_op_error(c, OT_ERR_SHAPE, "query, key and value must be 3-D (B, T, heads * head_size); got ranks %d, %d, %d",
                           Q->rank, K->rank, V->rank);
    a->B = Q->dims[0], a->T = Q->dims[1], a->Hq = at->q_heads, a->Hkv = at->kv_heads;
    if (Q->dims[2] % a->Hq) return shape_error(c, "query", Q, "a last dim that is a multiple of q_num_heads");
    a->dk = Q->dims[2] / a->Hq;
    if (K->dims[0] != a->B || K->dims[1] != a->T || K->dims[2] != a->Hkv * a->dk)
        return shape_error(c, "key", K, "(B, T, kv_num_heads * d_k) with query's B, T and d_k");
    if (V->dims[0] != a->B || V->dims[1] != a->T || V->dims[2] % a->Hkv)
        return shape_error(c, "value", V, "(B, T, kv_num_heads * d_v) with query's B and T");
    a->dv = V->dims[2] / a->Hkv;
    if (P && (P->rank != 4 || P->dims[0] != a->B || P->dims[1] != a->Hkv || P->dims[2] != a->dk || P->dims[3] != a->dv))
        return shape_error(c, "past_state", P, "(B, kv_num_heads, d_k, d_v)");
    a->gated = at->gated, a->delta = at->delta;
    if (at->gated != !!G || at->delta != !!Bt)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "this update_rule %s decay and %s beta", at->gated ? "needs" : "takes no",
                           at->delta ? "needs" : "takes no");
    if (G) {
        if (G->rank != 3 || G->dims[0] != a->B || G->dims[1] != a->T ||
            (G->dims[2] != a->Hkv && G->dims[2] != a->Hkv * a->dk))
            return shape_error(c, "decay", G, "(B, T, kv_num_heads) or (B, T, kv_num_heads * d_k)");
        a->decay_per_key = G->dims[2] == a->Hkv * a->dk && a->dk != 1;
    }
    if (Bt) {
        if (Bt->rank != 3 || Bt->dims[0] != a->B || Bt->dims[1] != a->T || (Bt->dims[2] != a->Hkv && Bt->dims[2] != 1))
            return shape_error(c, "beta", Bt, "(B, T, kv_num_heads) or (B, T, 1)");
        a->nbeta = Bt->dims[2];
    }
    a->scale = at->scale != 0 ? at->scale : 1.0 / sqrt((double)a->dk);
    *dt = Q->dtype;
    *st = P ? P->dtype : Q->dtype;
    a->dbl = Q->dtype == OT_DOUBLE;
    return OT_OK;
}

static ot_status la_infer(ot_kctx *c) {
    ot_la_args a;
    ot_dtype dt, st;
    OT_TRY(ot_la_setup(c, c->attrs, 0, &a, &dt, &st));
    ot_set_out(c, 0, dt, 3, (int64_t[]){a.B, a.T, a.Hq * a.dv});
    ot_set_out(c, 1, st, 4, (int64_t[]){a.B, a.Hkv, a.dk, a.dv});
    return OT_OK;
}

static ot_status la_cpu(ot_kctx *c) {
    ot_la_args a;
    ot_dtype dt, st;
    OT_TRY(ot_la_setup(c, c->attrs, 0, &a, &dt, &st));
    ot_dtype ct = ot_ae_compute_type(dt);
    const void **ins[6] = {&a.q, &a.k, &a.v, &a.past, &a.decay, &a.beta};
    void *own[8] = {0};
    ot_status s = OT_OK;
    for (int i = 0; i < 6 && !s; i++)
        s = ot_ae_stage_in(ct, ot_in(c, i), ins[i], &own[i]);
    if (!s) s = ot_ae_stage_buf(ct, ot_out(c, 0), &a.o, &own[6]);
    if (!s) s = ot_ae_stage_buf(ct, ot_out(c, 1), &a.present, &own[7]);
    if (!s) s = ot_la_forward(&a);
    if (!s) {
        ot_ae_stage_out(ct, ot_out(c, 0), own[6]);
        ot_ae_stage_out(ct, ot_out(c, 1), own[7]);
        own[6] = own[7] = NULL;
    }
    for (int i = 0; i < 8; i++)
        ot_ae_release(own[i]);
    return s ? ot_error_context(s, "node '%s' (LinearAttention)", c->name) : OT_OK;
}

/* ---- FlexAttention ------------------------------------------------------------------ */

/* The modifier subgraphs receive the whole (B, Hq, L, S) tensor, as the spec
   defines them (one rank-4 input, one output of the same shape and type):
   they are compiled with the project's compiler and run once per call on
   the materialised scores or probabilities. */
static ot_status flex_check_graph(const ot_node *n, const char *name, const ot_graph **out) {
    const ot_attr *at = ot_node_attr(n, name);
    *out = NULL;
    if (!at) return OT_OK;
    if (at->type != OT_ATTR_GRAPH || !at->g)
        return ot_node_error(n, OT_ERR_PARSE, "attribute %s must be a graph", name);
    const ot_graph *g = at->g;
    if (ot_graph_bound_input_count(g) != 1 || g->n_outputs != 1)
        return ot_node_error(n, OT_ERR_PARSE, "%s must have exactly 1 input and 1 output (has %d and %d)", name,
                             ot_graph_bound_input_count(g), g->n_outputs);
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].role == OT_ROLE_OUTER)
            return ot_node_error(n, OT_ERR_UNSUPPORTED, "%s reads '%s' from the enclosing graph, which is not supported",
                                 name, g->values[v].name);
    *out = g;
    return OT_OK;
}

ot_status ot_attention_parse_precision(const ot_node *n, int64_t *precision); /* ops/attention.c */

static ot_status flex_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_flex_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    a->has_scale = ot_node_attr(n, "scale") != NULL;
    OT_TRY(ot_attr_get_float(n, "scale", 1.0f, &a->scale));
    OT_TRY(ot_attention_parse_precision(n, &a->softmax_precision));
    OT_TRY(flex_check_graph(n, "score_mod", &a->score_mod));
    OT_TRY(flex_check_graph(n, "prob_mod", &a->prob_mod));
    return OT_OK;
}

/* The softmax's type (the modifiers' element type): softmax_precision, else
   double for double inputs and float32 otherwise. */
static ot_dtype flex_softmax_type(const ot_flex_attrs *at, ot_dtype q) {
    if (at->softmax_precision) return (ot_dtype)at->softmax_precision;
    return q == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT;
}

/* Without modifiers, in the inputs' own precision (float16 / bfloat16 run
   their softmax in float32): the fused Attention kernels, which never hold
   the (L, S) scores whole. */
static bool flex_fused(const ot_flex_attrs *at, ot_dtype q) {
    ot_dtype st = flex_softmax_type(at, q);
    return !at->score_mod && !at->prob_mod && (st == ot_ae_compute_type(q) || st == OT_FLOAT16 || st == OT_BFLOAT16);
}

/* Validates Q, K, V and fills the attention shape (shared with the grad rule). */
ot_status ot_flex_setup(const ot_kctx *c, ot_attn_args *a) {
    const ot_flex_attrs *at = c->attrs;
    const ot_tensor *Q = c->in[0], *K = c->in[1], *V = c->in[2];
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 3; i++)
        OT_TRY(ot_check_dtype(c, i, float_types));
    if (K->dtype != Q->dtype || V->dtype != Q->dtype)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "Q, K and V must share one type (got %s, %s, %s)",
                           ot_dtype_name(Q->dtype), ot_dtype_name(K->dtype), ot_dtype_name(V->dtype));
    if (Q->rank != 4 || K->rank != 4 || V->rank != 4)
        return ot_op_error(c, OT_ERR_SHAPE, "Q, K and V must be rank 4 (B, heads, seq, head_size); got ranks %d, %d, %d",
                           Q->rank, K->rank, V->rank);
    ot_attn_shape *s = &a->sh;
    s->B = Q->dims[0], s->Hq = Q->dims[1], s->Sq = Q->dims[2], s->D = Q->dims[3];
    s->Hkv = K->dims[1], s->Skv = K->dims[2], s->Dv = V->dims[3];
    if (K->dims[0] != s->B || K->dims[3] != s->D) return shape_error(c, "K", K, "Q's batch size and head size");
    if (V->dims[0] != s->B || V->dims[1] != s->Hkv || V->dims[2] != s->Skv)
        return shape_error(c, "V", V, "K's batch size, heads and sequence length");
    if (s->Hkv <= 0 || s->Hq % s->Hkv)
        return ot_op_error(c, OT_ERR_SHAPE, "Q's %lld heads are not a multiple of K's %lld", (long long)s->Hq,
                           (long long)s->Hkv);
    int64_t fits[] = {s->Sq, s->Skv, s->D, s->Dv};
    for (int i = 0; i < 4; i++)
        if (!ot_blas_fits(fits[i]))
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "dimension %lld is too large for BLAS", (long long)fits[i]);
    ot_dtype st = flex_softmax_type(at, Q->dtype);
    if ((at->score_mod || at->prob_mod) && (st == OT_FLOAT16 || st == OT_BFLOAT16))
        return ot_op_error(c, OT_ERR_UNSUPPORTED,
                           "softmax_precision %s with score_mod / prob_mod is not supported (use float or double)",
                           ot_dtype_name(st));
    s->T = s->Tm = s->Skv;
    a->dtype = Q->dtype;
    a->scale = at->has_scale ? at->scale : s->D > 0 ? 1.0 / sqrt((double)s->D) : 1.0;
    a->q = Q->data, a->k = K->data, a->v = V->data;
    return OT_OK;
}

/* Compiles a modifier for a (B, Hq, L, S) tensor of type st: its output
   must have that shape and type. */
static ot_status flex_compile_mod(const ot_kctx *c, const char *name, const ot_graph *g, ot_tensor *in, bool shapes_only,
                                  ot_program **out) {
    ot_compile_options opt = {.shapes_only = shapes_only};
    ot_status s = ot_program_compile(g, &in, &opt, out);
    if (s) return ot_error_context(s, "node '%s' (FlexAttention): %s", c->name, name);
    const ot_tensor *y = &(*out)->slots[g->outputs[0]];
    if (y->dtype != in->dtype || !ot_shape_equal(y->rank, y->dims, in->rank, in->dims)) {
        char b1[128], b2[128];
        ot_status e = ot_op_error(c, OT_ERR_SHAPE, "%s returns %s %s; it must keep its input's %s %s", name,
                                  ot_dtype_name(y->dtype), ot_shape_str(y->rank, y->dims, b1, sizeof b1),
                                  ot_dtype_name(in->dtype), ot_shape_str(in->rank, in->dims, b2, sizeof b2));
        ot_program_free(*out);
        *out = NULL;
        return e;
    }
    return OT_OK;
}

static ot_status flex_infer(ot_kctx *c) {
    const ot_flex_attrs *at = c->attrs;
    ot_attn_args a;
    OT_TRY(ot_flex_setup(c, &a));
    const ot_attn_shape *s = &a.sh;
    ot_set_out(c, 0, a.dtype, 4, (int64_t[]){s->B, s->Hq, s->Sq, s->Dv});
    if (flex_fused(at, a.dtype)) {
        a.q = c->in[0], a.k = c->in[1], a.v = c->in[2], a.y = c->out[0];
        ot_attention_request_scratch(&a, false);
        return OT_OK;
    }
    ot_tensor desc = {0};
    ot_tensor_set_shape(&desc, flex_softmax_type(at, a.dtype), 4, (int64_t[]){s->B, s->Hq, s->Sq, s->Skv});
    const ot_graph *mods[2] = {at->score_mod, at->prob_mod};
    for (int i = 0; i < 2; i++) {
        if (!mods[i]) continue;
        ot_program *p;
        OT_TRY(flex_compile_mod(c, i ? "prob_mod" : "score_mod", mods[i], &desc, true, &p));
        ot_program_free(p);
    }
    return OT_OK;
}

/* Runs a modifier over x (in place). */
static ot_status flex_run_mod(const ot_kctx *c, const char *name, const ot_graph *g, ot_dtype st,
                              const ot_attn_shape *s, void *x) {
    ot_tensor in = {0};
    ot_tensor_set_shape(&in, st, 4, (int64_t[]){s->B, s->Hq, s->Sq, s->Skv});
    in.data = x;
    ot_tensor *bind = &in;
    ot_program *p;
    OT_TRY(flex_compile_mod(c, name, g, &in, false, &p));
    ot_status e = ot_program_run(p, &bind, 0);
    if (!e) memmove(x, p->slots[g->outputs[0]].data, ot_tensor_nbytes(&in)); /* an identity modifier returns x */
    ot_program_free(p);
    return e ? ot_error_context(e, "node '%s' (FlexAttention): %s", c->name, name) : OT_OK;
}

static ot_status flex_cpu(ot_kctx *c) {
    const ot_flex_attrs *at = c->attrs;
    ot_attn_args a;
    OT_TRY(ot_flex_setup(c, &a));
    a.y = c->out[0]->data;
    if (flex_fused(at, a.dtype)) {
        ot_status s = ot_attention_forward(&a);
        return s ? ot_error_context(s, "node '%s' (FlexAttention)", c->name) : OT_OK;
    }
    const ot_attn_shape *s = &a.sh;
    ot_dtype ct = flex_softmax_type(at, a.dtype);
    ot_flex_args f = {ct == OT_DOUBLE, s->B, s->Hq, s->Hkv, s->Sq, s->Skv, s->D, s->Dv, a.scale, NULL, NULL, NULL};
    void *own[4] = {0}, *y;
    ot_status e = OT_OK;
    int64_t n = s->B * s->Hq * s->Sq * s->Skv;
    void *scores = ot_workspace_alloc((size_t)n * ot_dtype_size(ct));
    if (!scores) e = ot_op_error(c, OT_ERR_NOMEM, "out of memory for the %lld scores", (long long)n);
    if (!e) e = ot_ae_stage_in(ct, c->in[0], &f.q, &own[0]);
    if (!e) e = ot_ae_stage_in(ct, c->in[1], &f.k, &own[1]);
    if (!e) e = ot_ae_stage_in(ct, c->in[2], &f.v, &own[2]);
    if (!e) e = ot_ae_stage_buf(ct, c->out[0], &y, &own[3]);
    if (!e) {
        ot_flex_scores(&f, scores);
        if (at->score_mod) e = flex_run_mod(c, "score_mod", at->score_mod, ct, s, scores);
    }
    if (!e) {
        ot_flex_softmax(f.dbl, s->B * s->Hq * s->Sq, s->Skv, scores);
        if (at->prob_mod) e = flex_run_mod(c, "prob_mod", at->prob_mod, ct, s, scores);
    }
    if (!e) {
        ot_flex_pv(&f, scores, y);
        ot_ae_stage_out(ct, c->out[0], own[3]);
        own[3] = NULL;
    }
    for (int i = 0; i < 4; i++)
        ot_ae_release(own[i]);
    ot_ae_release(scores);
    return e;
}

/* ---- the table ------------------------------------------------------------------------ */

const ot_op_def ot_ops_attention_ext[] = {
    {"CausalConvWithState", "", 27, 27, 2, 4, 1, 2, "activation", sizeof(ot_ccs_attrs), ccs_parse, ccs_infer, ccs_cpu,
     0, "float, double, float16, bfloat16", .grad = ot_ccs_grad_rule},
    {"LinearAttention", "", 27, 27, 3, 6, 1, 2, "chunk_size,kv_num_heads,q_num_heads,scale,update_rule",
     sizeof(ot_la_attrs), la_parse, la_infer, la_cpu, 0,
     "float, double, float16, bfloat16 (past_state may differ: its type is present_state's)", .grad = ot_la_grad_rule},
    {"FlexAttention", "ai.onnx.preview", 1, 1, 3, 3, 1, 1, "prob_mod,scale,score_mod,softmax_precision",
     sizeof(ot_flex_attrs), flex_parse, flex_infer, flex_cpu, 0, "float, double, float16, bfloat16",
     .grad = ot_flex_grad_rule},
    /* dy?, input, weight, bias?, past_state?, dpresent? -> dinput, dweight, dbias, dpast (ops/attention_ext_grad.c) */
    {"CausalConvWithStateGrad", OT_DOMAIN_TRAIN, 1, 1, 3, 6, 4, 4, "activation,grads", sizeof(ot_ccs_attrs),
     ot_ccs_grad_parse, ot_ccs_grad_infer, ot_ccs_grad_cpu, 0, "float, double, float16, bfloat16"},
    /* doutput?, query, key, value, past_state?, decay?, beta?, dpresent? -> dq, dk, dv, dpast, ddecay, dbeta */
    {"LinearAttentionGrad", OT_DOMAIN_TRAIN, 1, 1, 4, 8, 6, 6,
     "chunk_size,grads,kv_num_heads,q_num_heads,scale,update_rule", sizeof(ot_la_attrs), ot_la_grad_parse,
     ot_la_grad_infer, ot_la_grad_cpu, 0, "float, double, float16, bfloat16"},
};
const int ot_ops_attention_ext_count = sizeof(ot_ops_attention_ext) / sizeof(ot_ops_attention_ext[0]);
