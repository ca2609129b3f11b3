/* Optimizer configuration: kinds, PyTorch's defaults, validation, and the
 * per-step scalars every backend's update kernel applies.
 *
 * The flags and defaults are those of ../shared/CONTRACTS.md ("Optimizer and
 * schedule flags"); the update formulas those of torch.optim 1.13's
 * single-tensor ("for-loop") implementations, which CPU training in PyTorch
 * uses (see kernels/cpu/optimizer.h for the exact arithmetic).
 *
 *   kind       torch.optim equivalent                         state tensors
 *   sgd        SGD(lr, weight_decay)                          none
 *   momentum   SGD(lr, momentum, dampening, weight_decay)     momentum_buffer
 *   nesterov   SGD(..., nesterov=True)                        momentum_buffer
 *   adam       Adam(lr, (beta1, beta2), eps, weight_decay)    exp_avg, exp_avg_sq
 *   adamw      AdamW(lr, (beta1, beta2), eps, weight_decay)   exp_avg, exp_avg_sq
 *   adagrad    Adagrad(lr, lr_decay, weight_decay,            sum
 *                      initial_accumulator_value, eps)
 *
 * Options that the kind does not use (--beta1 with sgd, --momentum with sgd:
 * PyTorch users write `--optimizer momentum` for that) are rejected when they
 * were set explicitly, so a typo never trains silently with the defaults. */
#ifndef OT_TRAIN_OPTIM_CONFIG_H
#define OT_TRAIN_OPTIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxtrain.h"

/* The kinds are the public ot_optimizer_kind (include/onnxtrain.h). */
typedef ot_optimizer_kind ot_optim_kind;
#define OT_OPTIM_KIND_COUNT 6

/* Bits of ot_optim_config.set: which options the user gave explicitly. */
enum {
    OT_OPTIM_SET_LR = 1u << 0,
    OT_OPTIM_SET_MOMENTUM = 1u << 1,
    OT_OPTIM_SET_DAMPENING = 1u << 2,
    OT_OPTIM_SET_BETA1 = 1u << 3,
    OT_OPTIM_SET_BETA2 = 1u << 4,
    OT_OPTIM_SET_EPS = 1u << 5,
    OT_OPTIM_SET_WEIGHT_DECAY = 1u << 6,
    OT_OPTIM_SET_LR_DECAY = 1u << 7,
    OT_OPTIM_SET_INITIAL_ACCUMULATOR = 1u << 8,
    OT_OPTIM_OPTION_COUNT = 9
};

/* The most state tensors any kind keeps per parameter. */
#define OT_OPTIM_MAX_STATE 2

typedef struct ot_optim_config {
    ot_optim_kind kind;
    double lr;                  /* base learning rate (the schedule scales it) */
    double momentum;            /* momentum, nesterov */
    double dampening;           /* momentum */
    double beta1, beta2, eps;   /* adam, adamw; eps also adagrad */
    double weight_decay;        /* all kinds: L2 (coupled) except adamw (decoupled) */
    double lr_decay;            /* adagrad */
    double initial_accumulator; /* adagrad: initial value of `sum` */
    uint32_t set;               /* OT_OPTIM_SET_* bits of the options given explicitly */
} ot_optim_config;

/* "sgd" ... "adagrad" (exact, lower case); OT_ERR_INVALID_ARG listing the
 * valid names otherwise. */
ot_status ot_optim_kind_parse(const char *name, ot_optim_kind *kind);
const char *ot_optim_kind_name(ot_optim_kind kind); /* "adam"; "?" if out of range */

/* Fills *cfg with PyTorch's defaults for `kind` and set = 0.  sgd, momentum
 * and nesterov have no default lr (PyTorch requires one): lr is 0 there and
 * ot_optim_config_validate fails until OT_OPTIM_SET_LR is set. */
void ot_optim_config_defaults(ot_optim_kind kind, ot_optim_config *cfg);

/* Sets one option by its flag name without dashes ("lr", "momentum",
 * "dampening", "beta1", "beta2", "eps", "weight-decay", "lr-decay",
 * "initial-accumulator"; '_' may replace '-') and marks it set.
 * OT_ERR_INVALID_ARG for an unknown name.  Validation happens later. */
ot_status ot_optim_config_set(ot_optim_config *cfg, const char *option, double value);
/* "--lr", "--weight-decay", ... for one OT_OPTIM_SET_* bit. */
const char *ot_optim_option_flag(uint32_t bit);

/* Checks a config as PyTorch's constructors do, plus the rules above.
 * Messages name the flag: "--lr is required for sgd", "--beta2 must be in
 * [0, 1) (got 1)", "nesterov requires --momentum > 0 and --dampening 0", ...
 * OT_ERR_INVALID_ARG on failure. */
ot_status ot_optim_config_validate(const ot_optim_config *cfg);

/* State tensors per parameter: sgd 0, momentum/nesterov 1, adam/adamw 2,
 * adagrad 1.  Each has the parameter's shape and dtype. */
int ot_optim_state_count(ot_optim_kind kind);
/* PyTorch's state_dict key of state tensor k ("momentum_buffer", "exp_avg",
 * "exp_avg_sq", "sum"); NULL when k is out of range. */
const char *ot_optim_state_name(ot_optim_kind kind, int k);
/* The value state tensor k starts at (every element): 0, except adagrad's
 * sum = initial_accumulator.  (PyTorch creates the momentum buffer at the
 * first step as a copy of the gradient; the kernels do the same when t == 1,
 * so its initial contents are never read.) */
double ot_optim_state_initial_value(const ot_optim_config *cfg, int k);

/* The scalars of one update step, computed on the host in double exactly as
 * torch.optim computes them in Python; kernels convert each to the
 * parameter's dtype (as ATen converts a Python scalar) and apply them. */
typedef struct ot_optim_coeffs {
    ot_optim_kind kind;
    int64_t t;             /* optimizer step, 1-based */
    double lr;             /* the lr of this step */
    bool l2;               /* g += weight_decay * p first (weight_decay != 0, not adamw) */
    double weight_decay;
    /* sgd family */
    bool use_momentum;     /* momentum != 0 (kinds momentum, nesterov) */
    bool nesterov;
    bool first_step;       /* t == 1: the momentum buffer becomes the gradient */
    double momentum;
    double one_minus_dampening;
    double neg_lr;
    /* adam, adamw */
    double beta1, one_minus_beta1, beta2, one_minus_beta2;
    double bias_correction2_sqrt; /* sqrt(1 - beta2^t) */
    double neg_step_size;         /* -lr / (1 - beta1^t) */
    double decay;                 /* adamw: 1 - lr * weight_decay, applied to p first */
    /* adam, adamw, adagrad */
    double eps;
    /* adagrad */
    double neg_clr;               /* -lr / (1 + (t - 1) * lr_decay) */
} ot_optim_coeffs;

/* The coefficients of step t (1-based) with learning rate lr (the schedule's
 * value for this step).  OT_ERR_INVALID_ARG for t < 1 or a negative or
 * non-finite lr. */
ot_status ot_optim_coeffs_compute(const ot_optim_config *cfg, int64_t t, double lr, ot_optim_coeffs *out);

#endif
