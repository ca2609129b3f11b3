/* Shared between ops/matmul.c (the family table) and ops/matmul_grad.c (the
 * gradient rules of MatMul, FusedMatMul, Gemm and Einsum). */
#ifndef OT_OPS_MATMUL_OPS_H
#define OT_OPS_MATMUL_OPS_H

#include "grad.h"

typedef struct gemm_attrs {
    float alpha, beta;
    bool trans_a, trans_b;
    bool broadcast; /* opset 6: C broadcasts only when set; from opset 7 always */
} gemm_attrs;

/* FusedMatMul (ai.onnxtrain): transA / transB swap the last two dims. */
typedef struct fmm_attrs {
    bool ta, tb;
} fmm_attrs;

ot_status ot_matmul_grad(ot_grad_ctx *g);
ot_status ot_fused_matmul_grad(ot_grad_ctx *g);
ot_status ot_gemm_grad(ot_grad_ctx *g);
ot_status ot_einsum_grad(ot_grad_ctx *g);

#endif
