/* Schedule: a low-peak order of a program's steps (see schedule.h).
 *
 * The greedy candidates model memory the way the planner will see it:
 * a view (OT_TRAIT_ALIAS output of a transient input) is its input's
 * buffer, so it allocates nothing and keeps the buffer alive until its own
 * readers ran; every other transient value is a buffer of its rounded size,
 * freed after its last reader; graph outputs are never freed.  An in-place
 * step comes out as "allocate y, free x" = no change, as it should.  The
 * model only ranks the ready steps; each candidate order is then measured
 * with the real liveness and aliasing (ot_schedule_peak), and the best kept. */
#include "schedule.h"

#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "liveness.h"

/* A greedy pass costs O(steps x ready steps) comparisons: past this many
   it gives up (a very wide graph), and the other candidates remain. */
#define SCHED_GREEDY_WORK 30000000.0

enum { SCHED_GRAPH = 1, SCHED_HOIST, SCHED_MIN_NET, SCHED_MAX_FREE, SCHED_CANDIDATES = SCHED_MAX_FREE };

typedef struct sched_ctx {
    const ot_program *p;
    int n;
    int *indeg, *start, *succ; /* dependencies: per step its predecessor count and successors (CSR) */
    int *root;                 /* per value: the value owning its buffer (views: their input's); -1 */
    size_t *size;              /* per value: rounded bytes when it owns a buffer, else 0 */
    int *uses;                 /* per owning value: steps reading it (each once), + 1 if a graph output */
    int *rstart, *roots;       /* per step: the distinct owning values it reads (CSR) */
    size_t *alloc;             /* per step: bytes of the buffers it creates that someone reads */
    bool *effect;              /* per step: OT_TRAIT_SIDE_EFFECT */
} sched_ctx;

static bool sched_transient(const ot_program *p, int v) { return v >= 0 && p->kinds[v] == OT_SLOT_BUFFER; }

/* Slots a side-effect step writes: its inputs that are persistent mutable slots. */
static bool sched_writes(const ot_program *p, const ot_step *st, int v) {
    return (st->op->traits & OT_TRAIT_SIDE_EFFECT) && v >= 0 && p->kinds[v] == OT_SLOT_PARAM;
}

static void sched_free(sched_ctx *c) {
    ot_free(c->indeg), ot_free(c->start), ot_free(c->succ), ot_free(c->root), ot_free(c->size);
    ot_free(c->uses), ot_free(c->rstart), ot_free(c->roots), ot_free(c->alloc), ot_free(c->effect);
    memset(c, 0, sizeof *c);
}

/* ---- dependencies ------------------------------------------------------------------ */

typedef struct sched_edges {
    int n, cap; /* cap in ints: two per edge */
    int *ab;
} sched_edges;

static int sched_edge(sched_edges *e, int a, int b) {
    if (a < 0 || a == b) return 0;
    if (ot_grow((void **)&e->ab, &e->cap, 2 * (e->n + 1), sizeof(int))) return -1;
    e->ab[2 * e->n] = a;
    e->ab[2 * e->n + 1] = b;
    e->n++;
    return 0;
}

/* Producer -> reader for every transient input; around each written slot,
   readers before a write -> the write -> readers after it, writes in order. */
