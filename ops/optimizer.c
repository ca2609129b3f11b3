/* Op family: optimizer (domain ai.onnxtrain, opset 1).  Made by the trainer
 * (src/train/optim_graph.c) when the update runs inside the training
 * program; never by exporters.  The arithmetic is kernels/cpu/optimizer.c's,
 * the per-step scalars src/train/optim_config.h's: the same calls the
 * trainer's own update path makes, so results are bit-identical.
 *
 *   OptimizerUpdate(steps, lr, guard, p0, g0, s0_0 .. s0_{S-1}, p1, g1, ...) -> ()
 *       One optimizer step over a group of parameters (a multi-tensor
 *       kernel), in place: every pi and its state tensors si_k are written;
 *       nothing is output.  The op is OT_TRAIT_SIDE_EFFECT: never folded, and
 *       the schedule keeps every other reader of a written slot on the side
 *       of it where it was.
 *       steps  int64 (1) or (count): the 1-based step t of each parameter
 *              (PyTorch's per-parameter state['step'] + 1); one value for all
 *       lr     float or double, one element: this step's learning rate
 *       guard  optional float or double, one element (the loss): when it is
 *              NaN or infinite the whole update is skipped, so a diverged
 *              step leaves parameters and state as they were (the trainer
 *              reports the error)
 *       pi, gi parameter and its gradient, one float type for the group
 *       si_k   S state tensors per parameter (S from the optimizer: sgd 0,
 *              momentum / nesterov 1, adam / adamw 2, adagrad 1), pi's shape
 *     Attributes:
 *       optimizer  STRING  sgd, momentum, nesterov, adam, adamw, adagrad
 *       momentum, dampening, beta1, beta2, eps, weight_decay, lr_decay,
 *       initial_accumulator: TENSOR (one float64 element: exact) or FLOAT;
 *              absent ones take PyTorch's defaults for the optimizer, and
 *              ones the optimizer does not use are rejected. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/cpu/optimizer.h"
#include "grad.h"
#include "op.h"

typedef struct ou_attrs {
    ot_optim_config cfg;
    int n_state; /* state tensors per parameter */
    int count;   /* parameters in the group */
} ou_attrs;

#define OU_FIRST 3  /* inputs before the first parameter: steps, lr, guard */
#define OU_CHUNK 64 /* parameters per kernel call (the group arrays live on the stack) */

static const char *const ou_hyper[] = {"momentum", "dampening", "beta1", "beta2", "eps",
                                       "weight_decay", "lr_decay", "initial_accumulator"};

/* The attribute's value as a double: a one-element float tensor (exact for
   float64) or a FLOAT. */
static ot_status ou_hyper_value(const ot_node *n, const ot_attr *a, double *v) {
    if (a->type == OT_ATTR_FLOAT) {
        *v = a->f;
        return OT_OK;
    }
    if (a->type == OT_ATTR_TENSOR && a->t && a->t->data && ot_tensor_numel(a->t) == 1 &&
        (a->t->dtype == OT_DOUBLE || a->t->dtype == OT_FLOAT)) {
        *v = ot_load_f64(a->t->dtype, a->t->data, 0);
        return OT_OK;
    }
    return ot_error(OT_ERR_PARSE, "node '%s' (OptimizerUpdate): attribute '%s' must be a float or a one-element "
                    "float/double tensor", n->name, a->name);
}

static ot_status ou_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ou_attrs *at = attrs;
    const char *kind_name = NULL;
    OT_TRY(ot_attr_get_string(n, "optimizer", NULL, &kind_name));
    if (!kind_name)
        return ot_error(OT_ERR_PARSE, "node '%s' (OptimizerUpdate): attribute 'optimizer' is required", n->name);
    ot_optim_kind kind;
    ot_status s = ot_optim_kind_parse(kind_name, &kind);
    if (!s) {
        ot_optim_config_defaults(kind, &at->cfg);
        for (size_t i = 0; i < sizeof ou_hyper / sizeof ou_hyper[0] && !s; i++) {
            const ot_attr *a = ot_node_attr(n, ou_hyper[i]);
            double v;
            if (!a) continue;
            if ((s = ou_hyper_value(n, a, &v))) return s;
            s = ot_optim_config_set(&at->cfg, ou_hyper[i], v);
        }
        /* The lr is an input: any valid value satisfies the check that an
           sgd-family lr was given. */
        if (!s) s = ot_optim_config_set(&at->cfg, "lr", 1.0);
        if (!s) s = ot_optim_config_validate(&at->cfg);
    }
    if (s) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ot_last_error());
        return ot_error(OT_ERR_PARSE, "node '%s' (OptimizerUpdate): %s", n->name, msg);
    }
    at->n_state = ot_optim_state_count(kind);
    int per = 2 + at->n_state, rest = n->n_inputs - OU_FIRST;
    if (rest < per || rest % per)
        return ot_error(OT_ERR_PARSE, "node '%s' (OptimizerUpdate): %d inputs; %s takes steps, lr, guard and then "
                        "groups of %d (parameter, gradient%s)", n->name, n->n_inputs, kind_name, per,
                        at->n_state == 0 ? "" : at->n_state == 1 ? ", state" : ", 2 states");
    at->count = rest / per;
    return OT_OK;
}

