/* Kernels of the attention-extension ops: CausalConvWithState (stateful
 * causal depthwise 1-D convolution), LinearAttention (recurrent linear
 * attention: linear / gated / delta / gated_delta rules) and the modifier
 * path of FlexAttention, each with its backward.
 *
 * The loops run in a compute type: double when the op's main input is
 * double, float otherwise.  float16 / bfloat16 operands are staged through
 * float buffers by the ot_ae_stage* helpers (the ONNX reference also
 * accumulates these ops in float32). */
#ifndef OT_KERNELS_CPU_ATTENTION_EXT_H
#define OT_KERNELS_CPU_ATTENTION_EXT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/core/tensor.h"

/* ---- staging ------------------------------------------------------------------ */

/* The compute type for a main dtype: OT_DOUBLE for double, else OT_FLOAT. */
ot_dtype ot_ae_compute_type(ot_dtype main);
/* t's data as a compute-type buffer: t->data itself when t already has type
   ct, else a converted workspace copy left in *owned (free with ot_ae_release).
   NULL t gives NULL.  OT_ERR_NOMEM when scratch cannot be had. */
ot_status ot_ae_stage_in(ot_dtype ct, const ot_tensor *t, const void **buf, void **owned);
/* An output buffer of type ct for t (t->data itself when t has type ct, else
   workspace); ot_ae_stage_out converts it into t and releases it. */
ot_status ot_ae_stage_buf(ot_dtype ct, ot_tensor *t, void **buf, void **owned);
void ot_ae_stage_out(ot_dtype ct, ot_tensor *t, void *owned);
void ot_ae_release(void *owned);

/* ---- CausalConvWithState ---------------------------------------------------------
 * x (B, C, L), w (C, 1, K), bias (C) or NULL, past (B, C, K - 1) or NULL
 * (zeros).  The padded sequence p = [past | x] has L + K - 1 steps;
 * y[t] = act(bias + sum_j w[j] p[t + j]) with act SiLU or identity, and
 * present = the last K - 1 steps of p. */
typedef struct ot_ccs_args {
    bool dbl; /* buffers are double (else float) */
    int64_t B, C, L, K;
    bool silu;
    const void *x, *w, *bias, *past;
    void *y, *present; /* forward outputs (either may be NULL) */
    /* backward: dy (B, C, L) and dpresent (B, C, K - 1), either may be NULL
       (zero); outputs dx, dw (C, 1, K), dbias (C), dpast, each NULL when not
       wanted */
    const void *dy, *dpresent;
    void *dx, *dw, *dbias, *dpast;
} ot_ccs_args;
void ot_ccs_forward(const ot_ccs_args *a);
ot_status ot_ccs_backward(const ot_ccs_args *a);

/* ---- LinearAttention --------------------------------------------------------------
 * q (B, T, Hq * dk), k (B, T, Hkv * dk), v (B, T, Hkv * dv), past (B, Hkv,
 * dk, dv) or NULL (zeros), decay (B, T, Hkv * dk) or (B, T, Hkv) when
 * gated, beta (B, T, nbeta) (nbeta = Hkv or 1) when delta.  Per step:
 * S = exp(g) S; u = delta ? beta (v - S^T k) : v; S += k u^T; o = scale S^T q
 * for each query head of the group sharing the kv head. */
typedef struct ot_la_args {
    bool dbl;
    int64_t B, T, Hq, Hkv, dk, dv;
    bool gated, delta, decay_per_key;
    int64_t nbeta;
    double scale;
    const void *q, *k, *v, *past, *decay, *beta;
    void *o, *present; /* forward outputs: (B, T, Hq * dv), (B, Hkv, dk, dv) */
    /* backward: do, dpresent (NULL: zero); outputs (NULL: not wanted) in the
       inputs' layouts, except dbeta, which is always (B, T, Hkv) (the caller
       sums it over heads when nbeta == 1) */
    const void *dout, *dpresent;
    void *dq, *dk_, *dv_, *dpast, *ddecay, *dbeta;
} ot_la_args;
ot_status ot_la_forward(const ot_la_args *a);
ot_status ot_la_backward(const ot_la_args *a);

/* ---- FlexAttention with modifiers -------------------------------------------------
 * Scores (B, Hq, L, S) = scale * Q K^T in the compute type; query head h
 * reads kv head h / (Hq / Hkv). */
typedef struct ot_flex_args {
    bool dbl;
    int64_t B, Hq, Hkv, L, S, D, Dv;
    double scale;
    const void *q, *k, *v; /* compute-type (B, H, len, D | Dv) */
} ot_flex_args;
void ot_flex_scores(const ot_flex_args *a, void *scores);
/* Stable softmax over the last axis of n rows of len elements, in place. */
void ot_flex_softmax(bool dbl, int64_t rows, int64_t len, void *x);
/* y (B, Hq, L, Dv) = P (B, Hq, L, S) V. */
void ot_flex_pv(const ot_flex_args *a, const void *p, void *y);

/* ---- parsed attributes (ops/attention_ext.c, shared with the grad ops) ------------- */

typedef struct ot_ccs_attrs {
    bool silu;      /* activation 'silu' or 'swish' */
    unsigned grads; /* grad op: bit i set when output i (dx, dw, dbias, dpast) is wanted */
} ot_ccs_attrs;

typedef struct ot_la_attrs {
    int64_t q_heads, kv_heads;
    float scale; /* 0: 1 / sqrt(dk) */
    bool gated, delta;
    unsigned grads; /* grad op: dq, dk, dv, dpast, ddecay, dbeta */
} ot_la_attrs;

struct ot_graph;
typedef struct ot_flex_attrs {
    bool has_scale;
    float scale;
    int64_t softmax_precision; /* TensorProto dtype, 0: absent */
    const struct ot_graph *score_mod, *prob_mod; /* the node's subgraphs, or NULL */
} ot_flex_attrs;

#endif
