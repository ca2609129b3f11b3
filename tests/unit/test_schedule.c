/* The schedule pass (src/passes/schedule.c) and the optimizer update inside
 * the training program (OptimizerUpdate, src/train/optim_graph.c):
 *  - OptimizerUpdate alone: multi-tensor, per-parameter steps, exact
 *    hyper-parameters, the loss guard, attributes checked;
 *  - a schedule halves the peak of two independent big temporaries, and
 *    keeps the readers of an updated parameter on their side of the update;
 *  - on every parity model's training program: the order is a valid
 *    topological order, the peak with the schedule is <= without, and
 *    planned (poisoned) vs. naive programs compute the same;
 *  - training with the update inside vs. the trainer's separate update
 *    (no_graph_update): losses, parameters and optimizer state bit-identical
 *    after N steps for sgd, momentum, nesterov, adam, adamw, adagrad, also
 *    with parameters at different steps, partial last batches, checkpoints;
 *  - steady-state steps make no engine allocation; a NaN loss changes nothing.
 *
 *   test_schedule [-v]   (from tests/; -v: peaks, kernel counts, step times) */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../kernels/cpu/optimizer.h"
#include "check.h"
#include "train_case.h"
#include "src/core/alloc.h"
#include "src/onnx/model.h"
#include "src/passes/schedule.h"
#include "src/runtime/program.h"
#include "src/train/trainer.h"

static int verbose;

/* ---- small graphs ------------------------------------------------------------------ */

static int value(ot_graph *g, const char *name) {
    int v = -1;
    CHECK(ot_graph_value(g, name, &v) == OT_OK);
    return v;
}

static void input(ot_graph *g, const char *name, ot_dtype dt, int rank, const int64_t *dims) {
    int v = value(g, name);
    ot_value *val = &g->values[v];
    val->role = OT_ROLE_INPUT;
    val->is_input = true;
    val->dtype = dt;
    val->rank = rank;
    if (rank) memcpy(val->dims, dims, sizeof(int64_t) * (size_t)rank);
    g->inputs = ot_realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
    g->inputs[g->n_inputs++] = v;
}

static ot_tensor *init(ot_graph *g, const char *name, ot_dtype dt, int rank, const int64_t *dims) {
    int v = value(g, name);
    ot_value *val = &g->values[v];
    CHECK(ot_tensor_new(dt, rank, dims, &val->init) == OT_OK);
    val->role = OT_ROLE_INITIALIZER;
    val->dtype = dt;
    val->rank = rank;
    if (rank) memcpy(val->dims, dims, sizeof(int64_t) * (size_t)rank);
    g->inits = ot_realloc(g->inits, sizeof(int) * (size_t)(g->n_inits + 1));
    g->inits[g->n_inits++] = v;
    return val->init;
}

static int node(ot_graph *g, const char *op, const char *domain, int n_in, const char *const *in, const char *out) {
    int ids[16], o = out ? value(g, out) : -1, id = -1;
    for (int k = 0; k < n_in; k++) ids[k] = in[k] ? value(g, in[k]) : -1;
    CHECK(ot_graph_add_node(g, op, domain, out ? out : op, n_in, ids, out ? 1 : 0, &o, &id) == OT_OK);
    return id;
}

static void output(ot_graph *g, const char *name) {
    g->outputs = ot_realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = value(g, name);
}

static ot_graph *new_graph(void) {
    ot_graph *g = NULL;
    CHECK(ot_graph_new("schedule", &g) == OT_OK);
    g->opsets = ot_calloc(2, sizeof *g->opsets);
    g->opsets[0].domain = ot_strdup("");
    g->opsets[0].version = 17;
    g->opsets[1].domain = ot_strdup("ai.onnxtrain");
    g->opsets[1].version = 1;
    g->n_opsets = 2;
    return g;
}

static void fill(ot_tensor *t, int seed) {
    for (int64_t i = 0; i < ot_tensor_numel(t); i++)
        ot_store_f64(t->dtype, t->data, i, sin(0.7 * (double)(i + 1) * (seed + 1)) * 0.5);
}

