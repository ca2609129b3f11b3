#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/passes/autodiff.h"
#include "src/passes/emit.h"
#include "src/passes/infer.h"

static uint64_t gc_state;

static double gc_uniform(double lo, double hi) { /* xorshift64*: fixed sequence, no libc rand */
    gc_state ^= gc_state >> 12;
    gc_state ^= gc_state << 25;
    gc_state ^= gc_state >> 27;
    uint64_t r = gc_state * 2685821657736338717ull;
    return lo + (hi - lo) * (double)(r >> 11) / 9007199254740992.0;
}

static ot_status gc_fill(ot_tensor *t, const gc_input *in) {
    int64_t n = ot_tensor_numel(t);
    double lo = in->lo, hi = in->hi;
    if (lo == 0 && hi == 0) lo = -1, hi = 1;
    for (int64_t i = 0; i < n; i++) {
        if (in->ivals) ot_store_i64(t->dtype, t->data, i, in->ivals[i]);
        else if (in->fvals) ot_store_f64(t->dtype, t->data, i, in->fvals[i]);
        else ot_store_f64(t->dtype, t->data, i, gc_uniform(lo, hi));
    }
    return OT_OK;
}

static ot_status gc_add_attrs(ot_graph *g, int node, const gc_case *c) {
    for (int a = 0; a < c->n_attrs; a++) {
        ot_attr *at;
        OT_TRY(ot_node_add_attr(g, node, c->attrs[a].name, c->attrs[a].type, &at));
        OT_TRY(ot_attr_from_grad(at, &c->attrs[a]));
    }
    return OT_OK;
}

/* The graph of one node; *inputs receives the bound input tensors. */
static ot_status gc_build(const gc_case *c, ot_graph **out, ot_tensor **inputs, int *n_bound, int *diff_ids, int *n_diff) {
    ot_graph *g;
    OT_TRY(ot_graph_new(c->name, &g));
    ot_status s = OT_OK;
    g->opsets = ot_calloc(2, sizeof *g->opsets);
    g->opsets[0].domain = ot_strdup("");
    g->opsets[0].version = c->opset ? c->opset : 17;
    g->opsets[1].domain = ot_strdup(OT_DOMAIN_TRAIN);
    g->opsets[1].version = 1;
    g->n_opsets = 2;
    g->inputs = ot_calloc(GC_MAX_IN + 1, sizeof(int));
    g->inits = ot_calloc(GC_MAX_IN + 1, sizeof(int));
    g->outputs = ot_calloc(64, sizeof(int));
    int ids[GC_MAX_IN], outs[8];
    *n_bound = *n_diff = 0;
    for (int k = 0; k < c->n_in && !s; k++) {
        const gc_input *in = &c->in[k];
        ids[k] = -1;
        if (in->kind == GC_ABSENT) continue;
        char name[32];
        snprintf(name, sizeof name, "x%d", k);
        if ((s = ot_graph_value(g, name, &ids[k]))) break;
        ot_value *v = &g->values[ids[k]];
        ot_dtype dt = in->dtype ? in->dtype : OT_DOUBLE;
        ot_tensor *t;
        if ((s = ot_tensor_new(dt, in->rank, in->dims, &t))) break;
        gc_fill(t, in);
        v->dtype = dt;
        v->rank = in->rank;
        memcpy(v->dims, in->dims, sizeof(int64_t) * (size_t)in->rank);
        if (in->kind == GC_CONST) {
            v->role = OT_ROLE_INITIALIZER;
            v->init = t;
            g->inits[g->n_inits++] = ids[k];
        } else {
            v->role = OT_ROLE_INPUT;
            v->is_input = true;
            g->inputs[g->n_inputs++] = ids[k];
            inputs[(*n_bound)++] = t;
            if (in->kind == GC_DIFF) diff_ids[(*n_diff)++] = ids[k];
        }
    }
    for (int j = 0; j < c->n_out && !s; j++) {
        char name[32];
        snprintf(name, sizeof name, "y%d", j);
        s = ot_graph_value(g, name, &outs[j]);
        g->outputs[g->n_outputs++] = outs[j];
    }
    int node;
    if (!s) s = ot_graph_add_node(g, c->op, c->domain ? c->domain : "", c->op, c->n_in, ids, c->n_out, outs, &node);
    if (!s) s = gc_add_attrs(g, node, c);
    if (!s) s = ot_graph_toposort(g);
    if (s) {
        ot_graph_free(g);
        return s;
    }
    *out = g;
    return OT_OK;
}

static double gc_loss(const ot_program *p, const ot_graph *g, int n_out, ot_tensor *const *w) {
    double L = 0;
    for (int j = 0; j < n_out; j++) {
        if (!w[j]) continue;
        const ot_tensor *y = &p->slots[g->outputs[j]];
        for (int64_t i = 0; i < ot_tensor_numel(y); i++) L += ot_load_f64(y->dtype, y->data, i) * ot_load_f64(w[j]->dtype, w[j]->data, i);
    }
    return L;
}

