/* The optimizer update inside the training program.
 *
 * After autodiff and fusion, the trainer's update becomes graph ops:
 *
 *   OptimizerUpdate(steps_g, lr, loss, p0, grad0, state0.., p1, grad1, ...)
 *
 * one per group of parameters whose gradients become ready at the same
 * point of the backward pass (the same producing node: a ConvGradWeight's
 * weight and bias, a LayerNormalizationGrad's scale and bias...), so the
 * schedule (src/passes/schedule.c) can run each as soon as its gradients
 * exist and its parameters' last reader ran, and the gradients die there
 * instead of living to the end of the step as outputs.
 *
 *   lr       a graph input (double, after the loss seed): the schedule's
 *            value for the step, bound by the trainer at each run
 *   steps_g  int64 (count): each parameter's 1-based step (PyTorch's
 *            per-parameter state['step'] + 1; a parameter first reached by a
 *            gradient later starts at 1), a mutable initializer whose bytes
 *            are ot_train_program.upd_steps, written before each run
 *   state    the trainer's state tensors (ot_param.state), as mutable
 *            initializers "onnxtrain/<param>/<state>": the same buffers a
 *            checkpoint saves; re-pointed before each run
 *   loss     the guard: a NaN or infinite loss skips the update, so a
 *            diverged step changes nothing (the trainer reports it)
 *
 * The coefficients and the arithmetic are the separate update path's
 * (ot_optim_coeffs_compute, ot_cpu_optim_update): results are bit-identical. */
#include <stdio.h>
#include <string.h>

#include "../../ops/grad.h"
#include "../core/alloc.h"
#include "trainer.h"

/* A scalar graph input made by the trainer. */
static ot_status og_input(ot_graph *g, const char *name, ot_dtype dtype, int *id) {
    if (ot_graph_find(g, name) >= 0)
        return ot_error(OT_ERR_INVALID_ARG, "the model already has a value named '%s', which the trainer needs", name);
    OT_TRY(ot_graph_value(g, name, id));
    ot_value *v = &g->values[*id];
    v->role = OT_ROLE_INPUT;
    v->is_input = true;
    v->dtype = dtype;
    v->rank = 0;
    int *in = ot_realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
    if (!in) return ot_error(OT_ERR_NOMEM, "out of memory");
    g->inputs = in;
    g->inputs[g->n_inputs++] = *id;
    return OT_OK;
}

/* An initializer over bytes the trainer owns (compiled as a mutable slot). */
static ot_status og_init(ot_graph *g, const char *name, ot_dtype dtype, int rank, const int64_t *dims, void *data,
                         int *id) {
    if (ot_graph_find(g, name) >= 0)
        return ot_error(OT_ERR_INVALID_ARG, "the model already has a value named '%s', which the trainer needs", name);
    int *inits = ot_realloc(g->inits, sizeof(int) * (size_t)(g->n_inits + 1));
    if (!inits) return ot_error(OT_ERR_NOMEM, "out of memory");
    g->inits = inits;
    ot_tensor *t;
    OT_TRY(ot_tensor_new_desc(dtype, rank, dims, &t));
    t->data = data;
    t->owns = false;
    ot_status s = ot_graph_value(g, name, id);
    if (s) {
        ot_tensor_free(t);
        return s;
    }
    ot_value *v = &g->values[*id];
    v->role = OT_ROLE_INITIALIZER;
    v->dtype = dtype;
    v->rank = rank;
    if (rank) memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    v->init = t;
    g->inits[g->n_inits++] = *id;
    return OT_OK;
}

/* The optimizer's hyper-parameters as attributes: those that differ from
   the kind's defaults (the op applies the same defaults), as float64
   tensors so the values are exact. */
