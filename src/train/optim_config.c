/* Optimizer configuration: defaults, option setting, validation, per-step
 * coefficients.  See optim_config.h. */
#include "src/train/optim_config.h"

#include <math.h>
#include <string.h>

#include "src/core/status.h"

static const char *const kind_names[OT_OPTIM_KIND_COUNT] = {
    "sgd", "momentum", "nesterov", "adam", "adamw", "adagrad",
};

/* Flag names, index = bit position of OT_OPTIM_SET_*. */
static const char *const option_names[OT_OPTIM_OPTION_COUNT] = {
    "lr", "momentum", "dampening", "beta1", "beta2", "eps", "weight-decay", "lr-decay", "initial-accumulator",
};
static const char *const option_flags[OT_OPTIM_OPTION_COUNT] = {
    "--lr", "--momentum", "--dampening", "--beta1", "--beta2",
    "--eps", "--weight-decay", "--lr-decay", "--initial-accumulator",
};

ot_status ot_optim_kind_parse(const char *name, ot_optim_kind *kind) {
    if (!name) return ot_error(OT_ERR_INVALID_ARG, "optimizer name is NULL");
    for (int k = 0; k < OT_OPTIM_KIND_COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (ot_optim_kind)k;
            return OT_OK;
        }
    }
    return ot_error(OT_ERR_INVALID_ARG,
                    "unknown optimizer '%s' (expected sgd, momentum, nesterov, adam, adamw or adagrad)", name);
}

const char *ot_optim_kind_name(ot_optim_kind kind) {
    return (kind >= 0 && kind < OT_OPTIM_KIND_COUNT) ? kind_names[kind] : "?";
}

const char *ot_optim_option_flag(uint32_t bit) {
    for (int i = 0; i < OT_OPTIM_OPTION_COUNT; i++)
        if (bit == (1u << i)) return option_flags[i];
    return "?";
}

void ot_optim_config_defaults(ot_optim_kind kind, ot_optim_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    /* torch.optim's constructor defaults. */
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    switch (kind) {
    case OT_OPTIM_MOMENTUM:
    case OT_OPTIM_NESTEROV: cfg->momentum = 0.9; break;
    case OT_OPTIM_ADAM: cfg->lr = 1e-3; break;
    case OT_OPTIM_ADAMW:
        cfg->lr = 1e-3;
        cfg->weight_decay = 1e-2;
        break;
    case OT_OPTIM_ADAGRAD:
        cfg->lr = 1e-2;
        cfg->eps = 1e-10;
        break;
    default: break; /* sgd: lr required, everything else 0 */
    }
}

/* Option names compare with '-' and '_' as equal. */
static bool option_name_eq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char ca = *a == '_' ? '-' : *a, cb = *b == '_' ? '-' : *b;
        if (ca != cb) return false;
    }
    return *a == *b;
}

ot_status ot_optim_config_set(ot_optim_config *cfg, const char *option, double value) {
    if (!option) return ot_error(OT_ERR_INVALID_ARG, "optimizer option name is NULL");
    while (*option == '-') option++;
    double *field[OT_OPTIM_OPTION_COUNT] = {
        &cfg->lr,  &cfg->momentum,     &cfg->dampening, &cfg->beta1,
        &cfg->beta2, &cfg->eps, &cfg->weight_decay, &cfg->lr_decay, &cfg->initial_accumulator,
    };
    for (int i = 0; i < OT_OPTIM_OPTION_COUNT; i++) {
        if (option_name_eq(option, option_names[i])) {
            *field[i] = value;
            cfg->set |= 1u << i;
            return OT_OK;
        }
    }
    return ot_error(OT_ERR_INVALID_ARG, "unknown optimizer option '%s'", option);
}