static ot_status sched_collect_edges(const ot_program *p, sched_edges *e) {
    int n = p->n_steps, nv = p->n_slots, n_reads = 0;
    for (int s = 0; s < n; s++) n_reads += p->steps[s].n_in;
    int *prod = ot_malloc(sizeof(int) * ((size_t)nv + 1)), *writer = ot_malloc(sizeof(int) * ((size_t)nv + 1));
    int *head = ot_malloc(sizeof(int) * ((size_t)nv + 1));
    int *rd_step = ot_malloc(sizeof(int) * ((size_t)n_reads + 1)), *rd_next = ot_malloc(sizeof(int) * ((size_t)n_reads + 1));
    bool *written = ot_calloc((size_t)nv + 1, sizeof *written);
    int fail = !prod || !writer || !head || !rd_step || !rd_next || !written, pool = 0;
    for (int v = 0; v < nv && !fail; v++) prod[v] = writer[v] = head[v] = -1;
    for (int s = 0; s < n && !fail; s++) {
        const ot_step *st = &p->steps[s];
        for (int k = 0; k < st->n_out; k++)
            if (st->out[k] >= 0) prod[st->out[k]] = s;
        for (int k = 0; k < st->n_in; k++)
            if (sched_writes(p, st, st->in[k])) written[st->in[k]] = true;
    }
    for (int s = 0; s < n && !fail; s++) {
        const ot_step *st = &p->steps[s];
        for (int k = 0; k < st->n_in && !fail; k++) {
            int v = st->in[k];
            if (v < 0) continue;
            if (prod[v] >= 0 && prod[v] < s) fail = sched_edge(e, prod[v], s);
            if (fail || !written[v]) continue;
            if (sched_writes(p, st, v)) {
                for (int r = head[v]; r >= 0 && !fail; r = rd_next[r]) fail = sched_edge(e, rd_step[r], s);
                if (!fail) fail = sched_edge(e, writer[v], s);
                writer[v] = s;
                head[v] = -1;
            } else {
                fail = sched_edge(e, writer[v], s);
                rd_step[pool] = s;
                rd_next[pool] = head[v];
                head[v] = pool++;
            }
        }
    }
    ot_free(prod), ot_free(writer), ot_free(head), ot_free(rd_step), ot_free(rd_next), ot_free(written);
    return fail ? ot_error(OT_ERR_NOMEM, "out of memory scheduling %d steps", n) : OT_OK;
}

static ot_status sched_deps(sched_ctx *c) {
    sched_edges e = {0, 0, NULL};
    OT_TRY(sched_collect_edges(c->p, &e));
    int n = c->n;
    c->indeg = ot_calloc((size_t)n + 1, sizeof(int));
    c->start = ot_calloc((size_t)n + 2, sizeof(int));
    c->succ = ot_malloc(sizeof(int) * ((size_t)e.n + 1));
    if (!c->indeg || !c->start || !c->succ) {
        ot_free(e.ab);
        return ot_error(OT_ERR_NOMEM, "out of memory scheduling %d steps", n);
    }
    for (int i = 0; i < e.n; i++) {
        c->start[e.ab[2 * i] + 1]++;
        c->indeg[e.ab[2 * i + 1]]++;
    }
    for (int s = 0; s < n; s++) c->start[s + 1] += c->start[s];
    int *cur = ot_malloc(sizeof(int) * ((size_t)n + 1));
    if (!cur) {
        ot_free(e.ab);
        return ot_error(OT_ERR_NOMEM, "out of memory scheduling %d steps", n);
    }
    for (int s = 0; s < n; s++) cur[s] = c->start[s];
    for (int i = 0; i < e.n; i++) c->succ[cur[e.ab[2 * i]]++] = e.ab[2 * i + 1];
    ot_free(cur);
    ot_free(e.ab);
    return OT_OK;
}

/* ---- the memory model ------------------------------------------------------------- */