int gc_run(const gc_case *c) {
    gc_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)strlen(c->name) * 1315423911ull;
    ot_graph *g = NULL, *fwd = NULL;
    ot_tensor *inputs[GC_MAX_IN] = {0}, *w[8] = {0};
    int n_bound, diff_ids[GC_MAX_IN], n_diff, failures = 0;
    ot_program *pb = NULL, *pf = NULL;
    ot_compile_options opt = {0};
    ot_status s = gc_build(c, &g, inputs, &n_bound, diff_ids, &n_diff);
    if (!s) s = ot_graph_clone(g, NULL, &fwd);
    if (!s) s = ot_graph_infer_shapes(g, inputs, &opt);
    int seeds[8], seeded[8], n_seed = 0, grads[GC_MAX_IN];
    for (int j = 0; j < c->n_out && !s; j++) {
        ot_value *y = &g->values[g->outputs[j]];
        if (!ot_dtype_is_float(y->dtype)) continue;
        char name[32];
        snprintf(name, sizeof name, "w%d", j);
        int id;
        if ((s = ot_graph_value(g, name, &id))) break;
        ot_value *wv = &g->values[id];
        y = &g->values[g->outputs[j]];
        if ((s = ot_tensor_new(y->dtype, y->rank, y->dims, &wv->init))) break;
        gc_input rnd = {0};
        gc_fill(wv->init, &rnd);
        w[j] = wv->init;
        wv->role = OT_ROLE_CONSTANT;
        wv->dtype = y->dtype;
        wv->rank = y->rank;
        memcpy(wv->dims, y->dims, sizeof(int64_t) * (size_t)y->rank);
        seeds[n_seed] = id;
        seeded[n_seed++] = g->outputs[j];
    }
    if (!s && !n_seed) s = ot_error(OT_ERR_INTERNAL, "no float output to seed");
    if (!s) {
        ot_autodiff_request r = {seeded[0], seeds[0], n_seed - 1, seeded + 1, seeds + 1, n_diff, diff_ids, grads};
        s = ot_autodiff(g, &r);
    }
    for (int k = 0; k < n_diff && !s; k++) {
        if (grads[k] < 0) s = ot_error(OT_ERR_INTERNAL, "no gradient reached input %d", k);
        else g->outputs[g->n_outputs++] = grads[k];
    }
    if (!s) s = ot_program_compile(g, inputs, &opt, &pb);
    if (!s) s = ot_program_run(pb, inputs, 0);
    if (!s) s = ot_program_compile(fwd, inputs, &opt, &pf);
    if (s) {
        printf("%s: %s: %s\n", c->name, ot_status_name(s), ot_last_error());
        failures = 1;
        goto out;
    }
    double h = c->h ? c->h : 1e-6, rtol = c->rtol ? c->rtol : 1e-6, atol = c->atol ? c->atol : 1e-8;
    for (int k = 0; k < n_diff; k++) {
        int b = 0; /* bound index of this diff input */
        while (g->inputs[b] != diff_ids[k]) b++;
        ot_tensor *x = inputs[b];
        const ot_tensor *gx = &pb->slots[grads[k]];
        for (int64_t i = 0; i < ot_tensor_numel(x); i++) {
            double x0 = ot_load_f64(x->dtype, x->data, i);
            ot_store_f64(x->dtype, x->data, i, x0 + h);
            ot_program_run(pf, inputs, 0);
            double lp = gc_loss(pf, fwd, c->n_out, w);
            ot_store_f64(x->dtype, x->data, i, x0 - h);
            ot_program_run(pf, inputs, 0);
            double lm = gc_loss(pf, fwd, c->n_out, w);
            ot_store_f64(x->dtype, x->data, i, x0);
            double fd = (lp - lm) / (2 * h), an = ot_load_f64(gx->dtype, gx->data, i);
            if (!(fabs(an - fd) <= atol + rtol * fabs(fd))) {
                if (failures < 5)
                    printf("%s: d/dx%d[%lld]: autodiff %.10g, finite differences %.10g\n", c->name, k, (long long)i, an, fd);
                failures++;
            }
        }
    }
out:
    ot_program_free(pb);
    ot_program_free(pf);
    for (int k = 0; k < n_bound; k++) ot_tensor_free(inputs[k]);
    ot_graph_free(g);
    ot_graph_free(fwd);
    return failures ? 1 : 0;
}

int gc_run_all(const gc_case *cases, int n) {
    int failed = 0;
    for (int i = 0; i < n; i++) failed += gc_run(&cases[i]);
    printf("%d passed, %d failed\n", n - failed, failed);
    return failed ? 1 : 0;
}
