/* Inference sessions: a model plus a bounded cache of programs, one per
 * binding of input shapes (and specialised values). */
#include <omp.h>
#include <string.h>

#include "../core/alloc.h"
#include "../onnx/model.h"
#include "../passes/fuse.h"
#include "../passes/infer.h"
#include "../runtime/flops.h"
#include "../runtime/program.h"

#define OT_PROGRAM_CACHE 8

struct ot_session {
    const ot_model *model;
    int threads;
    int n_programs;
    ot_program *programs[OT_PROGRAM_CACHE]; /* most recently used first */
    uint64_t runs;
    /* fusion hook: programs[i] runs graphs[i], the model graph fused for
       its binding (NULL: the model graph itself, no_fuse or not fusable) */
    bool fuse;
    ot_graph *graphs[OT_PROGRAM_CACHE];
    ot_arena_share arena; /* the programs' transient memory: one at a time runs */
};

ot_status ot_session_create(const ot_model *m, const ot_session_options *options, ot_session **out) {
    if (!m || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_session_create: NULL argument");
    OT_TRY(ot_graph_check_supported(m->graph));
    ot_session *s = ot_calloc(1, sizeof *s);
    if (!s) return ot_error(OT_ERR_NOMEM, "out of memory");
    s->model = m;
    s->threads = options && options->threads > 0 ? options->threads : 0;
    s->fuse = !(options && options->no_fuse);
    *out = s;
    return OT_OK;
}

void ot_session_free(ot_session *s) {
    if (!s) return;
    for (int i = 0; i < s->n_programs; i++) {
        ot_program_free(s->programs[i]);
        ot_graph_free(s->graphs[i]);
    }
    ot_arena_share_free(&s->arena);
    ot_free(s);
}

void ot_free_array(void *array) { ot_free(array); }

/* ---- fusion hook: the model graph with shapes inferred for this binding,
   then fused (src/passes/fuse.h); *out NULL when inference fails (the
   compiler then reports the problem on the model graph itself). */
static ot_status ot_session_fused_graph(const ot_session *s, ot_tensor *const *ordered, ot_graph **out) {
    ot_compile_options opt = {0};
    ot_graph *g = NULL;
    *out = NULL;
    OT_TRY(ot_graph_clone_sharing(s->model->graph, &g)); /* the model's weights, not a copy */
    if (ot_graph_infer_shapes(g, ordered, &opt)) {
        ot_error_clear();
        ot_graph_free(g);
        return OT_OK;
    }
    ot_status st = ot_fuse(g, NULL, NULL);
    if (st) {
        ot_graph_free(g);
        return st;
    }
    *out = g;
    return OT_OK;
}

static ot_status ot_session_program(ot_session *s, ot_tensor *const *ordered, ot_program **out) {
    for (int i = 0; i < s->n_programs; i++) {
        if (!ot_program_matches(s->programs[i], ordered)) continue;
        ot_program *p = s->programs[i];
        ot_graph *g = s->graphs[i];
        memmove(&s->programs[1], &s->programs[0], sizeof(ot_program *) * (size_t)i);
        memmove(&s->graphs[1], &s->graphs[0], sizeof(ot_graph *) * (size_t)i);
        s->programs[0] = p;
        s->graphs[0] = g;
        *out = p;
        return OT_OK;
    }
    ot_compile_options opt = {0};
    opt.share = &s->arena;
    ot_program *p = NULL;
    ot_graph *fused = NULL;
    if (s->fuse) OT_TRY(ot_session_fused_graph(s, ordered, &fused));
    ot_status st = ot_program_compile(fused ? fused : s->model->graph, ordered, &opt, &p);
    if (st) {
        ot_graph_free(fused);
        return st;
    }
    if (s->n_programs == OT_PROGRAM_CACHE) {
        ot_program_free(s->programs[--s->n_programs]);
        ot_graph_free(s->graphs[s->n_programs]);
    }
    memmove(&s->programs[1], &s->programs[0], sizeof(ot_program *) * (size_t)s->n_programs);
    memmove(&s->graphs[1], &s->graphs[0], sizeof(ot_graph *) * (size_t)s->n_programs);
    s->programs[0] = p;
    s->graphs[0] = fused;
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

ot_status ot_session_plan(const ot_session *s, ot_plan_summary *out) {
    if (!s || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_session_plan: NULL argument");
    if (!s->n_programs) return ot_error(OT_ERR_INVALID_ARG, "ot_session_plan: the session has not run yet");
    const ot_program *p = s->programs[0]; /* the most recently used */
    memset(out, 0, sizeof *out);
    out->ops = p->graph->n_nodes;
    out->kernels = p->n_steps;
    out->arena_bytes = p->plan.arena_bytes;
    out->lower_bound_bytes = p->plan.lower_bound_bytes;
    out->unscheduled_peak_bytes = p->plan.lower_bound_unscheduled_bytes;
    out->naive_bytes = p->plan.naive_bytes;
    for (int v = 0; v < p->n_slots; v++) /* weights and folded constants: read, never planned */
        if (p->kinds[v] == OT_SLOT_CONST || p->kinds[v] == OT_SLOT_PARAM) out->persistent_bytes += ot_tensor_nbytes(&p->slots[v]);
    out->flops = ot_program_flops(p);
    return OT_OK;
}