static ot_status og_attrs(const ot_trainer *t, ot_graph *g, int node) {
    const ot_optim_config *c = &t->optim;
    ot_optim_config d;
    ot_optim_config_defaults(c->kind, &d);
    ot_attr *a;
    const char *kind = ot_optim_kind_name(c->kind);
    OT_TRY(ot_node_add_attr(g, node, "optimizer", OT_ATTR_STRING, &a));
    if (!(a->s = ot_strdup(kind))) return ot_error(OT_ERR_NOMEM, "out of memory");
    a->s_len = strlen(kind);
    const struct {
        const char *name;
        double v, dflt;
    } h[] = {{"momentum", c->momentum, d.momentum},     {"dampening", c->dampening, d.dampening},
             {"beta1", c->beta1, d.beta1},              {"beta2", c->beta2, d.beta2},
             {"eps", c->eps, d.eps},                    {"weight_decay", c->weight_decay, d.weight_decay},
             {"lr_decay", c->lr_decay, d.lr_decay},     {"initial_accumulator", c->initial_accumulator, d.initial_accumulator}};
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        if (h[i].v == h[i].dflt) continue;
        ot_tensor *v;
        OT_TRY(ot_tensor_new(OT_DOUBLE, 0, NULL, &v));
        *(double *)v->data = h[i].v;
        ot_status s = ot_node_add_attr(g, node, h[i].name, OT_ATTR_TENSOR, &a);
        if (s) {
            ot_tensor_free(v);
            return s;
        }
        a->t = v;
    }
    return OT_OK;
}

/* One OptimizerUpdate over the parameters ks[0..count) (positions first..
   of the program's update arrays). */
static ot_status og_group(ot_trainer *t, ot_train_program *p, int gi, const int *ks, int count, int first) {
    ot_graph *g = p->g;
    int ns = ot_optim_state_count(t->optim.kind), per = 2 + ns, n_in = 3 + count * per, steps_v, node;
    char name[1024];
    int64_t dims = count;
    snprintf(name, sizeof name, "onnxtrain/update_%d/steps", gi);
    OT_TRY(og_init(g, name, OT_INT64, 1, &dims, &p->upd_steps[first], &steps_v));
    int *in = ot_malloc(sizeof(int) * (size_t)n_in);
    if (!in) return ot_error(OT_ERR_NOMEM, "out of memory");
    in[0] = steps_v;
    in[1] = p->lr_input;
    in[2] = p->loss;
    ot_status s = OT_OK;
    for (int q = 0; q < count && !s; q++) {
        const ot_param *pr = &t->params[ks[q]];
        p->upd_param[first + q] = ks[q];
        in[3 + q * per] = pr->value;
        in[3 + q * per + 1] = p->grad_of[ks[q]];
        for (int k = 0; k < ns && !s; k++) {
            const ot_tensor *st = pr->state[k];
            int sv = -1;
            snprintf(name, sizeof name, "onnxtrain/%s/%s", pr->name, ot_optim_state_name(t->optim.kind, k));
            s = og_init(g, name, st->dtype, st->rank, st->dims, st->data, &sv);
            p->upd_state[(first + q) * OT_OPTIM_MAX_STATE + k] = sv;
            in[3 + q * per + 2 + k] = sv;
        }
    }
    snprintf(name, sizeof name, "onnxtrain/update_%d", gi);
    if (!s) s = ot_graph_add_node(g, "OptimizerUpdate", OT_DOMAIN_TRAIN, name, n_in, in, 0, NULL, &node);
    ot_free(in);
    if (!s) s = og_attrs(t, g, node);
    return s;
}

/* The node producing parameter k's gradient (-1: none, e.g. a constant):
   parameters whose gradients come from one node form one group. */
static int og_ready_at(const ot_train_program *p, int k) { return p->g->values[p->grad_of[k]].producer; }

/* Parameters (indices into t->params) in the order their gradients become
   ready, by parameter index within one producer. */
