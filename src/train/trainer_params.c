/* Parameters by name, and writing the trained values back into the model as
 * an inference graph (CONTRACTS.md: BatchNormalization without
 * training_mode and its extra outputs, Dropout in inference mode). */
#include <string.h>

#include "../core/alloc.h"
#include "trainer.h"

int ot_trainer_param_count(const ot_trainer *t) {
    int n = 0;
    for (int k = 0; k < t->n_params; k++) n += t->params[k].kind == OT_PARAM_TRAINABLE;
    return n;
}

const char *ot_trainer_param_name(const ot_trainer *t, int i) {
    for (int k = 0; k < t->n_params; k++)
        if (t->params[k].kind == OT_PARAM_TRAINABLE && i-- == 0) return t->params[k].name;
    return NULL;
}

const char *ot_trainer_param_reason(const ot_trainer *t, int i) {
    return i >= 0 && i < t->model->graph->n_inits ? t->reasons[i] : NULL;
}

static ot_param *ot_find_param(const ot_trainer *t, const char *name) {
    for (int k = 0; k < t->n_params; k++)
        if (!strcmp(t->params[k].name, name)) return &t->params[k];
    return NULL;
}

ot_status ot_trainer_get_param(const ot_trainer *t, const char *name, ot_tensor **out) {
    if (!t || !name || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_get_param: NULL argument");
    const ot_param *p = ot_find_param(t, name);
    if (!p) return ot_error(OT_ERR_INVALID_ARG, "'%s' is not a trained parameter or BatchNorm statistic", name);
    OT_TRY(ot_tensor_clone(p->data, out));
    return ot_tensor_set_name(*out, name);
}

ot_status ot_trainer_set_param(ot_trainer *t, const char *name, const ot_tensor *value) {
    if (!t || !name || !value) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_set_param: NULL argument");
    ot_param *p = ot_find_param(t, name);
    if (!p) return ot_error(OT_ERR_INVALID_ARG, "'%s' is not a trained parameter or BatchNorm statistic", name);
    if (value->dtype != p->data->dtype || !ot_shape_equal(value->rank, value->dims, p->data->rank, p->data->dims)) {
        char a[128], b[128];
        return ot_error(OT_ERR_SHAPE, "parameter '%s' is %s %s, the value given is %s %s", name, ot_dtype_name(p->data->dtype),
                        ot_shape_str(p->data->rank, p->data->dims, a, sizeof a), ot_dtype_name(value->dtype),
                        ot_shape_str(value->rank, value->dims, b, sizeof b));
    }
    memcpy(p->data->data, value->data, ot_tensor_nbytes(value)); /* in place: programs point at these bytes */
    return OT_OK;
}

static bool ot_value_used(const ot_graph *g, int v) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] == v) return true;
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == v) return true;
    return false;
}

ot_status ot_trainer_export(ot_trainer *t) {
    if (!t) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_export: NULL trainer");
    ot_graph *g = t->model->graph;
    for (int k = 0; k < t->n_params; k++) {
        ot_tensor *init = g->values[t->params[k].value].init;
        memcpy(init->data, t->params[k].data->data, ot_tensor_nbytes(init));
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ot_node *n = &g->nodes[i];
        if (n->domain[0]) continue;
        if (!strcmp(n->op_type, "BatchNormalization")) {
            for (int k = 1; k < n->n_outputs; k++)
                if (n->outputs[k] >= 0 && ot_value_used(g, n->outputs[k]))
                    return ot_error(OT_ERR_UNSUPPORTED, "BatchNormalization '%s': its training output '%s' is used by the graph, so it cannot be exported as an inference node",
                                    n->name, g->values[n->outputs[k]].name);
            for (int a = 0; a < n->n_attrs; a++)
                if (!strcmp(n->attrs[a].name, "training_mode")) n->attrs[a].i = 0;
            n->n_outputs = 1;
        } else if (!strcmp(n->op_type, "Dropout") && n->n_inputs > 2) {
            n->n_inputs = 2; /* training_mode absent: inference */
        }
    }
    return OT_OK;
}
