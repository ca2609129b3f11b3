#include "graph.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/status.h"

ot_status ot_graph_new(const char *name, ot_graph **out) {
    ot_graph *g = ot_calloc(1, sizeof *g);
    if (!g || !(g->name = ot_strdup(name ? name : ""))) {
        ot_free(g);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    *out = g;
    return OT_OK;
}

void ot_attr_clear(ot_attr *a) {
    ot_free(a->name);
    ot_free(a->s);
    ot_tensor_free(a->t);
    ot_graph_free(a->g);
    ot_free(a->floats);
    ot_free(a->ints);
    for (int k = 0; k < a->n; k++) {
        if (a->strings) ot_free(a->strings[k]);
        if (a->tensors) ot_tensor_free(a->tensors[k]);
        if (a->graphs) ot_graph_free(a->graphs[k]);
    }
    ot_free(a->strings);
    ot_free(a->tensors);
    ot_free(a->graphs);
    memset(a, 0, sizeof *a);
}

void ot_graph_free(ot_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) {
        ot_value *v = &g->values[i];
        ot_free(v->name);
        ot_free(v->doc);
        ot_tensor_free(v->init);
        for (int d = 0; d < OT_MAX_RANK; d++) ot_free(v->dim_params[d]);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ot_node *n = &g->nodes[i];
        ot_free(n->name);
        ot_free(n->op_type);
        ot_free(n->domain);
        ot_free(n->doc);
        ot_free(n->inputs);
        ot_free(n->outputs);
        for (int a = 0; a < n->n_attrs; a++) ot_attr_clear(&n->attrs[a]);
        ot_free(n->attrs);
    }
    for (int i = 0; i < g->n_opsets; i++) ot_free(g->opsets[i].domain);
    ot_free(g->opsets);
    ot_free(g->values);
    ot_free(g->nodes);
    ot_free(g->inputs);
    ot_free(g->outputs);
    ot_free(g->inits);
    ot_free(g->hash);
    ot_free(g->name);
    ot_free(g->doc);
    ot_free(g);
}

static uint64_t ot_hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static ot_status ot_graph_rehash(ot_graph *g) {
    int cap = g->hash_cap ? g->hash_cap * 2 : 64;
    while (cap < 2 * g->n_values) cap *= 2;
    int *h = ot_malloc((size_t)cap * sizeof *h);
    if (!h) return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < cap; i++) h[i] = -1;
    for (int v = 0; v < g->n_values; v++) {
        uint64_t k = ot_hash_str(g->values[v].name) & (uint64_t)(cap - 1);
        while (h[k] >= 0) k = (k + 1) & (uint64_t)(cap - 1);
        h[k] = v;
    }
    ot_free(g->hash);
    g->hash = h;
    g->hash_cap = cap;
    return OT_OK;
}

int ot_graph_find(const ot_graph *g, const char *name) {
    if (!g->hash_cap) return -1;
    uint64_t k = ot_hash_str(name) & (uint64_t)(g->hash_cap - 1);
    while (g->hash[k] >= 0) {
        if (!strcmp(g->values[g->hash[k]].name, name)) return g->hash[k];
        k = (k + 1) & (uint64_t)(g->hash_cap - 1);
    }
    return -1;
}

ot_status ot_graph_value(ot_graph *g, const char *name, int *id) {
    int v = ot_graph_find(g, name);
    if (v >= 0) {
        *id = v;
        return OT_OK;
    }
    if (ot_grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values))
        return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_value *val = &g->values[g->n_values];
    memset(val, 0, sizeof *val);
    if (!(val->name = ot_strdup(name))) return ot_error(OT_ERR_NOMEM, "out of memory");
    val->rank = -1;
    val->producer = -1;
    g->n_values++;
    if (2 * g->n_values > g->hash_cap) {
        OT_TRY(ot_graph_rehash(g));
    } else {
        uint64_t k = ot_hash_str(name) & (uint64_t)(g->hash_cap - 1);
        while (g->hash[k] >= 0) k = (k + 1) & (uint64_t)(g->hash_cap - 1);
        g->hash[k] = g->n_values - 1;
    }
    *id = g->n_values - 1;
    return OT_OK;
}