static void og_sort(const ot_train_program *p, int *ks, int n) {
    for (int i = 1; i < n; i++) {
        int k = ks[i], key = og_ready_at(p, k), j = i;
        while (j > 0 && og_ready_at(p, ks[j - 1]) > key) {
            ks[j] = ks[j - 1];
            j--;
        }
        ks[j] = k;
    }
}

/* The gradients of updated parameters stop being graph outputs. */
static void og_drop_grad_outputs(ot_graph *g, const ot_train_program *p) {
    int m = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        bool grad = false;
        for (int q = 0; q < p->n_updated && !grad; q++) grad = g->outputs[i] == p->grad_of[p->upd_param[q]];
        if (!grad) g->outputs[m++] = g->outputs[i];
    }
    g->n_outputs = m;
}

ot_status ot_train_attach_updates(ot_trainer *t, ot_train_program *p, bool **mutable_values) {
    ot_graph *g = p->g;
    int n = 0, nv0 = g->n_values;
    for (int k = 0; k < t->n_params; k++) n += t->params[k].kind == OT_PARAM_TRAINABLE && p->grad_of[k] >= 0;
    p->upd_param = ot_malloc(sizeof(int) * ((size_t)n + 1));
    p->upd_steps = ot_calloc((size_t)n + 1, sizeof(int64_t));
    p->upd_state = ot_malloc(sizeof(int) * ((size_t)n * OT_OPTIM_MAX_STATE + 1));
    int *ks = ot_malloc(sizeof(int) * ((size_t)n + 1));
    ot_status s = p->upd_param && p->upd_steps && p->upd_state && ks ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
    for (int k = 0, m = 0; k < t->n_params && !s; k++)
        if (t->params[k].kind == OT_PARAM_TRAINABLE && p->grad_of[k] >= 0) {
            ks[m++] = k;
            s = ot_trainer_ensure_state(t, k);
        }
    for (int i = 0; i < n * OT_OPTIM_MAX_STATE && !s; i++) p->upd_state[i] = -1;
    if (!s) s = og_input(g, "onnxtrain/lr", OT_DOUBLE, &p->lr_input);
    if (!s) og_sort(p, ks, n);
    for (int i = 0, gi = 0; i < n && !s; gi++) {
        int j = i + 1;
        while (j < n && og_ready_at(p, ks[j]) == og_ready_at(p, ks[i]) &&
               t->params[ks[j]].data->dtype == t->params[ks[i]].data->dtype)
            j++;
        s = og_group(t, p, gi, ks + i, j - i, i);
        p->n_update_nodes = gi + 1;
        i = j;
    }
    ot_free(ks);
    OT_TRY(s);
    p->n_updated = n;
    og_drop_grad_outputs(g, p);
    /* The mask again, for the graph's values now: the model's mutable
       parameters, then the steps and state initializers made here. */
    bool *mut = ot_calloc((size_t)g->n_values + 1, sizeof *mut);
    if (!mut) return ot_error(OT_ERR_NOMEM, "out of memory");
    memcpy(mut, t->is_mutable, sizeof *mut * (size_t)t->model->graph->n_values);
    for (int v = nv0; v < g->n_values; v++) mut[v] = g->values[v].role == OT_ROLE_INITIALIZER;
    ot_free(*mutable_values);
    *mutable_values = mut;
    return OT_OK;
}

ot_status ot_train_prepare_updates(ot_trainer *t, ot_train_program *p) {
    int ns = ot_optim_state_count(t->optim.kind);
    for (int i = 0; i < p->n_updated; i++) {
        int k = p->upd_param[i];
        ot_param *pr = &t->params[k];
        p->upd_steps[i] = pr->steps + 1;
        OT_TRY(ot_trainer_ensure_state(t, k)); /* a checkpoint without this state dropped it */
        for (int j = 0; j < ns; j++) {
            int v = p->upd_state[i * OT_OPTIM_MAX_STATE + j];
            p->prog->slots[v].data = pr->state[j]->data;
            p->g->values[v].init->data = pr->state[j]->data;
        }
    }
    return OT_OK;
}