static ot_status ou_scalar(ot_kctx *c, int i, const char *what, bool required) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return required ? ot_op_error(c, OT_ERR_PARSE, "input %d (%s) is required", i, what) : OT_OK;
    if (t->dtype != OT_FLOAT && t->dtype != OT_DOUBLE)
        return ot_op_error(c, OT_ERR_TYPE, "%s must be float or double, got %s", what, ot_dtype_name(t->dtype));
    if (ot_tensor_numel(t) != 1)
        return ot_op_error(c, OT_ERR_SHAPE, "%s must hold one element, got %lld", what, (long long)ot_tensor_numel(t));
    return OT_OK;
}

static ot_status ou_infer(ot_kctx *c) {
    const ou_attrs *at = c->attrs;
    const ot_tensor *steps = ot_in(c, 0);
    if (!steps || steps->dtype != OT_INT64)
        return ot_op_error(c, OT_ERR_TYPE, "steps must be an int64 tensor");
    int64_t ns = ot_tensor_numel(steps);
    if (ns != 1 && ns != at->count)
        return ot_op_error(c, OT_ERR_SHAPE, "steps holds %lld values for %d parameters (one, or one each)",
                           (long long)ns, at->count);
    OT_TRY(ou_scalar(c, 1, "lr", true));
    OT_TRY(ou_scalar(c, 2, "guard", false));
    int per = 2 + at->n_state;
    const ot_tensor *p0 = ot_in(c, OU_FIRST);
    for (int i = 0; i < at->count; i++) {
        int base = OU_FIRST + i * per;
        const ot_tensor *p = ot_in(c, base);
        if (!p) return ot_op_error(c, OT_ERR_PARSE, "parameter %d is missing", i);
        if (!ot_cpu_optim_dtype_ok(p->dtype))
            return ot_op_error(c, OT_ERR_UNSUPPORTED, "parameter %d is %s; float and double are supported", i,
                               ot_dtype_name(p->dtype));
        if (p->dtype != p0->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "parameters of one group share one type (%s and %s)",
                               ot_dtype_name(p0->dtype), ot_dtype_name(p->dtype));
        for (int k = 1; k < per; k++) {
            const ot_tensor *x = ot_in(c, base + k);
            const char *what = k == 1 ? "gradient" : "state";
            if (!x) return ot_op_error(c, OT_ERR_PARSE, "the %s of parameter %d is missing", what, i);
            if (x->dtype != p->dtype || !ot_shape_equal(x->rank, x->dims, p->rank, p->dims)) {
                char s1[128], s2[128];
                return ot_op_error(c, OT_ERR_SHAPE, "the %s of parameter %d is %s %s; the parameter is %s %s", what, i,
                                   ot_dtype_name(x->dtype), ot_shape_str(x->rank, x->dims, s1, sizeof s1),
                                   ot_dtype_name(p->dtype), ot_shape_str(p->rank, p->dims, s2, sizeof s2));
            }
        }
    }
    return OT_OK;
}

/* Re-reports the last error with the node's name. */
static ot_status ou_fail(const ot_kctx *c, ot_status s) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ot_last_error());
    return ot_op_error(c, s, "%s", msg);
}

static ot_status ou_cpu(ot_kctx *c) {
    const ou_attrs *at = c->attrs;
    const ot_tensor *steps = ot_in(c, 0), *lr_t = ot_in(c, 1), *guard = ot_in(c, 2);
    if (guard && !isfinite(ot_load_f64(guard->dtype, guard->data, 0))) return OT_OK;
    double lr = ot_load_f64(lr_t->dtype, lr_t->data, 0);
    const int64_t *t_of = steps->data;
    bool each = ot_tensor_numel(steps) > 1;
    int per = 2 + at->n_state;
    ot_dtype dt = ot_in(c, OU_FIRST)->dtype;
    int64_t numel[OU_CHUNK];
    void *param[OU_CHUNK], *st0[OU_CHUNK], *st1[OU_CHUNK];
    const void *grad[OU_CHUNK];
    /* Consecutive parameters at the same step share one call (one set of
       coefficients, one parallel region). */
    for (int i = 0; i < at->count;) {
        int64_t t = t_of[each ? i : 0];
        ot_optim_coeffs co;
        ot_status s = ot_optim_coeffs_compute(&at->cfg, t, lr, &co);
        if (s) return ou_fail(c, s);
        int m = 0;
        for (; i < at->count && m < OU_CHUNK && t_of[each ? i : 0] == t; i++, m++) {
            int base = OU_FIRST + i * per;
            numel[m] = ot_tensor_numel(ot_in(c, base));
            param[m] = ot_in(c, base)->data;
            grad[m] = ot_in(c, base + 1)->data;
            st0[m] = at->n_state > 0 ? ot_in(c, base + 2)->data : NULL;
            st1[m] = at->n_state > 1 ? ot_in(c, base + 3)->data : NULL;
        }
        ot_optim_group g = {m, numel, param, grad, {st0, st1}};
        if ((s = ot_cpu_optim_update(dt, &co, &g))) return ou_fail(c, s);
    }
    return OT_OK;
}

const ot_op_def ot_ops_optimizer[] = {
    {.name = "OptimizerUpdate", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = OU_FIRST + 2,
     .max_inputs = -1, .min_outputs = 0, .max_outputs = 0,
     .attr_names = "optimizer,momentum,dampening,beta1,beta2,eps,weight_decay,lr_decay,initial_accumulator",
     .attrs_size = sizeof(ou_attrs), .parse = ou_parse, .infer = ou_infer, .cpu = ou_cpu,
     .traits = OT_TRAIT_SIDE_EFFECT, .dtypes = "float, double (steps int64)"},
};
const int ot_ops_optimizer_count = sizeof ot_ops_optimizer / sizeof ot_ops_optimizer[0];
