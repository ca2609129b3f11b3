/* Inference sessions: a model plus a bounded cache of programs, one per
 * binding of input shapes (and specialised values). */
#include <omp.h>
#include <string.h>

#include "../core/alloc.h"
#include "../onnx/model.h"
#include "../runtime/program.h"

#define OT_PROGRAM_CACHE 8

struct ot_session {
    const ot_model *model;
    int threads;
    int n_programs;
    ot_program *programs[OT_PROGRAM_CACHE]; /* most recently used first */
    uint64_t runs;
};

ot_status ot_session_create(const ot_model *m, const ot_session_options *options, ot_session **out) {
    if (!m || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_session_create: NULL argument");
    OT_TRY(ot_graph_check_supported(m->graph));
    ot_session *s = ot_calloc(1, sizeof *s);
    if (!s) return ot_error(OT_ERR_NOMEM, "out of memory");
    s->model = m;
    s->threads = options && options->threads > 0 ? options->threads : 0;
    *out = s;
    return OT_OK;
}

void ot_session_free(ot_session *s) {
    if (!s) return;
    for (int i = 0; i < s->n_programs; i++) ot_program_free(s->programs[i]);
    ot_free(s);
}

void ot_free_array(void *array) { ot_free(array); }

static ot_status ot_session_program(ot_session *s, ot_tensor *const *ordered, ot_program **out) {
    for (int i = 0; i < s->n_programs; i++) {
        if (!ot_program_matches(s->programs[i], ordered)) continue;
        ot_program *p = s->programs[i];
        memmove(&s->programs[1], &s->programs[0], sizeof(ot_program *) * (size_t)i);
        s->programs[0] = p;
        *out = p;
        return OT_OK;
    }
    ot_compile_options opt = {0};
    ot_program *p = NULL;
    OT_TRY(ot_program_compile(s->model->graph, ordered, &opt, &p));
    if (s->n_programs == OT_PROGRAM_CACHE) ot_program_free(s->programs[--s->n_programs]);
    memmove(&s->programs[1], &s->programs[0], sizeof(ot_program *) * (size_t)s->n_programs);
    s->programs[0] = p;
    s->n_programs++;
    *out = p;
    return OT_OK;
}

ot_status ot_session_run(ot_session *s, int n_inputs, const char *const *names, ot_tensor *const *inputs,
                         ot_tensor ***outputs) {
    if (!s || !outputs || (n_inputs && !inputs) || n_inputs < 0)
        return ot_error(OT_ERR_INVALID_ARG, "ot_session_run: NULL argument");
    const ot_graph *g = s->model->graph;
    int nb = ot_graph_bound_input_count(g);
    ot_tensor **ordered = ot_calloc((size_t)nb + 1, sizeof *ordered);
    ot_tensor **outs = ot_calloc((size_t)g->n_outputs + 1, sizeof *outs);
    ot_status st = OT_OK;
    if (!ordered || !outs) {
        st = ot_error(OT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (s->threads > 0) omp_set_num_threads(s->threads);
    ot_program *p = NULL;
    if ((st = ot_bind_by_name(g, 0, NULL, n_inputs, names, inputs, ordered))) goto fail;
    if ((st = ot_session_program(s, ordered, &p))) goto fail;
    if ((st = ot_program_run(p, ordered, s->runs++))) goto fail;
    for (int k = 0; k < g->n_outputs; k++) {
        const ot_tensor *slot = &p->slots[g->outputs[k]];
        if ((st = ot_tensor_new_desc(slot->dtype, slot->rank, slot->dims, &outs[k]))) goto fail;
        if ((st = ot_tensor_alloc_data(outs[k]))) goto fail;
        if ((st = ot_tensor_set_name(outs[k], g->values[g->outputs[k]].name))) goto fail;
        p->backend->to_host(outs[k]->data, slot->data, ot_tensor_nbytes(slot));
    }
    ot_free(ordered);
    *outputs = outs;
    return OT_OK;
fail:
    for (int k = 0; outs && k < g->n_outputs; k++) ot_tensor_free(outs[k]);
    ot_free(outs);
    ot_free(ordered);
    return st;
}