/* Adam over two parameters at steps 1 and 3, beta1 as a FLOAT attribute and
   weight_decay as an exact float64 tensor, against the kernel called
   directly; then a NaN guard leaves everything as it was. */
static void test_op(void) {
    ot_graph *g = new_graph();
    int64_t d4 = 4, d3 = 3, d2 = 2;
    input(g, "lr", OT_DOUBLE, 0, NULL);
    input(g, "loss", OT_FLOAT, 0, NULL);
    input(g, "g0", OT_FLOAT, 1, &d4);
    input(g, "g1", OT_FLOAT, 1, &d3);
    ot_tensor *steps = init(g, "steps", OT_INT64, 1, &d2);
    ((int64_t *)steps->data)[0] = 1;
    ((int64_t *)steps->data)[1] = 3;
    ot_tensor *w[2] = {init(g, "w0", OT_FLOAT, 1, &d4), init(g, "w1", OT_FLOAT, 1, &d3)};
    ot_tensor *st[2][2] = {{init(g, "m0", OT_FLOAT, 1, &d4), init(g, "v0", OT_FLOAT, 1, &d4)},
                           {init(g, "m1", OT_FLOAT, 1, &d3), init(g, "v1", OT_FLOAT, 1, &d3)}};
    for (int i = 0; i < 2; i++) {
        fill(w[i], i);
        fill(st[i][0], 10 + i);
        for (int64_t e = 0; e < ot_tensor_numel(st[i][1]); e++) ((float *)st[i][1]->data)[e] = 0.01f * (float)(e + 1);
    }
    const char *in[] = {"steps", "lr", "loss", "w0", "g0", "m0", "v0", "w1", "g1", "m1", "v1"};
    int n = node(g, "OptimizerUpdate", "ai.onnxtrain", 11, in, NULL);
    ot_attr *a;
    CHECK(ot_node_add_attr(g, n, "optimizer", OT_ATTR_STRING, &a) == OT_OK);
    a->s = ot_strdup("adam");
    a->s_len = 4;
    CHECK(ot_node_add_attr(g, n, "beta1", OT_ATTR_FLOAT, &a) == OT_OK);
    a->f = 0.8f;
    CHECK(ot_node_add_attr(g, n, "weight_decay", OT_ATTR_TENSOR, &a) == OT_OK);
    CHECK(ot_tensor_new(OT_DOUBLE, 0, NULL, &a->t) == OT_OK);
    *(double *)a->t->data = 0.01;
    /* the reference: the same state, updated by the kernel directly */
    ot_tensor *rw[2], *rst[2][2], *gr[2];
    int64_t dims[2] = {4, 3};
    for (int i = 0; i < 2; i++) {
        CHECK(ot_tensor_clone(w[i], &rw[i]) == OT_OK);
        CHECK(ot_tensor_clone(st[i][0], &rst[i][0]) == OT_OK && ot_tensor_clone(st[i][1], &rst[i][1]) == OT_OK);
        CHECK(ot_tensor_new(OT_FLOAT, 1, &dims[i], &gr[i]) == OT_OK);
        fill(gr[i], 20 + i);
    }
    double lr = 0.01;
    float loss = 1.5f;
    ot_tensor lr_t = {0}, loss_t = {0};
    ot_tensor_set_shape(&lr_t, OT_DOUBLE, 0, NULL);
    ot_tensor_set_shape(&loss_t, OT_FLOAT, 0, NULL);
    lr_t.data = &lr;
    loss_t.data = &loss;
    ot_tensor *bind[4] = {&lr_t, &loss_t, gr[0], gr[1]};
    ot_program *p = NULL;
    ot_compile_options o = {0};
    ot_status s = ot_program_compile(g, bind, &o, &p);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    CHECK(!s && p->n_steps == 1);
    if (!s) CHECK(ot_program_run(p, bind, 0) == OT_OK);
    ot_optim_config cfg;
    ot_optim_config_defaults(OT_OPTIM_ADAM, &cfg);
    cfg.beta1 = 0.8f; /* a FLOAT attribute: float32's value */
    cfg.weight_decay = 0.01;
    for (int i = 0; i < 2; i++) {
        ot_optim_coeffs co;
        CHECK(ot_optim_coeffs_compute(&cfg, i == 0 ? 1 : 3, lr, &co) == OT_OK);
        int64_t ne = dims[i];
        void *pp[1] = {rw[i]->data}, *s0[1] = {rst[i][0]->data}, *s1[1] = {rst[i][1]->data};
        const void *gg[1] = {gr[i]->data};
        ot_optim_group grp = {1, &ne, pp, gg, {s0, s1}};
        CHECK(ot_cpu_optim_update(OT_FLOAT, &co, &grp) == OT_OK);
        CHECK(!memcmp(rw[i]->data, w[i]->data, ot_tensor_nbytes(w[i])));
        CHECK(!memcmp(rst[i][0]->data, st[i][0]->data, ot_tensor_nbytes(w[i])));
        CHECK(!memcmp(rst[i][1]->data, st[i][1]->data, ot_tensor_nbytes(w[i])));
    }
    loss = NAN; /* the guard: nothing changes */
    if (!s) CHECK(ot_program_run(p, bind, 1) == OT_OK);
    for (int i = 0; i < 2; i++) CHECK(!memcmp(rw[i]->data, w[i]->data, ot_tensor_nbytes(w[i])));
    ot_program_free(p);
    /* an attribute the optimizer does not use, and a wrong input count */
    CHECK(ot_node_add_attr(g, n, "lr_decay", OT_ATTR_FLOAT, &a) == OT_OK);
    a->f = 0.1f;
    s = ot_program_compile(g, bind, &o, &p);
    CHECK_MSG(s == OT_ERR_PARSE && strstr(ot_last_error(), "--lr-decay"), "%s", ot_last_error());
    g->nodes[n].n_attrs--;
    ot_attr_clear(&g->nodes[n].attrs[g->nodes[n].n_attrs]);
    g->nodes[n].n_inputs = 10;
    s = ot_program_compile(g, bind, &o, &p);
    CHECK_MSG(s == OT_ERR_PARSE && strstr(ot_last_error(), "groups of 4"), "%s", ot_last_error());
    for (int i = 0; i < 2; i++) {
        ot_tensor_free(rw[i]), ot_tensor_free(gr[i]);
        ot_tensor_free(rst[i][0]), ot_tensor_free(rst[i][1]);
    }
    ot_graph_free(g);
}

