/* Learning-rate schedules, stepped once per optimizer step
 * (../shared/CONTRACTS.md, "Optimizer and schedule flags").
 *
 * `step` counts optimizer steps from 0 (the first update uses step 0), T is
 * the total number of optimizer steps of the run, W the warmup steps and
 * S = max(1, T - W) the steps after warmup; s = step - W.
 *
 *   warmup (all kinds), step < W:   lr * step / W
 *     This is PyTorch's LambdaLR with HuggingFace's
 *     get_*_schedule_with_warmup lambda (step / max(1, W)): the first update
 *     runs with lr 0 and step W is the first at the full lr.
 *   constant:  lr
 *   linear:    min_lr + (lr - min_lr) * (S - s) / S      (HuggingFace's
 *              get_linear_schedule_with_warmup when min_lr = 0: the factor
 *              reaches 0 at step T, one past the last update)
 *   cosine:    min_lr + (lr - min_lr) * (1 + cos(pi * s / S)) / 2
 *              (CosineAnnealingLR(T_max = S, eta_min = min_lr) after warmup;
 *              HuggingFace's get_cosine_schedule_with_warmup when min_lr = 0)
 *   step:      lr * gamma ^ floor(s / step_size)        (StepLR after warmup)
 *
 * Past T, linear and cosine stay at min_lr (s is clamped to S).  Values are
 * computed in closed form in double; PyTorch's chainable schedulers reach
 * the same values through products and recurrences, equal to ~1e-15
 * relative. */
#ifndef OT_TRAIN_LR_SCHEDULE_H
#define OT_TRAIN_LR_SCHEDULE_H

#include <stdint.h>

#include "onnxtrain.h"

/* The kinds are the public ot_lr_schedule_kind (include/onnxtrain.h). */
typedef ot_lr_schedule_kind ot_lr_kind;
#define OT_LR_KIND_COUNT 4

typedef struct ot_lr_schedule {
    ot_lr_kind kind;
    double lr;             /* peak (base) learning rate */
    double min_lr;         /* linear, cosine: final value (--min-lr, 0) */
    int64_t warmup_steps;  /* W (--warmup-steps, 0) */
    double gamma;          /* step: factor (--gamma, 0.1) */
    int64_t step_size;     /* step: steps per decay (--step-size, required for step) */
} ot_lr_schedule;

/* "constant", "linear", "cosine", "step"; OT_ERR_INVALID_ARG otherwise. */
ot_status ot_lr_kind_parse(const char *name, ot_lr_kind *kind);
const char *ot_lr_kind_name(ot_lr_kind kind);

/* kind with base lr, min_lr 0, no warmup, gamma 0.1, step_size 0 (must be
 * set for `step`). */
void ot_lr_schedule_defaults(ot_lr_kind kind, double lr, ot_lr_schedule *s);

/* Checks the settings for a run of total_steps optimizer steps (linear and
 * cosine need total_steps >= 1; pass 0 when unknown for the others):
 * finite lr >= 0, 0 <= min_lr <= lr, warmup >= 0, step_size >= 1 and
 * finite gamma > 0 for `step`.  Messages name the flag. */
ot_status ot_lr_schedule_validate(const ot_lr_schedule *s, int64_t total_steps);

/* The learning rate of optimizer step `step` (0-based) in a run of
 * total_steps steps. */
double ot_lr_at(const ot_lr_schedule *s, int64_t step, int64_t total_steps);

#endif
