/* The derived training (or evaluation) graph for one binding of input shapes:
 *
 *   model graph --clone--> BatchNorm/Dropout set to the mode --infer shapes-->
 *   + labels input + loss --autodiff (training)--> + gradients --compile--> program
 *
 * Parameters are shared: every derived graph's trainable and BatchNorm
 * initializers point at the trainer's buffers and compile as mutable slots. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../passes/autodiff.h"
#include "../passes/fuse.h"
#include "../passes/infer.h"
#include "../../ops/grad.h"
#include "trainer.h"

void ot_train_program_free(ot_train_program *p) {
    if (!p) return;
    ot_program_free(p->prog);
    ot_graph_free(p->g);
    ot_free(p->bound);
    ot_free(p->grad_of);
    ot_free(p->bn_mean_out);
    ot_free(p->bn_var_out);
    ot_free(p->bn_count);
    ot_free(p->upd_param);
    ot_free(p->upd_steps);
    ot_free(p->upd_state);
    ot_free(p);
}

bool ot_train_program_matches(const ot_train_program *p, ot_tensor *const *bound, bool eval, bool updates) {
    if (p->eval != eval || p->updates != (updates && !eval)) return false;
    for (int k = 0; k < p->n_bound; k++)
        if (bound[k]->dtype != p->bound[k].dtype ||
            !ot_shape_equal(bound[k]->rank, bound[k]->dims, p->bound[k].rank, p->bound[k].dims))
            return false;
    return true;
}

static ot_status ot_add_opset(ot_graph *g, const char *domain, int64_t version) {
    if (ot_graph_opset(g, domain) >= 0) return OT_OK;
    ot_opset *o = ot_realloc(g->opsets, sizeof *o * (size_t)(g->n_opsets + 1));
    if (!o) return ot_error(OT_ERR_NOMEM, "out of memory");
    g->opsets = o;
    if (!(o[g->n_opsets].domain = ot_strdup(domain))) return ot_error(OT_ERR_NOMEM, "out of memory");
    o[g->n_opsets++].version = version;
    return OT_OK;
}

static ot_status ot_set_int_attr(ot_graph *g, int node, const char *name, int64_t v) {
    ot_node *n = &g->nodes[node];
    for (int a = 0; a < n->n_attrs; a++)
        if (!strcmp(n->attrs[a].name, name)) {
            n->attrs[a].type = OT_ATTR_INT;
            n->attrs[a].i = v;
            return OT_OK;
        }
    ot_attr *at;
    OT_TRY(ot_node_add_attr(g, node, name, OT_ATTR_INT, &at));
    at->i = v;
    return OT_OK;
}

/* Gives node `ni` at least `count` outputs (new values for missing ones). */
static ot_status ot_ensure_outputs(ot_graph *g, int ni, int count) {
    ot_node *n = &g->nodes[ni];
    if (n->n_outputs >= count) {
        for (int k = 0; k < count; k++) {
            if (n->outputs[k] >= 0) continue;
            char name[512];
            snprintf(name, sizeof name, "%s/onnxtrain_out%d", n->name[0] ? n->name : n->op_type, k);
            int v;
            OT_TRY(ot_graph_value(g, name, &v));
            g->nodes[ni].outputs[k] = v;
        }
        return OT_OK;
    }
    int *outs = ot_realloc(n->outputs, sizeof(int) * (size_t)count);
    if (!outs) return ot_error(OT_ERR_NOMEM, "out of memory");
    n->outputs = outs;
    for (int k = n->n_outputs; k < count; k++) n->outputs[k] = -1;
    n->n_outputs = count;
    return ot_ensure_outputs(g, ni, count);
}

/* BatchNormalization: batch statistics and updated running statistics when
   training; running statistics and one output in evaluation.  Dropout:
   decided by the program's training flag, not by a training_mode input. */
