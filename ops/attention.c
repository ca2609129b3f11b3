/* Op family: attention.  ONNX Attention (opsets 23 and 24: scaled dot-product
 * attention with masks, causal masking, softcap, KV caches, GQA/MQA, the 3-D
 * and 4-D input forms) and RotaryEmbedding (opset 23).  Numeric loops:
 * kernels/cpu/attention.c.  Gradient rules and the ai.onnxtrain op
 * AttentionGrad: ops/attention_grad.c (its row is in the table below). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grad.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"

/* ops/attention_grad.c */
ot_status ot_attention_grad_rule(ot_grad_ctx *g);
ot_status ot_rotary_grad_rule(ot_grad_ctx *g);
ot_status ot_attention_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_attention_grad_infer(ot_kctx *c);
ot_status ot_attention_grad_cpu(ot_kctx *c);

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};
static const ot_dtype mask_types[] = {OT_BOOL,  OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_INT8,   OT_INT16,
                                      OT_INT32, OT_INT64, OT_UINT8,  OT_UINT16,  OT_UINT32,   OT_UINT64, OT_UNDEFINED};

/* ---- Attention: attributes --------------------------------------------------------- */

static ot_status flag_attr(const ot_node *n, const char *name, bool *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, name, 0, &v));
    if (v != 0 && v != 1)
        return ot_node_error(n, OT_ERR_PARSE, "attribute %s must be 0 or 1, got %lld", name, (long long)v);
    *out = v == 1;
    return OT_OK;
}

/* The attributes Attention and AttentionGrad share (pad_mask: the caller). */
/* softmax_precision (Attention, FlexAttention): 0 (the inputs' type) or a float type. */
ot_status ot_attention_parse_precision(const ot_node *n, int64_t *precision) {
    OT_TRY(ot_attr_get_int(n, "softmax_precision", 0, precision));
    int64_t p = *precision;
    if (p != 0 && p != OT_FLOAT && p != OT_DOUBLE && p != OT_FLOAT16 && p != OT_BFLOAT16)
        return ot_node_error(n, OT_ERR_UNSUPPORTED,
                             "softmax_precision %lld is not a floating-point type (float, double, float16, bfloat16)",
                             (long long)p);
    return OT_OK;
}

ot_status ot_attention_parse_common(const ot_node *n, ot_attn_attrs *a) {
    memset(a, 0, sizeof *a);
    OT_TRY(flag_attr(n, "is_causal", &a->is_causal));
    OT_TRY(ot_attr_get_int(n, "q_num_heads", 0, &a->q_num_heads));
    OT_TRY(ot_attr_get_int(n, "kv_num_heads", 0, &a->kv_num_heads));
    if ((ot_node_attr(n, "q_num_heads") && a->q_num_heads <= 0) ||
        (ot_node_attr(n, "kv_num_heads") && a->kv_num_heads <= 0))
        return ot_node_error(n, OT_ERR_PARSE, "q_num_heads (%lld) and kv_num_heads (%lld) must be positive",
                             (long long)a->q_num_heads, (long long)a->kv_num_heads);
    OT_TRY(ot_attr_get_int(n, "qk_matmul_output_mode", 0, &a->qk_mode));
    if (a->qk_mode < 0 || a->qk_mode > 3)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "qk_matmul_output_mode %lld is not one of 0, 1, 2, 3",
                             (long long)a->qk_mode);
    a->has_scale = ot_node_attr(n, "scale") != NULL;
    OT_TRY(ot_attr_get_float(n, "scale", 1.0f, &a->scale));
    OT_TRY(ot_attr_get_float(n, "softcap", 0.0f, &a->softcap));
    if (!(a->softcap >= 0) || isinf(a->softcap))
        return ot_node_error(n, OT_ERR_PARSE, "softcap must be a finite value >= 0 (0: none), got %g",
                             (double)a->softcap);
    return ot_attention_parse_precision(n, &a->softmax_precision);
}

static ot_status attention_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_attn_attrs *a = attrs;
    OT_TRY(ot_attention_parse_common(n, a));
    a->pad_mask = opset >= 24; /* Attention-24: a short mask is padded with -inf */
    return OT_OK;
}

