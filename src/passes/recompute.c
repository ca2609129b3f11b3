/* Recomputation of cheap forward values in the backward pass (see recompute.h).
 *
 * Per value, one of three states decides it:
 *   kept   - alive through the backward pass without this pass: parameters,
 *            graph inputs, constants, graph outputs, and forward values a
 *            backward node reads that are not recomputed;
 *   recomp - produced by a forward node the pass will run again; every node
 *            input of which is kept or recomp (a chain), no output of which is
 *            a graph output, and whose chain is at most RECOMP_MAX_DEPTH long;
 *   other  - neither: recomputing from it would need it kept.
 * Nodes are visited in forward order, so a node's inputs are decided before
 * it.  Clones are made on demand while the backward nodes are walked in
 * order, and placed right before the backward node that first needs them. */
#include "recompute.h"

#include <stdio.h>
#include <string.h>

#include "../../ops/op.h"
#include "../core/alloc.h"
#include "../core/dtype.h"

/* A chain longer than this costs more to rerun than a kept buffer is worth. */
#define RECOMP_MAX_DEPTH 16

typedef struct rc_ctx {
    ot_graph *g;
    int n_fwd, n_orig;       /* forward nodes; nodes before the pass */
    int *producer;           /* per original value: its node or -1 */
    bool *kept, *bwd_read;   /* per original value */
    int *depth;              /* per original node: chain length when recomputed, 0 when not */
    int *clone;              /* per original node: its clone or -1 */
    int *clone_out;          /* per original value of a cloned node: the clone's value */
    int *anchor;             /* per clone (index - n_orig): the original node it goes before */
    int cap_anchor;
    ot_recompute_report rep;
} rc_ctx;

static void rc_free(rc_ctx *c) {
    ot_free(c->producer), ot_free(c->kept), ot_free(c->bwd_read), ot_free(c->depth);
    ot_free(c->clone), ot_free(c->clone_out), ot_free(c->anchor);
}

static bool rc_cheap(const ot_graph *g, const ot_node *n) {
    const ot_op_def *d = ot_op_resolve(n->domain, n->op_type, ot_graph_opset(g, n->domain));
    if (!d || (d->traits & (OT_TRAIT_RANDOM | OT_TRAIT_SIDE_EFFECT))) return false;
    return (d->traits & (OT_TRAIT_ELEMENTWISE | OT_TRAIT_ALIAS | OT_TRAIT_RECOMPUTE)) != 0;
}

static ot_status rc_analyse(rc_ctx *c) {
    ot_graph *g = c->g;
    int nv = g->n_values;
    for (int v = 0; v < nv; v++) c->producer[v] = -1;
    for (int i = 0; i < c->n_orig; i++)
        for (int k = 0; k < g->nodes[i].n_outputs; k++)
            if (g->nodes[i].outputs[k] >= 0) c->producer[g->nodes[i].outputs[k]] = i;
    for (int i = c->n_fwd; i < c->n_orig; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0) c->bwd_read[g->nodes[i].inputs[k]] = true;
    for (int v = 0; v < nv; v++) c->kept[v] = g->values[v].role != OT_ROLE_ACTIVATION || c->bwd_read[v];
    for (int o = 0; o < g->n_outputs; o++) c->kept[g->outputs[o]] = true;
    for (int i = 0; i < c->n_fwd; i++) {
        const ot_node *n = &g->nodes[i];
        /* A node without inputs (Constant, folded at compile time; a random
           generator, run once per step) is a leaf a clone may read. */
        if (n->n_inputs == 0) {
            for (int k = 0; k < n->n_outputs; k++)
                if (n->outputs[k] >= 0) c->kept[n->outputs[k]] = true;
            continue;
        }
        if (!rc_cheap(g, n)) continue;
        int depth = 1;
        bool ok = true;
        for (int k = 0; k < n->n_inputs && ok; k++) {
            int u = n->inputs[k];
            if (u < 0) continue;
            int p = c->producer[u];
            if (p >= 0 && p < c->n_fwd && c->depth[p]) {
                if (c->depth[p] + 1 > depth) depth = c->depth[p] + 1;
            } else if (!c->kept[u]) {
                ok = false;
            }
        }
        for (int k = 0; k < n->n_outputs && ok; k++) {
            int v = n->outputs[k];
            for (int o = 0; v >= 0 && o < g->n_outputs; o++)
                if (g->outputs[o] == v) ok = false;
        }
        if (!ok || depth > RECOMP_MAX_DEPTH) continue;
        c->depth[i] = depth;
        /* Its outputs are no longer kept for the backward pass. */
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0) c->kept[n->outputs[k]] = false;
    }
    return OT_OK;
}