static ot_status ot_set_mode(ot_trainer *t, ot_train_program *p, bool eval) {
    ot_graph *g = p->g;
    int64_t bn_version = ot_op_schema_version("", "BatchNormalization", ot_graph_opset(g, ""));
    for (int b = 0; b < t->n_bn; b++) {
        int ni = t->bn[b].node;
        if (eval) {
            if (bn_version >= 14) OT_TRY(ot_set_int_attr(g, ni, "training_mode", 0));
            g->nodes[ni].n_outputs = 1;
        } else {
            if (bn_version >= 14) OT_TRY(ot_set_int_attr(g, ni, "training_mode", 1));
            OT_TRY(ot_ensure_outputs(g, ni, 3)); /* before 14, extra outputs select training */
            p->bn_mean_out[b] = g->nodes[ni].outputs[1];
            p->bn_var_out[b] = g->nodes[ni].outputs[2];
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ot_node *n = &g->nodes[i];
        if (!strcmp(n->op_type, "Dropout") && !n->domain[0] && n->n_inputs > 2) n->inputs[2] = -1;
    }
    return OT_OK;
}

/* A graph input created by the trainer (labels, the loss seed). */
static ot_status ot_add_input(ot_graph *g, const char *name, ot_dtype dtype, int rank, const int64_t *dims, int *id) {
    if (ot_graph_find(g, name) >= 0)
        return ot_error(OT_ERR_INVALID_ARG, "the model already has a value named '%s': choose another labels name", name);
    OT_TRY(ot_graph_value(g, name, id));
    ot_value *v = &g->values[*id];
    v->role = OT_ROLE_INPUT;
    v->is_input = true;
    v->dtype = dtype;
    v->rank = rank;
    if (rank) memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    int *in = ot_realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
    if (!in) return ot_error(OT_ERR_NOMEM, "out of memory");
    g->inputs = in;
    g->inputs[g->n_inputs++] = *id;
    return OT_OK;
}

static ot_status ot_set_outputs(ot_graph *g, ot_train_program *p, int n_params, int n_bn) {
    int *outs = ot_malloc(sizeof(int) * (size_t)(2 + n_params + 2 * n_bn));
    if (!outs) return ot_error(OT_ERR_NOMEM, "out of memory");
    int n = 0;
    outs[n++] = p->loss;
    outs[n++] = p->output;
    for (int k = 0; k < n_params; k++)
        if (p->grad_of[k] >= 0) outs[n++] = p->grad_of[k];
    for (int b = 0; b < n_bn; b++)
        if (p->bn_mean_out[b] >= 0) {
            outs[n++] = p->bn_mean_out[b];
            outs[n++] = p->bn_var_out[b];
        }
    ot_free(g->outputs);
    g->outputs = outs;
    g->n_outputs = n;
    return OT_OK;
}

/* The trainer's mutable mask (model value ids) sized for the derived graph,
   which has more values (gradients, constants, extra outputs). */
static bool *ot_mutable_for(const ot_trainer *t, const ot_graph *g) {
    bool *m = ot_calloc((size_t)g->n_values + 1, sizeof *m);
    if (m) memcpy(m, t->is_mutable, sizeof *m * (size_t)t->model->graph->n_values);
    return m;
}

static ot_status ot_build(ot_trainer *t, ot_train_program *p, ot_tensor *const *bound, bool eval) {
    const ot_model *m = t->model;
    int nf = ot_graph_bound_input_count(m->graph);
    bool has_labels = t->o.loss != OT_LOSS_OUTPUT;
    OT_TRY(ot_graph_clone_sharing(m->graph, &p->g)); /* never the model's weights twice */
    ot_graph *g = p->g;
    for (int k = 0; k < t->n_params; k++) { /* share the trainer's buffers */
        ot_tensor *init = g->values[t->params[k].value].init;
        if (init->owns) ot_free(init->data);
        init->data = t->params[k].data->data;
        init->owns = false;
    }
    OT_TRY(ot_add_opset(g, OT_DOMAIN_TRAIN, 1));
    OT_TRY(ot_set_mode(t, p, eval));
    bool *mut = ot_mutable_for(t, g);
    if (!mut) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_compile_options opt = {!eval, t->o.seed, mut};
    opt.share = &t->arena;
    ot_status st = ot_graph_infer_shapes(g, bound, &opt);
    ot_free(mut);
    OT_TRY(st);
    OT_TRY(ot_loss_output(g, &t->o, &p->output));
    int labels = -1, n_forward = g->n_nodes;
    if (has_labels) {
        const ot_tensor *y = bound[nf];
        OT_TRY(ot_add_input(g, t->o.labels, y->dtype, y->rank, y->dims, &labels));
    }
    OT_TRY(ot_loss_attach(g, &t->o, p->output, labels, &p->loss, &p->class_axis));
    for (int b = 0; b < t->n_bn && !eval; b++) { /* elements per channel: N * spatial */
        const ot_value *x = &g->values[g->nodes[t->bn[b].node].inputs[0]];
        int64_t n = 1;
        for (int d = 0; d < x->rank; d++)
            if (d != 1) n *= x->dims[d];
        p->bn_count[b] = n;
    }
    if (!eval) {
        int seed, *wrt = ot_malloc(sizeof(int) * (size_t)(t->n_params + 1));
        int *which = ot_malloc(sizeof(int) * (size_t)(t->n_params + 1)), *grads = ot_malloc(sizeof(int) * (size_t)(t->n_params + 1));
        int nw = 0;
        ot_status s = (!wrt || !which || !grads) ? ot_error(OT_ERR_NOMEM, "out of memory") : OT_OK;
        if (!s) s = ot_add_input(g, "onnxtrain/loss_seed", g->values[p->loss].dtype, 0, NULL, &seed);
        for (int k = 0; k < t->n_params && !s; k++)
            if (t->params[k].kind == OT_PARAM_TRAINABLE) {
                which[nw] = k;
                wrt[nw++] = t->params[k].value;
            }
        n_forward = g->n_nodes;
        if (!s) {
            ot_autodiff_request r = {p->loss, seed, 0, NULL, NULL, nw, wrt, grads};
            s = ot_autodiff(g, &r);
        }
        for (int k = 0; k < nw && !s; k++) p->grad_of[which[k]] = grads[k];
        ot_free(wrt);
        ot_free(which);
        ot_free(grads);
        OT_TRY(s);
    }
    OT_TRY(ot_set_outputs(g, p, t->n_params, t->n_bn));
    /* --recompute: before fusion, so the clones fuse into the backward kernels. */
    if (!eval && t->o.recompute) OT_TRY(ot_recompute(g, n_forward, &p->recompute));
    /* Bound tensors: features, labels, and (training) the seed, which the
       trainer passes at each run; here a placeholder of the right type. */
    p->n_bound = nf + (has_labels ? 1 : 0);
    p->bound = ot_calloc((size_t)p->n_bound + 1, sizeof *p->bound);
    if (!p->bound) return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < p->n_bound; k++) ot_tensor_set_shape(&p->bound[k], bound[k]->dtype, bound[k]->rank, bound[k]->dims);
    ot_tensor seed_desc = {0};
    double one = 1.0;
    float onef = 1.0f;
    ot_tensor_set_shape(&seed_desc, g->values[p->loss].dtype, 0, NULL);
    seed_desc.data = seed_desc.dtype == OT_DOUBLE ? (void *)&one : (void *)&onef;
    ot_tensor *all[64];
    if (p->n_bound + 1 > 64) return ot_error(OT_ERR_UNSUPPORTED, "more than 63 model inputs");
    for (int k = 0; k < p->n_bound; k++) all[k] = bound[k];
    all[p->n_bound] = &seed_desc;
    if (!(mut = ot_mutable_for(t, g))) return ot_error(OT_ERR_NOMEM, "out of memory");
    opt.mutable_values = mut;
    /* ---- fusion hook (src/passes/fuse.h): after autodiff and the outputs,
       before compilation; --no-fuse (o.no_fuse) compiles the graph as is. */
    p->unfused_nodes = g->n_nodes;
    if (!t->o.no_fuse) {
        ot_fuse_options fo = {mut, false, false};
        if ((st = ot_fuse(g, &fo, NULL))) {
            ot_free(mut);
            return st;
        }
    }
    /* ---- end of fusion hook ---- */
    /* The optimizer update inside the program (optim_graph.c): after
       fusion, bound after the seed as the lr. */
    double lr_now = 0;
    ot_tensor lr_desc = {0};
    if (p->updates) {
        if (p->n_bound + 2 > 64) st = ot_error(OT_ERR_UNSUPPORTED, "more than 62 model inputs");
        else st = ot_train_attach_updates(t, p, &mut);
        if (st) {
            ot_free(mut);
            return st;
        }
        opt.mutable_values = mut;
        ot_tensor_set_shape(&lr_desc, OT_DOUBLE, 0, NULL);
        lr_desc.data = &lr_now;
        all[p->n_bound + 1] = &lr_desc;
    }
    opt.no_schedule = t->no_schedule;
    st = ot_program_compile(g, all, &opt, &p->prog);
    ot_free(mut);
    return st;
}

