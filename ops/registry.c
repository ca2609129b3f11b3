/* The op table: every family's rows, looked up by (domain, name). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "op.h"
#include "families.h"
#include "onnx_versions.h"

static const struct {
    const ot_op_def *rows;
    const int *count;
} ot_families[] = {
#define OT_FAMILY(x) {ot_ops_##x, &ot_ops_##x##_count},
    OT_FAMILIES
#undef OT_FAMILY
};

int ot_op_count(void) {
    int n = 0;
    for (size_t f = 0; f < sizeof ot_families / sizeof ot_families[0]; f++) n += *ot_families[f].count;
    return n;
}

const ot_op_def *ot_op_at(int i) {
    for (size_t f = 0; f < sizeof ot_families / sizeof ot_families[0]; f++) {
        if (i < *ot_families[f].count) return &ot_families[f].rows[i];
        i -= *ot_families[f].count;
    }
    return NULL;
}

static const char *ot_norm_domain(const char *d) {
    return (!d || !strcmp(d, "ai.onnx")) ? "" : d;
}

const ot_op_def *ot_op_find(const char *domain, const char *name) {
    domain = ot_norm_domain(domain);
    int n = ot_op_count();
    for (int i = 0; i < n; i++) {
        const ot_op_def *d = ot_op_at(i);
        if (!strcmp(d->name, name) && !strcmp(ot_norm_domain(d->domain), domain)) return d;
    }
    return NULL;
}

int64_t ot_op_schema_version(const char *domain, const char *name, int64_t opset) {
    if (ot_norm_domain(domain)[0]) return opset;
    for (int i = 0; i < ot_onnx_versions_count; i++) {
        const ot_onnx_op_versions *v = &ot_onnx_versions[i];
        if (strcmp(v->name, name)) continue;
        int64_t best = -1;
        for (int k = 0; k < v->n; k++)
            if (v->since[k] <= opset) best = v->since[k];
        return best;
    }
    return opset;
}

const ot_op_def *ot_op_resolve(const char *domain, const char *name, int64_t opset) {
    const ot_op_def *d = ot_op_find(domain, name);
    if (!d || opset < 0) return NULL;
    int64_t v = ot_op_schema_version(domain, name, opset);
    return v >= d->min_opset && v <= d->max_opset ? d : NULL;
}

ot_status ot_need_value(ot_kctx *c, int i) {
    ot_tensor *t = ot_in(c, i);
    if (t && t->data) return OT_OK;
    c->need_input = i;
    return OT_NEED_VALUE;
}

/* Formats into a local buffer first: an argument may be the thread's error
   message (ot_last_error()), which ot_error_set rewrites. */
static void node_error_vset(const ot_node *n, const char *fmt, va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (n && n->name && n->name[0]) ot_error_set("node '%s' (%s): %s", n->name, n->op_type, msg);
    else ot_error_set("%s node: %s", n ? n->op_type : "?", msg);
}

void ot_op_error_set(const ot_kctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    node_error_vset(c->node, fmt, ap);
    va_end(ap);
}

void ot_node_error_set(const ot_node *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    node_error_vset(n, fmt, ap);
    va_end(ap);
}

ot_status ot_check_dtype(const ot_kctx *c, int i, const ot_dtype *allowed) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return OT_OK;
    for (const ot_dtype *a = allowed; *a != OT_UNDEFINED; a++)
        if (*a == t->dtype) return OT_OK;
    return ot_op_error(c, OT_ERR_UNSUPPORTED, "input %d has type %s, which this op does not support", i,
                       ot_dtype_name(t->dtype));
}

ot_status ot_check_dy(const ot_kctx *c, int rank, const int64_t *want) {
    const ot_tensor *dy = c->in[0];
    if (!ot_shape_equal(dy->rank, dy->dims, rank, want)) {
        char a[160], b[160];
        return ot_op_error(c, OT_ERR_SHAPE, "dy %s does not match the forward's output %s",
                           ot_shape_str(dy->rank, dy->dims, a, sizeof a), ot_shape_str(rank, want, b, sizeof b));
    }
    return OT_OK;
}

void ot_set_out(ot_kctx *c, int i, ot_dtype dtype, int rank, const int64_t *dims) {
    ot_tensor *t = ot_out(c, i);
    if (t) ot_tensor_set_shape(t, dtype, rank, dims);
}
