#include "autodiff.h"

#include <stdio.h>
#include <string.h>

#include "../../ops/grad.h"
#include "../core/alloc.h"
#include "emit.h"

struct ot_grad_ctx {
    ot_graph *g;
    int node;            /* forward node index */
    const ot_op_def *op;
    void *attrs;
    int64_t opset;
    int *grad;           /* per value id: accumulated gradient value, -1 none */
    const char *needs;   /* per value id: requires a gradient */
    int n_emitted;       /* counter for unique names */
    char prefix[512];
    ot_tensor scratch;   /* returned by ot_grad_value */
};

const ot_node *ot_grad_node(const ot_grad_ctx *c) { return &c->g->nodes[c->node]; }
const void *ot_grad_attrs(const ot_grad_ctx *c) { return c->attrs; }
int64_t ot_grad_opset(const ot_grad_ctx *c) { return c->opset; }
int ot_grad_node_index(const ot_grad_ctx *c) { return c->node; }

int ot_grad_x(const ot_grad_ctx *c, int i) {
    const ot_node *n = ot_grad_node(c);
    return i < n->n_inputs ? n->inputs[i] : -1;
}

int ot_grad_y(const ot_grad_ctx *c, int i) {
    const ot_node *n = ot_grad_node(c);
    return i < n->n_outputs ? n->outputs[i] : -1;
}

int ot_grad_dy(const ot_grad_ctx *c, int i) {
    int y = ot_grad_y(c, i);
    return y >= 0 ? c->grad[y] : -1;
}

bool ot_grad_needs(const ot_grad_ctx *c, int i) {
    int x = ot_grad_x(c, i);
    return x >= 0 && c->needs[x];
}

const ot_tensor *ot_grad_value(const ot_grad_ctx *c, int v) {
    ot_grad_ctx *m = (ot_grad_ctx *)c;
    const ot_value *val = &c->g->values[v];
    ot_tensor_set_shape(&m->scratch, val->dtype, val->rank, val->dims);
    m->scratch.data = val->init && val->role == OT_ROLE_CONSTANT ? val->init->data : NULL;
    return &m->scratch;
}

/* Emission goes through the emitter, with names "<forward node>_grad/...". */
static ot_emitter ot_grad_emitter(ot_grad_ctx *c) {
    const ot_node *n = ot_grad_node(c);
    snprintf(c->prefix, sizeof c->prefix, "%s_grad", n->name[0] ? n->name : n->op_type);
    ot_emitter e = {c->g, c->prefix, c->n_emitted};
    return e;
}

#define OT_WITH_EMITTER(c, call)            \
    do {                                    \
        ot_emitter e_ = ot_grad_emitter(c); \
        ot_status s_ = (call);              \
        (c)->n_emitted = e_.counter;        \
        return s_;                          \
    } while (0)

ot_status ot_grad_emit(ot_grad_ctx *c, const char *op, const char *domain, int n_in, const int *in, int n_out, int *out,
                       int n_attrs, const ot_grad_attr *attrs) {
    OT_WITH_EMITTER(c, ot_emit(&e_, op, domain, n_in, in, n_out, out, n_attrs, attrs));
}

ot_status ot_grad_op1(ot_grad_ctx *c, const char *op, int a, int *out) {
    return ot_grad_emit(c, op, "", 1, &a, 1, out, 0, NULL);
}

ot_status ot_grad_op2(ot_grad_ctx *c, const char *op, int a, int b, int *out) {
    int in[2] = {a, b};
    return ot_grad_emit(c, op, "", 2, in, 1, out, 0, NULL);
}

ot_status ot_grad_const_i64(ot_grad_ctx *c, int n, const int64_t *vals, int *out) {
    OT_WITH_EMITTER(c, ot_emit_const_i64(&e_, n, vals, out));
}

ot_status ot_grad_const_scalar(ot_grad_ctx *c, ot_dtype dtype, double v, int *out) {
    OT_WITH_EMITTER(c, ot_emit_const_scalar(&e_, dtype, v, out));
}

ot_status ot_grad_reduce_sum(ot_grad_ctx *c, int x, int n, const int64_t *axes, bool keepdims, int *out) {
    OT_WITH_EMITTER(c, ot_emit_reduce_sum(&e_, x, n, axes, keepdims, out));
}

ot_status ot_grad_reshape(ot_grad_ctx *c, int x, int r, const int64_t *dims, int *out) {
    OT_WITH_EMITTER(c, ot_emit_reshape(&e_, x, r, dims, out));
}

ot_status ot_grad_sum_to(ot_grad_ctx *c, int x, int like, int *out) {
    const ot_value *vx = &c->g->values[x], *vl = &c->g->values[like];
    if (ot_shape_equal(vx->rank, vx->dims, vl->rank, vl->dims)) {
        *out = x;
        return OT_OK;
    }
    /* Copies: emitting nodes may move the values array. */
    int64_t axes[OT_MAX_RANK], like_dims[OT_MAX_RANK];
    int n = 0, lead = vx->rank - vl->rank, like_rank = vl->rank;
    if (lead < 0) return ot_error(OT_ERR_INTERNAL, "gradient of '%s' has lower rank than the value", vl->name);
    memcpy(like_dims, vl->dims, sizeof(int64_t) * (size_t)like_rank);
    for (int d = 0; d < vx->rank; d++)
        if (d < lead || (like_dims[d - lead] == 1 && vx->dims[d] != 1)) axes[n++] = d;
    int summed = x;
    if (n) OT_TRY(ot_grad_reduce_sum(c, x, n, axes, true, &summed));
    return ot_grad_reshape(c, summed, like_rank, like_dims, out);
}

