/* Gradients of the attention-extension ops (ops/attention_ext.c).
 *
 * CausalConvWithState -> ai.onnxtrain CausalConvWithStateGrad:
 *   (dy?, input, weight, bias?, past_state?, dpresent?) -> dinput, dweight, dbias, dpast
 *   dy (B, C, L) and dpresent (B, C, k - 1) are the outputs' gradients (absent:
 *   zero); the outputs have the shapes of input, weight (C, 1, k), bias (C),
 *   past_state.  The SiLU's pre-activation is recomputed from the inputs.
 *   Attributes: activation (the forward's) and grads, a bit mask of the
 *   outputs wanted; the others are empty (shape (0)).
 *
 * LinearAttention -> ai.onnxtrain LinearAttentionGrad:
 *   (doutput?, query, key, value, past_state?, decay?, beta?, dpresent?)
 *     -> dquery, dkey, dvalue, dpast_state, ddecay, dbeta
 *   doutput (B, T, Hq * dv), dpresent (B, Hkv, dk, dv); outputs in the shapes
 *   of the forward's inputs (empty when not wanted, per `grads`).  The
 *   backward replays the recurrence keeping every step's entering state,
 *   then walks the steps backwards (kernels/cpu/attention_ext.c).
 *   Attributes: the forward's plus grads.
 *
 * FlexAttention without modifiers is Attention (4-D, no mask) and takes its
 * gradient from AttentionGrad.  Gradients through score_mod / prob_mod
 * subgraphs would need the subgraphs' own derivatives: rejected. */
#include <string.h>

#include "grad.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_ext.h"
#include "src/runtime/workspace.h"

/* ops/attention_ext.c */
ot_status ot_ccs_parse_common(const ot_node *n, ot_ccs_attrs *a);
ot_status ot_ccs_setup(const ot_kctx *c, int base, ot_ccs_args *a, ot_dtype *dt);
ot_status ot_la_parse_common(const ot_node *n, ot_la_attrs *a);
ot_status ot_la_setup(const ot_kctx *c, const ot_la_attrs *at, int base, ot_la_args *a, ot_dtype *dt, ot_dtype *st);

/* The bit mask of inputs 0 .. n - 1 that need a gradient. */
static unsigned needed(ot_grad_ctx *g, int n) {
    unsigned m = 0;
    for (int i = 0; i < n; i++)
        if (ot_grad_x(g, i) >= 0 && ot_grad_needs(g, i)) m |= 1u << i;
    return m;
}

/* Emits `op` and hands output i to input i for each bit of grads. */
static ot_status emit_grads(ot_grad_ctx *g, const char *op, int n_in, int *in, int n_out, unsigned grads, int n_at,
                            const ot_grad_attr *at) {
    int out[8];
    while (n_in > 0 && in[n_in - 1] < 0)
        n_in--;
    OT_TRY(ot_grad_emit(g, op, OT_DOMAIN_TRAIN, n_in, in, n_out, out, n_at, at));
    for (int i = 0; i < n_out; i++)
        if (grads >> i & 1) OT_TRY(ot_grad_set(g, i, out[i]));
    return OT_OK;
}

static ot_status check_like(const ot_kctx *c, int i, const char *what, const ot_tensor *like) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return OT_OK;
    char b1[128], b2[128];
    if (!ot_shape_equal(t->rank, t->dims, like->rank, like->dims))
        return ot_op_error(c, OT_ERR_SHAPE, "%s is %s; expected %s", what, ot_shape_str(t->rank, t->dims, b1, sizeof b1),
                           ot_shape_str(like->rank, like->dims, b2, sizeof b2));
    if (!ot_dtype_is_float(t->dtype))
        return ot_op_error(c, OT_ERR_INVALID_ARG, "%s must be floating point, got %s", what, ot_dtype_name(t->dtype));
    return OT_OK;
}

static ot_status parse_grads(const ot_node *n, int count, unsigned *out) {
    int64_t grads;
    OT_TRY(ot_attr_get_int(n, "grads", (1 << count) - 1, &grads));
    if (grads < 0 || grads >= (1 << count))
        return ot_node_error(n, OT_ERR_PARSE, "grads must be a bit mask of the %d outputs, got %lld", count,
                             (long long)grads);
    *out = (unsigned)grads;
    return OT_OK;
}

/* Output i: like `like` when wanted, else empty. */
static void set_grad_out(ot_kctx *c, int i, unsigned grads, const ot_tensor *like) {
    if (grads >> i & 1) ot_set_out(c, i, like->dtype, like->rank, like->dims);
    else ot_set_out(c, i, like ? like->dtype : c->in[1]->dtype, 1, (int64_t[]){0});
}

/* ---- CausalConvWithState ------------------------------------------------------------ */