/* A fresh value `<name>/recompute[N]` typed like original value v. */
static ot_status rc_new_value(ot_graph *g, int v, int *out) {
    char name[512];
    snprintf(name, sizeof name, "%s/recompute", g->values[v].name);
    for (int k = 2; ot_graph_find(g, name) >= 0; k++) snprintf(name, sizeof name, "%s/recompute%d", g->values[v].name, k);
    OT_TRY(ot_graph_value(g, name, out));
    ot_value *nv = &g->values[*out], *ov = &g->values[v];
    nv->dtype = ov->dtype;
    nv->rank = ov->rank;
    memcpy(nv->dims, ov->dims, sizeof nv->dims);
    return OT_OK;
}

/* The clone of forward node i (made, with its chain, on first use), placed
   before original node `before`. */
static ot_status rc_clone(rc_ctx *c, int i, int before) {
    if (c->clone[i] >= 0) return OT_OK;
    ot_graph *g = c->g;
    int nin = g->nodes[i].n_inputs, nout = g->nodes[i].n_outputs;
    int *io = ot_malloc(sizeof(int) * (size_t)(nin + nout + 1));
    if (!io) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = OT_OK;
    for (int k = 0; k < nin && !s; k++) {
        int u = g->nodes[i].inputs[k], p = u >= 0 ? c->producer[u] : -1;
        if (p >= 0 && c->depth[p]) {
            if (!(s = rc_clone(c, p, before))) u = c->clone_out[u];
        }
        io[k] = u;
    }
    for (int k = 0; k < nout && !s; k++) {
        int v = g->nodes[i].outputs[k];
        io[nin + k] = -1;
        if (v >= 0 && !(s = rc_new_value(g, v, &io[nin + k]))) c->clone_out[v] = io[nin + k];
    }
    char name[512];
    snprintf(name, sizeof name, "%s/recompute", g->nodes[i].name[0] ? g->nodes[i].name : g->nodes[i].op_type);
    int id = -1;
    if (!s) s = ot_graph_add_node(g, g->nodes[i].op_type, g->nodes[i].domain, name, nin, io, nout, io + nin, &id);
    ot_free(io);
    OT_TRY(s);
    OT_TRY(ot_node_copy_attrs(g, id, i));
    if (ot_grow((void **)&c->anchor, &c->cap_anchor, id - c->n_orig + 1, sizeof *c->anchor))
        return ot_error(OT_ERR_NOMEM, "out of memory");
    c->anchor[id - c->n_orig] = before;
    c->clone[i] = id;
    c->rep.nodes_cloned++;
    return OT_OK;
}

/* Puts each clone right before its anchor (clones keep their creation order,
   which has every chain's producers first) and renumbers producers. */
