/* The fusion pass's driver: per round, analyse the graph (ops, producers,
 * consumers, compile-time values), let one kind of group append its fused
 * nodes, then put them in place (ot_fuse_commit).  Rounds: transposes into
 * products, GEMM epilogues, then elementwise groups over the result. */
#include <string.h>

#include "../../ops/grad.h"
#include "../core/alloc.h"
#include "../core/dtype.h"
#include "fuse_internal.h"

/* ---- value helpers ----------------------------------------------------------------- */

bool ot_fuse_known(const ot_graph *g, int v) {
    if (v < 0) return false;
    const ot_value *val = &g->values[v];
    if (val->dtype == OT_UNDEFINED || val->rank < 0 || val->non_tensor) return false;
    for (int d = 0; d < val->rank; d++)
        if (val->dims[d] < 0) return false;
    return true;
}

bool ot_fuse_same_shape(const ot_graph *g, int a, int b) {
    const ot_value *x = &g->values[a], *y = &g->values[b];
    return ot_shape_equal(x->rank, x->dims, y->rank, y->dims);
}

int64_t ot_fuse_numel(const ot_graph *g, int v) {
    int64_t n = 1;
    for (int d = 0; d < g->values[v].rank; d++) n *= g->values[v].dims[d];
    return n;
}

bool ot_fuse_scalar_const(const ot_fuse_ctx *c, int v, double *out) {
    const ot_graph *g = c->g;
    if (v < 0 || !c->is_static[v] || !ot_fuse_known(g, v) || ot_fuse_numel(g, v) != 1) return false;
    const ot_value *val = &g->values[v];
    if (val->dtype != OT_FLOAT && val->dtype != OT_DOUBLE) return false;
    const ot_tensor *t = NULL;
    if (val->init && (val->role == OT_ROLE_INITIALIZER || val->role == OT_ROLE_CONSTANT)) {
        t = val->init;
    } else if (c->producer[v] >= 0) {
        const ot_node *n = &g->nodes[c->producer[v]];
        if (strcmp(n->op_type, "Constant") || n->domain[0]) return false;
        const ot_attr *a = ot_node_attr(n, "value");
        if (a && a->type == OT_ATTR_TENSOR) t = a->t;
        a = ot_node_attr(n, "value_float");
        if (!t && a && a->type == OT_ATTR_FLOAT) {
            *out = a->f;
            return true;
        }
    }
    if (!t || !t->data || ot_tensor_numel(t) != 1 || t->dtype != val->dtype) return false;
    *out = ot_load_f64(t->dtype, t->data, 0);
    return true;
}

/* ---- attributes ------------------------------------------------------------------- */

static ot_status fuse_attr(ot_graph *g, int node, const char *name, ot_attr_type type, ot_attr **a) {
    return ot_node_add_attr(g, node, name, type, a);
}

ot_status ot_fuse_attr_int(ot_graph *g, int node, const char *name, int64_t v) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_INT, &a));
    a->i = v;
    return OT_OK;
}

ot_status ot_fuse_attr_float(ot_graph *g, int node, const char *name, float v) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_FLOAT, &a));
    a->f = v;
    return OT_OK;
}

ot_status ot_fuse_attr_string(ot_graph *g, int node, const char *name, const char *v) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_STRING, &a));
    if (!(a->s = ot_strdup(v))) return ot_error(OT_ERR_NOMEM, "out of memory");
    a->s_len = strlen(v);
    return OT_OK;
}

ot_status ot_fuse_attr_ints(ot_graph *g, int node, const char *name, const int64_t *v, int n) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_INTS, &a));
    if (!(a->ints = ot_malloc(sizeof(int64_t) * (size_t)(n ? n : 1)))) return ot_error(OT_ERR_NOMEM, "out of memory");
    if (n) memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
    a->n = n;
    return OT_OK;
}

ot_status ot_fuse_attr_floats(ot_graph *g, int node, const char *name, const float *v, int n) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_FLOATS, &a));
    if (!(a->floats = ot_malloc(sizeof(float) * (size_t)(n ? n : 1)))) return ot_error(OT_ERR_NOMEM, "out of memory");
    if (n) memcpy(a->floats, v, sizeof(float) * (size_t)n);
    a->n = n;
    return OT_OK;
}

ot_status ot_fuse_attr_strings(ot_graph *g, int node, const char *name, const char *const *v, int n) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_STRINGS, &a));
    if (!(a->strings = ot_calloc((size_t)(n ? n : 1), sizeof(char *)))) return ot_error(OT_ERR_NOMEM, "out of memory");
    a->n = n;
    for (int i = 0; i < n; i++)
        if (!(a->strings[i] = ot_strdup(v[i]))) return ot_error(OT_ERR_NOMEM, "out of memory");
    return OT_OK;
}

