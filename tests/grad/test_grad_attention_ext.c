/* Gradient checks for the attention-extension family.
 * CausalConvWithState (through CausalConvWithStateGrad): with and without
 * bias / past_state, SiLU, kernel sizes 1 and longer than the input, both
 * outputs seeded.  LinearAttention (through LinearAttentionGrad): every
 * update rule, per-key and per-head decay, beta per head and shared (B, T, 1),
 * GQA / MQA, explicit scale, with and without past_state (present seeded).
 * FlexAttention needs the ai.onnx.preview opset in the test graph, which
 * the harness does not import yet: its rule (AttentionGrad) is checked in
 * tests/unit/test_attention_ext.c against finite differences instead. */
#include "gradcheck.h"

#define ABSENT {GC_ABSENT}

#define CCS(nm, nin, x, w, b, p, na, ...)                                                                          \
    {.name = nm, .op = "CausalConvWithState", .opset = 27, .n_in = nin, .n_out = 2, .in = {x, w, b, p}, .n_attrs = na, \
     .attrs = {__VA_ARGS__}}
/* LinearAttention: query, key, value, past_state, decay, beta. */
#define LA(nm, nin, q, k, v, p, g, b, na, ...)                                                                     \
    {.name = nm, .op = "LinearAttention", .opset = 27, .n_in = nin, .n_out = 2, .in = {q, k, v, p, g, b},          \
     .n_attrs = na, .attrs = {__VA_ARGS__}, .atol = 1e-7}

static const gc_case cases[] = {
    CCS("ccs_plain", 2, D(2, 3, 5), D(3, 1, 3), ABSENT, ABSENT, 0, AI("", 0)),
    CCS("ccs_bias_past", 4, D(2, 3, 5), D(3, 1, 3), D(3), D(2, 3, 2), 0, AI("", 0)),
    CCS("ccs_silu_bias_past", 4, D(1, 2, 6), D(2, 1, 4), D(2), D(1, 2, 3), 1, AS("activation", "silu")),
    CCS("ccs_swish_no_past", 3, D(2, 2, 4), D(2, 1, 2), D(2), ABSENT, 1, AS("activation", "swish")),
    CCS("ccs_k1", 3, D(2, 3, 4), D(3, 1, 1), D(3), ABSENT, 0, AI("", 0)),
    CCS("ccs_short_input_past", 4, D(1, 2, 2), D(2, 1, 5), ABSENT, D(1, 2, 4), 1, AS("activation", "silu")),
    CCS("ccs_past_nodiff", 4, D(2, 2, 3), ND(2, 1, 3), ABSENT, ND(2, 2, 2), 0, AI("", 0)),

    LA("la_linear", 3, D(2, 3, 8), D(2, 3, 8), D(2, 3, 6), ABSENT, ABSENT, ABSENT, 3, AI("q_num_heads", 2),
       AI("kv_num_heads", 2), AS("update_rule", "linear")),
    LA("la_linear_past_scale", 4, D(1, 4, 6), D(1, 4, 6), D(1, 4, 4), D(1, 2, 3, 2), ABSENT, ABSENT, 4,
       AI("q_num_heads", 2), AI("kv_num_heads", 2), AS("update_rule", "linear"), AF("scale", 0.7f)),
    LA("la_gated_per_key", 5, D(2, 3, 8), D(2, 3, 8), D(2, 3, 6), D(2, 2, 4, 3), D(2, 3, 8), ABSENT, 3,
       AI("q_num_heads", 2), AI("kv_num_heads", 2), AS("update_rule", "gated")),
    LA("la_gated_per_head_gqa", 5, D(1, 4, 12), D(1, 4, 6), D(1, 4, 4), ABSENT, D(1, 4, 2), ABSENT, 3,
       AI("q_num_heads", 4), AI("kv_num_heads", 2), AS("update_rule", "gated")),
    LA("la_delta", 6, D(2, 3, 6), D(2, 3, 6), D(2, 3, 4), D(2, 2, 3, 2), ABSENT, D(2, 3, 2), 3, AI("q_num_heads", 2),
       AI("kv_num_heads", 2), AS("update_rule", "delta")),
    LA("la_delta_beta_shared_mqa", 6, D(1, 4, 9), D(1, 4, 3), D(1, 4, 2), ABSENT, ABSENT, D(1, 4, 1), 3,
       AI("q_num_heads", 3), AI("kv_num_heads", 1), AS("update_rule", "delta")),
    LA("la_gated_delta", 6, D(2, 3, 8), D(2, 3, 8), D(2, 3, 6), D(2, 2, 4, 3), D(2, 3, 2), D(2, 3, 2), 2,
       AI("q_num_heads", 2), AI("kv_num_heads", 2)),
    LA("la_gated_delta_per_key_gqa", 6, D(1, 5, 12), D(1, 5, 6), D(1, 5, 4), D(1, 2, 3, 2), D(1, 5, 6), D(1, 5, 1), 3,
       AI("q_num_heads", 4), AI("kv_num_heads", 2), AS("update_rule", "gated_delta")),
    LA("la_gated_delta_const_gates", 6, D(1, 3, 4), D(1, 3, 4), D(1, 3, 4), ABSENT, ND(1, 3, 1), ND(1, 3, 1), 2,
       AI("q_num_heads", 1), AI("kv_num_heads", 1)),
};

int main(void) { return gc_run_all(cases, (int)(sizeof cases / sizeof cases[0])); }