static ot_status rc_place(rc_ctx *c) {
    ot_graph *g = c->g;
    int nn = g->n_nodes;
    ot_node *nodes = ot_malloc(sizeof *nodes * (size_t)(nn + 1));
    int *by_anchor = ot_calloc((size_t)c->n_orig + 2, sizeof(int)); /* CSR of clones per anchor */
    int *list = ot_malloc(sizeof(int) * (size_t)(nn - c->n_orig + 1));
    if (!nodes || !by_anchor || !list) {
        ot_free(nodes), ot_free(by_anchor), ot_free(list);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    for (int j = 0; j < nn - c->n_orig; j++) by_anchor[c->anchor[j] + 1]++;
    for (int a = 0; a < c->n_orig; a++) by_anchor[a + 1] += by_anchor[a];
    for (int j = 0; j < nn - c->n_orig; j++) list[by_anchor[c->anchor[j]]++] = j;
    for (int a = c->n_orig; a > 0; a--) by_anchor[a] = by_anchor[a - 1];
    by_anchor[0] = 0;
    int m = 0;
    for (int a = 0; a < c->n_orig; a++) {
        for (int q = by_anchor[a]; q < by_anchor[a + 1]; q++) nodes[m++] = g->nodes[c->n_orig + list[q]];
        nodes[m++] = g->nodes[a];
    }
    memcpy(g->nodes, nodes, sizeof *nodes * (size_t)nn);
    ot_free(nodes), ot_free(by_anchor), ot_free(list);
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_outputs; k++)
            if (g->nodes[i].outputs[k] >= 0) g->values[g->nodes[i].outputs[k]].producer = i;
    return OT_OK;
}

static int64_t rc_bytes(const ot_value *v) {
    if (v->dtype == OT_UNDEFINED || v->rank < 0) return 0;
    int64_t n = (int64_t)ot_dtype_size(v->dtype);
    for (int d = 0; d < v->rank; d++) {
        if (v->dims[d] < 0) return 0;
        n *= v->dims[d];
    }
    return n;
}

ot_status ot_recompute(ot_graph *g, int n_forward, ot_recompute_report *report) {
    rc_ctx c = {g, n_forward, g->n_nodes};
    size_t nv = (size_t)g->n_values + 1, nn = (size_t)g->n_nodes + 1;
    c.producer = ot_malloc(sizeof(int) * nv);
    c.kept = ot_calloc(nv, sizeof(bool));
    c.bwd_read = ot_calloc(nv, sizeof(bool));
    c.depth = ot_calloc(nn, sizeof(int));
    c.clone = ot_malloc(sizeof(int) * nn);
    c.clone_out = ot_malloc(sizeof(int) * nv);
    ot_status s = OT_OK;
    if (!c.producer || !c.kept || !c.bwd_read || !c.depth || !c.clone || !c.clone_out)
        s = ot_error(OT_ERR_NOMEM, "out of memory");
    if (!s && (n_forward < 0 || n_forward > g->n_nodes))
        s = ot_error(OT_ERR_INTERNAL, "recompute: %d forward nodes of %d", n_forward, g->n_nodes);
    if (!s) s = rc_analyse(&c);
    for (int i = 0; i < c.n_orig && !s; i++) c.clone[i] = -1;
    /* Backward readers of recomputed values read the clones instead. */
    for (int i = c.n_fwd; i < c.n_orig && !s; i++) {
        for (int k = 0; k < g->nodes[i].n_inputs && !s; k++) {
            int u = g->nodes[i].inputs[k];
            if (u < 0 || u >= (int)nv - 1) continue;
            int p = c.producer[u];
            if (p < 0 || p >= c.n_fwd || !c.depth[p]) continue;
            if (c.clone[p] < 0) s = rc_clone(&c, p, i);
            if (!s) g->nodes[i].inputs[k] = c.clone_out[u];
        }
    }
    for (int v = 0; v < (int)nv - 1 && !s; v++) {
        int p = c.producer[v];
        if (c.bwd_read[v] && p >= 0 && p < c.n_fwd && c.depth[p]) {
            c.rep.values_released++;
            c.rep.bytes_released += rc_bytes(&g->values[v]);
        }
    }
    if (!s && g->n_nodes > c.n_orig) s = rc_place(&c);
    if (!s && report) *report = c.rep;
    rc_free(&c);
    return s;
}
