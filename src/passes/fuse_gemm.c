/* GEMM epilogues: Gemm, or MatMul / FusedMatMul of A (..., K) with a matrix
 * B (K, N), followed by
 *   - a bias Add (when the product has no C): the Add's other operand
 *     broadcasts along rows, (N), (1, .., N) or a scalar, and the product
 *     has no other consumer;
 *   - and/or a unary activation (any row parsed as a unary map: Relu,
 *     Sigmoid, Tanh, Gelu, LeakyRelu, ...) reading the (biased) product.
 *     When the pre-activation value has other consumers (GeluGrad reads the
 *     activation's input) it becomes FusedGemm's second output.
 * becomes one FusedGemm standing where the product (or its bias Add) was:
 * its inputs exist there and its outputs are read only later. */
#include <stdio.h>
#include <string.h>

#include "../../kernels/cpu/fused.h"
#include "../../ops/elementwise_ops.h"
#include "../../ops/grad.h"
#include "fuse_internal.h"

static bool fg_float(const ot_graph *g, int v) {
    return ot_fuse_known(g, v) && (g->values[v].dtype == OT_FLOAT || g->values[v].dtype == OT_DOUBLE);
}

/* The node reading value v, when it is v's only reader and v is no graph output. */
static int fg_sole_use(const ot_fuse_ctx *c, int v) {
    if (c->ext[v] || c->use_at[v + 1] - c->use_at[v] != 1) return -1;
    int u = c->uses[c->use_at[v]];
    return c->removed[u] ? -1 : u;
}

/* b broadcasts to y (..., N) along rows only. */
static bool fg_row_bias(const ot_graph *g, int b, int y) {
    const ot_value *vb = &g->values[b], *vy = &g->values[y];
    if (vb->rank > vy->rank) return false;
    for (int d = 0; d + 1 < vb->rank; d++)
        if (vb->dims[d] != 1) return false;
    return vb->rank == 0 || vb->dims[vb->rank - 1] == vy->dims[vy->rank - 1] || vb->dims[vb->rank - 1] == 1;
}

static bool fg_is(const ot_node *n, const char *op) { return !strcmp(n->op_type, op) && !n->domain[0]; }

typedef struct fg_match {
    int nodes[3], n_nodes; /* product, bias Add: removed and anchoring */
    int act;               /* activation node or -1 */
    ot_unary_op act_op;
    ot_unary_params act_p;
    int a, b, bias;        /* inputs (bias -1: none) */
    int y, z;              /* outputs (z -1: none) */
    int64_t trans_a, trans_b;
    float alpha, beta;
} fg_match;

/* The product node: Gemm (2-D, any C) or MatMul with a matrix B. */
static bool fg_product(const ot_fuse_ctx *c, int i, fg_match *m) {
    const ot_graph *g = c->g;
    const ot_node *n = &g->nodes[i];
    memset(m, 0, sizeof *m);
    m->act = m->bias = m->z = -1;
    m->alpha = m->beta = 1.0f;
    if (!c->def[i] || n->n_outputs != 1 || n->outputs[0] < 0 || c->is_static[n->outputs[0]]) return false;
    if (n->n_inputs < 2 || !fg_float(g, n->inputs[0]) || !fg_float(g, n->inputs[1]) || !fg_float(g, n->outputs[0]))
        return false;
    m->a = n->inputs[0];
    m->b = n->inputs[1];
    m->y = n->outputs[0];
    if (g->values[m->b].rank != 2 || g->values[m->a].dtype != g->values[m->b].dtype) return false;
    if (fg_is(n, "Gemm")) {
        if (ot_graph_opset(g, "") < 7 || g->values[m->a].rank != 2) return false;
        if (ot_attr_get_int(n, "transA", 0, &m->trans_a) || ot_attr_get_int(n, "transB", 0, &m->trans_b) ||
            ot_attr_get_float(n, "alpha", 1.0f, &m->alpha) || ot_attr_get_float(n, "beta", 1.0f, &m->beta))
            return false;
        if (n->n_inputs > 2 && n->inputs[2] >= 0) {
            if (!fg_float(g, n->inputs[2]) || g->values[n->inputs[2]].dtype != g->values[m->a].dtype) return false;
            m->bias = n->inputs[2];
        }
    } else if (!strcmp(n->op_type, "FusedMatMul") && !strcmp(n->domain, OT_DOMAIN_TRAIN) && n->n_inputs == 2) {
        /* transposes folded in by the previous round */
        if (ot_attr_get_int(n, "transA", 0, &m->trans_a) || ot_attr_get_int(n, "transB", 0, &m->trans_b)) return false;
        if (g->values[m->a].rank < 2 || (m->trans_a && g->values[m->a].rank != 2)) return false;
    } else if (!fg_is(n, "MatMul") || n->n_inputs != 2 || g->values[m->a].rank < 2) {
        return false;
    }
    m->nodes[m->n_nodes++] = i;
    return true;
}

