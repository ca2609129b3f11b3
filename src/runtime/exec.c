/* Runs a compiled program: bind inputs, call each step's kernel with its
 * scratch workspace.  Nothing here allocates, except re-planning the arena
 * once when a kernel turned out to need more scratch than planned. */
#include <string.h>

#include "../core/alloc.h"
#include "program.h"
#include "workspace.h"

ot_status ot_program_run(ot_program *p, ot_tensor *const *inputs, uint64_t step) {
    if (!p->bufs) return ot_error(OT_ERR_INTERNAL, "program compiled for shapes only cannot run");
    if (p->replan) OT_TRY(ot_program_replan(p));
    OT_TRY(ot_program_bind_arena(p));
    for (int k = 0; k < p->n_bound; k++)
        if (!p->specialised[k]) p->slots[p->bound_ids[k]].data = inputs[k]->data; /* kernels only read inputs */
    if (p->poison && p->arena) memset(p->arena, 0xFF, p->plan.arena_bytes);
    ot_tensor *in[64], *out[64];
    const ot_graph *g = p->graph;
    for (int s = 0; s < p->n_steps; s++) {
        const ot_step *st = &p->steps[s];
        if (st->n_in > 64 || st->n_out > 64)
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s': more than 64 inputs or outputs", g->nodes[st->node].name);
        for (int k = 0; k < st->n_in; k++) in[k] = st->in[k] >= 0 ? &p->slots[st->in[k]] : NULL;
        for (int k = 0; k < st->n_out; k++) out[k] = st->out[k] >= 0 ? &p->slots[st->out[k]] : NULL;
        const ot_node *n = &g->nodes[st->node];
        ot_kctx c = {n, n->name[0] ? n->name : n->op_type, st->opset, st->attrs, st->n_in, in,
                     st->n_out, out, p->training, p->seed, step, st->node, -1};
        const ot_plan_buf *ws = &p->bufs[p->n_groups + s];
        ot_workspace_state saved = ot_workspace_begin(ws->size ? p->arena + ws->offset : NULL, ws->size);
        ot_status rc = p->backend->run(st->op, &c);
        size_t used = ot_workspace_end(&saved);
        if (used > p->ws_need[s]) { /* served from the heap this time: plan it in */
            p->ws_need[s] = used;
            p->replan = true;
        }
        if (rc) return rc;
    }
    p->backend->sync();
    return OT_OK;
}
