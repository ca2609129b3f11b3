/* Transposes folded into matrix products (a round before GEMM epilogues):
 *
 *   - a Transpose swapping the last two dims (of a matrix, or of a batch of
 *     them) whose every reader is a product operand — Gemm (matrices only),
 *     MatMul, FusedMatMul — disappears: the readers take its input and flip
 *     transA / transB (a MatMul becomes FusedMatMul).  PyTorch exports
 *     nn.Linear as MatMul(x, Transpose(W)), and the gradient reads the
 *     transposed W again: the weight is never copied.
 *   - Transpose(perm [1, 0]) of a Gemm without C that nothing else reads
 *     becomes the Gemm itself, computing (A B)^T = B^T A^T: the weight
 *     gradient of nn.Linear comes out in W's layout directly.
 * BLAS reads a transposed operand at the same speed, so each saves a pass. */
#include <string.h>

#include "../../ops/grad.h"
#include "../core/alloc.h"
#include "fuse_internal.h"

/* Does node t swap the last two dims and nothing else?  *rank: its input's. */
static bool ft_is_swap(const ot_fuse_ctx *c, int t, int *rank) {
    const ot_graph *g = c->g;
    const ot_node *n = &g->nodes[t];
    if (strcmp(n->op_type, "Transpose") || n->domain[0] || !c->def[t] || n->n_inputs != 1 || n->n_outputs != 1 ||
        n->outputs[0] < 0 || !ot_fuse_known(g, n->inputs[0]) || c->is_static[n->outputs[0]])
        return false;
    int r = g->values[n->inputs[0]].rank;
    const int64_t *perm;
    int np;
    if (r < 2 || ot_attr_get_ints(n, "perm", &perm, &np)) return false;
    for (int d = 0; d < r; d++) {
        int64_t want = d < r - 2 ? d : d == r - 2 ? r - 1 : r - 2;
        if (np < 0 ? (r != 2) : (np != r || perm[d] != want)) return false;
    }
    *rank = r;
    return true;
}

static bool ft_is(const ot_node *n, const char *op, const char *domain) {
    return !strcmp(n->op_type, op) && !strcmp(n->domain, domain);
}

/* Can reader u take value v (the transpose of a rank-r tensor) untransposed? */
static bool ft_foldable(const ot_fuse_ctx *c, int u, int v, int r) {
    const ot_graph *g = c->g;
    const ot_node *n = &g->nodes[u];
    if (c->removed[u] || !c->def[u] || n->n_inputs < 2) return false;
    bool uses = false;
    for (int k = 0; k < n->n_inputs; k++) {
        if (n->inputs[k] != v) continue;
        if (k > 1) return false; /* Gemm's C */
        uses = true;
    }
    if (!uses) return false;
    if (ft_is(n, "Gemm", "")) return r == 2 && ot_graph_opset(g, "") >= 7;
    bool mm = ft_is(n, "MatMul", "") || ft_is(n, "FusedMatMul", OT_DOMAIN_TRAIN);
    return mm && ot_fuse_known(g, n->inputs[0]) && ot_fuse_known(g, n->inputs[1]) &&
           g->values[n->inputs[0]].rank >= 2 && g->values[n->inputs[1]].rank >= 2;
}

static ot_status ft_set_int(ot_graph *g, int node, const char *name, int64_t v) {
    ot_node *n = &g->nodes[node];
    for (int a = 0; a < n->n_attrs; a++)
        if (!strcmp(n->attrs[a].name, name)) {
            n->attrs[a].type = OT_ATTR_INT;
            n->attrs[a].i = v;
            return OT_OK;
        }
    return ot_fuse_attr_int(g, node, name, v);
}

static ot_status ft_flip(ot_graph *g, int node, const char *name) {
    int64_t v;
    OT_TRY(ot_attr_get_int(&g->nodes[node], name, 0, &v));
    return ft_set_int(g, node, name, !v);
}

/* Reader u of v (= Transpose(x)) reads x with the flag flipped. */
static ot_status ft_fold_reader(ot_fuse_ctx *c, int u, int v, int x) {
    ot_graph *g = c->g;
    ot_node *n = &g->nodes[u];
    if (ft_is(n, "MatMul", "")) { /* becomes FusedMatMul, transA = transB = 0 */
        char *op = ot_strdup("FusedMatMul"), *dom = ot_strdup(OT_DOMAIN_TRAIN);
        if (!op || !dom) {
            ot_free(op);
            ot_free(dom);
            return ot_error(OT_ERR_NOMEM, "out of memory");
        }
        ot_free(n->op_type);
        ot_free(n->domain);
        n->op_type = op;
        n->domain = dom;
        OT_TRY(ft_set_int(g, u, "transA", 0));
        OT_TRY(ft_set_int(g, u, "transB", 0));
        n = &g->nodes[u];
    }
    for (int k = 0; k < 2; k++)
        if (g->nodes[u].inputs[k] == v) {
            g->nodes[u].inputs[k] = x;
            OT_TRY(ft_flip(g, u, k ? "transB" : "transA"));
        }
    (void)n;
    return OT_OK;
}

/* Gemm producing only t's input: compute the transpose directly. */
static ot_status ft_fold_output(ot_fuse_ctx *c, int t) {
    ot_graph *g = c->g;
    int v = g->nodes[t].inputs[0], p = c->producer[v];
    if (p < 0 || c->removed[p] || c->ext[v] || c->use_at[v + 1] - c->use_at[v] != 1 || !c->def[p]) return OT_OK;
    ot_node *n = &g->nodes[p];
    if (!ft_is(n, "Gemm", "") || ot_graph_opset(g, "") < 7 || (n->n_inputs > 2 && n->inputs[2] >= 0)) return OT_OK;
    int64_t ta, tb;
    OT_TRY(ot_attr_get_int(n, "transA", 0, &ta));
    OT_TRY(ot_attr_get_int(n, "transB", 0, &tb));
    int a = n->inputs[0];
    n->inputs[0] = n->inputs[1];
    n->inputs[1] = a;
    n->outputs[0] = g->nodes[t].outputs[0];
    OT_TRY(ft_set_int(g, p, "transA", !tb));
    OT_TRY(ft_set_int(g, p, "transB", !ta));
    c->removed[t] = true;
    c->rep->transposes_folded++;
    return OT_OK;
}

ot_status ot_fuse_transposes(ot_fuse_ctx *c) {
    ot_graph *g = c->g;
    for (int t = 0; t < c->n_orig; t++) {
        int r;
        if (c->removed[t] || !ft_is_swap(c, t, &r)) continue;
        int v = g->nodes[t].outputs[0], x = g->nodes[t].inputs[0];
        bool all = !c->ext[v] && c->use_at[v + 1] > c->use_at[v];
        for (int u = c->use_at[v]; u < c->use_at[v + 1] && all; u++) all = ft_foldable(c, c->uses[u], v, r);
        if (all) {
            for (int u = c->use_at[v]; u < c->use_at[v + 1]; u++) {
                int w = c->uses[u];
                if (u > c->use_at[v] && c->uses[u - 1] == w) continue; /* one reader listed twice */
                OT_TRY(ft_fold_reader(c, w, v, x));
            }
            c->removed[t] = true;
            c->rep->transposes_folded++;
        } else if (r == 2) {
            OT_TRY(ft_fold_output(c, t));
        }
    }
    return OT_OK;
}