/* ---- Attention: shapes ------------------------------------------------------------ */

static ot_status shape_error(const ot_kctx *c, const char *what, const ot_tensor *t, const char *want) {
    char b[128];
    return ot_op_error(c, OT_ERR_SHAPE, "%s has shape %s; expected %s", what,
                       ot_shape_str(t->rank, t->dims, b, sizeof b), want);
}

/* Head count and head size of a (B, S, H * d) operand. */
static ot_status split_hidden(const ot_kctx *c, const char *what, const ot_tensor *t, int64_t heads, int64_t *d) {
    if (heads <= 0)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "3-D inputs need the q_num_heads and kv_num_heads attributes");
    if (t->dims[2] % heads)
        return ot_op_error(c, OT_ERR_SHAPE, "%s's hidden size %lld is not a multiple of its %lld heads", what,
                           (long long)t->dims[2], (long long)heads);
    *d = t->dims[2] / heads;
    return OT_OK;
}

/* The mask broadcast to (B, Hq, Sq, T): right-aligned numpy broadcasting;
   with pad_mask a shorter last dim is padded with -inf (Attention-24). */
static ot_status mask_layout(const ot_kctx *c, const ot_attn_attrs *at, const ot_tensor *m, ot_attn_shape *s) {
    int64_t want[4] = {s->B, s->Hq, s->Sq, s->T}, md[4] = {1, 1, 1, 1}, str = 1;
    char b[128];
    if (m->rank > 4)
        return shape_error(c, "attn_mask", m, "at most 4 dims, broadcastable to (B, q_num_heads, q_seq, total_seq)");
    for (int k = 0; k < m->rank; k++)
        md[4 - m->rank + k] = m->dims[k];
    s->Tm = s->T;
    for (int k = 0; k < 3; k++)
        if (md[k] != 1 && md[k] != want[k]) goto bad;
    if (md[3] != s->T) {
        if (at->pad_mask && md[3] < s->T)
            s->Tm = md[3];
        else if (md[3] != 1)
            goto bad;
    }
    s->mask_numel = 1;
    for (int k = 3; k >= 0; k--) {
        s->mask_str[k] = md[k] == 1 && !(k == 3 && s->Tm < s->T) ? 0 : str;
        str *= md[k];
        s->mask_numel *= md[k];
    }
    return OT_OK;
bad:;
    char mb[128];
    return ot_op_error(c, OT_ERR_SHAPE,
                       "attn_mask %s is not broadcastable to (B, q_num_heads, q_seq, total_seq) = %s%s",
                       ot_shape_str(m->rank, m->dims, mb, sizeof mb), ot_shape_str(4, want, b, sizeof b),
                       at->pad_mask ? " (its last dim may also be shorter than total_seq)" : "");
}

/* Validates Q, K, V, attn_mask, past_key, past_value, nonpad_kv_seqlen (inputs
   base .. base + 6) and fills args' shape and input pointers (data pointers
   are NULL at infer for values not known yet).  Shared with AttentionGrad. */
