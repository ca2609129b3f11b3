/* Gradient clipping by global L2 norm: see clip.h. */
#include "src/train/clip.h"

#include <math.h>

#include "kernels/cpu/optimizer.h"
#include "src/core/status.h"

double ot_clip_coef(ot_dtype dt, double total_norm, double max_norm) {
    double coef;
    if (dt == OT_FLOAT) {
        /* torch: total_norm is a float32 tensor; (total + 1e-6).reciprocal() * max_norm. */
        float denom = (float)total_norm + (float)1e-6;
        float c = (1.0f / denom) * (float)max_norm;
        coef = c;
    } else {
        coef = (1.0 / (total_norm + 1e-6)) * max_norm;
    }
    /* torch.clamp(coef, max=1.0) keeps NaN. */
    return coef > 1.0 ? 1.0 : coef;
}

ot_status ot_clip_grad_norm(ot_dtype dt, int count, void *const *grads, const int64_t *numel, double max_norm,
                            double *total_norm) {
    if (!isfinite(max_norm) || max_norm < 0)
        return ot_error(OT_ERR_INVALID_ARG, "gradient clipping: max norm must be finite and >= 0 (got %g)", max_norm);
    double sumsq;
    OT_TRY(ot_cpu_grads_sumsq(dt, count, (const void *const *)grads, numel, &sumsq));
    double total = sqrt(sumsq);
    if (total_norm) *total_norm = total;
    double coef = ot_clip_coef(dt, total, max_norm);
    /* Multiplying by a clamped coefficient of exactly 1 changes nothing, so
       only coef < 1 (or NaN, which PyTorch multiplies in too) touches the
       gradients. */
    if (!(coef >= 1.0)) OT_TRY(ot_cpu_grads_scale(dt, count, grads, numel, coef));
    return OT_OK;
}
