/* Attention family kernels: scaled dot-product attention (ONNX Attention)
 * forward and backward, and rotary position embeddings (RotaryEmbedding).
 *
 * Attention works per (batch b, query head h) on row blocks of queries:
 * scores = scale * Q K^T (one GEMM per key segment: the past cache, then the
 * new keys), softcap, mask / causal / padding bias and a stable softmax in
 * one pass over each row, then Y = P V (GEMMs again).  The probabilities are
 * never stored as a whole: the backward recomputes them block by block.
 * Operands are addressed through (batch, head, row) strides, so the 3-D form
 * (B, S, H * D) and the 4-D form (B, H, S, D) run the same loops without
 * transposing.  Query head h reads key/value head h / (Hq / Hkv) (GQA, MQA). */
#ifndef OT_KERNELS_CPU_ATTENTION_H
#define OT_KERNELS_CPU_ATTENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxtrain.h"

/* Attention's attributes, parsed (shared by the forward op and AttentionGrad). */
typedef struct ot_attn_attrs {
    int64_t q_num_heads, kv_num_heads; /* 0: absent (4-D inputs carry the head counts) */
    int64_t qk_mode;                   /* qk_matmul_output_mode 0..3 */
    int64_t softmax_precision;         /* a TensorProto dtype, 0: absent */
    bool is_causal;
    bool has_scale;
    float scale;    /* when has_scale; else 1 / sqrt(head_size) */
    float softcap;  /* 0: none */
    bool pad_mask;  /* opset >= 24: a mask's last dim shorter than total_sequence_length is padded with -inf */
    unsigned grads; /* AttentionGrad: bit i set when output i (dQ, dK, dV, dmask, dpast_k, dpast_v) is wanted */
} ot_attn_attrs;

/* One attention problem, resolved from the input shapes (ops/attention.c). */
typedef struct ot_attn_shape {
    int64_t B, Hq, Hkv;    /* batch, query heads, key/value heads (Hq % Hkv == 0) */
    int64_t Sq, Skv, P, T; /* query rows, new keys, past keys, T = P + Skv */
    int64_t D, Dv;         /* head sizes of Q/K and of V */
    bool three_d;          /* Q, K, V, Y (and dQ, dK, dV, dY) are (B, S, H * D) rather than (B, H, S, D) */
    /* The mask broadcast to (B, Hq, Sq, T): element strides (0 on broadcast
       axes), its element count, and the columns it covers: Tm == T, or with
       pad_mask a shorter last dim (columns from Tm on are masked). */
    int64_t mask_str[4], mask_numel, Tm;
} ot_attn_shape;

/* Pointers of one call.  NULL: absent input / output not requested.  All
   float tensors share `dtype`; the mask may be bool or any numeric type
   (a non-bool mask is an additive bias). */
typedef struct ot_attn_args {
    ot_attn_shape sh;
    ot_dtype dtype;      /* float32, float64, float16, bfloat16 */
    ot_dtype mask_dtype; /* when mask != NULL */
    bool causal;
    int qk_mode;
    double scale, softcap;
    /* inputs: Q, K, V in their 3-D / 4-D layout; past caches (B, Hkv, P, D|Dv);
       mask (see ot_attn_shape); nonpad (B) int64: keys j >= nonpad[b] are masked */
    const void *q, *k, *v, *past_k, *past_v, *mask;
    const int64_t *nonpad;
    /* forward outputs: Y (Q's layout with Dv), present caches (B, Hkv, T, D|Dv),
       qk_matmul_output (B, Hq, Sq, T) */
    void *y, *present_k, *present_v, *qk;
    /* backward inputs: dY (Y's layout), dqk (B, Hq, Sq, T), d present caches */
    const void *dy, *dqk, *dpresent_k, *dpresent_v;
    /* backward outputs: dQ, dK, dV (the inputs' layouts), dmask (B, Hq, Sq, Tm)
       dense (the caller sums it back to the mask's shape), d past caches */
    void *dq, *dk, *dv, *dmask, *dpast_k, *dpast_v;
} ot_attn_args;

/* Infer: declares the workspace blocks a call will take (ot_workspace_request),
   so the planner reserves them from the first step.  Only which pointers are
   non-NULL matters here, not their data. */
void ot_attention_request_scratch(const ot_attn_args *a, bool backward);
/* Forward: Y and whichever of present_k, present_v, qk are non-NULL.
   OT_ERR_NOMEM when scratch cannot be had. */
ot_status ot_attention_forward(const ot_attn_args *a);
/* Backward: whichever of dq, dk, dv, dmask, dpast_k, dpast_v are non-NULL
   (every absent gradient input counts as zero). */
ot_status ot_attention_backward(const ot_attn_args *a);

/* RotaryEmbedding.  x viewed as rows of head_size elements at (b, s, h):
   4-D (B, H, S, hd) or 3-D (B, S, H * hd).  cos/sin rows of rd/2 values:
   cache row pos[b * S + s] when pos is given, else row b * S + s.  The first
   rd elements of each head rotate (halves, or even/odd pairs when
   interleaved); the rest are copied. */
typedef struct ot_rotary_args {
    ot_dtype dtype; /* float32, float64, float16, bfloat16 */
    int64_t B, S, H, hd, rd;
    bool three_d, interleaved;
    const void *x, *cos, *sin;
    const int64_t *pos;
    void *y;
} ot_rotary_args;
void ot_rotary_request_scratch(const ot_rotary_args *a, int64_t cache_rows); /* as above */
ot_status ot_rotary_forward(const ot_rotary_args *a, int64_t cache_rows);

#endif