ot_status ot_attention_setup(const ot_kctx *c, const ot_attn_attrs *at, int base, ot_attn_args *a) {
    const ot_tensor *Q = ot_in(c, base), *K = ot_in(c, base + 1), *V = ot_in(c, base + 2), *M = ot_in(c, base + 3);
    const ot_tensor *PK = ot_in(c, base + 4), *PV = ot_in(c, base + 5), *NP = ot_in(c, base + 6);
    ot_attn_shape *s = &a->sh;
    memset(a, 0, sizeof *a);
    if (!Q || !K || !V) return ot_op_error(c, OT_ERR_INVALID_ARG, "Q, K and V are required");
    for (int i = 0; i < 3; i++)
        OT_TRY(ot_check_dtype(c, base + i, float_types));
    if (K->dtype != Q->dtype || V->dtype != Q->dtype)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "Q, K and V must share one type here (got %s, %s, %s)",
                           ot_dtype_name(Q->dtype), ot_dtype_name(K->dtype), ot_dtype_name(V->dtype));
    if ((Q->rank != 3 && Q->rank != 4) || K->rank != Q->rank || V->rank != Q->rank)
        return ot_op_error(
            c, OT_ERR_SHAPE,
            "Q, K and V must all be 3-D (B, S, hidden) or all 4-D (B, heads, S, head_size); got ranks %d, %d, %d",
            Q->rank, K->rank, V->rank);
    s->three_d = Q->rank == 3;
    s->B = Q->dims[0];
    if (s->three_d) {
        s->Hq = at->q_num_heads;
        s->Hkv = at->kv_num_heads;
        s->Sq = Q->dims[1];
        s->Skv = K->dims[1];
        int64_t dk, dq;
        OT_TRY(split_hidden(c, "Q", Q, s->Hq, &dq));
        OT_TRY(split_hidden(c, "K", K, s->Hkv, &dk));
        OT_TRY(split_hidden(c, "V", V, s->Hkv, &s->Dv));
        if (dk != dq)
            return ot_op_error(c, OT_ERR_SHAPE,
                               "Q's head size %lld (hidden %lld / %lld heads) differs from K's %lld (%lld / %lld)",
                               (long long)dq, (long long)Q->dims[2], (long long)s->Hq, (long long)dk,
                               (long long)K->dims[2], (long long)s->Hkv);
        s->D = dq;
    } else {
        s->Hq = Q->dims[1];
        s->Hkv = K->dims[1];
        s->Sq = Q->dims[2];
        s->Skv = K->dims[2];
        s->D = Q->dims[3];
        s->Dv = V->dims[3];
        if ((at->q_num_heads && at->q_num_heads != s->Hq) || (at->kv_num_heads && at->kv_num_heads != s->Hkv))
            return ot_op_error(
                c, OT_ERR_SHAPE, "q_num_heads %lld / kv_num_heads %lld contradict the 4-D inputs' %lld / %lld heads",
                (long long)at->q_num_heads, (long long)at->kv_num_heads, (long long)s->Hq, (long long)s->Hkv);
        if (K->dims[3] != s->D) return shape_error(c, "K", K, "the same head size as Q (dim 3)");
        if (V->dims[1] != s->Hkv) return shape_error(c, "V", V, "as many heads as K (dim 1)");
    }
    if (K->dims[0] != s->B || V->dims[0] != s->B)
        return shape_error(c, K->dims[0] != s->B ? "K" : "V", K->dims[0] != s->B ? K : V, "Q's batch size");
    if (V->dims[s->three_d ? 1 : 2] != s->Skv) return shape_error(c, "V", V, "as many keys (sequence length) as K");
    if (s->Hkv <= 0 || s->Hq % s->Hkv)
        return ot_op_error(c, OT_ERR_SHAPE, "q_num_heads %lld is not a multiple of kv_num_heads %lld", (long long)s->Hq,
                           (long long)s->Hkv);
    if (!PK != !PV) return ot_op_error(c, OT_ERR_INVALID_ARG, "past_key and past_value must be given together");
    if (PK) {
        for (int i = 4; i < 6; i++)
            OT_TRY(ot_check_dtype(c, base + i, float_types));
        if (PK->dtype != Q->dtype || PV->dtype != Q->dtype)
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "past_key / past_value must have Q's type %s",
                               ot_dtype_name(Q->dtype));
        if (PK->rank != 4 || PK->dims[0] != s->B || PK->dims[1] != s->Hkv || PK->dims[3] != s->D)
            return shape_error(c, "past_key", PK, "(B, kv_num_heads, past_seq, head_size)");
        s->P = PK->dims[2];
        if (PV->rank != 4 || PV->dims[0] != s->B || PV->dims[1] != s->Hkv || PV->dims[2] != s->P ||
            PV->dims[3] != s->Dv)
            return shape_error(c, "past_value", PV, "(B, kv_num_heads, past_seq, v_head_size) matching past_key");
    }
    s->T = s->P + s->Skv;
    s->Tm = s->T;
    int64_t fits[] = {s->Sq, s->T, s->D, s->Dv, s->Hq * s->D, s->Hkv * s->D, s->Hkv * s->Dv, s->Hq * s->Dv};
    for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++)
        if (!ot_blas_fits(fits[i]))
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "dimension %lld is too large for BLAS", (long long)fits[i]);
    a->dtype = Q->dtype;
    a->q = Q->data;
    a->k = K->data;
    a->v = V->data;
    a->past_k = PK ? PK->data : NULL;
    a->past_v = PV ? PV->data : NULL;
    if (M) {
        OT_TRY(ot_check_dtype(c, base + 3, mask_types));
        OT_TRY(mask_layout(c, at, M, s));
        a->mask = M->data;
        a->mask_dtype = M->dtype;
    }
    if (NP) {
        if (NP->dtype != OT_INT64 || NP->rank != 1 || NP->dims[0] != s->B)
            return ot_op_error(c, OT_ERR_SHAPE, "nonpad_kv_seqlen must be int64 of shape (B) = (%lld)",
                               (long long)s->B);
        a->nonpad = NP->data;
    }
    a->causal = at->is_causal;
    a->qk_mode = (int)at->qk_mode;
    a->scale = at->has_scale ? at->scale : s->D > 0 ? 1.0 / sqrt((double)s->D) : 1.0;
    a->softcap = at->softcap;
    if (at->softmax_precision == OT_DOUBLE && Q->dtype != OT_DOUBLE)
        return ot_op_error(c, OT_ERR_UNSUPPORTED,
                           "softmax_precision double with %s inputs is not supported (the softmax runs in float32)",
                           ot_dtype_name(Q->dtype));
    return OT_OK;
}