/* Two independent big temporaries each reduced to a scalar: in the graph's
   order both are live at once; the schedule reduces each first. */
static void test_two_branches(void) {
    ot_graph *g = new_graph();
    int64_t d = 1024, shape[2] = {64, 1024};
    input(g, "x", OT_FLOAT, 1, &d);
    ot_tensor *sh = init(g, "shape", OT_INT64, 1, (int64_t[]){2});
    memcpy(sh->data, shape, sizeof shape);
    node(g, "Expand", "", 2, (const char *[]){"x", "shape"}, "a1");
    node(g, "Expand", "", 2, (const char *[]){"x", "shape"}, "b1");
    node(g, "ReduceSum", "", 1, (const char *[]){"a1"}, "a2");
    node(g, "ReduceSum", "", 1, (const char *[]){"b1"}, "b2");
    node(g, "Add", "", 2, (const char *[]){"a2", "b2"}, "y");
    output(g, "y");
    ot_tensor *x;
    CHECK(ot_tensor_new(OT_FLOAT, 1, &d, &x) == OT_OK);
    fill(x, 3);
    ot_program *p = NULL, *q = NULL;
    ot_compile_options o = {0}, no = {0};
    no.no_schedule = true;
    CHECK(ot_program_compile(g, &x, &o, &p) == OT_OK);
    CHECK(ot_program_compile(g, &x, &no, &q) == OT_OK);
    if (p && q) {
        CHECK(p->unscheduled != NULL && q->unscheduled == NULL);
        CHECK(p->plan.lower_bound_unscheduled_bytes == q->plan.lower_bound_bytes);
        CHECK_MSG(2 * p->plan.lower_bound_bytes < 3 * q->plan.lower_bound_bytes, "%zu vs %zu", p->plan.lower_bound_bytes,
                  q->plan.lower_bound_bytes);
        int order[8];
        ot_schedule_report r;
        CHECK(ot_schedule_order(q, order, &r) == OT_OK && ot_schedule_check(q, order) == OT_OK);
        CHECK(r.moved > 0 && r.peak_scheduled < r.peak_unscheduled);
        for (int i = 0; i < p->n_steps; i++) CHECK(p->steps[i].node == q->steps[order[i]].node);
        int bad[8] = {2, 0, 1, 3, 4}; /* a ReduceSum before its Expand */
        CHECK(ot_schedule_check(q, bad) == OT_ERR_INTERNAL);
        p->poison = true;
        CHECK(ot_program_run(p, &x, 0) == OT_OK && ot_program_run(q, &x, 0) == OT_OK);
        int y = ot_graph_find(g, "y");
        CHECK(!memcmp(p->slots[y].data, q->slots[y].data, sizeof(float)));
    }
    ot_program_free(p);
    ot_program_free(q);
    ot_tensor_free(x);
    ot_graph_free(g);
}

