/* Gradient rules of the attention family and the ai.onnxtrain op they emit.
 * Numeric loops: kernels/cpu/attention.c.
 *
 *   AttentionGrad(dY?, Q, K, V, attn_mask?, past_key?, past_value?,
 *                 nonpad_kv_seqlen?, d_present_key?, d_present_value?,
 *                 d_qk_matmul_output?) -> dQ, dK, dV, dmask, dpast_key, dpast_value
 *       Inputs 1..7 are the forward's inputs; dY has Y's shape, the present
 *       gradients (B, kv_heads, total_seq, head_size | v_head_size), the
 *       qk_matmul_output gradient (B, q_heads, q_seq, total_seq); any of them
 *       may be absent (no gradient flows there).  The probabilities are
 *       recomputed block by block from Q, K and the mask (nothing of size
 *       q_seq x total_seq is kept from the forward).  Outputs: dQ, dK, dV in
 *       the shapes of Q, K, V; dmask dense (B, q_heads, q_seq, Tm) (Tm: the
 *       mask's last dim when Attention-24 pads it, else total_seq), summed
 *       back to the mask's shape by the rule; dpast_* in the caches' shapes.
 *       Attributes: the forward's, plus pad_mask (the forward ran at opset
 *       >= 24) and grads, a bit mask of the outputs to compute (bit i: output
 *       i); the others are empty (shape (0)).
 *
 * RotaryEmbedding rotates pairs of elements by a position's angle, so its
 * input gradient is the inverse rotation: the same op with -sin.  The cos /
 * sin caches get no gradient: they are fixed tables (non-trainable buffers in
 * PyTorch models), and giving them one would make the trainer update them as
 * parameters. */
#include <string.h>

#include "grad.h"
#include "kernels/cpu/attention.h"

/* ops/attention.c */
ot_status ot_attention_parse_common(const ot_node *n, ot_attn_attrs *a);
ot_status ot_attention_setup(const ot_kctx *c, const ot_attn_attrs *at, int base, ot_attn_args *a);

enum { G_DQ, G_DK, G_DV, G_DMASK, G_DPAST_K, G_DPAST_V, G_COUNT };

/* ---- rules ------------------------------------------------------------------------ */

ot_status ot_attention_grad_rule(ot_grad_ctx *g) {
    const ot_attn_attrs *a = ot_grad_attrs(g);
    unsigned grads = 0; /* AttentionGrad's output i is the gradient of forward input i */
    for (int i = 0; i < G_COUNT; i++)
        if (ot_grad_needs(g, i)) grads |= 1u << i;
    int in[11] = {ot_grad_dy(g, 0), ot_grad_x(g, 0),  ot_grad_x(g, 1), ot_grad_x(g, 2),
                  ot_grad_x(g, 3),  ot_grad_x(g, 4),  ot_grad_x(g, 5), ot_grad_x(g, 6),
                  ot_grad_dy(g, 1), ot_grad_dy(g, 2), ot_grad_dy(g, 3)};
    if (!grads || (in[0] < 0 && in[8] < 0 && in[9] < 0 && in[10] < 0)) return OT_OK;
    int n_in = 11;
    while (in[n_in - 1] < 0)
        n_in--;
    ot_grad_attr at[10];
    int n_at = 0;
    at[n_at++] = (ot_grad_attr){.name = "is_causal", .type = OT_ATTR_INT, .i = a->is_causal};
    at[n_at++] = (ot_grad_attr){.name = "qk_matmul_output_mode", .type = OT_ATTR_INT, .i = a->qk_mode};
    at[n_at++] = (ot_grad_attr){.name = "softcap", .type = OT_ATTR_FLOAT, .f = a->softcap};
    at[n_at++] = (ot_grad_attr){.name = "pad_mask", .type = OT_ATTR_INT, .i = a->pad_mask};
    at[n_at++] = (ot_grad_attr){.name = "grads", .type = OT_ATTR_INT, .i = grads};
    if (a->has_scale) at[n_at++] = (ot_grad_attr){.name = "scale", .type = OT_ATTR_FLOAT, .f = a->scale};
    if (a->q_num_heads) at[n_at++] = (ot_grad_attr){.name = "q_num_heads", .type = OT_ATTR_INT, .i = a->q_num_heads};
    if (a->kv_num_heads) at[n_at++] = (ot_grad_attr){.name = "kv_num_heads", .type = OT_ATTR_INT, .i = a->kv_num_heads};
    if (a->softmax_precision)
        at[n_at++] = (ot_grad_attr){.name = "softmax_precision", .type = OT_ATTR_INT, .i = a->softmax_precision};
    ot_dtype qt = ot_grad_value(g, in[1])->dtype, mt = in[4] >= 0 ? ot_grad_value(g, in[4])->dtype : qt;
    int out[G_COUNT];
    OT_TRY(ot_grad_emit(g, "AttentionGrad", OT_DOMAIN_TRAIN, n_in, in, G_COUNT, out, n_at, at));
    for (int i = 0; i < G_COUNT; i++) {
        if (!(grads & (1u << i))) continue;
        int dx = out[i];
        if (i == G_DMASK && mt != qt) { /* a float mask of another precision than Q */
            ot_grad_attr to = {.name = "to", .type = OT_ATTR_INT, .i = mt};
            OT_TRY(ot_grad_emit(g, "Cast", "", 1, &out[i], 1, &dx, 1, &to));
        }
        OT_TRY(ot_grad_set(g, i, dx)); /* the dense dmask is summed to the mask's shape here */
    }
    return OT_OK;
}