/* ---- Attention: infer and run ------------------------------------------------------- */

/* Output shapes: Y, present_key, present_value, qk_matmul_output. */
static void attention_out_dims(const ot_attn_shape *s, int64_t y[4], int64_t pk[4], int64_t pv[4], int64_t qk[4]) {
    if (s->three_d)
        memcpy(y, (int64_t[4]){s->B, s->Sq, s->Hq * s->Dv, 0}, sizeof(int64_t) * 4);
    else
        memcpy(y, (int64_t[4]){s->B, s->Hq, s->Sq, s->Dv}, sizeof(int64_t) * 4);
    memcpy(pk, (int64_t[4]){s->B, s->Hkv, s->T, s->D}, sizeof(int64_t) * 4);
    memcpy(pv, (int64_t[4]){s->B, s->Hkv, s->T, s->Dv}, sizeof(int64_t) * 4);
    memcpy(qk, (int64_t[4]){s->B, s->Hq, s->Sq, s->T}, sizeof(int64_t) * 4);
}

static ot_status attention_infer(ot_kctx *c) {
    const ot_attn_attrs *at = c->attrs;
    if (c->opset < 24 && ot_in(c, 6))
        return ot_op_error(c, OT_ERR_INVALID_ARG,
                           "nonpad_kv_seqlen (input 6) exists from opset 24; the model is at opset %lld",
                           (long long)c->opset);
    ot_attn_args a;
    OT_TRY(ot_attention_setup(c, at, 0, &a));
    int64_t y[4], pk[4], pv[4], qk[4];
    attention_out_dims(&a.sh, y, pk, pv, qk);
    ot_set_out(c, 0, a.dtype, a.sh.three_d ? 3 : 4, y);
    ot_set_out(c, 1, a.dtype, 4, pk);
    ot_set_out(c, 2, a.dtype, 4, pv);
    ot_set_out(c, 3, a.dtype, 4, qk);
    /* The scratch depends on which operands exist (half-precision staging),
       not on their data: the tensor handles stand for the data here. */
    a.q = c->in[0], a.k = c->in[1], a.v = c->in[2], a.mask = ot_in(c, 3), a.past_k = ot_in(c, 4),
    a.past_v = ot_in(c, 5), a.y = c->out[0], a.present_k = ot_out(c, 1), a.present_v = ot_out(c, 2),
    a.qk = ot_out(c, 3);
    ot_attention_request_scratch(&a, false);
    return OT_OK;
}

static ot_status attention_cpu(ot_kctx *c) {
    ot_attn_args a;
    OT_TRY(ot_attention_setup(c, c->attrs, 0, &a));
    ot_tensor *pk = ot_out(c, 1), *pv = ot_out(c, 2), *qk = ot_out(c, 3);
    a.y = c->out[0]->data;
    a.present_k = pk ? pk->data : NULL;
    a.present_v = pv ? pv->data : NULL;
    a.qk = qk ? qk->data : NULL;
    ot_status s = ot_attention_forward(&a);
    return s ? ot_error_context(s, "node '%s' (Attention)", c->name) : OT_OK;
}