/* y = MatMul(x, W) reads W before the update, z = Mul(x, W) after it: the
   update has nothing to wait for but must stay between them. */
static void test_side_effect_order(void) {
    ot_graph *g = new_graph();
    int64_t dx[2] = {1, 4}, dw[2] = {4, 4};
    input(g, "lr", OT_DOUBLE, 0, NULL);
    input(g, "x", OT_FLOAT, 2, dx);
    input(g, "gw", OT_FLOAT, 2, dw);
    ot_tensor *steps = init(g, "steps", OT_INT64, 0, NULL);
    *(int64_t *)steps->data = 1;
    ot_tensor *w = init(g, "W", OT_FLOAT, 2, dw);
    fill(w, 1);
    node(g, "MatMul", "", 2, (const char *[]){"x", "W"}, "y");
    int n = node(g, "OptimizerUpdate", "ai.onnxtrain", 5, (const char *[]){"steps", "lr", NULL, "W", "gw"}, NULL);
    ot_attr *a;
    CHECK(ot_node_add_attr(g, n, "optimizer", OT_ATTR_STRING, &a) == OT_OK);
    a->s = ot_strdup("sgd");
    a->s_len = 3;
    node(g, "Mul", "", 2, (const char *[]){"x", "W"}, "z");
    output(g, "y");
    output(g, "z");
    ot_tensor *x, *gw;
    CHECK(ot_tensor_new(OT_FLOAT, 2, dx, &x) == OT_OK && ot_tensor_new(OT_FLOAT, 2, dw, &gw) == OT_OK);
    fill(x, 2);
    fill(gw, 4);
    double lr = 0.5;
    ot_tensor lr_t = {0};
    ot_tensor_set_shape(&lr_t, OT_DOUBLE, 0, NULL);
    lr_t.data = &lr;
    ot_tensor *bind[3] = {&lr_t, x, gw};
    bool *mut = ot_calloc((size_t)g->n_values, 1);
    mut[ot_graph_find(g, "W")] = mut[ot_graph_find(g, "steps")] = true;
    ot_compile_options o = {0};
    o.mutable_values = mut;
    ot_program *p = NULL;
    float w0[16], y[4] = {0}, z[4];
    memcpy(w0, w->data, sizeof w0);
    CHECK(ot_program_compile(g, bind, &o, &p) == OT_OK);
    if (p) {
        CHECK(p->n_steps == 3 && !strcmp(p->steps[1].op->name, "OptimizerUpdate"));
        CHECK(ot_program_run(p, bind, 0) == OT_OK);
        const float *xv = x->data, *gv = gw->data, *wv = w->data;
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 4; k++) y[j] += xv[k] * w0[k * 4 + j];
        for (int j = 0; j < 4; j++) z[j] = xv[j] * wv[3 * 4 + j];
        for (int i = 0; i < 16; i++) CHECK(wv[i] == fmaf(gv[i], -0.5f, w0[i]));
        for (int j = 0; j < 4; j++) CHECK_CLOSE(((float *)p->slots[ot_graph_find(g, "y")].data)[j], y[j], 1e-6, 1e-6);
        for (int j = 0; j < 4; j++) CHECK_CLOSE(((float *)p->slots[ot_graph_find(g, "z")].data)[12 + j], z[j], 1e-6, 1e-6);
    }
    ot_program_free(p);
    ot_free(mut);
    ot_tensor_free(x);
    ot_tensor_free(gw);
    ot_graph_free(g);
}