ot_status ot_train_program_build(ot_trainer *t, ot_tensor *const *bound, bool eval, bool updates, ot_train_program **out) {
    ot_train_program *p = ot_calloc(1, sizeof *p);
    if (!p) return ot_error(OT_ERR_NOMEM, "out of memory");
    p->eval = eval;
    p->updates = updates && !eval;
    p->lr_input = -1;
    p->grad_of = ot_malloc(sizeof(int) * (size_t)(t->n_params + 1));
    p->bn_mean_out = ot_malloc(sizeof(int) * (size_t)(t->n_bn + 1));
    p->bn_var_out = ot_malloc(sizeof(int) * (size_t)(t->n_bn + 1));
    p->bn_count = ot_calloc((size_t)t->n_bn + 1, sizeof *p->bn_count);
    ot_status s = OT_OK;
    if (!p->grad_of || !p->bn_mean_out || !p->bn_var_out || !p->bn_count) s = ot_error(OT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < t->n_params && !s; k++) p->grad_of[k] = -1;
    for (int b = 0; b < t->n_bn && !s; b++) p->bn_mean_out[b] = p->bn_var_out[b] = -1;
    if (!s) s = ot_build(t, p, bound, eval);
    if (s) {
        ot_train_program_free(p);
        return s;
    }
    *out = p;
    return OT_OK;
}