/* ---- RotaryEmbedding ------------------------------------------------------------------ */

typedef struct ot_rotary_attrs {
    bool interleaved;
    int64_t rotary_dim; /* 0: the head size */
    int64_t num_heads;  /* 0: absent */
} ot_rotary_attrs;

static ot_status rotary_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_rotary_attrs *a = attrs;
    OT_TRY(flag_attr(n, "interleaved", &a->interleaved));
    OT_TRY(ot_attr_get_int(n, "rotary_embedding_dim", 0, &a->rotary_dim));
    OT_TRY(ot_attr_get_int(n, "num_heads", 0, &a->num_heads));
    if (a->rotary_dim < 0 || a->num_heads < 0)
        return ot_node_error(n, OT_ERR_PARSE, "rotary_embedding_dim (%lld) and num_heads (%lld) must not be negative",
                             (long long)a->rotary_dim, (long long)a->num_heads);
    return OT_OK;
}

/* input (B, H, S, hd) or (B, S, H * hd); cos / sin (max_pos, rd / 2) with
   position_ids (B, S), else (B, S, rd / 2).  *rows: the caches' rows. */
static ot_status rotary_setup(const ot_kctx *c, ot_rotary_args *r, int64_t *rows) {
    const ot_rotary_attrs *at = c->attrs;
    const ot_tensor *x = c->in[0], *cs = c->in[1], *sn = c->in[2], *pos = ot_in(c, 3);
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 3; i++)
        OT_TRY(ot_check_dtype(c, i, float_types));
    if (cs->dtype != x->dtype || sn->dtype != x->dtype)
        return ot_op_error(c, OT_ERR_TYPE, "cos_cache (%s) and sin_cache (%s) must have the input's type %s",
                           ot_dtype_name(cs->dtype), ot_dtype_name(sn->dtype), ot_dtype_name(x->dtype));
    if (x->rank == 4) {
        r->B = x->dims[0], r->H = x->dims[1], r->S = x->dims[2], r->hd = x->dims[3];
        if (at->num_heads && at->num_heads != r->H)
            return ot_op_error(c, OT_ERR_SHAPE, "num_heads %lld contradicts the 4-D input's %lld heads",
                               (long long)at->num_heads, (long long)r->H);
    } else if (x->rank == 3) {
        if (!at->num_heads) return ot_op_error(c, OT_ERR_INVALID_ARG, "a 3-D input needs the num_heads attribute");
        if (x->dims[2] % at->num_heads)
            return ot_op_error(c, OT_ERR_SHAPE, "hidden size %lld is not a multiple of num_heads %lld",
                               (long long)x->dims[2], (long long)at->num_heads);
        r->B = x->dims[0], r->S = x->dims[1], r->H = at->num_heads, r->hd = x->dims[2] / at->num_heads;
        r->three_d = true;
    } else {
        return shape_error(c, "input", x, "(B, num_heads, seq, head_size) or (B, seq, hidden)");
    }
    r->rd = at->rotary_dim ? at->rotary_dim : r->hd;
    if (r->rd > r->hd || r->rd % 2)
        return ot_op_error(c, OT_ERR_SHAPE, "the rotated size %lld must be even and at most the head size %lld",
                           (long long)r->rd, (long long)r->hd);
    char want[96];
    if (!ot_shape_equal(cs->rank, cs->dims, sn->rank, sn->dims))
        return shape_error(c, "sin_cache", sn, "cos_cache's shape");
    if (pos) {
        if (pos->dtype != OT_INT64 || pos->rank != 2 || pos->dims[0] != r->B || pos->dims[1] != r->S)
            return ot_op_error(c, OT_ERR_SHAPE, "position_ids must be int64 of shape (B, seq) = (%lld, %lld)",
                               (long long)r->B, (long long)r->S);
        snprintf(want, sizeof want, "(max_position_id + 1, %lld)", (long long)(r->rd / 2));
        if (cs->rank != 2 || cs->dims[1] != r->rd / 2) return shape_error(c, "cos_cache", cs, want);
        *rows = cs->dims[0];
        r->pos = pos->data;
    } else {
        snprintf(want, sizeof want, "(%lld, %lld, %lld) without position_ids", (long long)r->B, (long long)r->S,
                 (long long)(r->rd / 2));
        if (cs->rank != 3 || cs->dims[0] != r->B || cs->dims[1] != r->S || cs->dims[2] != r->rd / 2)
            return shape_error(c, "cos_cache", cs, want);
        *rows = r->B * r->S;
    }
    r->dtype = x->dtype;
    r->interleaved = at->interleaved;
    r->x = x->data;
    r->cos = cs->data;
    r->sin = sn->data;
    return OT_OK;
}