ot_status ot_grad_set(ot_grad_ctx *c, int i, int dx) {
    int x = ot_grad_x(c, i);
    if (x < 0 || !c->needs[x] || dx < 0) return OT_OK;
    const ot_value *vx = &c->g->values[x], *vd = &c->g->values[dx];
    if (vd->dtype != vx->dtype)
        return ot_error(OT_ERR_INTERNAL, "node '%s': gradient rule produced %s for %s input '%s'", ot_grad_node(c)->name,
                        ot_dtype_name(vd->dtype), ot_dtype_name(vx->dtype), vx->name);
    OT_TRY(ot_grad_sum_to(c, dx, x, &dx));
    if (c->grad[x] < 0) {
        c->grad[x] = dx;
        return OT_OK;
    }
    int sum;
    OT_TRY(ot_grad_op2(c, "Add", c->grad[x], dx, &sum)); /* fan-out: gradients add up */
    c->grad[x] = sum;
    return OT_OK;
}

/* ---- the pass ---------------------------------------------------------------- */

static bool ot_differentiable_dtype(ot_dtype t) { return ot_dtype_is_float(t); }

ot_status ot_autodiff(ot_graph *g, ot_autodiff_request *r) {
    int n_fwd = g->n_nodes;
    ot_status s = OT_OK;
    /* Indexed by forward value ids only: rules read dy of forward outputs and
       set dx of forward inputs, so values added on the way never index these. */
    int cap = g->n_values + 1;
    char *needs = ot_calloc((size_t)cap, 1), *reaches = ot_calloc((size_t)cap, 1);
    int *grad = ot_malloc(sizeof(int) * (size_t)cap);
    if (!needs || !reaches || !grad) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int v = 0; v < cap; v++) grad[v] = -1;
    /* Forward sweep: which values depend on a wrt value through float paths. */
    for (int k = 0; k < r->n_wrt; k++) needs[r->wrt[k]] = 1;
    for (int i = 0; i < n_fwd; i++) {
        const ot_node *n = &g->nodes[i];
        bool any = false;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && needs[n->inputs[k]]) any = true;
        if (!any) continue;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && ot_differentiable_dtype(g->values[n->outputs[k]].dtype)) needs[n->outputs[k]] = 1;
    }
    /* Backward sweep: which values the loss depends on. */
    reaches[r->loss] = 1;
    for (int k = 0; k < r->n_extra; k++) reaches[r->extra_values[k]] = 1;
    for (int i = n_fwd - 1; i >= 0; i--) {
        const ot_node *n = &g->nodes[i];
        bool any = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && reaches[n->outputs[k]]) any = true;
        if (!any) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) reaches[n->inputs[k]] = 1;
    }
    for (int v = 0; v < g->n_values; v++) needs[v] = needs[v] && reaches[v];
    grad[r->loss] = r->seed;
    for (int k = 0; k < r->n_extra; k++) grad[r->extra_values[k]] = r->extra_seeds[k];

    ot_grad_ctx c = {.g = g, .grad = grad, .needs = needs};
    for (int i = n_fwd - 1; i >= 0 && !s; i--) {
        const ot_node *n = &g->nodes[i];
        bool has_dy = false, wants = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && grad[n->outputs[k]] >= 0) has_dy = true;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && needs[n->inputs[k]]) wants = true;
        if (!has_dy || !wants) continue;
        int64_t opset = ot_graph_opset(g, n->domain);
        const ot_op_def *d = ot_op_resolve(n->domain, n->op_type, opset);
        if (!d) {
            s = ot_error(OT_ERR_UNSUPPORTED, "node '%s': op %s is not supported", n->name, n->op_type);
            break;
        }
        if (!d->grad) {
            s = ot_error(OT_ERR_UNSUPPORTED, "node '%s' (%s): a gradient must flow through it, and %s has no gradient rule yet",
                         n->name, n->op_type, n->op_type);
            break;
        }
        c.node = i;
        c.op = d;
        c.opset = opset;
        c.attrs = d->attrs_size ? ot_calloc(1, d->attrs_size) : NULL;
        if (d->attrs_size && !c.attrs) {
            s = ot_error(OT_ERR_NOMEM, "out of memory");
            break;
        }
        if (d->parse) s = d->parse(n, opset, c.attrs);
        if (!s) s = d->grad(&c);
        ot_free(c.attrs);
        c.attrs = NULL;
    }
    for (int k = 0; k < r->n_wrt && !s; k++) r->grads[k] = grad[r->wrt[k]];
out:
    ot_free(needs);
    ot_free(reaches);
    ot_free(grad);
    return s;
}
