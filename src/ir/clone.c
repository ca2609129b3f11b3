/* Deep copy of a graph (values, nodes, attributes, nested graphs). */
#include <string.h>

#include "../core/alloc.h"
#include "../core/status.h"
#include "graph.h"

static ot_status ot_attr_copy(ot_attr *dst, const ot_attr *src, ot_graph *parent);

static char *ot_dup_or_null(const char *s, bool *fail) {
    if (!s) return NULL;
    char *d = ot_strdup(s);
    if (!d) *fail = true;
    return d;
}

/* A tensor describing t whose bytes are t's (not owned): freeing it leaves t alone. */
static ot_status ot_tensor_alias(const ot_tensor *t, ot_tensor **out) {
    OT_TRY(ot_tensor_new_desc(t->dtype, t->rank, t->dims, out));
    (*out)->data = t->data;
    (*out)->owns = false;
    if (t->name) {
        ot_status s = ot_tensor_set_name(*out, t->name);
        if (s) {
            ot_tensor_free(*out);
            *out = NULL;
            return s;
        }
    }
    return OT_OK;
}

static ot_status ot_graph_copy(const ot_graph *src, ot_graph *parent, bool share_values, ot_graph **out);

ot_status ot_graph_clone(const ot_graph *src, ot_graph *parent, ot_graph **out) {
    return ot_graph_copy(src, parent, false, out);
}

ot_status ot_graph_clone_sharing(const ot_graph *src, ot_graph **out) { return ot_graph_copy(src, NULL, true, out); }

static ot_status ot_graph_copy(const ot_graph *src, ot_graph *parent, bool share_values, ot_graph **out) {
    ot_graph *g;
    OT_TRY(ot_graph_new(src->name, &g));
    g->parent = parent;
    bool fail = false;
    ot_status s = OT_OK;
    g->doc = ot_dup_or_null(src->doc, &fail);
    for (int v = 0; v < src->n_values && !s && !fail; v++) {
        int id;
        const ot_value *sv = &src->values[v];
        if ((s = ot_graph_value(g, sv->name, &id))) break;
        ot_value *dv = &g->values[id];
        char *name = dv->name;
        *dv = *sv;
        dv->name = name;
        dv->doc = ot_dup_or_null(sv->doc, &fail);
        for (int d = 0; d < OT_MAX_RANK; d++) dv->dim_params[d] = ot_dup_or_null(sv->dim_params[d], &fail);
        dv->init = NULL;
        if (sv->init) s = share_values ? ot_tensor_alias(sv->init, &dv->init) : ot_tensor_clone(sv->init, &dv->init);
    }
    for (int i = 0; i < src->n_nodes && !s && !fail; i++) {
        const ot_node *sn = &src->nodes[i];
        int id;
        if ((s = ot_graph_add_node(g, sn->op_type, sn->domain, sn->name, sn->n_inputs, sn->inputs, sn->n_outputs,
                                   sn->outputs, &id)))
            break;
        g->nodes[id].doc = ot_dup_or_null(sn->doc, &fail);
        for (int a = 0; a < sn->n_attrs && !s; a++) {
            ot_attr *da;
            if ((s = ot_node_add_attr(g, id, sn->attrs[a].name, sn->attrs[a].type, &da))) break;
            s = ot_attr_copy(da, &sn->attrs[a], g);
        }
    }
    if (!s && !fail) {
        g->inputs = ot_malloc(sizeof(int) * (size_t)(src->n_inputs + 1));
        g->outputs = ot_malloc(sizeof(int) * (size_t)(src->n_outputs + 1));
        g->inits = ot_malloc(sizeof(int) * (size_t)(src->n_inits + 1));
        g->opsets = ot_calloc((size_t)src->n_opsets + 1, sizeof *g->opsets);
        if (!g->inputs || !g->outputs || !g->inits || !g->opsets) fail = true;
    }
    if (!s && !fail) {
        /* The source lists may be NULL when empty (memcpy needs valid pointers). */
        if (src->n_inputs) memcpy(g->inputs, src->inputs, sizeof(int) * (size_t)src->n_inputs);
        if (src->n_outputs) memcpy(g->outputs, src->outputs, sizeof(int) * (size_t)src->n_outputs);
        if (src->n_inits) memcpy(g->inits, src->inits, sizeof(int) * (size_t)src->n_inits);
        g->n_inputs = src->n_inputs;
        g->n_outputs = src->n_outputs;
        g->n_inits = src->n_inits;
        for (int i = 0; i < src->n_opsets; i++) {
            g->opsets[i].domain = ot_dup_or_null(src->opsets[i].domain, &fail);
            g->opsets[i].version = src->opsets[i].version;
            g->n_opsets++;
        }
    }
    if (fail && !s) s = ot_error(OT_ERR_NOMEM, "out of memory copying graph '%s'", src->name);
    if (s) {
        ot_graph_free(g);
        return s;
    }
    *out = g;
    return OT_OK;
}

ot_status ot_node_copy_attrs(ot_graph *g, int dst, int src) {
    for (int a = 0; a < g->nodes[src].n_attrs; a++) {
        ot_attr *da;
        const ot_attr *sa = &g->nodes[src].attrs[a];
        OT_TRY(ot_node_add_attr(g, dst, sa->name, sa->type, &da));
        OT_TRY(ot_attr_copy(da, &g->nodes[src].attrs[a], g));
    }
    return OT_OK;
}

static ot_status ot_attr_copy(ot_attr *dst, const ot_attr *src, ot_graph *parent) {
    bool fail = false;
    dst->f = src->f;
    dst->i = src->i;
    dst->s_len = src->s_len;
    if (src->s) {
        if (!(dst->s = ot_malloc(src->s_len + 1))) return ot_error(OT_ERR_NOMEM, "out of memory");
        memcpy(dst->s, src->s, src->s_len + 1);
    }
    if (src->t) OT_TRY(ot_tensor_clone(src->t, &dst->t));
    if (src->g) OT_TRY(ot_graph_clone(src->g, parent, &dst->g));
    int n = src->n;
    if (src->floats && !(dst->floats = ot_malloc(sizeof(float) * (size_t)(n + 1)))) fail = true;
    if (src->ints && !(dst->ints = ot_malloc(sizeof(int64_t) * (size_t)(n + 1)))) fail = true;
    if (src->strings && !(dst->strings = ot_calloc((size_t)n + 1, sizeof(char *)))) fail = true;
    if (src->tensors && !(dst->tensors = ot_calloc((size_t)n + 1, sizeof(ot_tensor *)))) fail = true;
    if (src->graphs && !(dst->graphs = ot_calloc((size_t)n + 1, sizeof(ot_graph *)))) fail = true;
    if (fail) return ot_error(OT_ERR_NOMEM, "out of memory");
    dst->n = n;
    if (src->floats) memcpy(dst->floats, src->floats, sizeof(float) * (size_t)n);
    if (src->ints) memcpy(dst->ints, src->ints, sizeof(int64_t) * (size_t)n);
    for (int k = 0; k < n; k++) {
        if (src->strings && !(dst->strings[k] = ot_dup_or_null(src->strings[k], &fail)) && src->strings[k])
            return ot_error(OT_ERR_NOMEM, "out of memory");
        if (src->tensors && src->tensors[k]) OT_TRY(ot_tensor_clone(src->tensors[k], &dst->tensors[k]));
        if (src->graphs && src->graphs[k]) OT_TRY(ot_graph_clone(src->graphs[k], parent, &dst->graphs[k]));
    }
    return OT_OK;
}