static ot_status sched_model(sched_ctx *c) {
    const ot_program *p = c->p;
    int n = c->n, nv = p->n_slots, n_reads = 0;
    for (int s = 0; s < n; s++) n_reads += p->steps[s].n_in;
    c->root = ot_malloc(sizeof(int) * ((size_t)nv + 1));
    c->size = ot_calloc((size_t)nv + 1, sizeof(size_t));
    c->uses = ot_calloc((size_t)nv + 1, sizeof(int));
    c->rstart = ot_calloc((size_t)n + 2, sizeof(int));
    c->roots = ot_malloc(sizeof(int) * ((size_t)n_reads + 1));
    c->alloc = ot_calloc((size_t)n + 1, sizeof(size_t));
    c->effect = ot_calloc((size_t)n + 1, sizeof(bool));
    if (!c->root || !c->size || !c->uses || !c->rstart || !c->roots || !c->alloc || !c->effect)
        return ot_error(OT_ERR_NOMEM, "out of memory scheduling %d steps", n);
    for (int v = 0; v < nv; v++) c->root[v] = sched_transient(p, v) ? v : -1;
    /* Views, as liveness makes them (whatever the order: a view never waits). */
    for (int s = 0; s < n && !p->naive_plan; s++) {
        const ot_step *st = &p->steps[s];
        if (!(st->op->traits & OT_TRAIT_ALIAS) || st->n_in < 1 || st->n_out < 1) continue;
        int x = st->in[0], y = st->out[0];
        if (!sched_transient(p, x) || !sched_transient(p, y)) continue;
        const ot_tensor *tx = &p->slots[x], *ty = &p->slots[y];
        if (tx->dtype == ty->dtype && ot_tensor_numel(tx) == ot_tensor_numel(ty)) c->root[y] = c->root[x];
    }
    for (int v = 0; v < nv; v++)
        if (c->root[v] == v) c->size[v] = ot_plan_round(ot_tensor_nbytes(&p->slots[v]), OT_PLAN_ALIGN);
    int m = 0;
    for (int s = 0; s < n; s++) {
        const ot_step *st = &p->steps[s];
        c->effect[s] = (st->op->traits & OT_TRAIT_SIDE_EFFECT) != 0;
        c->rstart[s] = m;
        for (int k = 0; k < st->n_in; k++) {
            int r = st->in[k] >= 0 ? c->root[st->in[k]] : -1;
            bool seen = r < 0;
            for (int q = c->rstart[s]; q < m && !seen; q++) seen = c->roots[q] == r;
            if (seen) continue;
            c->roots[m++] = r;
            c->uses[r]++;
        }
    }
    c->rstart[n] = m;
    for (int k = 0; k < p->graph->n_outputs; k++) {
        int v = p->graph->outputs[k];
        if (v >= 0 && c->root[v] >= 0) c->uses[c->root[v]]++; /* read after the run: never freed */
    }
    for (int s = 0; s < n; s++) {
        const ot_step *st = &p->steps[s];
        for (int k = 0; k < st->n_out; k++) {
            int v = st->out[k];
            if (v >= 0 && c->root[v] == v && c->uses[v] > 0) c->alloc[s] += c->size[v];
        }
    }
    return OT_OK;
}

static ot_status sched_init(const ot_program *p, sched_ctx *c) {
    memset(c, 0, sizeof *c);
    c->p = p;
    c->n = p->n_steps;
    ot_status s = sched_deps(c);
    if (!s) s = sched_model(c);
    if (s) sched_free(c);
    return s;
}

/* ---- list scheduling ----------------------------------------------------------------- */

/* Bytes step s frees: the buffers it reads for the last time (rem: readers left). */
static size_t sched_freed(const sched_ctx *c, const int *rem, int s) {
    size_t f = 0;
    for (int q = c->rstart[s]; q < c->rstart[s + 1]; q++)
        if (rem[c->roots[q]] == 1) f += c->size[c->roots[q]];
    return f;
}

/* True when ready step a should run before ready step b. */
static bool sched_before(const sched_ctx *c, const int *rem, int how, int a, int b) {
    if (c->effect[a] != c->effect[b]) return c->effect[a]; /* updates free gradients and allocate nothing */
    if (how == SCHED_MIN_NET) {
        double na = (double)c->alloc[a] - (double)sched_freed(c, rem, a);
        double nb = (double)c->alloc[b] - (double)sched_freed(c, rem, b);
        if (na != nb) return na < nb;
    } else if (how == SCHED_MAX_FREE) {
        size_t fa = sched_freed(c, rem, a), fb = sched_freed(c, rem, b);
        if (fa != fb) return fa > fb;
        if (c->alloc[a] != c->alloc[b]) return c->alloc[a] < c->alloc[b];
    }
    return a < b;
}

/* The graph's order with each side-effect step as soon as it is ready.
   Every dependency points from a smaller step index to a larger one, so
   the first step not yet placed is always ready: O(steps + edges). */
