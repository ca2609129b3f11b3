/* CPU kernels for the softmax family: Softmax, LogSoftmax, Hardmax, and the
 * negative log-likelihood losses (NegativeLogLikelihoodLoss and the fused
 * SoftmaxCrossEntropyLoss).
 *
 * Every kernel sees its tensor as (outer, C, inner): the normalised axis C in
 * the middle, so the same code serves "last axis" (inner == 1), "channels"
 * (N, C, H*W) and the pre-opset-13 coerced-2-D form.  Supported element
 * types: float32 (vectorised), float64 (libm exp, for gradient checks),
 * float16 and bfloat16 (computed in float32). */
#ifndef OT_KERNELS_CPU_SOFTMAX_H
#define OT_KERNELS_CPU_SOFTMAX_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

typedef enum ot_softmax_mode {
    OT_SOFTMAX_EXP = 0, /* softmax */
    OT_SOFTMAX_LOG,     /* log-softmax */
    OT_SOFTMAX_HARD     /* one-hot of the first maximum */
} ot_softmax_mode;

/* True for the element types the kernels in this header handle. */
bool ot_cpu_softmax_dtype_ok(ot_dtype dt);

/* y = mode(x) along C of (outer, C, inner).  y may alias x (in place). */
void ot_cpu_softmax(ot_dtype dt, ot_softmax_mode mode, const void *x, void *y, int64_t outer,
                    int64_t C, int64_t inner);

typedef enum ot_loss_reduction {
    OT_LOSS_NONE = 0,
    OT_LOSS_SUM,
    OT_LOSS_MEAN
} ot_loss_reduction;

typedef struct ot_nll_args {
    ot_dtype dtype;         /* of x, weights, loss and log_prob */
    const void *x;          /* (N, C, D): scores (from_scores) or log-probabilities */
    bool from_scores;       /* SoftmaxCrossEntropyLoss: log-softmax x over C first */
    ot_dtype label_dtype;   /* int32 or int64 */
    const void *labels;     /* (N, D), each in [0, C) or == ignore_index */
    const void *weights;    /* (C) per-class weights, or NULL for all ones */
    int64_t N, C, D;
    bool has_ignore;
    int64_t ignore_index;
    ot_loss_reduction reduction;
    void *loss;             /* (N, D) for OT_LOSS_NONE, else one element */
    void *log_prob;         /* (N, C, D) log-softmax of x, or NULL (from_scores only) */
} ot_nll_args;

/* Flat (n * D + d) index of the first label that is neither in [0, C) nor
   the ignore index, or -1 when all labels are valid.  Run it before
   ot_cpu_nll_loss, which assumes valid labels. */
int64_t ot_cpu_nll_find_bad_label(const ot_nll_args *a);

/* Per-sample loss l = -w[t] * logp[n, t, d] (0 where t is ignored), then the
   reduction: sum, or mean = sum(l) / sum(w[t] over non-ignored samples).
   Sums accumulate in double over a fixed partition of the samples, so the
   result does not depend on the thread count. */
void ot_cpu_nll_loss(const ot_nll_args *a);

#include "simd_clones.h"

/* ot_fast_expf: the one vectorisable float32 exp (elementwise_fastmath.h). */
#include "elementwise_fastmath.h"

#endif