/* dx = RotaryEmbedding(dy, cos, -sin): the rotation's transpose.  Emitted at
   the model's opset, which has RotaryEmbedding since the forward node does. */
ot_status ot_rotary_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_node *n = ot_grad_node(g);
    int64_t interleaved = 0, dim = 0, heads = 0;
    OT_TRY(ot_attr_get_int(n, "interleaved", 0, &interleaved));
    OT_TRY(ot_attr_get_int(n, "rotary_embedding_dim", 0, &dim));
    OT_TRY(ot_attr_get_int(n, "num_heads", 0, &heads));
    int in[4] = {dy, ot_grad_x(g, 1), -1, ot_grad_x(g, 3)}, dx;
    OT_TRY(ot_grad_op1(g, "Neg", ot_grad_x(g, 2), &in[2]));
    ot_grad_attr at[3] = {{.name = "interleaved", .type = OT_ATTR_INT, .i = interleaved},
                          {.name = "rotary_embedding_dim", .type = OT_ATTR_INT, .i = dim},
                          {.name = "num_heads", .type = OT_ATTR_INT, .i = heads}};
    OT_TRY(ot_grad_emit(g, "RotaryEmbedding", "", in[3] >= 0 ? 4 : 3, in, 1, &dx, heads ? 3 : 2, at));
    return ot_grad_set(g, 0, dx);
}

/* ---- AttentionGrad ------------------------------------------------------------------ */

ot_status ot_attention_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_attn_attrs *a = attrs;
    int64_t pad, grads;
    OT_TRY(ot_attention_parse_common(n, a));
    OT_TRY(ot_attr_get_int(n, "pad_mask", 0, &pad));
    OT_TRY(ot_attr_get_int(n, "grads", (1 << G_COUNT) - 1, &grads));
    if (grads < 0 || grads >= (1 << G_COUNT))
        return ot_node_error(n, OT_ERR_PARSE, "grads must be a bit mask of the %d outputs, got %lld", G_COUNT,
                             (long long)grads);
    a->pad_mask = pad != 0;
    a->grads = (unsigned)grads;
    return OT_OK;
}

static ot_status check_grad_input(const ot_kctx *c, int i, const char *what, ot_dtype dt, int rank,
                                  const int64_t *want) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return OT_OK;
    char b1[128], b2[128];
    if (t->dtype != dt || !ot_shape_equal(t->rank, t->dims, rank, want))
        return ot_op_error(c, OT_ERR_SHAPE, "%s is %s %s; expected %s %s", what, ot_dtype_name(t->dtype),
                           ot_shape_str(t->rank, t->dims, b1, sizeof b1), ot_dtype_name(dt),
                           ot_shape_str(rank, want, b2, sizeof b2));
    return OT_OK;
}