ot_status ot_fuse_attr_doubles(ot_graph *g, int node, const char *name, const double *v, int n) {
    ot_attr *a;
    OT_TRY(fuse_attr(g, node, name, OT_ATTR_TENSOR, &a));
    int64_t len = n;
    OT_TRY(ot_tensor_new(OT_DOUBLE, 1, &len, &a->t));
    if (n) memcpy(a->t->data, v, sizeof(double) * (size_t)n);
    return OT_OK;
}

/* ---- analysis ---------------------------------------------------------------------- */

/* Values a subgraph reads from its enclosing graphs (by name). */
static void fuse_mark_captures(const ot_graph *sub, const ot_graph *top, bool *ext) {
    for (int v = 0; v < sub->n_values; v++)
        if (sub->values[v].role == OT_ROLE_OUTER) {
            int id = ot_graph_find(top, sub->values[v].name);
            if (id >= 0) ext[id] = true;
        }
    for (int i = 0; i < sub->n_nodes; i++)
        for (int a = 0; a < sub->nodes[i].n_attrs; a++) {
            const ot_attr *at = &sub->nodes[i].attrs[a];
            if (at->g) fuse_mark_captures(at->g, top, ext);
            for (int k = 0; at->graphs && k < at->n; k++) fuse_mark_captures(at->graphs[k], top, ext);
        }
}

static void fuse_ctx_free(ot_fuse_ctx *c) {
    ot_free(c->def);
    ot_free(c->producer);
    ot_free(c->is_static);
    ot_free(c->ext);
    ot_free(c->use_at);
    ot_free(c->uses);
    ot_free(c->removed);
    ot_free(c->anchor);
}

static ot_status fuse_analyse(ot_fuse_ctx *c) {
    ot_graph *g = c->g;
    int nv = g->n_values, nn = g->n_nodes, total_uses = 0;
    c->n_orig = nn;
    c->def = ot_calloc((size_t)nn + 1, sizeof *c->def);
    c->producer = ot_malloc(sizeof(int) * ((size_t)nv + 1));
    c->is_static = ot_calloc((size_t)nv + 1, sizeof(bool));
    c->ext = ot_calloc((size_t)nv + 1, sizeof(bool));
    c->use_at = ot_calloc((size_t)nv + 2, sizeof(int));
    c->removed = ot_calloc((size_t)nn + 1, sizeof(bool));
    if (!c->def || !c->producer || !c->is_static || !c->ext || !c->use_at || !c->removed)
        return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int v = 0; v < nv; v++) {
        const ot_value *val = &g->values[v];
        c->producer[v] = -1;
        c->is_static[v] = val->init && (val->role == OT_ROLE_INITIALIZER || val->role == OT_ROLE_CONSTANT) &&
                          !(c->opt->mutable_values && c->opt->mutable_values[v]);
    }
    for (int k = 0; k < g->n_outputs; k++) c->ext[g->outputs[k]] = true;
    for (int i = 0; i < nn; i++) {
        const ot_node *n = &g->nodes[i];
        c->def[i] = ot_op_resolve(n->domain, n->op_type, ot_graph_opset(g, n->domain));
        /* As the compiler folds: every input known (and not random), or
           only shapes read. */
        bool st = c->def[i] && ((c->def[i]->traits & OT_TRAIT_SHAPE_ONLY) || !(c->def[i]->traits & OT_TRAIT_RANDOM));
        if (c->def[i] && !(c->def[i]->traits & OT_TRAIT_SHAPE_ONLY))
            for (int k = 0; k < n->n_inputs; k++)
                if (n->inputs[k] >= 0 && !c->is_static[n->inputs[k]]) st = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0) {
                c->producer[n->outputs[k]] = i;
                c->is_static[n->outputs[k]] = st;
            }
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) c->use_at[n->inputs[k] + 1]++, total_uses++;
        for (int a = 0; a < n->n_attrs; a++) {
            const ot_attr *at = &n->attrs[a];
            if (at->g) fuse_mark_captures(at->g, g, c->ext);
            for (int k = 0; at->graphs && k < at->n; k++) fuse_mark_captures(at->graphs[k], g, c->ext);
        }
    }
    for (int v = 0; v < nv; v++) c->use_at[v + 1] += c->use_at[v];
    int *fill = ot_malloc(sizeof(int) * ((size_t)nv + 1));
    c->uses = ot_malloc(sizeof(int) * ((size_t)total_uses + 1));
    if (!fill || !c->uses) {
        ot_free(fill);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    memcpy(fill, c->use_at, sizeof(int) * (size_t)nv);
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0) c->uses[fill[g->nodes[i].inputs[k]]++] = i;
    ot_free(fill);
    return OT_OK;
}