static ot_status sched_hoist(const sched_ctx *c, int *order) {
    int n = c->n, pos = 0, n_fx = 0;
    int *indeg = ot_malloc(sizeof(int) * ((size_t)n + 1)), *fx = ot_malloc(sizeof(int) * ((size_t)n + 1));
    bool *placed = ot_calloc((size_t)n + 1, sizeof *placed);
    if (!indeg || !fx || !placed) {
        ot_free(indeg), ot_free(fx), ot_free(placed);
        return ot_error(OT_ERR_NOMEM, "out of memory scheduling %d steps", n);
    }
    memcpy(indeg, c->indeg, sizeof(int) * (size_t)n);
    for (int s = 0; s < n; s++)
        if (c->effect[s] && !indeg[s]) fx[n_fx++] = s;
    for (int next = 0; pos < n;) {
        int s = -1;
        if (n_fx) { /* the ready side-effect step of the smallest index */
            int b = 0;
            for (int q = 1; q < n_fx; q++)
                if (fx[q] < fx[b]) b = q;
            s = fx[b];
            fx[b] = fx[--n_fx];
        } else {
            while (next < n && placed[next]) next++;
            if (next == n) break;
            s = next;
        }
        placed[s] = true;
        order[pos++] = s;
        for (int q = c->start[s]; q < c->start[s + 1]; q++)
            if (--indeg[c->succ[q]] == 0 && c->effect[c->succ[q]] && !placed[c->succ[q]]) fx[n_fx++] = c->succ[q];
    }
    ot_free(indeg), ot_free(fx), ot_free(placed);
    if (pos < n) return ot_error(OT_ERR_INTERNAL, "schedule: the steps' dependencies form a cycle");
    return OT_OK;
}

/* Greedy list scheduling; *done = false when it gave up (too much work). */
static ot_status sched_list(const sched_ctx *c, int how, int *order, bool *done) {
    int n = c->n, nv = c->p->n_slots;
    int *indeg = ot_malloc(sizeof(int) * ((size_t)n + 1)), *ready = ot_malloc(sizeof(int) * ((size_t)n + 1));
    int *rem = ot_malloc(sizeof(int) * ((size_t)nv + 1));
    if (!indeg || !ready || !rem) {
        ot_free(indeg), ot_free(ready), ot_free(rem);
        return ot_error(OT_ERR_NOMEM, "out of memory scheduling %d steps", n);
    }
    memcpy(indeg, c->indeg, sizeof(int) * (size_t)n);
    memcpy(rem, c->uses, sizeof(int) * (size_t)nv);
    int n_ready = 0, pos = 0;
    double work = 0;
    for (int s = 0; s < n; s++)
        if (!indeg[s]) ready[n_ready++] = s;
    *done = true;
    for (; pos < n && n_ready > 0; pos++) {
        if ((work += n_ready) > SCHED_GREEDY_WORK) {
            *done = false;
            break;
        }
        int best = 0;
        for (int q = 1; q < n_ready; q++)
            if (sched_before(c, rem, how, ready[q], ready[best])) best = q;
        int s = ready[best];
        ready[best] = ready[--n_ready];
        order[pos] = s;
        for (int q = c->rstart[s]; q < c->rstart[s + 1]; q++) rem[c->roots[q]]--;
        for (int q = c->start[s]; q < c->start[s + 1]; q++)
            if (--indeg[c->succ[q]] == 0) ready[n_ready++] = c->succ[q];
    }
    ot_free(indeg), ot_free(ready), ot_free(rem);
    if (pos < n && *done) return ot_error(OT_ERR_INTERNAL, "schedule: the steps' dependencies form a cycle");
    return OT_OK;
}

/* ---- measuring an order ------------------------------------------------------------ */

ot_status ot_schedule_peak(const ot_program *p, const int *order, const size_t *ws, size_t *peak) {
    int n = p->n_steps;
    *peak = 0;
    ot_step *steps = ot_malloc(sizeof *steps * ((size_t)n + 1));
    if (!steps) return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) steps[i] = p->steps[order[i]]; /* shallow: liveness only reads them */
    ot_program tmp = *p;
    tmp.steps = steps;
    tmp.cap_steps = n;
    ot_liveness l;
    ot_status s = ot_liveness_compute(&tmp, !p->naive_plan, &l);
    if (s) {
        ot_free(steps);
        return s;
    }
    int groups = 0;
    for (int v = 0; v < p->n_slots; v++) groups += l.group[v] == v;
    ot_plan_buf *b = ot_calloc((size_t)groups + (size_t)n + 1, sizeof *b);
    if (b) {
        int m = 0;
        for (int v = 0; v < p->n_slots; v++)
            if (l.group[v] == v) b[m++] = (ot_plan_buf){ot_tensor_nbytes(&p->slots[v]), l.first[v], l.group_last[v], 0};
        for (int i = 0; i < n; i++) b[m++] = (ot_plan_buf){ws ? ws[order[i]] : steps[i].workspace, i, i, 0};
        *peak = ot_plan_lower_bound(b, m, OT_PLAN_ALIGN);
    }
    if (!b || *peak == SIZE_MAX) s = ot_error(OT_ERR_NOMEM, "out of memory");
    ot_free(b);
    ot_liveness_free(&l);
    ot_free(steps);
    return s;
}