static ot_status rotary_infer(ot_kctx *c) {
    ot_rotary_args r;
    int64_t rows;
    OT_TRY(rotary_setup(c, &r, &rows));
    ot_set_out(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    ot_rotary_request_scratch(&r, rows);
    return OT_OK;
}

static ot_status rotary_cpu(ot_kctx *c) {
    ot_rotary_args r;
    int64_t rows;
    OT_TRY(rotary_setup(c, &r, &rows));
    for (int64_t i = 0; r.pos && i < r.B * r.S; i++)
        if (r.pos[i] < 0 || r.pos[i] >= rows)
            return ot_op_error(c, OT_ERR_INVALID_ARG,
                               "position_ids[%lld][%lld] = %lld is outside the caches' [0, %lld)", (long long)(i / r.S),
                               (long long)(i % r.S), (long long)r.pos[i], (long long)rows);
    r.y = c->out[0]->data;
    ot_status s = ot_rotary_forward(&r, rows);
    return s ? ot_error_context(s, "node '%s' (RotaryEmbedding)", c->name) : OT_OK;
}

/* ---- table ------------------------------------------------------------------------------ */

#define ATTN_ATTRS "is_causal,kv_num_heads,q_num_heads,qk_matmul_output_mode,scale,softcap,softmax_precision"

const ot_op_def ot_ops_attention[] = {
    /* Inputs Q, K, V, attn_mask?, past_key?, past_value?, nonpad_kv_seqlen? (24);
       outputs Y, present_key?, present_value?, qk_matmul_output?. */
    {.name = "Attention", .domain = "", .min_opset = 23, .max_opset = 24, .min_inputs = 3, .max_inputs = 7,
     .min_outputs = 1, .max_outputs = 4, .attr_names = ATTN_ATTRS, .attrs_size = sizeof(ot_attn_attrs),
     .parse = attention_parse, .infer = attention_infer, .cpu = attention_cpu, .traits = 0,
     .dtypes = "float32, float64, float16, bfloat16 (Q, K, V one type); attn_mask bool or numeric",
     .grad = ot_attention_grad_rule},
    {.name = "RotaryEmbedding", .domain = "", .min_opset = 23, .max_opset = 23, .min_inputs = 3, .max_inputs = 4,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "interleaved,num_heads,rotary_embedding_dim",
     .attrs_size = sizeof(ot_rotary_attrs), .parse = rotary_parse, .infer = rotary_infer, .cpu = rotary_cpu,
     .traits = OT_TRAIT_INPLACE, .dtypes = "float32, float16, bfloat16, float64; position_ids int64",
     .grad = ot_rotary_grad_rule, .no_grad_inputs = 0xE /* the cos/sin tables are fixed buffers */},
    /* ops/attention_grad.c documents its inputs and outputs. */
    {.name = "AttentionGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 4,
     .max_inputs = 11, .min_outputs = 6, .max_outputs = 6, .attr_names = ATTN_ATTRS ",pad_mask,grads",
     .attrs_size = sizeof(ot_attn_attrs), .parse = ot_attention_grad_parse, .infer = ot_attention_grad_infer,
     .cpu = ot_attention_grad_cpu, .traits = 0, .dtypes = "float32, float64, float16, bfloat16"},
};
const int ot_ops_attention_count = sizeof(ot_ops_attention) / sizeof(ot_ops_attention[0]);