ot_status ot_fuse_add_node(ot_fuse_ctx *c, const char *op, const char *name, int n_in, const int *in, int n_out,
                           const int *out, const int *members, int n_members, int anchor, int *id) {
    ot_graph *g = c->g;
    int k = g->n_nodes - c->n_orig;
    if (ot_grow((void **)&c->anchor, &c->cap_anchor, k + 1, sizeof *c->anchor))
        return ot_error(OT_ERR_NOMEM, "out of memory");
    OT_TRY(ot_graph_add_node(g, op, OT_DOMAIN_TRAIN, name, n_in, in, n_out, out, id));
    c->anchor[k] = anchor;
    for (int m = 0; m < n_members; m++) c->removed[members[m]] = true;
    return OT_OK;
}

/* ---- rewriting ---------------------------------------------------------------------- */

static void fuse_clear_node(ot_node *n) {
    ot_free(n->name);
    ot_free(n->op_type);
    ot_free(n->domain);
    ot_free(n->doc);
    ot_free(n->inputs);
    ot_free(n->outputs);
    for (int a = 0; a < n->n_attrs; a++) ot_attr_clear(&n->attrs[a]);
    ot_free(n->attrs);
    memset(n, 0, sizeof *n);
}

static ot_status fuse_make_nop(ot_node *n) {
    memset(n, 0, sizeof *n);
    n->op_type = ot_strdup("Nop");
    n->domain = ot_strdup(OT_DOMAIN_TRAIN);
    n->name = ot_strdup("");
    n->inputs = ot_malloc(sizeof(int));
    n->outputs = ot_malloc(sizeof(int));
    if (n->op_type && n->domain && n->name && n->inputs && n->outputs) return OT_OK;
    fuse_clear_node(n);
    return ot_error(OT_ERR_NOMEM, "out of memory");
}

static ot_status fuse_add_opset(ot_graph *g) {
    if (ot_graph_opset(g, OT_DOMAIN_TRAIN) >= 0) return OT_OK;
    ot_opset *o = ot_realloc(g->opsets, sizeof *o * (size_t)(g->n_opsets + 1));
    if (!o) return ot_error(OT_ERR_NOMEM, "out of memory");
    g->opsets = o;
    if (!(o[g->n_opsets].domain = ot_strdup(OT_DOMAIN_TRAIN))) return ot_error(OT_ERR_NOMEM, "out of memory");
    o[g->n_opsets++].version = 1;
    return OT_OK;
}

/* The new order: kept nodes in place, each new node where its anchor was,
   then moved as little as possible to be topological (a node waits until its
   inputs exist); a random node must land exactly on its old index, with Nop
   padding (-1 entries) before it.  *ok = false when that is impossible. */
static ot_status fuse_order(ot_fuse_ctx *c, int *order, int *n_order, bool *ok) {
    ot_graph *g = c->g;
    int nn = g->n_nodes, nv = g->n_values, n_seq = 0, n_out = 0, n_pend = 0;
    int *seq = ot_malloc(sizeof(int) * ((size_t)nn + 1)), *pend = ot_malloc(sizeof(int) * ((size_t)nn + 1));
    bool *avail = ot_malloc((size_t)nv + 1);
    ot_status s = OT_OK;
    *ok = true;
    if (!seq || !pend || !avail) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < c->n_orig; i++) {
        if (!c->removed[i]) seq[n_seq++] = i;
        for (int k = c->n_orig; k < nn; k++)
            if (c->anchor[k - c->n_orig] == i) seq[n_seq++] = k;
    }
    for (int v = 0; v < nv; v++) avail[v] = true;
    for (int q = 0; q < n_seq; q++)
        for (int k = 0; k < g->nodes[seq[q]].n_outputs; k++)
            if (g->nodes[seq[q]].outputs[k] >= 0) avail[g->nodes[seq[q]].outputs[k]] = false;
    for (int q = 0; q <= n_seq && *ok; q++) {
        if (q < n_seq) pend[n_pend++] = seq[q];
        /* Emit every pending node that is ready, oldest first, until none is. */
        for (bool progress = true; progress && *ok;) {
            progress = false;
            for (int p = 0; p < n_pend && *ok; p++) {
                const ot_node *n = &g->nodes[pend[p]];
                bool ready = true;
                for (int k = 0; k < n->n_inputs && ready; k++)
                    if (n->inputs[k] >= 0 && !avail[n->inputs[k]]) ready = false;
                if (!ready) continue;
                int i = pend[p];
                if (i < c->n_orig && c->def[i] && (c->def[i]->traits & OT_TRAIT_RANDOM)) {
                    if (n_out > i) *ok = false;
                    while (n_out < i) order[n_out++] = -1;
                }
                order[n_out++] = i;
                for (int k = 0; k < n->n_outputs; k++)
                    if (n->outputs[k] >= 0) avail[n->outputs[k]] = true;
                memmove(&pend[p], &pend[p + 1], sizeof(int) * (size_t)(n_pend - p - 1));
                n_pend--;
                progress = true;
                break;
            }
        }
    }
    if (n_pend) *ok = false;
    *n_order = n_out;