ot_status ot_schedule_check(const ot_program *p, const int *order) {
    sched_ctx c;
    OT_TRY(sched_init(p, &c));
    int n = p->n_steps;
    int *pos = ot_malloc(sizeof(int) * ((size_t)n + 1));
    ot_status s = pos ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !s; i++) pos[i] = -1;
    for (int i = 0; i < n && !s; i++) {
        if (order[i] < 0 || order[i] >= n || pos[order[i]] >= 0)
            s = ot_error(OT_ERR_INTERNAL, "schedule: position %d holds step %d, which is out of range or repeated", i,
                         order[i]);
        else pos[order[i]] = i;
    }
    for (int a = 0; a < n && !s; a++)
        for (int q = c.start[a]; q < c.start[a + 1] && !s; q++) {
            int b = c.succ[q];
            if (pos[a] < pos[b]) continue;
            const ot_graph *g = p->graph;
            s = ot_error(OT_ERR_INTERNAL, "schedule: node '%s' (%s) must run before node '%s' (%s)",
                         g->nodes[p->steps[a].node].name, p->steps[a].op->name, g->nodes[p->steps[b].node].name,
                         p->steps[b].op->name);
        }
    ot_free(pos);
    sched_free(&c);
    return s;
}

/* ---- choosing ---------------------------------------------------------------------- */

ot_status ot_schedule_order(const ot_program *p, int *order, ot_schedule_report *report) {
    int n = p->n_steps;
    ot_schedule_report r = {0, 0, SCHED_GRAPH, 0};
    for (int i = 0; i < n; i++) order[i] = i;
    ot_status s = ot_schedule_peak(p, order, NULL, &r.peak_unscheduled);
    r.peak_scheduled = r.peak_unscheduled;
    bool effects = false;
    for (int i = 0; i < n; i++) effects = effects || (p->steps[i].op->traits & OT_TRAIT_SIDE_EFFECT);
    sched_ctx c;
    memset(&c, 0, sizeof c);
    int *trial = NULL;
    if (!s && n > 1) s = sched_init(p, &c);
    if (!s && n > 1 && !(trial = ot_malloc(sizeof(int) * (size_t)n))) s = ot_error(OT_ERR_NOMEM, "out of memory");
    for (int how = SCHED_HOIST; how <= SCHED_CANDIDATES && !s && n > 1; how++) {
        if (how == SCHED_HOIST && !effects) continue; /* it would be the graph's order */
        size_t peak;
        bool done = true;
        if ((s = how == SCHED_HOIST ? sched_hoist(&c, trial) : sched_list(&c, how, trial, &done))) break;
        if (!done) continue;
        if ((s = ot_schedule_peak(p, trial, NULL, &peak))) break;
        if (peak >= r.peak_scheduled) continue;
        r.peak_scheduled = peak;
        r.candidate = how;
        memcpy(order, trial, sizeof(int) * (size_t)n);
    }
    ot_free(trial);
    sched_free(&c);
    for (int i = 0; i < n; i++) r.moved += order[i] != i;
    if (report) *report = r;
    return s;
}

ot_status ot_schedule(ot_program *p, ot_schedule_report *report) {
    int n = p->n_steps;
    ot_free(p->unscheduled);
    p->unscheduled = NULL;
    int *order = ot_malloc(sizeof(int) * ((size_t)n + 1)), *unscheduled = ot_malloc(sizeof(int) * ((size_t)n + 1));
    ot_step *moved = ot_malloc(sizeof *moved * ((size_t)n + 1));
    ot_schedule_report r;
    ot_status s = order && unscheduled && moved ? ot_schedule_order(p, order, &r) : ot_error(OT_ERR_NOMEM, "out of memory");
    if (!s && r.moved) {
        for (int i = 0; i < n; i++) {
            moved[i] = p->steps[order[i]];
            unscheduled[order[i]] = i;
        }
        memcpy(p->steps, moved, sizeof *moved * (size_t)n);
        p->unscheduled = unscheduled;
        unscheduled = NULL;
    }
    ot_free(order);
    ot_free(unscheduled);
    ot_free(moved);
    if (!s && report) *report = r;
    return s;
}
