/* Softmax family internals shared by ops/softmax.c (forward ops and the
 * table) and ops/softmax_grad.c (gradient rules and ai.onnxtrain grad ops). */
#ifndef OT_OPS_SOFTMAX_OPS_H
#define OT_OPS_SOFTMAX_OPS_H

#include "grad.h"
#include "kernels/cpu/softmax.h"
#include "op.h"

/* Softmax / LogSoftmax / Hardmax and their grad ops. */
typedef struct ot_softmax_attrs {
    int64_t axis;
    bool coerce_2d; /* opset < 13: the input is flattened to 2-D at `axis` */
} ot_softmax_attrs;

/* x viewed as (outer, C, inner) with the normalised axis as C (see softmax.c). */
ot_status ot_softmax_layout(const ot_kctx *c, const ot_softmax_attrs *a, const ot_tensor *x, int64_t *outer,
                            int64_t *C, int64_t *inner);

/* NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss and their grad ops. */
typedef struct ot_loss_attrs {
    ot_loss_reduction reduction;
    bool has_ignore;
    int64_t ignore_index;
} ot_loss_attrs;

/* Parses `reduction` (default "mean") and `ignore_index`. */
ot_status ot_loss_parse_attrs(const ot_node *n, ot_loss_attrs *a);
/* Fails naming the first label (labels tensor t) outside [0, C) that is not
   the ignore index. */
ot_status ot_loss_check_labels(const ot_kctx *c, const ot_loss_attrs *a, const ot_tensor *t, int64_t C);

/* Gradient rules (ops/softmax_grad.c). */
ot_status ot_softmax_grad_rule(ot_grad_ctx *g);
ot_status ot_logsoftmax_grad_rule(ot_grad_ctx *g);
ot_status ot_sce_loss_grad_rule(ot_grad_ctx *g);
ot_status ot_nll_loss_grad_rule(ot_grad_ctx *g);

/* ai.onnxtrain grad ops (ops/softmax_grad.c). */
ot_status ot_softmax_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_softmax_grad_infer(ot_kctx *c);
ot_status ot_softmax_grad_cpu(ot_kctx *c);
ot_status ot_logsoftmax_grad_cpu(ot_kctx *c);

typedef struct ot_loss_grad_attrs {
    ot_loss_attrs loss;
    bool from_log_prob;  /* SoftmaxCrossEntropyLossGrad: input 1 is log_prob, not scores */
    int64_t num_classes; /* NegativeLogLikelihoodLossGrad: C */
} ot_loss_grad_attrs;

ot_status ot_loss_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_sce_loss_grad_infer(ot_kctx *c);
ot_status ot_sce_loss_grad_cpu(ot_kctx *c);
ot_status ot_nll_loss_grad_infer(ot_kctx *c);
ot_status ot_nll_loss_grad_cpu(ot_kctx *c);

#endif