out:
    ot_free(seq);
    ot_free(pend);
    ot_free(avail);
    return s;
}

/* Puts the appended nodes in place and drops the removed ones; on an
   ordering failure the graph is left as it was (nothing fused). */
static ot_status fuse_commit(ot_fuse_ctx *c) {
    ot_graph *g = c->g;
    int nn = g->n_nodes;
    bool any = nn > c->n_orig;
    for (int i = 0; i < c->n_orig && !any; i++) any = c->removed[i];
    if (!any) return OT_OK;
    int *order = ot_malloc(sizeof(int) * (2 * (size_t)nn + 1)), n_order = 0;
    bool ok = false;
    ot_status s = order ? fuse_order(c, order, &n_order, &ok) : ot_error(OT_ERR_NOMEM, "out of memory");
    ot_node *nodes = NULL;
    if (!s && ok) s = fuse_add_opset(g);
    if (!s && ok && !(nodes = ot_calloc((size_t)n_order + 1, sizeof *nodes))) s = ot_error(OT_ERR_NOMEM, "out of memory");
    if (s || !ok) {
        for (int i = c->n_orig; i < nn; i++) fuse_clear_node(&g->nodes[i]);
        g->n_nodes = c->n_orig;
        ot_free(order);
        return s;
    }
    int made = 0;
    for (int q = 0; q < n_order && !s; q++) {
        if (order[q] >= 0) {
            nodes[q] = g->nodes[order[q]];
            memset(&g->nodes[order[q]], 0, sizeof *nodes);
        } else {
            s = fuse_make_nop(&nodes[q]);
        }
        made = q + 1;
    }
    if (s) { /* out of memory making a Nop: nodes already moved must go back */
        for (int q = 0; q < made; q++)
            if (order[q] >= 0) g->nodes[order[q]] = nodes[q];
            else fuse_clear_node(&nodes[q]);
        ot_free(nodes);
        ot_free(order);
        return s;
    }
    for (int i = 0; i < nn; i++) fuse_clear_node(&g->nodes[i]); /* the removed ones (moved ones are zeroed) */
    ot_free(g->nodes);
    g->nodes = nodes;
    g->n_nodes = g->cap_nodes = n_order;
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < n_order; i++)
        for (int k = 0; k < nodes[i].n_outputs; k++)
            if (nodes[i].outputs[k] >= 0) g->values[nodes[i].outputs[k]].producer = i;
    ot_free(order);
    ot_status st = ot_graph_verify(g);
    return st ? ot_error_context(OT_ERR_INTERNAL, "fusion left an invalid graph (please report it): ") : OT_OK;
}

static ot_status fuse_round(ot_graph *g, const ot_fuse_options *opt, ot_fuse_report *rep,
                            ot_status (*kind)(ot_fuse_ctx *)) {
    ot_fuse_ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.opt = opt;
    c.rep = rep;
    ot_status s = fuse_analyse(&c);
    if (!s) s = kind(&c);
    if (!s) {
        s = fuse_commit(&c);
    } else { /* drop what the failed round appended */
        for (int i = c.n_orig; i < g->n_nodes; i++) fuse_clear_node(&g->nodes[i]);
        g->n_nodes = c.n_orig;
    }
    fuse_ctx_free(&c);
    return s;
}

static int fuse_count_nodes(const ot_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, "Nop") || strcmp(g->nodes[i].domain, OT_DOMAIN_TRAIN)) n++;
    return n;
}

ot_status ot_fuse(ot_graph *g, const ot_fuse_options *opt, ot_fuse_report *report) {
    ot_fuse_options none;
    ot_fuse_report rep;
    memset(&none, 0, sizeof none);
    memset(&rep, 0, sizeof rep);
    if (!g) return ot_error(OT_ERR_INVALID_ARG, "ot_fuse: NULL graph");
    if (!opt) opt = &none;
    rep.nodes_before = fuse_count_nodes(g);
    if (!opt->no_gemm) OT_TRY(fuse_round(g, opt, &rep, ot_fuse_transposes));
    if (!opt->no_gemm) OT_TRY(fuse_round(g, opt, &rep, ot_fuse_gemm));
    if (!opt->no_elementwise) OT_TRY(fuse_round(g, opt, &rep, ot_fuse_elementwise));
    rep.nodes_after = fuse_count_nodes(g);
    if (report) *report = rep;
    return OT_OK;
}
