/* Gradient checks for the attention family.  Attention (through AttentionGrad):
 * 4-D and 3-D inputs, GQA / MQA, causal (with and without a past cache,
 * cross lengths), float masks that take a gradient (broadcast 2-D, per-head
 * 4-D, (B, 1, Sq, 1)), bool / constant masks with -inf, past_key /
 * past_value with present outputs, scale, softcap, every
 * qk_matmul_output_mode with that output seeded too, opset 24's
 * nonpad_kv_seqlen and padded short masks.  RotaryEmbedding: 4-D / 3-D,
 * interleaved, partial rotation, with and without position_ids. */
#include <math.h>

#include "gradcheck.h"

/* A random float constant (cos / sin caches). */
#define CF(...) {GC_CONST, OT_DOUBLE, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}}
#define ABSENT {GC_ABSENT}

/* Bool mask (4, 6): row r keeps keys j <= r + 2 and j != 1 (never a fully masked row). */
static const int64_t bool_4x6[] = {1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1};
#define BOOL_MASK {GC_CONST, OT_BOOL, 2, {4, 6}, bool_4x6}
/* Float mask (3, 5) holding -inf (a constant additive mask). */
static const double neg_inf_3x5[] = {0, -INFINITY, 0.5, 0, -1, 0, 0, -INFINITY, 1, 0, -INFINITY, 0.25, 0, 0, 0};
#define NEG_INF_MASK {GC_INPUT_NODIFF, 0, 2, {3, 5}, NULL, neg_inf_3x5}
/* position_ids (2, 3) into caches of 7 rows. */
static const int64_t pos_2x3[] = {0, 3, 6, 2, 2, 5};
#define POS {GC_CONST, OT_INT64, 2, {2, 3}, pos_2x3}

/* Attention with Q, K, V; + attn_mask; + past_key, past_value.  RotaryEmbedding. */
#define ATT(nm, os, nout, q, k, v, na, ...)                                                                     \
    {.name = nm, .op = "Attention", .opset = os, .n_in = 3, .n_out = nout, .in = {q, k, v}, .n_attrs = na, \
     .attrs = {__VA_ARGS__}, .atol = 1e-7}
#define ATTM(nm, os, nout, q, k, v, m, na, ...)                                                                    \
    {.name = nm, .op = "Attention", .opset = os, .n_in = 4, .n_out = nout, .in = {q, k, v, m}, .n_attrs = na, \
     .attrs = {__VA_ARGS__}, .atol = 1e-7}
#define ATTP(nm, os, nout, q, k, v, m, pk, pv, na, ...)                                                            \
    {.name = nm, .op = "Attention", .opset = os, .n_in = 6, .n_out = nout, .in = {q, k, v, m, pk, pv},            \
     .n_attrs = na, .attrs = {__VA_ARGS__}, .atol = 1e-7}
#define ROT(nm, nin, x, c, s, p, na, ...)                                                                             \
    {.name = nm, .op = "RotaryEmbedding", .opset = 23, .n_in = nin, .n_out = 1, .in = {x, c, s, p}, .n_attrs = na, \
     .attrs = {__VA_ARGS__}}