/* A unary activation reading value v (float, not folded). */
static int fg_activation(const ot_fuse_ctx *c, int v, fg_match *m) {
    const ot_graph *g = c->g;
    for (int u = c->use_at[v]; u < c->use_at[v + 1]; u++) {
        int ni = c->uses[u];
        const ot_node *n = &g->nodes[ni];
        if (c->removed[ni] || !c->def[ni] || c->def[ni]->parse != ot_ew_unary_parse || n->n_outputs != 1 ||
            n->outputs[0] < 0 || !ot_fuse_known(g, n->outputs[0]) || c->is_static[n->outputs[0]])
            continue;
        ot_ew_unary_attrs at;
        memset(&at, 0, sizeof at);
        if (ot_ew_unary_parse(n, ot_graph_opset(g, n->domain), &at) || at.op == OT_UN_NOT || at.op == OT_UN_BITWISE_NOT)
            continue;
        m->act_op = at.op;
        m->act_p = at.p;
        return ni;
    }
    return -1;
}

static ot_status fg_emit(ot_fuse_ctx *c, const fg_match *m) {
    ot_graph *g = c->g;
    int in[3] = {m->a, m->b, m->bias}, out[2] = {m->y, m->z}, members[4], nm = 0, id;
    for (int k = 0; k < m->n_nodes; k++) members[nm++] = m->nodes[k];
    if (m->act >= 0) members[nm++] = m->act;
    char name[256];
    snprintf(name, sizeof name, "%s/FusedGemm", g->nodes[m->nodes[0]].name);
    OT_TRY(ot_fuse_add_node(c, "FusedGemm", name, m->bias >= 0 ? 3 : 2, in, m->z >= 0 ? 2 : 1, out, members, nm,
                            m->nodes[m->n_nodes - 1], &id));
    OT_TRY(ot_fuse_attr_int(g, id, "transA", m->trans_a));
    OT_TRY(ot_fuse_attr_int(g, id, "transB", m->trans_b));
    OT_TRY(ot_fuse_attr_float(g, id, "alpha", m->alpha));
    OT_TRY(ot_fuse_attr_float(g, id, "beta", m->beta));
    if (m->act >= 0) {
        float p[3] = {m->act_p.alpha, m->act_p.beta, m->act_p.gamma};
        OT_TRY(ot_fuse_attr_string(g, id, "activation", ot_fx_op_name(OT_FX_UNARY, (int)m->act_op)));
        OT_TRY(ot_fuse_attr_floats(g, id, "activation_params", p, 3));
    }
    c->rep->gemm_epilogues++;
    return OT_OK;
}

ot_status ot_fuse_gemm(ot_fuse_ctx *c) {
    ot_graph *g = c->g;
    for (int i = 0; i < c->n_orig; i++) {
        fg_match m;
        if (c->removed[i] || !fg_product(c, i, &m)) continue;
        int cur = m.y;
        if (m.bias < 0) { /* a bias Add reading only the product */
            int u = fg_sole_use(c, cur);
            const ot_node *n = u >= 0 ? &g->nodes[u] : NULL;
            if (n && fg_is(n, "Add") && c->def[u] && n->n_inputs == 2 && n->outputs[0] >= 0 &&
                !c->is_static[n->outputs[0]] && fg_float(g, n->outputs[0]) && ot_fuse_same_shape(g, n->outputs[0], cur)) {
                int other = n->inputs[0] == cur ? n->inputs[1] : n->inputs[0];
                if (other != cur && fg_float(g, other) && g->values[other].dtype == g->values[cur].dtype &&
                    fg_row_bias(g, other, cur)) {
                    m.bias = other;
                    m.beta = 1.0f;
                    m.nodes[m.n_nodes++] = u;
                    cur = n->outputs[0];
                }
            }
        }
        int act = fg_activation(c, cur, &m);
        if (act >= 0) {
            m.act = act;
            m.y = g->nodes[act].outputs[0];
            if (c->ext[cur] || c->use_at[cur + 1] - c->use_at[cur] > 1) m.z = cur;
        } else {
            m.y = cur;
        }
        if (m.n_nodes < 2 && m.act < 0) continue; /* a plain product: nothing to fuse */
        /* The bias is read where the product stood only if it exists there. */
        if (m.bias >= 0 && m.n_nodes == 1 && c->producer[m.bias] > i) continue;
        OT_TRY(fg_emit(c, &m));
    }
    return OT_OK;
}