/* ---- parity models ------------------------------------------------------------------- */

typedef struct pcase {
    char dir[256], name[64], freeze[256];
    int64_t batch;
    bool mse;
    ot_tensor *x, *y;
} pcase;

static bool load_case(const char *dir, pcase *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    snprintf(c->name, sizeof c->name, "%s", strrchr(dir, '/') + 1);
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    FILE *f = fopen(path, "r");
    c->batch = 1;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strncmp(line, "batch-size=", 11)) c->batch = atoll(line + 11);
        if (!strcmp(line, "loss=mse")) c->mse = true;
        if (!strncmp(line, "freeze=", 7)) snprintf(c->freeze, sizeof c->freeze, "%s", line + 7);
    }
    if (f) fclose(f);
    ot_status s = load_train_case(dir, NULL, &c->x, &c->y);
    CHECK_MSG(s == OT_OK, "%s: %s", dir, ot_last_error());
    return !s;
}

static void free_case(pcase *c) {
    ot_tensor_free(c->x);
    ot_tensor_free(c->y);
}

typedef struct tr {
    ot_model *m;
    ot_trainer *t;
    int64_t cursor;
} tr;

static bool make(const pcase *c, const char *optimizer, double clip, bool graph, bool schedule, tr *r) {
    memset(r, 0, sizeof *r);
    ot_train_options o;
    ot_train_options_init(&o);
    o.loss = c->mse ? OT_LOSS_MSE : OT_LOSS_CROSS_ENTROPY;
    CHECK(ot_optim_kind_parse(optimizer, &o.optimizer) == OT_OK);
    o.lr = !strcmp(optimizer, "adagrad") ? 0.05 : 0.01;
    o.weight_decay = 0.01; /* an attribute differing from the default for every kind */
    if (o.optimizer == OT_OPTIM_MOMENTUM) o.dampening = 0.1;
    o.schedule = OT_LR_COSINE; /* a different lr at every step */
    o.total_steps = 8;
    o.clip_grad_norm = clip;
    o.freeze = c->freeze[0] ? c->freeze : NULL;
    o.threads = 2;
    ot_status s = load_train_case(c->dir, &r->m, NULL, NULL);
    if (!s) s = ot_trainer_create(r->m, &o, &r->t);
    CHECK_MSG(s == OT_OK, "%s: %s", c->name, ot_last_error());
    if (s) return false;
    r->t->no_graph_update = !graph;
    r->t->no_schedule = !schedule;
    return true;
}

static void drop(tr *r) {
    ot_trainer_free(r->t);
    ot_model_free(r->m);
    r->t = NULL;
    r->m = NULL;
}

/* The next micro-batch in file order (the last one partial), scale 1/k. */
static ot_status accumulate(const pcase *c, tr *r, double scale, double *loss) {
    int64_t n = c->x->dims[0], rows = r->cursor + c->batch <= n ? c->batch : n - r->cursor;
    ot_tensor xb = rows_of(c->x, r->cursor, rows), yb = rows_of(c->y, r->cursor, rows);
    r->cursor = r->cursor + rows == n ? 0 : r->cursor + rows;
    ot_tensor *in[2] = {&xb, &yb};
    return ot_trainer_accumulate(r->t, 2, NULL, in, scale, loss);
}

static ot_status step(const pcase *c, tr *r, double *loss) {
    ot_status s = accumulate(c, r, 1.0, loss);
    return s ? s : ot_trainer_update(r->t, NULL);
}