ot_status ot_graph_add_node(ot_graph *g, const char *op_type, const char *domain, const char *name,
                            int n_in, const int *inputs, int n_out, const int *outputs, int *id) {
    if (ot_grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
        return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op_type = ot_strdup(op_type);
    n->domain = ot_strdup(domain ? domain : "");
    n->name = ot_strdup(name ? name : "");
    n->inputs = ot_malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    n->outputs = ot_malloc(sizeof(int) * (size_t)(n_out ? n_out : 1));
    g->n_nodes++; /* counted now so ot_graph_free releases partial nodes */
    if (!n->op_type || !n->domain || !n->name || !n->inputs || !n->outputs)
        return ot_error(OT_ERR_NOMEM, "out of memory");
    if (n_in) memcpy(n->inputs, inputs, sizeof(int) * (size_t)n_in);
    if (n_out) memcpy(n->outputs, outputs, sizeof(int) * (size_t)n_out);
    n->n_inputs = n_in;
    n->n_outputs = n_out;
    if (id) *id = g->n_nodes - 1;
    return OT_OK;
}

ot_status ot_node_add_attr(ot_graph *g, int node, const char *name, ot_attr_type type, ot_attr **out) {
    ot_node *n = &g->nodes[node];
    ot_attr *a = ot_realloc(n->attrs, sizeof *a * (size_t)(n->n_attrs + 1));
    if (!a) return ot_error(OT_ERR_NOMEM, "out of memory");
    n->attrs = a;
    a = &n->attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    if (!(a->name = ot_strdup(name))) return ot_error(OT_ERR_NOMEM, "out of memory");
    a->type = type;
    n->n_attrs++;
    *out = a;
    return OT_OK;
}

int64_t ot_graph_opset(const ot_graph *g, const char *domain) {
    while (g->parent) g = g->parent;
    if (!strcmp(domain, "ai.onnx")) domain = "";
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = g->opsets[i].domain;
        if (!strcmp(d, "ai.onnx")) d = "";
        if (!strcmp(d, domain)) return g->opsets[i].version;
    }
    return -1;
}

/* ---- attribute getters ---------------------------------------------------- */