/* Validates every input; out[i] receives output i's dims (rank 4, or Q's). */
static ot_status grad_setup(const ot_kctx *c, ot_attn_args *a, int *ranks, int64_t dims[G_COUNT][4]) {
    const ot_attn_attrs *at = c->attrs;
    OT_TRY(ot_attention_setup(c, at, 1, a));
    const ot_attn_shape *s = &a->sh;
    const ot_tensor *Q = c->in[1], *K = c->in[2], *V = c->in[3], *M = ot_in(c, 4), *PK = ot_in(c, 5);
    int64_t y[4] = {s->B, s->Hq, s->Sq, s->Dv}, tk[4] = {s->B, s->Hkv, s->T, s->D}, tv[4] = {s->B, s->Hkv, s->T, s->Dv};
    int64_t qk[4] = {s->B, s->Hq, s->Sq, s->T}, dm[4] = {s->B, s->Hq, s->Sq, s->Tm};
    if (s->three_d) y[1] = s->Sq, y[2] = s->Hq * s->Dv;
    OT_TRY(check_grad_input(c, 0, "dY", a->dtype, s->three_d ? 3 : 4, y));
    OT_TRY(check_grad_input(c, 8, "d_present_key", a->dtype, 4, tk));
    OT_TRY(check_grad_input(c, 9, "d_present_value", a->dtype, 4, tv));
    OT_TRY(check_grad_input(c, 10, "d_qk_matmul_output", a->dtype, 4, qk));
    if ((at->grads >> G_DMASK & 1) && (!M || !ot_dtype_is_float(M->dtype)))
        return ot_op_error(c, OT_ERR_INVALID_ARG, "the mask gradient needs a float attn_mask");
    if ((at->grads >> G_DPAST_K & 3) && !PK)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "past gradients need past_key / past_value");
    const ot_tensor *like[G_COUNT] = {Q, K, V, NULL, PK, ot_in(c, 6)};
    for (int i = 0; i < G_COUNT; i++) {
        if (!(at->grads >> i & 1)) {
            ranks[i] = 1;
            dims[i][0] = 0;
        } else if (i == G_DMASK) {
            ranks[i] = 4;
            memcpy(dims[i], dm, sizeof dm);
        } else {
            ranks[i] = like[i]->rank;
            memcpy(dims[i], like[i]->dims, sizeof(int64_t) * (size_t)like[i]->rank);
        }
    }
    return OT_OK;
}

ot_status ot_attention_grad_infer(ot_kctx *c) {
    ot_attn_args a;
    int ranks[G_COUNT];
    int64_t dims[G_COUNT][4];
    OT_TRY(grad_setup(c, &a, ranks, dims));
    for (int i = 0; i < G_COUNT; i++)
        ot_set_out(c, i, a.dtype, ranks[i], dims[i]);
    /* The scratch depends on which operands exist, not on their data: the
       tensor handles stand for the data here. */
    const ot_attn_attrs *at = c->attrs;
    a.dy = ot_in(c, 0), a.dpresent_k = ot_in(c, 8), a.dpresent_v = ot_in(c, 9), a.dqk = ot_in(c, 10);
    a.q = c->in[1], a.k = c->in[2], a.v = c->in[3], a.mask = ot_in(c, 4);
    a.past_k = ot_in(c, 5), a.past_v = ot_in(c, 6);
    void **out[G_COUNT] = {&a.dq, &a.dk, &a.dv, &a.dmask, &a.dpast_k, &a.dpast_v};
    for (int i = 0; i < G_COUNT; i++) *out[i] = at->grads >> i & 1 ? ot_out(c, i) : NULL;
    ot_attention_request_scratch(&a, true);
    return OT_OK;
}

ot_status ot_attention_grad_cpu(ot_kctx *c) {
    ot_attn_args a;
    int ranks[G_COUNT];
    int64_t dims[G_COUNT][4];
    OT_TRY(grad_setup(c, &a, ranks, dims));
    const ot_attn_attrs *at = c->attrs;
    a.dy = ot_in(c, 0) ? c->in[0]->data : NULL;
    a.dpresent_k = ot_in(c, 8) ? c->in[8]->data : NULL;
    a.dpresent_v = ot_in(c, 9) ? c->in[9]->data : NULL;
    a.dqk = ot_in(c, 10) ? c->in[10]->data : NULL;
    void **out[G_COUNT] = {&a.dq, &a.dk, &a.dv, &a.dmask, &a.dpast_k, &a.dpast_v};
    for (int i = 0; i < G_COUNT; i++)
        *out[i] = (at->grads >> i & 1) && ot_out(c, i) ? c->out[i]->data : NULL;
    ot_status s = ot_attention_backward(&a);
    return s ? ot_error_context(s, "node '%s' (AttentionGrad)", c->name) : OT_OK;
}