static bool same_tensor(const ot_tensor *a, const ot_tensor *b) {
    if (!a || !b) return a == b;
    return ot_tensor_nbytes(a) == ot_tensor_nbytes(b) && !memcmp(a->data, b->data, ot_tensor_nbytes(a));
}

/* Parameters, state and step counts equal bit for bit. */
static void same_trainers(const char *what, const ot_trainer *a, const ot_trainer *b) {
    int bad = 0;
    for (int k = 0; k < a->n_params; k++) {
        const ot_param *p = &a->params[k], *q = &b->params[k];
        bool ok = same_tensor(p->data, q->data) && p->steps == q->steps;
        for (int s = 0; s < OT_OPTIM_MAX_STATE; s++) ok = ok && same_tensor(p->state[s], q->state[s]);
        if (!ok && bad++ < 3) fprintf(stderr, "%s: parameter '%s' differs\n", what, p->name);
    }
    CHECK_MSG(bad == 0 && a->steps == b->steps, "%s: %d parameters differ", what, bad);
}

/* N steps inside vs. outside the program (the second trainer also compiled
   in the graph's order): bit-identical losses, parameters and state. */
static void compare_paths(const pcase *c, const char *optimizer, int steps) {
    tr a, b;
    if (!make(c, optimizer, 0, true, true, &a)) return;
    if (!make(c, optimizer, 0, false, false, &b)) return drop(&a);
    char what[128];
    snprintf(what, sizeof what, "%s/%s", c->name, optimizer);
    bool ok = true;
    for (int i = 0; i < steps && ok; i++) {
        double la, lb;
        ot_status s = step(c, &a, &la);
        CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
        ot_status u = step(c, &b, &lb);
        CHECK_MSG(u == OT_OK, "%s: %s", what, ot_last_error());
        ok = !s && !u;
        CHECK_MSG(!ok || la == lb, "%s step %d: loss %.17g vs %.17g", what, i, la, lb);
        if (i == 1 && ok) { /* one parameter "first reached later": its own step count restarts */
            a.t->params[0].steps = b.t->params[0].steps = 0;
        }
    }
    ot_train_program *p = a.t->n_programs ? a.t->programs[0] : NULL;
    CHECK_MSG(p && p->updates && p->n_update_nodes > 0, "%s: the update did not run inside the program", what);
    same_trainers(what, a.t, b.t);
    drop(&a);
    drop(&b);
}

/* Groups of k micro-batches (scale 1/k) and clipping keep the separate
   update; a scale-1 micro-batch after a group is inside again. */
static void test_mixed_paths(const pcase *c) {
    tr a, b;
    if (!make(c, "adam", 0, true, true, &a)) return;
    if (!make(c, "adam", 0, false, true, &b)) return drop(&a);
    double la, lb;
    for (int i = 0; i < 2; i++) {
        CHECK(accumulate(c, &a, 0.5, &la) == OT_OK && accumulate(c, &b, 0.5, &lb) == OT_OK && la == lb);
    }
    CHECK(ot_trainer_update(a.t, NULL) == OT_OK && ot_trainer_update(b.t, NULL) == OT_OK);
    CHECK(step(c, &a, &la) == OT_OK && step(c, &b, &lb) == OT_OK && la == lb);
    CHECK(a.t->programs[0]->updates);
    same_trainers("mixed", a.t, b.t);
    /* scale 1 twice without an update: the first one was its own group */
    CHECK(accumulate(c, &a, 1.0, &la) == OT_OK);
    CHECK(accumulate(c, &a, 1.0, &la) == OT_ERR_INVALID_ARG);
    double lr = -1;
    CHECK(ot_trainer_update(a.t, &lr) == OT_OK && lr > 0);
    drop(&a);
    drop(&b);
}

