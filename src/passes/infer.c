#include "infer.h"

#include <string.h>

#include "../core/alloc.h"

ot_status ot_infer_node(ot_graph *g, int ni) {
    const ot_node *n = &g->nodes[ni];
    int64_t opset = ot_graph_opset(g, n->domain);
    const ot_op_def *d = ot_op_resolve(n->domain, n->op_type, opset);
    if (!d) return ot_error(OT_ERR_UNSUPPORTED, "node '%s': op %s (domain '%s', opset %lld) is not supported", n->name,
                            n->op_type, n->domain, (long long)opset);
    int nin = n->n_inputs, nout = n->n_outputs;
    ot_tensor *descs = ot_calloc((size_t)(nin + nout) + 1, sizeof *descs);
    ot_tensor **in = ot_calloc((size_t)nin + 1, sizeof *in), **out = ot_calloc((size_t)nout + 1, sizeof *out);
    void *attrs = d->attrs_size ? ot_calloc(1, d->attrs_size) : NULL;
    ot_status s = OT_OK;
    if (!descs || !in || !out || (d->attrs_size && !attrs)) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (d->parse && (s = d->parse(n, opset, attrs))) goto done;
    for (int k = 0; k < nin; k++) {
        if (n->inputs[k] < 0) continue;
        const ot_value *v = &g->values[n->inputs[k]];
        if (v->rank < 0 || v->dtype == OT_UNDEFINED) {
            s = ot_error(OT_ERR_INTERNAL, "node '%s': input '%s' has no inferred shape", n->name, v->name);
            goto done;
        }
        ot_tensor_set_shape(&descs[k], v->dtype, v->rank, v->dims);
        if (v->init && (v->role == OT_ROLE_CONSTANT || v->role == OT_ROLE_INITIALIZER)) descs[k].data = v->init->data;
        in[k] = &descs[k];
    }
    for (int k = 0; k < nout; k++)
        if (n->outputs[k] >= 0) out[k] = &descs[nin + k];
    ot_kctx c = {n, n->name[0] ? n->name : n->op_type, opset, attrs, nin, in, nout, out, false, 0, 0, ni, -1};
    s = d->infer(&c);
    if (s == OT_NEED_VALUE)
        s = ot_error(OT_ERR_INTERNAL, "node '%s' (%s): shape depends on the value of input %d, which is not constant", n->name,
                     n->op_type, c.need_input);
    if (s) goto done;
    for (int k = 0; k < nout; k++) {
        if (!out[k]) continue;
        ot_value *v = &g->values[n->outputs[k]];
        v->dtype = out[k]->dtype;
        v->rank = out[k]->rank;
        memcpy(v->dims, out[k]->dims, sizeof(int64_t) * (size_t)out[k]->rank);
        v->producer = ni;
    }
done:
    ot_free(descs);
    ot_free(in);
    ot_free(out);
    ot_free(attrs);
    return s;
}

ot_status ot_graph_infer_shapes(ot_graph *g, ot_tensor *const *inputs, const ot_compile_options *opt) {
    ot_program *p;
    ot_compile_options shapes = *opt;
    shapes.shapes_only = true; /* read shapes only: no memory plan */
    OT_TRY(ot_program_compile(g, inputs, &shapes, &p));
    for (int v = 0; v < g->n_values; v++) {
        if (p->kinds[v] == OT_SLOT_UNUSED) continue;
        ot_value *val = &g->values[v];
        val->dtype = p->slots[v].dtype;
        val->rank = p->slots[v].rank;
        memcpy(val->dims, p->slots[v].dims, sizeof(int64_t) * (size_t)p->slots[v].rank);
    }
    ot_program_free(p);
    return OT_OK;
}