/* Options each kind reads; an explicitly set option outside the mask is an error. */
static uint32_t options_used(ot_optim_kind kind) {
    const uint32_t common = OT_OPTIM_SET_LR | OT_OPTIM_SET_WEIGHT_DECAY;
    switch (kind) {
    case OT_OPTIM_SGD: return common;
    case OT_OPTIM_MOMENTUM: return common | OT_OPTIM_SET_MOMENTUM | OT_OPTIM_SET_DAMPENING;
    /* Dampening is accepted so that a non-zero value gets PyTorch's own
       error message below rather than "does not apply". */
    case OT_OPTIM_NESTEROV: return common | OT_OPTIM_SET_MOMENTUM | OT_OPTIM_SET_DAMPENING;
    case OT_OPTIM_ADAM:
    case OT_OPTIM_ADAMW: return common | OT_OPTIM_SET_BETA1 | OT_OPTIM_SET_BETA2 | OT_OPTIM_SET_EPS;
    case OT_OPTIM_ADAGRAD:
        return common | OT_OPTIM_SET_EPS | OT_OPTIM_SET_LR_DECAY | OT_OPTIM_SET_INITIAL_ACCUMULATOR;
    default: return 0;
    }
}

static ot_status check_nonneg(const char *flag, double v) {
    if (!isfinite(v) || v < 0)
        return ot_error(OT_ERR_INVALID_ARG, "%s must be a finite value >= 0 (got %g)", flag, v);
    return OT_OK;
}

static ot_status check_beta(const char *flag, double v) {
    if (!(v >= 0 && v < 1)) return ot_error(OT_ERR_INVALID_ARG, "%s must be in [0, 1) (got %g)", flag, v);
    return OT_OK;
}

ot_status ot_optim_config_validate(const ot_optim_config *cfg) {
    if (!cfg) return ot_error(OT_ERR_INVALID_ARG, "optimizer config is NULL");
    if (cfg->kind < 0 || cfg->kind >= OT_OPTIM_KIND_COUNT)
        return ot_error(OT_ERR_INVALID_ARG, "invalid optimizer kind %d", (int)cfg->kind);
    const char *name = kind_names[cfg->kind];
    uint32_t unused = cfg->set & ~options_used(cfg->kind);
    if (unused) {
        uint32_t bit = unused & (~unused + 1u);
        if (cfg->kind == OT_OPTIM_SGD && (bit == OT_OPTIM_SET_MOMENTUM || bit == OT_OPTIM_SET_DAMPENING))
            return ot_error(OT_ERR_INVALID_ARG,
                            "%s does not apply to sgd: use --optimizer momentum (or nesterov) for SGD with momentum",
                            ot_optim_option_flag(bit));
        return ot_error(OT_ERR_INVALID_ARG, "%s does not apply to %s", ot_optim_option_flag(bit), name);
    }
    bool sgd_family = cfg->kind == OT_OPTIM_SGD || cfg->kind == OT_OPTIM_MOMENTUM || cfg->kind == OT_OPTIM_NESTEROV;
    if (sgd_family && !(cfg->set & OT_OPTIM_SET_LR))
        return ot_error(OT_ERR_INVALID_ARG, "--lr is required for %s", name);
    OT_TRY(check_nonneg("--lr", cfg->lr));
    OT_TRY(check_nonneg("--weight-decay", cfg->weight_decay));
    switch (cfg->kind) {
    case OT_OPTIM_MOMENTUM:
    case OT_OPTIM_NESTEROV:
        OT_TRY(check_nonneg("--momentum", cfg->momentum));
        if (!(cfg->dampening >= 0 && cfg->dampening <= 1))
            return ot_error(OT_ERR_INVALID_ARG, "--dampening must be in [0, 1] (got %g)", cfg->dampening);
        /* PyTorch: "Nesterov momentum requires a momentum and zero dampening". */
        if (cfg->kind == OT_OPTIM_NESTEROV && (cfg->momentum <= 0 || cfg->dampening != 0))
            return ot_error(OT_ERR_INVALID_ARG,
                            "nesterov requires --momentum > 0 and --dampening 0 (got momentum %g, dampening %g)",
                            cfg->momentum, cfg->dampening);
        break;
    case OT_OPTIM_ADAM:
    case OT_OPTIM_ADAMW:
        OT_TRY(check_beta("--beta1", cfg->beta1));
        OT_TRY(check_beta("--beta2", cfg->beta2));
        OT_TRY(check_nonneg("--eps", cfg->eps));
        break;
    case OT_OPTIM_ADAGRAD:
        OT_TRY(check_nonneg("--eps", cfg->eps));
        OT_TRY(check_nonneg("--lr-decay", cfg->lr_decay));
        OT_TRY(check_nonneg("--initial-accumulator", cfg->initial_accumulator));
        break;
    default: break;
    }
    return OT_OK;
}

