/* CPU kernels of the elementwise family's gradient ops (ai.onnxtrain
 * ReluGrad, SigmoidGrad, ..., PowGrad, PReluGrad, MinMaxGrad, ClipGrad,
 * DropoutGrad; ops/elementwise_grad_ops.c).  Float types only: float and
 * double natively, float16/bfloat16 through float32.  Conventions follow
 * PyTorch's derivatives (torch 1.13); the choices at kinks are listed with
 * each op.  Shapes are validated by the ops; these functions trust them. */
#ifndef OT_KERNELS_CPU_ELEMENTWISE_GRAD_H
#define OT_KERNELS_CPU_ELEMENTWISE_GRAD_H

#include <stdbool.h>

#include "elementwise.h"

/* ---- unary maps: dx = dy * f'(...) with dy, v, dx of one shape -----------
 * X(enum name, op name, v is the forward output y (1) or input x (0)).
 * At kinks: Relu 0 at x = 0 (y > 0 passes); LeakyRelu, Elu, Selu, Celu,
 * PRelu take the negative branch at x = 0; Abs gives 0 at 0; HardSigmoid
 * passes strictly inside (0, 1); HardSwish is x/3 + 1/2 on [-3, 3];
 * ThresholdedRelu passes where x > alpha; Shrink where |x| > lambd. */
#define OT_UNARY_GRAD_OPS(X)                                                     \
    X(RELU, "ReluGrad", 1) X(SIGMOID, "SigmoidGrad", 1) X(TANH, "TanhGrad", 1)    \
    X(SQRT, "SqrtGrad", 1) X(RECIPROCAL, "ReciprocalGrad", 1)                    \
    X(TAN, "TanGrad", 1) X(ABS, "AbsGrad", 0) X(SIN, "SinGrad", 0)               \
    X(COS, "CosGrad", 0) X(LEAKY_RELU, "LeakyReluGrad", 0) X(ELU, "EluGrad", 0)  \
    X(SELU, "SeluGrad", 0) X(CELU, "CeluGrad", 0) X(GELU, "GeluGrad", 0)         \
    X(GELU_TANH, "GeluGrad", 0) X(ERF, "ErfGrad", 0)                             \
    X(SOFTPLUS, "SoftplusGrad", 0) X(SOFTSIGN, "SoftsignGrad", 0)                \
    X(HARD_SIGMOID, "HardSigmoidGrad", 0) X(HARD_SWISH, "HardSwishGrad", 0)      \
    X(MISH, "MishGrad", 0) X(ACOS, "AcosGrad", 0) X(ASIN, "AsinGrad", 0)         \
    X(ATAN, "AtanGrad", 0) X(SINH, "SinhGrad", 0) X(COSH, "CoshGrad", 0)         \
    X(ASINH, "AsinhGrad", 0) X(ACOSH, "AcoshGrad", 0) X(ATANH, "AtanhGrad", 0)   \
    X(THRESHOLDED_RELU, "ThresholdedReluGrad", 0) X(SHRINK, "ShrinkGrad", 0)

typedef enum ot_unary_grad_op {
#define OT_X(name, op_name, uses_y) OT_UG_##name,
    OT_UNARY_GRAD_OPS(OT_X)
#undef OT_X
        OT_UG_COUNT
} ot_unary_grad_op;

/* Parameters as the forward's (ot_unary_params): alpha, beta, gamma;
   Shrink's lambd is alpha. */
ot_status ot_cpu_unary_grad(ot_unary_grad_op op, const ot_unary_params *p, const ot_tensor *dy, const ot_tensor *v,
                            ot_tensor *dx);
/* Contiguous float32 / float64 maps (dx may equal dy), for fused kernels. */
void ot_unary_grad_f32(ot_unary_grad_op op, const ot_unary_params *p, const float *dy, const float *v, float *dx,
                       int64_t n);
void ot_unary_grad_f64(ot_unary_grad_op op, const ot_unary_params *p, const double *dy, const double *v, double *dx,
                       int64_t n);

/* ---- broadcasting gradients (dx has the broadcast shape; the rule sums it
   back to the input's shape) -------------------------------------------- */

/* Pow, z = x ^ e.  wrt 0: dx = dy * e * x^(e-1), 0 where e == 0 (PyTorch).
   wrt 1: de = dy * z * log(x) where x > 0, else 0 (PyTorch gives NaN for
   x < 0; 0 keeps training finite).  x float; e any numeric type for wrt 0,
   float for wrt 1; z (x's dtype) is needed for wrt 1 only (NULL: recomputed).
   out: wrt 0 in x's dtype, wrt 1 in e's dtype. */
ot_status ot_cpu_pow_grad(int wrt, const ot_tensor *dy, const ot_tensor *x, const ot_tensor *e, const ot_tensor *z,
                          ot_tensor *out);

/* PRelu, y = x > 0 ? x : slope * x.  wrt 0: dx = x > 0 ? dy : dy * slope;
   wrt 1: dslope = x > 0 ? 0 : dy * x (at x's shape). */
ot_status ot_cpu_prelu_grad(int wrt, const ot_tensor *dy, const ot_tensor *x, const ot_tensor *slope,
                            ot_tensor *out);

/* Min / Max of n inputs with result y: out = dy / t where xs[k] == y and t is
   the number of inputs equal to y there, else 0.  Ties split evenly, as
   torch.maximum / torch.minimum do for two inputs. */
ot_status ot_cpu_minmax_grad(int k, int n, const ot_tensor *const *xs, const ot_tensor *dy, const ot_tensor *y,
                             ot_tensor *out);

/* Clip: dx = lo <= x <= hi ? dy : 0 (PyTorch's clamp; NaN gives 0).  lo/hi
   are one-element tensors of x's dtype, or NULL to use lo_attr / hi_attr. */
ot_status ot_cpu_clip_grad(const ot_tensor *dy, const ot_tensor *x, const ot_tensor *lo, const ot_tensor *hi,
                           double lo_attr, double hi_attr, ot_tensor *dx);

/* Dropout: dx = keep ? dy / (1 - ratio) : 0 with keep from `mask` (bool or
   a float type, nonzero = kept) or, when mask is NULL, regenerated from rng
   exactly as ot_cpu_dropout draws it (same words, same float comparison,
   same float32/float64 scale), so the two are bit-identical.  train false
   or ratio 0: dx = dy. */
ot_status ot_cpu_dropout_grad(const ot_tensor *dy, double ratio, bool train, const ot_rng *rng, const ot_tensor *mask,
                              ot_tensor *dx);

#endif
