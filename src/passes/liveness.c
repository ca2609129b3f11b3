/* Liveness and aliasing of a program's transient values (see liveness.h). */
#include "liveness.h"

#include "../core/alloc.h"

void ot_liveness_free(ot_liveness *l) {
    ot_free(l->first);
    ot_free(l->last);
    ot_free(l->group);
    ot_free(l->group_last);
    *l = (ot_liveness){0};
}

static bool ot_transient(const ot_program *p, int v) { return v >= 0 && p->kinds[v] == OT_SLOT_BUFFER; }

/* Output 0 of step s may share input 0's buffer (see liveness.h).
   keeps[r]: group r holds a graph output, whose bytes must survive the step
   (its `last` is the final step, which would otherwise look like "dies here"). */
static bool ot_can_share(const ot_program *p, const ot_liveness *l, const char *keeps, int s) {
    const ot_step *st = &p->steps[s];
    unsigned tr = st->op->traits;
    if (!(tr & (OT_TRAIT_ALIAS | OT_TRAIT_INPLACE)) || st->n_in < 1 || st->n_out < 1) return false;
    int x = st->in[0], y = st->out[0];
    if (!ot_transient(p, x) || !ot_transient(p, y) || l->group[y] != y) return false;
    const ot_tensor *tx = &p->slots[x], *ty = &p->slots[y];
    if (tx->dtype != ty->dtype || ot_tensor_numel(tx) != ot_tensor_numel(ty)) return false;
    if (tr & OT_TRAIT_ALIAS) return true;
    int r = l->group[x];
    if (l->group_last[r] != s || keeps[r]) return false; /* read later, or returned: must not be overwritten */
    for (int k = 1; k < st->n_in; k++) {
        int v = st->in[k];
        if (v != x && ot_transient(p, v) && l->group[v] == r) return false; /* another view of the same bytes */
    }
    for (int k = 1; k < st->n_out; k++)
        if (st->out[k] == x) return false;
    return true;
}

ot_status ot_liveness_compute(const ot_program *p, bool allow_alias, ot_liveness *l) {
    int nv = p->n_slots;
    *l = (ot_liveness){0};
    l->n_values = nv;
    l->first = ot_malloc(sizeof(int) * (size_t)(nv + 1));
    l->last = ot_malloc(sizeof(int) * (size_t)(nv + 1));
    l->group = ot_malloc(sizeof(int) * (size_t)(nv + 1));
    l->group_last = ot_malloc(sizeof(int) * (size_t)(nv + 1));
    if (!l->first || !l->last || !l->group || !l->group_last) {
        ot_liveness_free(l);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    for (int v = 0; v < nv; v++) l->first[v] = l->last[v] = l->group[v] = l->group_last[v] = -1;
    for (int s = 0; s < p->n_steps; s++) {
        const ot_step *st = &p->steps[s];
        for (int k = 0; k < st->n_in; k++) {
            int v = st->in[k];
            if (!ot_transient(p, v)) continue;
            if (l->first[v] < 0 || l->first[v] > s)
                return ot_liveness_free(l), ot_error(OT_ERR_INTERNAL, "step %d reads '%s' before it is produced", s,
                                                     p->graph->values[v].name);
            l->last[v] = s;
        }
        for (int k = 0; k < st->n_out; k++) {
            int v = st->out[k];
            if (!ot_transient(p, v)) continue;
            if (l->first[v] >= 0)
                return ot_liveness_free(l), ot_error(OT_ERR_INTERNAL, "'%s' is produced twice", p->graph->values[v].name);
            l->first[v] = l->last[v] = s;
        }
    }
    for (int k = 0; k < p->graph->n_outputs; k++) {
        int v = p->graph->outputs[k];
        if (ot_transient(p, v) && l->first[v] >= 0) l->last[v] = p->n_steps - 1;
    }
    for (int v = 0; v < nv; v++)
        if (l->first[v] >= 0) {
            l->group[v] = v;
            l->group_last[v] = l->last[v];
        }
    char *keeps = ot_calloc((size_t)nv + 1, 1);
    if (!keeps) {
        ot_liveness_free(l);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < p->graph->n_outputs; k++)
        if (ot_transient(p, p->graph->outputs[k])) keeps[p->graph->outputs[k]] = 1;
    /* In step order, so a group's members are all known when a later step
       asks whether the group dies there. */
    for (int s = 0; s < p->n_steps && allow_alias; s++) {
        if (!ot_can_share(p, l, keeps, s)) continue;
        const ot_step *st = &p->steps[s];
        int r = l->group[st->in[0]], y = st->out[0];
        l->group[y] = r;
        if (keeps[y]) keeps[r] = 1;
        if (l->last[y] > l->group_last[r]) l->group_last[r] = l->last[y];
        l->group_last[y] = -1;
        if (st->op->traits & OT_TRAIT_ALIAS) l->n_aliased++;
        else l->n_inplace++;
    }
    ot_free(keeps);
    return OT_OK;
}