int ot_optim_state_count(ot_optim_kind kind) {
    switch (kind) {
    case OT_OPTIM_MOMENTUM:
    case OT_OPTIM_NESTEROV:
    case OT_OPTIM_ADAGRAD: return 1;
    case OT_OPTIM_ADAM:
    case OT_OPTIM_ADAMW: return 2;
    default: return 0;
    }
}

const char *ot_optim_state_name(ot_optim_kind kind, int k) {
    if (k < 0 || k >= ot_optim_state_count(kind)) return NULL;
    switch (kind) {
    case OT_OPTIM_MOMENTUM:
    case OT_OPTIM_NESTEROV: return "momentum_buffer";
    case OT_OPTIM_ADAGRAD: return "sum";
    default: return k == 0 ? "exp_avg" : "exp_avg_sq";
    }
}

double ot_optim_state_initial_value(const ot_optim_config *cfg, int k) {
    if (cfg->kind == OT_OPTIM_ADAGRAD && k == 0) return cfg->initial_accumulator;
    return 0.0;
}

ot_status ot_optim_coeffs_compute(const ot_optim_config *cfg, int64_t t, double lr, ot_optim_coeffs *c) {
    if (t < 1) return ot_error(OT_ERR_INVALID_ARG, "optimizer step %lld: steps count from 1", (long long)t);
    if (!isfinite(lr) || lr < 0)
        return ot_error(OT_ERR_INVALID_ARG, "learning rate of step %lld is %g: it must be finite and >= 0",
                        (long long)t, lr);
    memset(c, 0, sizeof *c);
    c->kind = cfg->kind;
    c->t = t;
    c->lr = lr;
    c->weight_decay = cfg->weight_decay;
    c->l2 = cfg->weight_decay != 0 && cfg->kind != OT_OPTIM_ADAMW;
    c->eps = cfg->eps;
    /* torch.optim keeps the step count in a float tensor and reads it back
       with .item(): a double holding the integer t. */
    const double step = (double)t;
    switch (cfg->kind) {
    case OT_OPTIM_SGD:
    case OT_OPTIM_MOMENTUM:
    case OT_OPTIM_NESTEROV:
        c->use_momentum = cfg->kind != OT_OPTIM_SGD && cfg->momentum != 0;
        c->nesterov = cfg->kind == OT_OPTIM_NESTEROV;
        c->first_step = t == 1;
        c->momentum = cfg->momentum;
        c->one_minus_dampening = 1 - cfg->dampening;
        c->neg_lr = -lr;
        break;
    case OT_OPTIM_ADAM:
    case OT_OPTIM_ADAMW: {
        c->beta1 = cfg->beta1;
        c->beta2 = cfg->beta2;
        c->one_minus_beta1 = 1 - cfg->beta1;
        c->one_minus_beta2 = 1 - cfg->beta2;
        /* Python: bias_correction1 = 1 - beta1 ** step (C pow), step_size = lr / bias_correction1,
           bias_correction2_sqrt = math.sqrt(1 - beta2 ** step). */
        double bias_correction1 = 1 - pow(cfg->beta1, step);
        double bias_correction2 = 1 - pow(cfg->beta2, step);
        c->neg_step_size = -(lr / bias_correction1);
        c->bias_correction2_sqrt = sqrt(bias_correction2);
        c->decay = 1 - lr * cfg->weight_decay;
        break;
    }
    case OT_OPTIM_ADAGRAD:
        c->neg_clr = -(lr / (1 + (step - 1) * cfg->lr_decay));
        break;
    default: return ot_error(OT_ERR_INVALID_ARG, "invalid optimizer kind %d", (int)cfg->kind);
    }
    return OT_OK;
}