/* A NaN loss is an error and changes no parameter, state or count. */
static void test_nan(const pcase *c) {
    tr a, b;
    if (!make(c, "adamw", 0, true, true, &a)) return;
    if (!make(c, "adamw", 0, true, true, &b)) return drop(&a);
    double la, lb;
    CHECK(step(c, &a, &la) == OT_OK && step(c, &b, &lb) == OT_OK);
    ot_tensor *x;
    CHECK(ot_tensor_clone(c->x, &x) == OT_OK);
    for (int64_t i = 0; i < ot_tensor_numel(x); i++) ot_store_f64(x->dtype, x->data, i, NAN);
    pcase bad = *c;
    bad.x = x;
    a.cursor = 0;
    CHECK(accumulate(&bad, &a, 1.0, &la) == OT_ERR_NUMERIC);
    same_trainers("nan", a.t, b.t);
    CHECK(!a.t->pending && !a.t->applied);
    ot_tensor_free(x);
    drop(&a);
    drop(&b);
}

/* Save after 2 steps inside the program, resume in a fresh trainer: the
   next 2 steps equal an uninterrupted run's. */
static void test_checkpoint(const pcase *c) {
    tr a, b;
    if (!make(c, "momentum", 0, true, true, &a)) return;
    if (!make(c, "momentum", 0, true, true, &b)) return drop(&a);
    double la, lb;
    for (int i = 0; i < 2; i++) CHECK(step(c, &a, &la) == OT_OK);
    char dir[] = "/tmp/ot_sched_ckptXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    ot_loop_state ls = {0};
    CHECK(ot_trainer_save_checkpoint(a.t, dir, "x=1", &ls) == OT_OK);
    CHECK(step(c, &b, &lb) == OT_OK); /* b compiles its program before the load */
    CHECK_MSG(ot_trainer_load_checkpoint(b.t, dir, "x=1", NULL, &ls) == OT_OK, "%s", ot_last_error());
    b.cursor = a.cursor;
    for (int i = 0; i < 2; i++) CHECK(step(c, &a, &la) == OT_OK && step(c, &b, &lb) == OT_OK && la == lb);
    same_trainers("checkpoint", a.t, b.t);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    drop(&a);
    drop(&b);
}

/* A warm step inside the program makes no engine allocation. */
static void test_no_alloc(const pcase *c) {
    tr a;
    if (!make(c, "adam", 0, true, true, &a)) return;
    double l;
    for (int i = 0; i < 3; i++) CHECK(step(c, &a, &l) == OT_OK);
    a.cursor = 0;
    ot_alloc_stats before = ot_alloc_get_stats();
    CHECK(step(c, &a, &l) == OT_OK);
    ot_alloc_stats after = ot_alloc_get_stats();
    CHECK_MSG(after.allocations == before.allocations, "%s: %llu allocations in a warm step", c->name,
              (unsigned long long)(after.allocations - before.allocations));
    drop(&a);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median seconds of `n` warm steps on the first batch. */
static double time_steps(const pcase *c, tr *r, int n) {
    double t[16], l;
    for (int i = 0; i < 2; i++) {
        r->cursor = 0;
        CHECK(step(c, r, &l) == OT_OK);
    }
    for (int i = 0; i < n && i < 16; i++) {
        r->cursor = 0;
        double t0 = now_s();
        CHECK(step(c, r, &l) == OT_OK);
        t[i] = now_s() - t0;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1], t[j - 1] = x;
        }
    return t[n / 2];
}

/* Kernels of one step: program steps, and outside the program one gradient
   copy and one update per trained parameter. */
static int kernels(const ot_trainer *t, const ot_train_program *p) {
    int n = p->prog->n_steps;
    for (int k = 0; k < t->n_params && !p->updates; k++)
        n += 2 * (t->params[k].kind == OT_PARAM_TRAINABLE && p->grad_of[k] >= 0);
    return n;
}

/* The training program's schedule and peaks: (1) gradients as outputs,
   graph order; (2) update inside, graph order; (3) update inside, scheduled. */