const ot_attr *ot_node_attr(const ot_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

static ot_status ot_attr_wrong(const ot_node *n, const ot_attr *a, const char *want) {
    return ot_error(OT_ERR_PARSE, "node '%s' (%s): attribute '%s' must be %s", n->name, n->op_type, a->name, want);
}

ot_status ot_attr_get_int(const ot_node *n, const char *name, int64_t dflt, int64_t *out) {
    const ot_attr *a = ot_node_attr(n, name);
    *out = dflt;
    if (!a) return OT_OK;
    if (a->type != OT_ATTR_INT) return ot_attr_wrong(n, a, "an int");
    *out = a->i;
    return OT_OK;
}

ot_status ot_attr_get_float(const ot_node *n, const char *name, float dflt, float *out) {
    const ot_attr *a = ot_node_attr(n, name);
    *out = dflt;
    if (!a) return OT_OK;
    if (a->type == OT_ATTR_INT) { /* some exporters write integral floats as ints */
        *out = (float)a->i;
        return OT_OK;
    }
    if (a->type != OT_ATTR_FLOAT) return ot_attr_wrong(n, a, "a float");
    *out = a->f;
    return OT_OK;
}

ot_status ot_attr_get_string(const ot_node *n, const char *name, const char *dflt, const char **out) {
    const ot_attr *a = ot_node_attr(n, name);
    *out = dflt;
    if (!a) return OT_OK;
    if (a->type != OT_ATTR_STRING) return ot_attr_wrong(n, a, "a string");
    *out = a->s ? a->s : "";
    return OT_OK;
}

ot_status ot_attr_get_ints(const ot_node *n, const char *name, const int64_t **out, int *count) {
    const ot_attr *a = ot_node_attr(n, name);
    *out = NULL;
    *count = -1;
    if (!a) return OT_OK;
    if (a->type != OT_ATTR_INTS) return ot_attr_wrong(n, a, "a list of ints");
    *out = a->ints;
    *count = a->n;
    return OT_OK;
}

ot_status ot_attr_get_floats(const ot_node *n, const char *name, const float **out, int *count) {
    const ot_attr *a = ot_node_attr(n, name);
    *out = NULL;
    *count = -1;
    if (!a) return OT_OK;
    if (a->type != OT_ATTR_FLOATS) return ot_attr_wrong(n, a, "a list of floats");
    *out = a->floats;
    *count = a->n;
    return OT_OK;
}

ot_status ot_attr_get_tensor(const ot_node *n, const char *name, const ot_tensor **out) {
    const ot_attr *a = ot_node_attr(n, name);
    *out = NULL;
    if (!a) return OT_OK;
    if (a->type != OT_ATTR_TENSOR) return ot_attr_wrong(n, a, "a tensor");
    *out = a->t;
    return OT_OK;
}

/* ---- structure -------------------------------------------------------------- */

ot_status ot_graph_toposort(ot_graph *g) {
    /* Kahn's algorithm, stable with respect to the file order. */
    int nn = g->n_nodes, nv = g->n_values;
    int *producer = ot_malloc(sizeof(int) * (size_t)(nv ? nv : 1));
    char *done = ot_calloc((size_t)(nn ? nn : 1), 1);
    char *avail = ot_calloc((size_t)(nv ? nv : 1), 1);
    ot_node *sorted = ot_malloc(sizeof *sorted * (size_t)(nn ? nn : 1));
    ot_status st = OT_OK;
    if (!producer || !done || !avail || !sorted) {
        st = ot_error(OT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int v = 0; v < nv; v++) producer[v] = -1;
    for (int i = 0; i < nn; i++)
        for (int o = 0; o < g->nodes[i].n_outputs; o++)
            if (g->nodes[i].outputs[o] >= 0) producer[g->nodes[i].outputs[o]] = i;
    for (int v = 0; v < nv; v++) avail[v] = producer[v] < 0;
    int count = 0;
    while (count < nn) {
        int progressed = 0;
        for (int i = 0; i < nn; i++) {
            if (done[i]) continue;
            ot_node *n = &g->nodes[i];
            int ready = 1;
            for (int k = 0; k < n->n_inputs && ready; k++)
                if (n->inputs[k] >= 0 && !avail[n->inputs[k]]) ready = 0;
            if (!ready) continue;
            done[i] = 1;
            sorted[count++] = *n;
            for (int o = 0; o < n->n_outputs; o++)
                if (n->outputs[o] >= 0) avail[n->outputs[o]] = 1;
            progressed = 1;
        }
        if (!progressed) {
            for (int i = 0; i < nn; i++)
                if (!done[i]) {
                    st = ot_error(OT_ERR_PARSE, "graph '%s': node '%s' (%s) is part of a cycle or uses an undefined input",
                                  g->name, g->nodes[i].name, g->nodes[i].op_type);
                    break;
                }
            goto out;
        }
    }
    if (nn) memcpy(g->nodes, sorted, sizeof *sorted * (size_t)nn);
    for (int v = 0; v < nv; v++) g->values[v].producer = -1;
    for (int i = 0; i < nn; i++)
        for (int o = 0; o < g->nodes[i].n_outputs; o++)
            if (g->nodes[i].outputs[o] >= 0) g->values[g->nodes[i].outputs[o]].producer = i;
out:
    ot_free(producer);
    ot_free(done);
    ot_free(avail);
    ot_free(sorted);
    return st;
}

ot_status ot_graph_verify(const ot_graph *g) {
    int nv = g->n_values;
    char *defined = ot_calloc((size_t)(nv ? nv : 1), 1);
    if (!defined) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status st = OT_OK;
    for (int v = 0; v < nv; v++) {
        const ot_value *val = &g->values[v];
        if (val->role == OT_ROLE_INPUT || val->role == OT_ROLE_INITIALIZER || val->role == OT_ROLE_CONSTANT ||
            val->role == OT_ROLE_OUTER)
            defined[v] = 1;
    }
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const ot_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            int v = n->inputs[k];
            if (v < -1 || v >= nv) {
                st = ot_error(OT_ERR_INTERNAL, "node '%s': input id out of range", n->name);
                break;
            }
            if (v >= 0 && !defined[v]) {
                st = ot_error(OT_ERR_PARSE, "node '%s' (%s): input '%s' is not produced by any earlier node nor a graph input or initializer",
                              n->name, n->op_type, g->values[v].name);
                break;
            }
        }
        for (int k = 0; k < n->n_outputs && !st; k++) {
            int v = n->outputs[k];
            if (v < 0) continue;
            if (defined[v]) {
                st = ot_error(OT_ERR_PARSE, "node '%s' (%s): output '%s' is already defined", n->name, n->op_type,
                              g->values[v].name);
                break;
            }
            defined[v] = 1;
        }
    }
    for (int k = 0; k < g->n_outputs && !st; k++)
        if (!defined[g->outputs[k]])
            st = ot_error(OT_ERR_PARSE, "graph '%s': output '%s' is never produced", g->name, g->values[g->outputs[k]].name);
    ot_free(defined);
    return st;
}
