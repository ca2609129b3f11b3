/* CPU kernels for the gradients of the softmax family: SoftmaxGrad,
 * LogSoftmaxGrad, and the fused loss gradients of SoftmaxCrossEntropyLoss
 * and NegativeLogLikelihoodLoss.
 *
 * Layout as in softmax.h: (outer, C, inner) with the normalised axis C in the
 * middle.  inner == 1 (the (N, C) / flattened (N*T, C) training case) runs one
 * row per task with loops vectorised along C; inner > 1 (the (N, C, T)
 * case) runs tiles of adjacent positions vectorised along the contiguous
 * position axis.  Types: float32 (vectorised exp, sums in double), float64,
 * float16 and bfloat16 (computed in float32). */
#ifndef OT_KERNELS_CPU_SOFTMAX_GRAD_H
#define OT_KERNELS_CPU_SOFTMAX_GRAD_H

#include "softmax.h"

/* OT_SOFTMAX_EXP: y = softmax(x),     dx = y * (dy - sum_C(dy * y));
   OT_SOFTMAX_LOG: y = log_softmax(x), dx = dy - exp(y) * sum_C(dy).
   dx may alias dy (same-index read before write). */
void ot_cpu_softmax_grad(ot_dtype dt, ot_softmax_mode mode, const void *dy, const void *y, void *dx,
                         int64_t outer, int64_t C, int64_t inner);

/* What the loss gradient knows about the forward's class scores. */
typedef enum ot_nll_grad_source {
    OT_NLL_GRAD_LABELS = 0, /* NegativeLogLikelihoodLoss: dx = -g * onehot, x not needed */
    OT_NLL_GRAD_SCORES,     /* SoftmaxCrossEntropyLoss from the scores: softmax recomputed */
    OT_NLL_GRAD_LOG_PROB    /* SoftmaxCrossEntropyLoss from its saved log_prob output */
} ot_nll_grad_source;

typedef struct ot_nll_grad_args {
    ot_dtype dtype;          /* of dloss, x, weights and dx */
    ot_nll_grad_source source;
    const void *x;           /* (N, C, D) scores or log-probabilities (NULL for LABELS) */
    ot_dtype label_dtype;    /* int32 or int64 */
    const void *labels;      /* (N, D), each in [0, C) or == ignore_index (checked by the caller) */
    const void *weights;     /* (C), or NULL for all ones */
    int64_t N, C, D;
    bool has_ignore;
    int64_t ignore_index;
    ot_loss_reduction reduction;
    const void *dloss;       /* (N, D) for OT_LOSS_NONE, else one element */
    void *dx;                /* (N, C, D) */
} ot_nll_grad_args;

/* With g = dloss (per sample for none, else the scalar; divided by
   sum(w[t] over non-ignored samples) for mean) times w[t], and 0 where t is
   ignored:  dx = g * (softmax(x) - onehot(t)) for the cross-entropy sources,
   dx = -g * onehot(t) for LABELS. */
void ot_cpu_nll_grad(const ot_nll_grad_args *a);

#endif