static const gc_case cases[] = {
    /* plain, 4-D and 3-D */
    ATT("4d", 23, 1, D(2, 2, 3, 4), D(2, 2, 5, 4), D(2, 2, 5, 3), 0, AI("", 0)),
    ATT("3d", 23, 1, D(2, 3, 8), D(2, 4, 8), D(2, 4, 6), 2, AI("q_num_heads", 2), AI("kv_num_heads", 2)),
    ATT("3d_gqa", 23, 1, D(1, 3, 12), D(1, 4, 4), D(1, 4, 6), 2, AI("q_num_heads", 6), AI("kv_num_heads", 2)),
    ATT("4d_mqa_scaled", 23, 1, D(1, 3, 2, 4), D(1, 1, 4, 4), D(1, 1, 4, 2), 1, AF("scale", 0.3f)),
    ATT("4d_softcap", 23, 1, D(1, 2, 3, 4), D(1, 2, 4, 4), D(1, 2, 4, 3), 1, AF("softcap", 0.7f)),
    /* causal: square, cross (q shorter, q longer), GQA */
    ATT("causal_square", 23, 1, D(1, 2, 4, 3), D(1, 2, 4, 3), D(1, 2, 4, 3), 1, AI("is_causal", 1)),
    ATT("causal_q_shorter", 23, 1, D(2, 1, 2, 3), D(2, 1, 5, 3), D(2, 1, 5, 2), 1, AI("is_causal", 1)),
    ATT("causal_q_longer_3d_gqa", 23, 1, D(1, 5, 8), D(1, 3, 4), D(1, 3, 2), 3, AI("q_num_heads", 4),
        AI("kv_num_heads", 2), AI("is_causal", 1)),
    /* masks that take a gradient */
    ATTM("mask_2d_diff", 23, 1, D(2, 2, 3, 4), D(2, 2, 5, 4), D(2, 2, 5, 3), D(3, 5), 0, AI("", 0)),
    ATTM("mask_4d_per_head_diff", 23, 1, D(2, 2, 3, 4), D(2, 1, 5, 4), D(2, 1, 5, 3), D(2, 2, 3, 5), 0, AI("", 0)),
    ATTM("mask_b1s1_diff_causal_softcap", 23, 1, D(2, 2, 3, 4), D(2, 2, 5, 4), D(2, 2, 5, 3), D(2, 1, 3, 1), 2,
         AI("is_causal", 1), AF("softcap", 1.3f)),
    ATTM("mask_3d_broadcast_diff", 23, 1, D(1, 3, 12), D(1, 5, 12), D(1, 5, 4), D(2, 3, 5), 2, AI("q_num_heads", 2),
         AI("kv_num_heads", 2)),
    /* a float32 mask on float64 Q, K, V: its gradient is cast back (float32 differences: larger step) */
    {.name = "mask_float32_on_float64", .op = "Attention", .opset = 23, .n_in = 4, .n_out = 1, .h = 1e-3, .rtol = 1e-4,
     .atol = 1e-6, .in = {D(1, 2, 3, 4), D(1, 2, 5, 4), D(1, 2, 5, 3), {GC_DIFF, OT_FLOAT, 2, {3, 5}}}},
    /* masks without a gradient: bool, -inf constants */
    ATTM("mask_bool", 23, 1, D(1, 2, 4, 3), D(1, 2, 6, 3), D(1, 2, 6, 3), BOOL_MASK, 0, AI("", 0)),
    ATTM("mask_bool_causal", 23, 1, D(1, 2, 4, 3), D(1, 2, 6, 3), D(1, 2, 6, 3), BOOL_MASK, 1, AI("is_causal", 1)),
    ATTM("mask_neg_inf", 23, 1, D(2, 1, 3, 4), D(2, 1, 5, 4), D(2, 1, 5, 2), NEG_INF_MASK, 0, AI("", 0)),
    /* past caches, present outputs seeded too */
    ATTP("past_present_4d", 23, 3, D(1, 2, 3, 4), D(1, 2, 2, 4), D(1, 2, 2, 3), ABSENT, D(1, 2, 3, 4), D(1, 2, 3, 3), 0,
         AI("", 0)),
    ATTP("past_present_3d_gqa_causal_mask", 23, 3, D(2, 2, 8), D(2, 3, 2), D(2, 3, 4), D(2, 6), D(2, 1, 3, 2),
         D(2, 1, 3, 4), 3, AI("q_num_heads", 4), AI("kv_num_heads", 1), AI("is_causal", 1)),
    ATTP("past_only_present_key", 23, 2, D(1, 1, 2, 3), D(1, 1, 2, 3), D(1, 1, 2, 3), ABSENT, D(1, 1, 2, 3),
         D(1, 1, 2, 3), 1, AF("scale", 0.8f)),
    /* qk_matmul_output in every mode, seeded with the other outputs */
    ATTP("qk_mode0_softcap_mask", 23, 4, D(1, 2, 3, 4), D(1, 2, 2, 4), D(1, 2, 2, 3), D(3, 5), D(1, 2, 3, 4),
         D(1, 2, 3, 3), 1, AF("softcap", 1.1f)),
    ATTP("qk_mode1_softcap_mask", 23, 4, D(1, 2, 3, 4), D(1, 2, 2, 4), D(1, 2, 2, 3), D(3, 5), D(1, 2, 3, 4),
         D(1, 2, 3, 3), 2, AF("softcap", 1.1f), AI("qk_matmul_output_mode", 1)),
    ATTP("qk_mode2_softcap_mask", 23, 4, D(1, 2, 3, 4), D(1, 2, 2, 4), D(1, 2, 2, 3), D(3, 5), D(1, 2, 3, 4),
         D(1, 2, 3, 3), 2, AF("softcap", 1.1f), AI("qk_matmul_output_mode", 2)),
    ATTP("qk_mode3_causal_mask", 23, 4, D(1, 2, 3, 4), D(1, 2, 2, 4), D(1, 2, 2, 3), D(3, 5), D(1, 2, 3, 4),
         D(1, 2, 3, 3), 2, AI("is_causal", 1), AI("qk_matmul_output_mode", 3)),
    ATTP("qk_mode0_causal_3d", 23, 4, D(1, 3, 4), D(1, 3, 4), D(1, 3, 2), ABSENT, D(1, 1, 2, 4), D(1, 1, 2, 2), 3,
         AI("q_num_heads", 1), AI("kv_num_heads", 1), AI("is_causal", 1)),
    /* opset 24: nonpad_kv_seqlen, a short mask padded with -inf */
    {.name = "opset24_nonpad", .op = "Attention", .opset = 24, .n_in = 7, .n_out = 1, .atol = 1e-7,
     .in = {D(2, 2, 3, 4), D(2, 2, 5, 4), D(2, 2, 5, 3), D(3, 5), ABSENT, ABSENT,
            {GC_CONST, OT_INT64, 1, {2}, (const int64_t[]){3, 5}}}},
    ATTM("opset24_short_mask_diff", 24, 1, D(2, 2, 3, 4), D(2, 2, 5, 4), D(2, 2, 5, 3), D(2, 1, 3, 3), 1,
         AI("is_causal", 0)),
    ATTM("opset24_short_mask_1col", 24, 1, D(1, 2, 3, 4), D(1, 2, 5, 4), D(1, 2, 5, 3), D(3, 1), 0, AI("", 0)),
    /* mask is an input without a gradient, others differentiated */
    ATTM("mask_nodiff_4d", 23, 1, D(1, 2, 3, 4), D(1, 2, 5, 4), D(1, 2, 5, 3), ND(1, 2, 3, 5), 0, AI("", 0)),

    /* RotaryEmbedding */
    ROT("rotary_4d_pos", 4, D(2, 2, 3, 4), CF(7, 2), CF(7, 2), POS, 0, AI("", 0)),
    ROT("rotary_4d_pos_interleaved", 4, D(2, 2, 3, 4), CF(7, 2), CF(7, 2), POS, 1, AI("interleaved", 1)),
    ROT("rotary_3d_pos_partial", 4, D(2, 3, 12), CF(7, 2), CF(7, 2), POS, 2, AI("num_heads", 2),
        AI("rotary_embedding_dim", 4)),
    ROT("rotary_3d_nopos_interleaved_partial", 3, D(2, 3, 12), CF(2, 3, 1), CF(2, 3, 1), ABSENT, 3, AI("num_heads", 3),
        AI("interleaved", 1), AI("rotary_embedding_dim", 2)),
    ROT("rotary_4d_nopos", 3, D(2, 1, 3, 6), CF(2, 3, 3), CF(2, 3, 3), ABSENT, 0, AI("", 0)),
};

int main(void) { return gc_run_all(cases, (int)(sizeof cases / sizeof cases[0])); }
