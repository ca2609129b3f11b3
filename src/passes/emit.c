#include "emit.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "infer.h"

ot_status ot_emit_value(ot_emitter *e, const char *tag, int *id) {
    char name[512];
    do {
        snprintf(name, sizeof name, "%s/%s_%d", e->prefix, tag, e->counter++);
    } while (ot_graph_find(e->g, name) >= 0);
    return ot_graph_value(e->g, name, id);
}

ot_status ot_emit(ot_emitter *e, const char *op, const char *domain, int n_in, const int *in, int n_out, int *out,
                  int n_attrs, const ot_grad_attr *attrs) {
    for (int k = 0; k < n_out; k++) OT_TRY(ot_emit_value(e, op, &out[k]));
    char name[512];
    snprintf(name, sizeof name, "%s/%s_%d", e->prefix, op, e->counter++);
    int node;
    OT_TRY(ot_graph_add_node(e->g, op, domain, name, n_in, in, n_out, out, &node));
    for (int a = 0; a < n_attrs; a++) {
        ot_attr *at;
        const ot_grad_attr *src = &attrs[a];
        OT_TRY(ot_node_add_attr(e->g, node, src->name, src->type, &at));
        OT_TRY(ot_attr_from_grad(at, src));
    }
    return ot_infer_node(e->g, node);
}

ot_status ot_attr_from_grad(ot_attr *at, const ot_grad_attr *src) {
    size_t n = src->n > 0 ? (size_t)src->n : 0;
    switch (src->type) {
    case OT_ATTR_INT: at->i = src->i; return OT_OK;
    case OT_ATTR_FLOAT: at->f = src->f; return OT_OK;
    case OT_ATTR_STRING:
        if (!(at->s = ot_strdup(src->s))) return ot_error(OT_ERR_NOMEM, "out of memory");
        at->s_len = strlen(src->s);
        return OT_OK;
    case OT_ATTR_INTS:
        if (!(at->ints = ot_malloc(sizeof(int64_t) * (n + 1)))) return ot_error(OT_ERR_NOMEM, "out of memory");
        if (n) memcpy(at->ints, src->ints, sizeof(int64_t) * n);
        break;
    case OT_ATTR_FLOATS:
        if (!(at->floats = ot_malloc(sizeof(float) * (n + 1)))) return ot_error(OT_ERR_NOMEM, "out of memory");
        if (n) memcpy(at->floats, src->floats, sizeof(float) * n);
        break;
    case OT_ATTR_STRINGS:
        if (!(at->strings = ot_calloc(n + 1, sizeof(char *)))) return ot_error(OT_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < n; k++)
            if (!(at->strings[k] = ot_strdup(src->strings[k]))) return ot_error(OT_ERR_NOMEM, "out of memory");
        break;
    default: return ot_error(OT_ERR_INTERNAL, "attribute '%s': type %d cannot be emitted", src->name, (int)src->type);
    }
    at->n = (int)n;
    return OT_OK;
}

ot_status ot_emit_const(ot_emitter *e, ot_dtype dtype, int rank, const int64_t *dims, int *out, ot_tensor **t) {
    OT_TRY(ot_emit_value(e, "const", out));
    ot_value *v = &e->g->values[*out];
    OT_TRY(ot_tensor_new(dtype, rank, dims, &v->init));
    v->role = OT_ROLE_CONSTANT;
    v->dtype = dtype;
    v->rank = rank;
    if (rank) memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    *t = v->init;
    return OT_OK;
}

ot_status ot_emit_const_i64(ot_emitter *e, int n, const int64_t *vals, int *out) {
    ot_tensor *t;
    int64_t dims[1] = {n};
    OT_TRY(ot_emit_const(e, OT_INT64, 1, dims, out, &t));
    if (n) memcpy(t->data, vals, sizeof(int64_t) * (size_t)n);
    return OT_OK;
}

ot_status ot_emit_const_scalar(ot_emitter *e, ot_dtype dtype, double v, int *out) {
    ot_tensor *t;
    OT_TRY(ot_emit_const(e, dtype, 0, NULL, out, &t));
    ot_store_f64(dtype, t->data, 0, v);
    return OT_OK;
}

ot_status ot_emit_reduce_sum(ot_emitter *e, int x, int n, const int64_t *axes, bool keepdims, int *out) {
    ot_grad_attr kd = {.name = "keepdims", .type = OT_ATTR_INT, .i = keepdims};
    if (ot_graph_opset(e->g, "") >= 13) { /* axes became an input of ReduceSum at 13 */
        int in[2] = {x, -1};
        OT_TRY(ot_emit_const_i64(e, n, axes, &in[1]));
        return ot_emit(e, "ReduceSum", "", 2, in, 1, out, 1, &kd);
    }
    ot_grad_attr at[2] = {kd, {.name = "axes", .type = OT_ATTR_INTS, .ints = axes, .n = n}};
    return ot_emit(e, "ReduceSum", "", 1, &x, 1, out, 2, at);
}

ot_status ot_emit_reshape(ot_emitter *e, int x, int r, const int64_t *dims, int *out) {
    int in[2] = {x, -1};
    OT_TRY(ot_emit_const_i64(e, r, dims, &in[1]));
    return ot_emit(e, "Reshape", "", 2, in, 1, out, 0, NULL);
}