ot_status ot_ccs_grad_rule(ot_grad_ctx *g) {
    const ot_ccs_attrs *a = ot_grad_attrs(g);
    unsigned grads = needed(g, 4);
    int in[6] = {ot_grad_dy(g, 0), ot_grad_x(g, 0), ot_grad_x(g, 1), ot_grad_x(g, 2), ot_grad_x(g, 3), ot_grad_dy(g, 1)};
    if (!grads || (in[0] < 0 && in[5] < 0)) return OT_OK;
    ot_grad_attr at[2] = {{.name = "activation", .type = OT_ATTR_STRING, .s = a->silu ? "silu" : "none"},
                          {.name = "grads", .type = OT_ATTR_INT, .i = grads}};
    return emit_grads(g, "CausalConvWithStateGrad", 6, in, 4, grads, 2, at);
}

ot_status ot_ccs_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_ccs_attrs *a = attrs;
    OT_TRY(ot_ccs_parse_common(n, a));
    return parse_grads(n, 4, &a->grads);
}

static ot_status ccs_grad_setup(ot_kctx *c, ot_ccs_args *a, ot_dtype *dt) {
    const ot_ccs_attrs *at = c->attrs;
    OT_TRY(ot_ccs_setup(c, 1, a, dt));
    ot_tensor like_y = {0}, like_p = {0};
    ot_tensor_set_shape(&like_y, *dt, 3, (int64_t[]){a->B, a->C, a->L});
    ot_tensor_set_shape(&like_p, *dt, 3, (int64_t[]){a->B, a->C, a->K - 1});
    OT_TRY(check_like(c, 0, "dy", &like_y));
    OT_TRY(check_like(c, 5, "dpresent", &like_p));
    for (int i = 0; i < 4; i++)
        if ((at->grads >> i & 1) && !ot_in(c, i + 1))
            return ot_op_error(c, OT_ERR_INVALID_ARG, "grads asks for output %d, whose input is absent", i);
    a->silu = at->silu;
    return OT_OK;
}

ot_status ot_ccs_grad_infer(ot_kctx *c) {
    const ot_ccs_attrs *at = c->attrs;
    ot_ccs_args a;
    ot_dtype dt;
    OT_TRY(ccs_grad_setup(c, &a, &dt));
    for (int i = 0; i < 4; i++)
        set_grad_out(c, i, at->grads, ot_in(c, i + 1));
    return OT_OK;
}

ot_status ot_ccs_grad_cpu(ot_kctx *c) {
    const ot_ccs_attrs *at = c->attrs;
    ot_ccs_args a;
    ot_dtype dt;
    OT_TRY(ccs_grad_setup(c, &a, &dt));
    ot_dtype ct = ot_ae_compute_type(dt);
    const void **ins[6] = {&a.dy, &a.x, &a.w, &a.bias, &a.past, &a.dpresent};
    void **outs[4] = {&a.dx, &a.dw, &a.dbias, &a.dpast};
    void *own[10] = {0};
    ot_status s = OT_OK;
    for (int i = 0; i < 6 && !s; i++)
        s = ot_ae_stage_in(ct, ot_in(c, i), ins[i], &own[i]);
    for (int i = 0; i < 4 && !s; i++)
        if (at->grads >> i & 1) s = ot_ae_stage_buf(ct, ot_out(c, i), outs[i], &own[6 + i]);
    if (!s) s = ot_ccs_backward(&a);
    if (!s)
        for (int i = 0; i < 4; i++) {
            if (at->grads >> i & 1) ot_ae_stage_out(ct, ot_out(c, i), own[6 + i]);
            own[6 + i] = NULL;
        }
    for (int i = 0; i < 10; i++)
        ot_ae_release(own[i]);
    return s ? ot_error_context(s, "node '%s' (CausalConvWithStateGrad)", c->name) : OT_OK;
}

/* ---- LinearAttention ------------------------------------------------------------------ */

ot_status ot_la_grad_rule(ot_grad_ctx *g) {
    const ot_la_attrs *a = ot_grad_attrs(g);
    unsigned grads = needed(g, 6);
    int in[8] = {ot_grad_dy(g, 0), ot_grad_x(g, 0), ot_grad_x(g, 1), ot_grad_x(g, 2),
                 ot_grad_x(g, 3),  ot_grad_x(g, 4), ot_grad_x(g, 5), ot_grad_dy(g, 1)};
    if (!grads || (in[0] < 0 && in[7] < 0)) return OT_OK;
    const char *rule = a->gated ? (a->delta ? "gated_delta" : "gated") : (a->delta ? "delta" : "linear");
    ot_grad_attr at[5] = {{.name = "q_num_heads", .type = OT_ATTR_INT, .i = a->q_heads},
                          {.name = "kv_num_heads", .type = OT_ATTR_INT, .i = a->kv_heads},
                          {.name = "scale", .type = OT_ATTR_FLOAT, .f = a->scale},
                          {.name = "update_rule", .type = OT_ATTR_STRING, .s = rule},
                          {.name = "grads", .type = OT_ATTR_INT, .i = grads}};
    return emit_grads(g, "LinearAttentionGrad", 8, in, 6, grads, 5, at);
}

ot_status ot_la_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_la_attrs *a = attrs;
    OT_TRY(ot_la_parse_common(n, a));
    return parse_grads(n, 6, &a->grads);
}

