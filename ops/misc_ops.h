/* Private to the misc family: its files share these attribute structs and
 * row functions; the one table `ot_ops_misc` lives in ops/misc.c.
 *
 *   misc.c         CumProd, LRN, Det, Swish, Binarizer, EyeLike, BitCast; the table
 *   misc_layout.c  SpaceToDepth, DepthToSpace, ReverseSequence, TensorScatter, CenterCropPad
 *   misc_random.c  RandomUniformLike, Bernoulli
 *   misc_unique.c  Unique
 *   misc_grad.c    gradient rules and the ai.onnxtrain grad ops
 *                  (CumProdGrad, LRNGrad, DetGrad, SwishGrad) */
#ifndef OT_OPS_MISC_OPS_H
#define OT_OPS_MISC_OPS_H

#include "grad.h"
#include "kernels/cpu/misc.h"
#include "op.h"

/* ---- parsed attributes ------------------------------------------------------ */
typedef struct { bool exclusive, reverse; } ot_cumprod_attrs;          /* CumProd, CumProdGrad */
typedef struct { int64_t size; float alpha, beta, bias; } ot_lrn_attrs; /* LRN, LRNGrad */
static inline ot_lrn_params ot_misc_lrn_params(const ot_lrn_attrs *a) {
    return (ot_lrn_params){a->size, a->alpha, a->beta, a->bias};
}
typedef struct { float alpha; } ot_swish_attrs;                        /* Swish, SwishGrad */
typedef struct { int64_t blocksize; bool crd; } ot_d2s_attrs;          /* SpaceToDepth, DepthToSpace */
typedef struct { int64_t batch_axis, time_axis; } ot_revseq_attrs;
typedef struct { int64_t axis; bool circular; } ot_tscatter_attrs;
typedef struct {
    int n_axes; /* -1: absent (every axis) */
    int64_t axes[OT_MAX_RANK];
} ot_ccpad_attrs;

/* Shared infer of the float ops that map x to an output of x's shape
   (Swish, LRN): float16/bfloat16/float/double. */
ot_status ot_misc_check_float(const ot_kctx *c, int i);

/* ---- misc_layout.c ---------------------------------------------------------- */
ot_status ot_d2s_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_s2d_infer(ot_kctx *c);
ot_status ot_s2d_cpu(ot_kctx *c);
ot_status ot_d2s_infer(ot_kctx *c);
ot_status ot_d2s_cpu(ot_kctx *c);
ot_status ot_revseq_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_revseq_infer(ot_kctx *c);
ot_status ot_revseq_cpu(ot_kctx *c);
ot_status ot_tscatter_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_tscatter_infer(ot_kctx *c);
ot_status ot_tscatter_cpu(ot_kctx *c);
ot_status ot_ccpad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_ccpad_infer(ot_kctx *c);
ot_status ot_ccpad_cpu(ot_kctx *c);

/* ---- misc_random.c ---------------------------------------------------------- */
typedef struct {
    int64_t dtype; /* 0: absent (the input's type) */
    bool has_seed;
    float seed;
    float low, high; /* RandomUniformLike */
} ot_random_attrs;
ot_status ot_random_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_random_uniform_like_infer(ot_kctx *c);
ot_status ot_random_uniform_like_cpu(ot_kctx *c);
ot_status ot_bernoulli_infer(ot_kctx *c);
ot_status ot_bernoulli_cpu(ot_kctx *c);

/* ---- misc_unique.c ---------------------------------------------------------- */
typedef struct {
    bool has_axis, sorted;
    int64_t axis;
} ot_unique_attrs;
ot_status ot_unique_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_unique_infer(ot_kctx *c);
ot_status ot_unique_cpu(ot_kctx *c);

/* ---- misc_grad.c: rules ----------------------------------------------------- */
ot_status ot_cumprod_grad_rule(ot_grad_ctx *g);
ot_status ot_s2d_grad_rule(ot_grad_ctx *g);
ot_status ot_d2s_grad_rule(ot_grad_ctx *g);
ot_status ot_revseq_grad_rule(ot_grad_ctx *g);
ot_status ot_lrn_grad_rule(ot_grad_ctx *g);
ot_status ot_det_grad_rule(ot_grad_ctx *g);
ot_status ot_swish_grad_rule(ot_grad_ctx *g);
ot_status ot_ccpad_grad_rule(ot_grad_ctx *g);
/* Ops whose output does not vary with the input's values (EyeLike,
   RandomUniformLike) or is piecewise constant (Bernoulli, Binarizer): the
   input's gradient is zero, as in PyTorch (bernoulli's backward is zeros). */
ot_status ot_misc_zero_grad_rule(ot_grad_ctx *g);

/* ---- misc_grad.c: ai.onnxtrain grad ops ------------------------------------- */
ot_status ot_cumprod_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_lrn_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_swish_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_cumprod_grad_infer(ot_kctx *c);
ot_status ot_cumprod_grad_cpu(ot_kctx *c);
ot_status ot_lrn_grad_infer(ot_kctx *c);
ot_status ot_lrn_grad_cpu(ot_kctx *c);
ot_status ot_det_grad_infer(ot_kctx *c);
ot_status ot_det_grad_cpu(ot_kctx *c);
ot_status ot_swish_grad_infer(ot_kctx *c);
ot_status ot_swish_grad_cpu(ot_kctx *c);

#endif
