/* Shared between ops/norm.c (the family table and forward ops) and
 * ops/norm_grad.c (gradient rules and the ai.onnxtrain gradient ops). */
#ifndef OT_OPS_NORM_OPS_H
#define OT_OPS_NORM_OPS_H

#include "grad.h"

typedef struct ot_norm_attrs {
    float epsilon;
    float momentum;      /* BatchNormalization */
    bool training;       /* BatchNormalization opset >= 14 / BatchNormalizationGrad: training_mode */
    int64_t axis;        /* LayerNormalization, LpNormalization; MVN: axes bit mask */
    ot_dtype stash_type; /* LayerNormalization, GroupNormalization >= 21 */
    int64_t num_groups;  /* GroupNormalization; LpNormalization's p */
    bool rms;            /* LayerNormalizationGrad: of an RMSNormalization */
    bool per_channel;    /* GroupNormalizationGrad: one scale entry per channel (else per group) */
} ot_norm_attrs;

#define OT_NORM_FLOATS "float32, float64, float16, bfloat16"

/* Helpers of ops/norm.c (see there). */
ot_status ot_norm_eps(const ot_node *n, ot_norm_attrs *a);
ot_status ot_norm_same_dtype(const ot_kctx *c, int i, const char *name);
ot_status ot_norm_float_x(const ot_kctx *c, int min_rank);
ot_status ot_norm_vector(const ot_kctx *c, int i, const char *name, int64_t len, const char *what);
/* LayerNormalization's geometry from inputs X (0), Scale (1), B (2, optional):
   X viewed as (rows, D) from `axis`; Scale / B repeat with period P / Pb. */
ot_status ot_ln_geometry(ot_kctx *c, int *axis, int64_t *rows, int64_t *D, int64_t *P, int64_t *Pb);

/* Gradient rules (ops/norm_grad.c). */
ot_status ot_bn_grad(ot_grad_ctx *g);
ot_status ot_ln_grad(ot_grad_ctx *g);
ot_status ot_rms_grad(ot_grad_ctx *g);
ot_status ot_in_grad(ot_grad_ctx *g);
ot_status ot_gn_grad(ot_grad_ctx *g);

/* Gradient ops (ai.onnxtrain, ops/norm_grad.c; inputs and outputs there). */
#define OT_BN_GRAD_ATTRS "epsilon,training_mode"
ot_status ot_bn_grad_op_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_bn_grad_op_infer(ot_kctx *c);
ot_status ot_bn_grad_op_cpu(ot_kctx *c);
#define OT_LN_GRAD_ATTRS "axis,epsilon,rms"
ot_status ot_ln_grad_op_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_ln_grad_op_infer(ot_kctx *c);
ot_status ot_ln_grad_op_cpu(ot_kctx *c);
#define OT_GN_GRAD_ATTRS "epsilon,num_groups,per_channel"
ot_status ot_gn_grad_op_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_gn_grad_op_infer(ot_kctx *c);
ot_status ot_gn_grad_op_cpu(ot_kctx *c);

#endif
