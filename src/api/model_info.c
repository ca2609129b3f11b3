/* Read-only views of a loaded model for the public API. */
#include <string.h>

#include "../onnx/model.h"
#include "../runtime/program.h"

int64_t ot_model_ir_version(const ot_model *m) { return m->ir_version; }
const char *ot_model_producer_name(const ot_model *m) { return m->producer_name ? m->producer_name : ""; }
const char *ot_model_producer_version(const ot_model *m) { return m->producer_version ? m->producer_version : ""; }
int ot_model_opset_count(const ot_model *m) { return m->graph->n_opsets; }

ot_status ot_model_opset(const ot_model *m, int index, const char **domain, int64_t *version) {
    if (index < 0 || index >= m->graph->n_opsets) return ot_error(OT_ERR_INVALID_ARG, "opset index %d out of range", index);
    *domain = m->graph->opsets[index].domain;
    *version = m->graph->opsets[index].version;
    return OT_OK;
}

int ot_model_initializer_count(const ot_model *m) { return m->graph->n_inits; }

static void ot_fill_info(const ot_value *v, ot_value_info *out) {
    memset(out, 0, sizeof *out);
    out->name = v->name;
    if (v->init) {
        out->dtype = v->init->dtype;
        out->rank = v->init->rank;
        for (int d = 0; d < v->init->rank; d++) out->dims[d] = v->init->dims[d];
        return;
    }
    out->dtype = v->dtype;
    out->rank = v->rank;
    for (int d = 0; d < v->rank && d < OT_MAX_RANK; d++) {
        out->dims[d] = v->dims[d];
        out->dim_names[d] = v->dim_params[d];
    }
}

ot_status ot_model_initializer(const ot_model *m, int index, ot_value_info *out) {
    if (index < 0 || index >= m->graph->n_inits) return ot_error(OT_ERR_INVALID_ARG, "initializer index %d out of range", index);
    ot_fill_info(&m->graph->values[m->graph->inits[index]], out);
    return OT_OK;
}

int ot_model_node_count(const ot_model *m) { return m->graph->n_nodes; }

ot_status ot_model_node(const ot_model *m, int index, const char **op_type, const char **domain, const char **name) {
    if (index < 0 || index >= m->graph->n_nodes) return ot_error(OT_ERR_INVALID_ARG, "node index %d out of range", index);
    const ot_node *n = &m->graph->nodes[index];
    if (op_type) *op_type = n->op_type;
    if (domain) *domain = n->domain;
    if (name) *name = n->name;
    return OT_OK;
}

ot_status ot_model_node_io(const ot_model *m, int index, int *n_in, int *n_out) {
    if (index < 0 || index >= m->graph->n_nodes) return ot_error(OT_ERR_INVALID_ARG, "node index %d out of range", index);
    const ot_node *n = &m->graph->nodes[index];
    if (n_in) *n_in = n->n_inputs;
    if (n_out) *n_out = n->n_outputs;
    return OT_OK;
}

const char *ot_model_node_value(const ot_model *m, int index, int output, int k) {
    if (index < 0 || index >= m->graph->n_nodes) return NULL;
    const ot_node *n = &m->graph->nodes[index];
    if (k < 0 || k >= (output ? n->n_outputs : n->n_inputs)) return NULL;
    int v = output ? n->outputs[k] : n->inputs[k];
    return v >= 0 ? m->graph->values[v].name : "";
}

ot_status ot_model_check_supported(const ot_model *m) { return ot_graph_check_supported(m->graph); }

int ot_model_input_count(const ot_model *m) { return ot_graph_bound_input_count(m->graph); }
int ot_model_output_count(const ot_model *m) { return m->graph->n_outputs; }

ot_status ot_model_input(const ot_model *m, int index, ot_value_info *out) {
    const ot_graph *g = m->graph;
    int k = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const ot_value *v = &g->values[g->inputs[i]];
        if (v->role == OT_ROLE_INITIALIZER) continue;
        if (k++ == index) {
            ot_fill_info(v, out);
            return OT_OK;
        }
    }
    return ot_error(OT_ERR_INVALID_ARG, "input index %d out of range", index);
}

ot_status ot_model_output(const ot_model *m, int index, ot_value_info *out) {
    if (index < 0 || index >= m->graph->n_outputs) return ot_error(OT_ERR_INVALID_ARG, "output index %d out of range", index);
    ot_fill_info(&m->graph->values[m->graph->outputs[index]], out);
    return OT_OK;
}