static void check_schedule(const pcase *c) {
    tr old, in, un;
    if (!make(c, "adam", 0, false, false, &old)) return;
    if (!make(c, "adam", 0, true, true, &in)) return drop(&old);
    if (!make(c, "adam", 0, true, false, &un)) return drop(&old), drop(&in);
    double l;
    CHECK(step(c, &old, &l) == OT_OK && step(c, &in, &l) == OT_OK && step(c, &un, &l) == OT_OK);
    in.t->programs[0]->prog->poison = true; /* a kernel reading bytes no step wrote shows up below */
    CHECK(step(c, &in, &l) == OT_OK && step(c, &un, &l) == OT_OK);
    const ot_train_program *po = old.t->programs[0], *pi = in.t->programs[0], *pu = un.t->programs[0];
    const ot_program *p = pi->prog, *q = pu->prog;
    CHECK(pi->updates && pu->updates && !po->updates);
    CHECK(p->n_steps == q->n_steps);
    /* the same steps, a valid order of the graph-order program's */
    int *order = ot_malloc(sizeof(int) * (size_t)(q->n_steps + 1));
    ot_schedule_report r;
    CHECK(ot_schedule_order(q, order, &r) == OT_OK);
    CHECK_MSG(ot_schedule_check(q, order) == OT_OK, "%s: %s", c->name, ot_last_error());
    for (int i = 0; i < p->n_steps; i++) CHECK(p->steps[i].node == q->steps[order[i]].node);
    ot_free(order);
    CHECK(p->plan.lower_bound_bytes <= p->plan.lower_bound_unscheduled_bytes);
    CHECK(p->plan.lower_bound_unscheduled_bytes == q->plan.lower_bound_bytes || q->replan || p->replan);
    CHECK(p->plan.lower_bound_bytes <= po->prog->plan.lower_bound_bytes);
    same_trainers("scheduled vs graph order", in.t, un.t);
    if (verbose) {
        double ts_old = time_steps(c, &old, 9), ts_in = time_steps(c, &in, 9), ts_un = time_steps(c, &un, 9);
        printf("  %-28s peak: grads as outputs %9zu  update inside %9zu  + schedule %9zu (%.2fx)  arena %9zu  "
               "kernels %4d -> %4d (%d updates)  step ms %.3f / %.3f / %.3f\n",
               c->name, po->prog->plan.lower_bound_bytes, p->plan.lower_bound_unscheduled_bytes, p->plan.lower_bound_bytes,
               (double)po->prog->plan.lower_bound_bytes / (double)(p->plan.lower_bound_bytes ? p->plan.lower_bound_bytes : 1),
               p->plan.arena_bytes, kernels(old.t, po), kernels(in.t, pi), pi->n_update_nodes, 1e3 * ts_old, 1e3 * ts_in,
               1e3 * ts_un);
    }
    drop(&old);
    drop(&in);
    drop(&un);
}

static void test_parity_models(void) {
    char names[64][256];
    int n = list_parity_cases(names, 64);
    CHECK(n >= 0);
    CHECK(n >= 10);
    for (int i = 0; i < n; i++) { /* sorted: the same output on every machine */
        for (int j = i; j > 0 && strcmp(names[j], names[j - 1]) < 0; j--) {
            char tmp[256];
            memcpy(tmp, names[j], 256), memcpy(names[j], names[j - 1], 256), memcpy(names[j - 1], tmp, 256);
        }
    }
    if (verbose) printf("training programs (adam; step ms: separate update / inside / inside in graph order):\n");
    static const char *const optimizers[] = {"sgd", "momentum", "nesterov", "adam", "adamw", "adagrad"};
    for (int i = 0; i < n; i++) {
        pcase c;
        if (!load_case(names[i], &c)) continue;
        check_schedule(&c);
        bool mlp = !strcmp(c.name, "mlp_sgd");
        if (mlp || !strcmp(c.name, "cnn_bn_momentum") || !strcmp(c.name, "gpt_adamw") || !strcmp(c.name, "mse_tanh_sgd"))
            for (size_t k = 0; k < sizeof optimizers / sizeof optimizers[0]; k++)
                if (mlp || k % 2 == 1 || !strcmp(c.name, "gpt_adamw")) compare_paths(&c, optimizers[k], 5);
        if (mlp) {
            test_mixed_paths(&c);
            test_nan(&c);
            test_checkpoint(&c);
            test_no_alloc(&c);
        }
        free_case(&c);
    }
}

int main(int argc, char **argv) {
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    test_op();
    test_two_branches();
    test_side_effect_order();
    test_parity_models();
    return check_done();
}
