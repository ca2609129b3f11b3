/* ot_graph_clone (deep) and ot_graph_clone_sharing (initializer bytes
 * shared, everything else copied) on a loaded model: the copies describe
 * the same graph, a deep copy owns its bytes, a sharing copy points at the
 * source's, and freeing either copy leaves the source intact. */
#include <string.h>

#include "check.h"
#include "src/core/alloc.h"
#include "src/ir/graph.h"
#include "src/onnx/model.h"

static void check_copy(const ot_graph *src, const ot_graph *cp, bool shared) {
    CHECK(cp->n_values == src->n_values && cp->n_nodes == src->n_nodes && cp->n_inits == src->n_inits);
    int n_init = 0;
    for (int v = 0; v < src->n_values && v < cp->n_values; v++) {
        const ot_tensor *a = src->values[v].init, *b = cp->values[v].init;
        CHECK(!a == !b);
        CHECK(!strcmp(src->values[v].name, cp->values[v].name));
        if (!a || !b) continue;
        n_init++;
        CHECK(a->dtype == b->dtype && a->rank == b->rank && !memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank));
        CHECK(!memcmp(a->data, b->data, ot_tensor_nbytes(a)));
        if (shared) CHECK(b->data == a->data && !b->owns);
        else CHECK(b->data != a->data && b->owns);
    }
    CHECK(n_init > 0);
    for (int i = 0; i < src->n_nodes && i < cp->n_nodes; i++) {
        CHECK(!strcmp(src->nodes[i].op_type, cp->nodes[i].op_type));
        CHECK(src->nodes[i].n_attrs == cp->nodes[i].n_attrs);
        CHECK(src->nodes[i].attrs != cp->nodes[i].attrs || !src->nodes[i].n_attrs); /* attributes are copied */
    }
}

int main(void) {
    ot_model *m = NULL;
    CHECK(ot_model_load("models/test_cnn_train_opset17/model.onnx", &m) == OT_OK);
    if (!m) return check_done();
    ot_graph *deep = NULL, *shared = NULL;
    CHECK(ot_graph_clone(m->graph, NULL, &deep) == OT_OK);
    CHECK(ot_graph_clone_sharing(m->graph, &shared) == OT_OK);
    if (deep) check_copy(m->graph, deep, false);
    if (shared) check_copy(m->graph, shared, true);
    ot_graph_free(shared);
    ot_graph_free(deep);
    /* the source is intact: its first initializer is still readable and owned */
    for (int v = 0; v < m->graph->n_values; v++)
        if (m->graph->values[v].init) {
            CHECK(m->graph->values[v].init->owns || m->graph->values[v].init->data);
            break;
        }
    ot_model_free(m);
    return check_done();
}