static ot_status la_grad_setup(ot_kctx *c, ot_la_args *a, ot_dtype *dt) {
    const ot_la_attrs *at = c->attrs;
    ot_dtype st;
    OT_TRY(ot_la_setup(c, at, 1, a, dt, &st));
    ot_tensor like_o = {0}, like_s = {0};
    ot_tensor_set_shape(&like_o, *dt, 3, (int64_t[]){a->B, a->T, a->Hq * a->dv});
    ot_tensor_set_shape(&like_s, st, 4, (int64_t[]){a->B, a->Hkv, a->dk, a->dv});
    OT_TRY(check_like(c, 0, "doutput", &like_o));
    OT_TRY(check_like(c, 7, "dpresent", &like_s));
    for (int i = 0; i < 6; i++)
        if ((at->grads >> i & 1) && !ot_in(c, i + 1))
            return ot_op_error(c, OT_ERR_INVALID_ARG, "grads asks for output %d, whose input is absent", i);
    return OT_OK;
}

ot_status ot_la_grad_infer(ot_kctx *c) {
    const ot_la_attrs *at = c->attrs;
    ot_la_args a;
    ot_dtype dt;
    OT_TRY(la_grad_setup(c, &a, &dt));
    for (int i = 0; i < 6; i++)
        set_grad_out(c, i, at->grads, ot_in(c, i + 1));
    return OT_OK;
}

ot_status ot_la_grad_cpu(ot_kctx *c) {
    const ot_la_attrs *at = c->attrs;
    ot_la_args a;
    ot_dtype dt;
    OT_TRY(la_grad_setup(c, &a, &dt));
    ot_dtype ct = ot_ae_compute_type(dt);
    const void **ins[8] = {&a.dout, &a.q, &a.k, &a.v, &a.past, &a.decay, &a.beta, &a.dpresent};
    void **outs[5] = {&a.dq, &a.dk_, &a.dv_, &a.dpast, &a.ddecay};
    void *own[13] = {0};
    ot_status s = OT_OK;
    for (int i = 0; i < 8 && !s; i++)
        s = ot_ae_stage_in(ct, ot_in(c, i), ins[i], &own[i]);
    for (int i = 0; i < 5 && !s; i++)
        if (at->grads >> i & 1) s = ot_ae_stage_buf(ct, ot_out(c, i), outs[i], &own[8 + i]);
    int64_t nb = a.B * a.T * a.Hkv;
    void *dbeta = NULL; /* (B, T, Hkv): summed over heads when beta is (B, T, 1) */
    if (!s && (at->grads >> 5 & 1) && !(dbeta = ot_workspace_alloc((size_t)nb * ot_dtype_size(ct))))
        s = ot_op_error(c, OT_ERR_NOMEM, "out of memory for dbeta");
    a.dbeta = dbeta;
    if (!s) s = ot_la_backward(&a);
    if (!s) {
        for (int i = 0; i < 5; i++) {
            if (at->grads >> i & 1) ot_ae_stage_out(ct, ot_out(c, i), own[8 + i]);
            own[8 + i] = NULL;
        }
        if (dbeta) {
            ot_tensor *o = c->out[5];
            for (int64_t r = 0; r < a.B * a.T; r++) {
                if (a.nbeta == 1) {
                    double acc = 0;
                    for (int64_t h = 0; h < a.Hkv; h++)
                        acc += ot_load_f64(ct, dbeta, r * a.Hkv + h);
                    ot_store_f64(o->dtype, o->data, r, acc);
                } else {
                    for (int64_t h = 0; h < a.Hkv; h++)
                        ot_store_f64(o->dtype, o->data, r * a.Hkv + h, ot_load_f64(ct, dbeta, r * a.Hkv + h));
                }
            }
        }
    }
    for (int i = 0; i < 13; i++)
        ot_ae_release(own[i]);
    ot_ae_release(dbeta);
    return s ? ot_error_context(s, "node '%s' (LinearAttentionGrad)", c->name) : OT_OK;
}

/* ---- FlexAttention ------------------------------------------------------------------- */

ot_status ot_flex_grad_rule(ot_grad_ctx *g) {
    const ot_flex_attrs *a = ot_grad_attrs(g);
    unsigned grads = needed(g, 3);
    int dy = ot_grad_dy(g, 0);
    if (!grads || dy < 0) return OT_OK;
    if (a->score_mod || a->prob_mod)
        return ot_node_error(ot_grad_node(g), OT_ERR_UNSUPPORTED,
                             "no gradient through FlexAttention's score_mod / prob_mod subgraphs (only without them)");
    int in[4] = {dy, ot_grad_x(g, 0), ot_grad_x(g, 1), ot_grad_x(g, 2)};
    ot_grad_attr at[2] = {{.name = "grads", .type = OT_ATTR_INT, .i = grads},
                          {.name = "scale", .type = OT_ATTR_FLOAT, .f = a->scale}};
    return emit_grads(g, "AttentionGrad", 4, in, 6, grads, a->has_scale ? 2 : 1, at);
}
