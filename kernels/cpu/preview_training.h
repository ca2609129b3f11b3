/* Update kernels of the ai.onnx.preview.training optimizers (Adagrad, Adam,
 * Momentum).  These follow the ONNX formulas, which differ from PyTorch's
 * (kernels/cpu/optimizer.c): Adagrad's decay applies to the step count
 * passed in, Adam's bias correction folds into the rate and adds
 * norm_coefficient_post, Momentum's first step uses beta = 1.
 *
 * Step-dependent scalars are folded into ot_ptrain_coef by the caller (in
 * double); the element loops run in the tensor's own type.  Every output
 * pointer may be NULL (output not requested); outputs may alias their
 * inputs: each element is read before it is written. */
#ifndef OT_KERNELS_CPU_PREVIEW_TRAINING_H
#define OT_KERNELS_CPU_PREVIEW_TRAINING_H

#include <stdbool.h>
#include <stdint.h>

#include "../../src/core/dtype.h"

typedef struct ot_ptrain_coef {
    double rate;      /* learning rate after decay / bias correction */
    double norm;      /* norm_coefficient: L2 term added to the gradient */
    double norm_post; /* Adam's norm_coefficient_post: x_final = (1 - norm_post) * x_new */
    double epsilon;
    double alpha;     /* Adam: first-moment decay; Momentum: state decay */
    double beta;      /* Adam: second-moment decay; Momentum: gradient scale (1 at step 0) */
    bool nesterov;
} ot_ptrain_coef;

/* dt is OT_FLOAT or OT_DOUBLE; every array holds n elements of it. */
void ot_ptrain_adagrad(ot_dtype dt, int64_t n, const ot_ptrain_coef *k, const void *x, const void *g,
                       const void *h, void *x_new, void *h_new);
void ot_ptrain_adam(ot_dtype dt, int64_t n, const ot_ptrain_coef *k, const void *x, const void *g, const void *v,
                    const void *h, void *x_new, void *v_new, void *h_new);
void ot_ptrain_momentum(ot_dtype dt, int64_t n, const ot_ptrain_coef *k, const void *x, const void *g,
                        const void *v, void *x_new, void *v_new);

#endif
