/* Matching the caller's tensors to a graph's inputs, by name or by order. */
#include <string.h>

#include "program.h"

/* The k-th name callers bind: non-initializer graph inputs, then `extra`. */
static const char *ot_bind_name(const ot_graph *g, int n_extra, const char *const *extra, int k) {
    for (int i = 0; i < g->n_inputs; i++) {
        const ot_value *v = &g->values[g->inputs[i]];
        if (v->role == OT_ROLE_INITIALIZER) continue;
        if (k-- == 0) return v->name;
    }
    return k < n_extra ? extra[k] : NULL;
}

ot_status ot_bind_by_name(const ot_graph *g, int n_extra, const char *const *extra, int n, const char *const *names,
                          ot_tensor *const *inputs, ot_tensor **ordered) {
    int total = ot_graph_bound_input_count(g) + n_extra;
    if (n > total) return ot_error(OT_ERR_INVALID_ARG, "%d inputs given, expected %d", n, total);
    for (int k = 0; k < total; k++) ordered[k] = NULL;
    for (int j = 0; j < n; j++) {
        if (!inputs[j]) return ot_error(OT_ERR_INVALID_ARG, "input %d is NULL", j);
        int found = j;
        if (names) {
            found = -1;
            for (int k = 0; k < total && found < 0; k++)
                if (!strcmp(ot_bind_name(g, n_extra, extra, k), names[j])) found = k;
            if (found < 0) return ot_error(OT_ERR_INVALID_ARG, "the model has no input named '%s'", names[j]);
            if (ordered[found]) return ot_error(OT_ERR_INVALID_ARG, "input '%s' given twice", names[j]);
        }
        ordered[found] = inputs[j];
    }
    for (int k = 0; k < total; k++)
        if (!ordered[k]) return ot_error(OT_ERR_INVALID_ARG, "missing input '%s'", ot_bind_name(g, n_extra, extra, k));
    return OT_OK;
}
