/* Learning-rate schedules: see lr_schedule.h for the formulas. */
#include "src/train/lr_schedule.h"

#include <math.h>
#include <string.h>

#include "src/core/status.h"

static const char *const kind_names[OT_LR_KIND_COUNT] = {"constant", "linear", "cosine", "step"};

ot_status ot_lr_kind_parse(const char *name, ot_lr_kind *kind) {
    if (!name) return ot_error(OT_ERR_INVALID_ARG, "lr schedule name is NULL");
    for (int k = 0; k < OT_LR_KIND_COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (ot_lr_kind)k;
            return OT_OK;
        }
    }
    return ot_error(OT_ERR_INVALID_ARG, "unknown lr schedule '%s' (expected constant, linear, cosine or step)", name);
}

const char *ot_lr_kind_name(ot_lr_kind kind) {
    return (kind >= 0 && kind < OT_LR_KIND_COUNT) ? kind_names[kind] : "?";
}

void ot_lr_schedule_defaults(ot_lr_kind kind, double lr, ot_lr_schedule *s) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->lr = lr;
    s->gamma = 0.1;
}

ot_status ot_lr_schedule_validate(const ot_lr_schedule *s, int64_t total_steps) {
    if (!s) return ot_error(OT_ERR_INVALID_ARG, "lr schedule is NULL");
    if (s->kind < 0 || s->kind >= OT_LR_KIND_COUNT)
        return ot_error(OT_ERR_INVALID_ARG, "invalid lr schedule kind %d", (int)s->kind);
    if (!isfinite(s->lr) || s->lr < 0)
        return ot_error(OT_ERR_INVALID_ARG, "--lr must be a finite value >= 0 (got %g)", s->lr);
    if (s->warmup_steps < 0)
        return ot_error(OT_ERR_INVALID_ARG, "--warmup-steps must be >= 0 (got %lld)", (long long)s->warmup_steps);
    switch (s->kind) {
    case OT_LR_LINEAR:
    case OT_LR_COSINE:
        if (!(s->min_lr >= 0 && s->min_lr <= s->lr))
            return ot_error(OT_ERR_INVALID_ARG, "--min-lr must be in [0, lr = %g] (got %g)", s->lr, s->min_lr);
        if (total_steps < 1)
            return ot_error(OT_ERR_INVALID_ARG,
                            "the %s lr schedule needs the total number of optimizer steps (got %lld)",
                            kind_names[s->kind], (long long)total_steps);
        break;
    case OT_LR_STEP:
        if (s->step_size < 1)
            return ot_error(OT_ERR_INVALID_ARG, "--step-size must be >= 1 for the step lr schedule (got %lld)",
                            (long long)s->step_size);
        if (!isfinite(s->gamma) || s->gamma <= 0)
            return ot_error(OT_ERR_INVALID_ARG, "--gamma must be a finite value > 0 (got %g)", s->gamma);
        break;
    default: break;
    }
    return OT_OK;
}

double ot_lr_at(const ot_lr_schedule *s, int64_t step, int64_t total_steps) {
    if (step < 0) step = 0;
    const int64_t W = s->warmup_steps;
    if (step < W) return s->lr * ((double)step / (double)W);
    const int64_t sp = step - W;
    const int64_t S = total_steps - W > 1 ? total_steps - W : 1;
    switch (s->kind) {
    case OT_LR_LINEAR: {
        int64_t left = sp < S ? S - sp : 0;
        return s->min_lr + (s->lr - s->min_lr) * ((double)left / (double)S);
    }
    case OT_LR_COSINE: {
        double frac = sp < S ? (double)sp / (double)S : 1.0;
        return s->min_lr + (s->lr - s->min_lr) * (1.0 + cos(M_PI * frac)) / 2.0;
    }
    case OT_LR_STEP: {
        int64_t size = s->step_size > 0 ? s->step_size : 1;
        return s->lr * pow(s->gamma, (double)(sp / size));
    }
    default: return s->lr;
    }
}
