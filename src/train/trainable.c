/* Which initializers are trained (CONTRACTS.md "What is trained"): float
 * initializers on a path to the loss, except non-finite ones (additive
 * masks), BatchNorm running statistics, and frozen ones; or exactly the
 * --trainable list.  BatchNorm statistics become state the trainer updates. */
#include <math.h>
#include <string.h>

#include "../../ops/op.h"
#include "../core/alloc.h"
#include "trainer.h"

static bool ot_name_in_list(const char *list, const char *name) {
    if (!list) return false;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

/* Every name of a comma-separated list must be a model initializer. */
static ot_status ot_check_list(const ot_graph *g, const char *list, const char *flag) {
    if (!list) return OT_OK;
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool found = false;
        for (int i = 0; i < g->n_inits && !found; i++) {
            const char *nm = g->values[g->inits[i]].name;
            found = strlen(nm) == len && !strncmp(nm, p, len);
        }
        if (!found && len) return ot_error(OT_ERR_INVALID_ARG, "%s: the model has no initializer named '%.*s'", flag, (int)len, p);
        if (!end) break;
        p = end + 1;
    }
    return OT_OK;
}

static bool ot_all_finite(const ot_tensor *t) {
    int64_t n = ot_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(ot_load_f64(t->dtype, t->data, i))) return false;
    return true;
}

/* Values reachable backwards from the loss output through inputs that may
   carry a gradient. */
static char *ot_reaching(const ot_graph *g, int out) {
    char *r = ot_calloc((size_t)g->n_values + 1, 1);
    if (!r) return NULL;
    r[out] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const ot_node *n = &g->nodes[i];
        bool any = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && r[n->outputs[k]]) any = true;
        if (!any) continue;
        const ot_op_def *d = ot_op_resolve(n->domain, n->op_type, ot_graph_opset(g, n->domain));
        /* Shape-only consumers pass no gradient to their input. */
        if (d && (d->traits & OT_TRAIT_SHAPE_ONLY)) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && !(d && k < 32 && (d->no_grad_inputs >> k & 1u))) r[n->inputs[k]] = 1;
    }
    return r;
}

static ot_status ot_add_param(ot_trainer *t, int v, ot_param_kind kind, int *index) {
    const ot_value *val = &t->model->graph->values[v];
    ot_param *p = &t->params[t->n_params];
    memset(p, 0, sizeof *p);
    p->name = val->name;
    p->value = v;
    p->kind = kind;
    OT_TRY(ot_tensor_clone(val->init, &p->data));
    *index = t->n_params++;
    return OT_OK;
}

ot_status ot_trainer_collect_params(ot_trainer *t) {
    const ot_graph *g = t->model->graph;
    OT_TRY(ot_check_list(g, t->o.freeze, "--freeze"));
    OT_TRY(ot_check_list(g, t->o.trainable, "--trainable"));
    int out;
    OT_TRY(ot_loss_output(g, &t->o, &out));
    char *reach = ot_reaching(g, out);
    char *bn_stat = ot_calloc((size_t)g->n_values + 1, 1);
    t->params = ot_calloc((size_t)g->n_inits + 1, sizeof *t->params);
    t->reasons = ot_calloc((size_t)g->n_inits + 1, sizeof *t->reasons);
    t->bn = ot_calloc((size_t)g->n_nodes + 1, sizeof *t->bn);
    t->is_mutable = ot_calloc((size_t)g->n_values + 1, sizeof *t->is_mutable);
    ot_status s = OT_OK;
    if (!reach || !bn_stat || !t->params || !t->reasons || !t->bn || !t->is_mutable) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ot_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "BatchNormalization") || n->domain[0] || n->n_inputs < 5) continue;
        for (int k = 3; k < 5; k++)
            if (n->inputs[k] >= 0 && g->values[n->inputs[k]].init) bn_stat[n->inputs[k]] = 1;
    }
    for (int i = 0; i < g->n_inits && !s; i++) {
        int v = g->inits[i];
        const ot_value *val = &g->values[v];
        const char *why;
        if (!ot_dtype_is_float(val->init->dtype)) why = "not a float tensor";
        else if (bn_stat[v]) why = "batchnorm statistic";
        else if (t->o.trainable) why = ot_name_in_list(t->o.trainable, val->name) ? "trainable" : "not listed in --trainable";
        else if (ot_name_in_list(t->o.freeze, val->name)) why = "frozen";
        else if (!reach[v]) why = "not on a path to the loss";
        else if (!ot_all_finite(val->init)) why = "non-finite values";
        else why = "trainable";
        t->reasons[i] = why;
        int idx;
        if (!strcmp(why, "trainable")) {
            s = ot_add_param(t, v, OT_PARAM_TRAINABLE, &idx);
            t->is_mutable[v] = true;
        }
    }
    /* BatchNorm statistics: state updated each step (PyTorch's formula). */
    for (int i = 0; i < g->n_nodes && !s; i++) {
        const ot_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "BatchNormalization") || n->domain[0] || n->n_inputs < 5) continue;
        if (n->inputs[3] < 0 || n->inputs[4] < 0 || !g->values[n->inputs[3]].init || !g->values[n->inputs[4]].init) continue;
        ot_bn_link *b = &t->bn[t->n_bn];
        b->node = i;
        float m;
        if ((s = ot_attr_get_float(n, "momentum", 0.9f, &m))) break;
        b->momentum = m;
        int idx[2];
        for (int k = 0; k < 2 && !s; k++) {
            int v = n->inputs[3 + k];
            idx[k] = -1;
            for (int p = 0; p < t->n_params; p++)
                if (t->params[p].value == v) idx[k] = p;
            if (idx[k] < 0) {
                s = ot_add_param(t, v, OT_PARAM_BN_STAT, &idx[k]);
                t->is_mutable[v] = true;
            }
        }
        b->mean = idx[0];
        b->var = idx[1];
        t->n_bn++;
    }
out:
    ot_free(reach);
    ot_free(bn_stat);
    return s;
}
