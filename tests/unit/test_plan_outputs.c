/* Regression: an in-place op must not overwrite a value that is also a graph
 * output.  Neg(x) -> z, Tanh(z) -> y with outputs [y, z]: Tanh is in-place
 * capable and z's last reader is Tanh, yet z is returned, so its bytes must
 * survive. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "src/core/alloc.h"
#include "src/runtime/program.h"

static int value(ot_graph *g, const char *name) {
    int id;
    ot_graph_value(g, name, &id);
    return id;
}

int main(void) {
    ot_graph *g;
    CHECK(ot_graph_new("outputs", &g) == OT_OK);
    g->opsets = ot_calloc(1, sizeof *g->opsets);
    g->opsets[0].domain = ot_strdup("");
    g->opsets[0].version = 17;
    g->n_opsets = 1;
    int x = value(g, "x"), z = value(g, "z"), y = value(g, "y");
    g->values[x].role = OT_ROLE_INPUT;
    g->values[x].is_input = true;
    g->values[x].dtype = OT_FLOAT;
    g->values[x].rank = 1;
    g->values[x].dims[0] = 4;
    g->inputs = ot_malloc(sizeof(int));
    g->inputs[0] = x;
    g->n_inputs = 1;
    g->outputs = ot_malloc(2 * sizeof(int));
    g->outputs[0] = y;
    g->outputs[1] = z;
    g->n_outputs = 2;
    CHECK(ot_graph_add_node(g, "Neg", "", "neg", 1, &x, 1, &z, NULL) == OT_OK);
    CHECK(ot_graph_add_node(g, "Tanh", "", "tanh", 1, &z, 1, &y, NULL) == OT_OK);
    CHECK(ot_graph_toposort(g) == OT_OK);

    int64_t dims[1] = {4};
    ot_tensor *in;
    CHECK(ot_tensor_new(OT_FLOAT, 1, dims, &in) == OT_OK);
    float *xv = in->data;
    for (int i = 0; i < 4; i++) xv[i] = 0.5f * (float)i - 0.75f;
    ot_compile_options opt = {0};
    ot_program *p = NULL;
    CHECK(ot_program_compile(g, &in, &opt, &p) == OT_OK);
    if (p) {
        CHECK(ot_program_run(p, &in, 0) == OT_OK);
        const float *zv = p->slots[z].data, *yv = p->slots[y].data;
        for (int i = 0; i < 4; i++) {
            CHECK_CLOSE(zv[i], -xv[i], 0, 0);
            CHECK_CLOSE(yv[i], tanhf(-xv[i]), 1e-6, 1e-7);
        }
        ot_program_free(p);
    }
    ot_tensor_free(in);
    ot_graph_free(g);
    return check_done();
}
