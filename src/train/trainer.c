/* The training step loop: forward + backward through a compiled program,
 * gradient accumulation, clipping and the optimizer update, BatchNorm
 * statistics, evaluation and export.  PyTorch's semantics throughout
 * (reference/pytorch-semantics.md). */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "../../kernels/cpu/optimizer.h"
#include "../core/alloc.h"
#include "clip.h"
#include "trainer.h"

void ot_train_options_init(ot_train_options *o) {
    memset(o, 0, sizeof *o);
    o->loss = OT_LOSS_CROSS_ENTROPY;
    o->labels = "labels";
    o->class_axis = -1;
    o->ignore_index = -100;
    o->optimizer = OT_OPTIM_ADAM;
    o->lr = o->momentum = o->dampening = o->beta1 = o->beta2 = o->eps = NAN;
    o->weight_decay = o->lr_decay = o->initial_accumulator = NAN;
    o->schedule = OT_LR_CONSTANT;
    o->gamma = 0.1;
}

static ot_status ot_optim_from_options(const ot_train_options *o, ot_optim_config *cfg) {
    ot_optim_config_defaults(o->optimizer, cfg);
    const struct {
        const char *name;
        double v;
    } given[] = {{"lr", o->lr},         {"momentum", o->momentum},         {"dampening", o->dampening},
                 {"beta1", o->beta1},   {"beta2", o->beta2},               {"eps", o->eps},
                 {"weight-decay", o->weight_decay}, {"lr-decay", o->lr_decay}, {"initial-accumulator", o->initial_accumulator}};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (!isnan(given[i].v)) OT_TRY(ot_optim_config_set(cfg, given[i].name, given[i].v));
    return ot_optim_config_validate(cfg);
}

ot_status ot_trainer_create(ot_model *m, const ot_train_options *o, ot_trainer **out) {
    if (!m || !o || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_create: NULL argument");
    if (o->loss != OT_LOSS_OUTPUT && (!o->labels || !o->labels[0]))
        return ot_error(OT_ERR_INVALID_ARG, "the labels need a name");
    if (o->loss == OT_LOSS_OUTPUT && !o->loss_output) return ot_error(OT_ERR_INVALID_ARG, "loss output: no output name given");
    if (o->clip_grad_norm < 0 || isnan(o->clip_grad_norm)) return ot_error(OT_ERR_INVALID_ARG, "--clip-grad-norm must be >= 0");
    OT_TRY(ot_graph_check_supported(m->graph));
    ot_trainer *t = ot_calloc(1, sizeof *t);
    if (!t) return ot_error(OT_ERR_NOMEM, "out of memory");
    t->model = m;
    ot_model_fingerprint(m->graph, t->model_id); /* before any update: the model as given */
    t->o = *o;
    ot_status s = ot_optim_from_options(o, &t->optim);
    if (!s) {
        ot_lr_schedule_defaults(o->schedule, t->optim.lr, &t->sched);
        t->sched.min_lr = o->min_lr;
        t->sched.warmup_steps = o->warmup_steps;
        t->sched.gamma = o->gamma;
        t->sched.step_size = o->step_size;
        s = ot_lr_schedule_validate(&t->sched, o->total_steps);
    }
    if (!s) s = ot_trainer_collect_params(t);
    if (s) {
        ot_trainer_free(t);
        return s;
    }
    *out = t;
    return OT_OK;
}

void ot_trainer_free(ot_trainer *t) {
    if (!t) return;
    for (int i = 0; i < t->n_programs; i++) ot_train_program_free(t->programs[i]);
    ot_arena_share_free(&t->arena);
    for (int k = 0; k < t->n_params; k++) {
        ot_tensor_free(t->params[k].data);
        ot_tensor_free(t->params[k].grad);
        for (int s = 0; s < OT_OPTIM_MAX_STATE; s++) ot_tensor_free(t->params[k].state[s]);
    }
    ot_free(t->params);
    ot_free(t->reasons);
    ot_free(t->bn);
    ot_free(t->is_mutable);
    ot_free(t);
}

/* Features then labels, in the trainer's binding order. */
static ot_status ot_trainer_bind(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs, ot_tensor **ordered) {
    int n_extra = t->o.loss == OT_LOSS_OUTPUT ? 0 : 1;
    return ot_bind_by_name(t->model->graph, n_extra, &t->o.labels, n, names, inputs, ordered);
}

/* A float initializer can sit on a path to the loss that carries no
   gradient (a 0/1 mask compared with Equal, class weights of a loss): once
   autodiff has run, such parameters stop counting as trainable. */
static void ot_trainer_drop_gradless(ot_trainer *t, const ot_train_program *p) {
    const ot_graph *g = t->model->graph;
    for (int k = 0; k < t->n_params; k++) {
        if (t->params[k].kind != OT_PARAM_TRAINABLE || p->grad_of[k] >= 0) continue;
        t->params[k].kind = OT_PARAM_NO_GRAD;
        for (int i = 0; i < g->n_inits; i++)
            if (g->inits[i] == t->params[k].value) t->reasons[i] = "no gradient reaches it (not on a differentiable path to the loss)";
    }
}

bool ot_trainer_updates_in_graph(const ot_trainer *t) { return !t->no_graph_update && !(t->o.clip_grad_norm > 0); }

ot_status ot_trainer_program(ot_trainer *t, ot_tensor *const *bound, bool eval, ot_train_program **out) {
    return ot_trainer_program_mode(t, bound, eval, !eval && ot_trainer_updates_in_graph(t), out);
}

ot_status ot_trainer_program_mode(ot_trainer *t, ot_tensor *const *bound, bool eval, bool updates, ot_train_program **out) {
    for (int i = 0; i < t->n_programs; i++) {
        if (!ot_train_program_matches(t->programs[i], bound, eval, updates)) continue;
        ot_train_program *p = t->programs[i];
        memmove(&t->programs[1], &t->programs[0], sizeof(ot_train_program *) * (size_t)i);
        t->programs[0] = p;
        *out = p;
        /* state buffers a checkpoint replaced since: the program points at the new ones */
        return p->updates ? ot_train_prepare_updates(t, p) : OT_OK;
    }
    ot_train_program *p;
    OT_TRY(ot_train_program_build(t, bound, eval, updates, &p));
    if (!eval) ot_trainer_drop_gradless(t, p);
    if (t->n_programs == OT_TRAIN_PROGRAMS) ot_train_program_free(t->programs[--t->n_programs]);
    memmove(&t->programs[1], &t->programs[0], sizeof(ot_train_program *) * (size_t)t->n_programs);
    t->programs[0] = p;
    t->n_programs++;
    *out = p;
    return p->updates ? ot_train_prepare_updates(t, p) : OT_OK;
}

static double ot_slot_scalar(const ot_train_program *p, int v) {
    const ot_tensor *s = &p->prog->slots[v];
    return ot_load_f64(s->dtype, s->data, 0);
}

/* dst += src, element-wise (gradient accumulation over micro-batches). */
static ot_status ot_grad_add(ot_tensor *dst, const ot_tensor *src) {
    int64_t n = ot_tensor_numel(src);
    if (dst->dtype == OT_FLOAT) {
        float *d = dst->data;
        const float *s = src->data;
#pragma omp parallel for simd if (n > 65536)
        for (int64_t i = 0; i < n; i++) d[i] += s[i];
    } else if (dst->dtype == OT_DOUBLE) {
        double *d = dst->data;
        const double *s = src->data;
#pragma omp parallel for simd if (n > 65536)
        for (int64_t i = 0; i < n; i++) d[i] += s[i];
    } else {
        return ot_error(OT_ERR_UNSUPPORTED, "training %s parameters is not supported (float32 and float64 are)",
                        ot_dtype_name(dst->dtype));
    }
    return OT_OK;
}

/* Runs p on the ordered binding (plus the seed when training, and the lr
   when the update runs inside). */
static ot_status ot_run(ot_trainer *t, ot_train_program *p, ot_tensor **ordered, double scale, double lr, double *loss) {
    /* A NaN loss stops training; in evaluation it is reported (a batch whose
       targets are all ignored has a NaN mean, as in PyTorch). */
    if (t->o.threads > 0) omp_set_num_threads(t->o.threads);
    double seed64 = scale;
    float seed32 = (float)scale;
    ot_tensor seed = {0};
    ot_tensor_set_shape(&seed, p->prog->slots[p->loss].dtype, 0, NULL);
    seed.data = seed.dtype == OT_DOUBLE ? (void *)&seed64 : (void *)&seed32;
    ordered[p->n_bound] = &seed;
    ot_tensor lr_t = {0};
    ot_tensor_set_shape(&lr_t, OT_DOUBLE, 0, NULL);
    lr_t.data = &lr;
    if (p->updates) ordered[p->n_bound + 1] = &lr_t;
    OT_TRY(ot_program_run(p->prog, ordered, (uint64_t)t->steps));
    *loss = ot_slot_scalar(p, p->loss);
    if (!p->eval && !isfinite(*loss))
        return ot_error(OT_ERR_NUMERIC, "the loss is %s at step %lld (lower the learning rate, or check the data)",
                        isnan(*loss) ? "NaN" : "infinite", (long long)t->steps + 1);
    return OT_OK;
}

/* PyTorch's running statistics from the ONNX ones: the mean update is the
   same; ONNX uses the biased batch variance vb where PyTorch uses
   vb * n / (n - 1):  out = rv*mom + vb*(1-mom)  =>  vb*(1-mom) = out - rv*mom. */
static void ot_update_bn(ot_trainer *t, const ot_train_program *p) {
    for (int b = 0; b < t->n_bn; b++) {
        if (p->bn_mean_out[b] < 0) continue;
        ot_tensor *rm = t->params[t->bn[b].mean].data, *rv = t->params[t->bn[b].var].data;
        const ot_tensor *nm = &p->prog->slots[p->bn_mean_out[b]], *nv = &p->prog->slots[p->bn_var_out[b]];
        double mom = t->bn[b].momentum, n = (double)p->bn_count[b];
        double unbias = n > 1 ? n / (n - 1) : 1.0;
        for (int64_t c = 0; c < ot_tensor_numel(rm); c++) {
            double old_v = ot_load_f64(rv->dtype, rv->data, c);
            double out_v = ot_load_f64(nv->dtype, nv->data, c);
            ot_store_f64(rm->dtype, rm->data, c, ot_load_f64(nm->dtype, nm->data, c));
            ot_store_f64(rv->dtype, rv->data, c, old_v * mom + (out_v - old_v * mom) * unbias);
        }
    }
}

ot_status ot_trainer_accumulate(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs, double scale,
                                double *loss) {
    if (!t || !loss || (n && !inputs)) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_accumulate: NULL argument");
    ot_tensor *ordered[65];
    int total = ot_graph_bound_input_count(t->model->graph) + (t->o.loss == OT_LOSS_OUTPUT ? 0 : 1);
    if (total > 63) return ot_error(OT_ERR_UNSUPPORTED, "more than 63 model inputs");
    if (t->applied)
        return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_accumulate: the previous micro-batch had scale 1, so it was a "
                        "whole group and its update already ran; call ot_trainer_update first (each of a group of k "
                        "micro-batches has scale 1/k)");
    OT_TRY(ot_trainer_bind(t, n, names, inputs, ordered));
    /* A micro-batch of scale 1 that starts a group is the whole group: its
       update can run inside the program, as its gradients complete. */
    bool in_graph = ot_trainer_updates_in_graph(t) && scale == 1.0 && !t->pending;
    ot_train_program *p;
    OT_TRY(ot_trainer_program_mode(t, ordered, false, in_graph, &p));
    double lr = in_graph ? ot_lr_at(&t->sched, t->steps, t->o.total_steps) : 0;
    OT_TRY(ot_run(t, p, ordered, scale, lr, loss));
    if (in_graph) {
        for (int i = 0; i < p->n_updated; i++) t->params[p->upd_param[i]].steps++;
        t->applied = true;
        t->applied_lr = lr;
    }
    for (int k = 0; k < t->n_params && !in_graph; k++) {
        ot_param *pr = &t->params[k];
        if (pr->kind != OT_PARAM_TRAINABLE || p->grad_of[k] < 0) continue;
        const ot_tensor *g = &p->prog->slots[p->grad_of[k]];
        size_t bytes = ot_tensor_nbytes(g);
        if (!pr->grad) OT_TRY(ot_tensor_new(g->dtype, g->rank, g->dims, &pr->grad));
        if (!pr->got_grad) {
            memcpy(pr->grad->data, g->data, bytes);
        } else {
            OT_TRY(ot_grad_add(pr->grad, g));
        }
        pr->got_grad = true;
    }
    ot_update_bn(t, p);
    t->pending = true;
    return OT_OK;
}

/* The global gradient norm over every trainable parameter (PyTorch's
   clip_grad_norm_), and the scaling when it exceeds the maximum. */
static ot_status ot_clip(ot_trainer *t) {
    double sumsq = 0;
    for (int k = 0; k < t->n_params; k++) {
        ot_param *p = &t->params[k];
        if (!p->got_grad) continue;
        double s;
        const void *g[1] = {p->grad->data};
        int64_t numel = ot_tensor_numel(p->grad);
        OT_TRY(ot_cpu_grads_sumsq(p->grad->dtype, 1, g, &numel, &s));
        sumsq += s;
    }
    double total = sqrt(sumsq);
    ot_dtype dt = OT_FLOAT;
    for (int k = 0; k < t->n_params; k++)
        if (t->params[k].got_grad) dt = t->params[k].grad->dtype;
    double coef = ot_clip_coef(dt, total, t->o.clip_grad_norm); /* in the dtype's arithmetic, as torch */
    if (coef >= 1) return OT_OK;
    for (int k = 0; k < t->n_params; k++) {
        ot_param *p = &t->params[k];
        if (!p->got_grad) continue;
        void *g[1] = {p->grad->data};
        int64_t numel = ot_tensor_numel(p->grad);
        OT_TRY(ot_cpu_grads_scale(p->grad->dtype, 1, g, &numel, coef));
    }
    return OT_OK;
}

ot_status ot_trainer_ensure_state(ot_trainer *t, int k) {
    ot_param *p = &t->params[k];
    int ns = ot_optim_state_count(t->optim.kind);
    for (int s = 0; s < ns; s++) {
        if (p->state[s]) continue;
        OT_TRY(ot_tensor_new(p->data->dtype, p->data->rank, p->data->dims, &p->state[s]));
        double init = ot_optim_state_initial_value(&t->optim, s);
        for (int64_t i = 0; init != 0 && i < ot_tensor_numel(p->state[s]); i++)
            ot_store_f64(p->state[s]->dtype, p->state[s]->data, i, init);
    }
    return OT_OK;
}

ot_status ot_trainer_update(ot_trainer *t, double *lr_used) {
    if (!t) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_update: NULL trainer");
    if (!t->pending) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_update: no gradients were accumulated since the last update");
    if (t->applied) { /* the program updated the parameters (and their step counts) already */
        t->steps++;
        t->pending = t->applied = false;
        if (lr_used) *lr_used = t->applied_lr;
        return OT_OK;
    }
    double lr = ot_lr_at(&t->sched, t->steps, t->o.total_steps);
    if (t->o.clip_grad_norm > 0) OT_TRY(ot_clip(t));
    int ns = ot_optim_state_count(t->optim.kind);
    for (int k = 0; k < t->n_params; k++) {
        ot_param *p = &t->params[k];
        if (!p->got_grad) continue; /* as PyTorch: a parameter without a gradient is not updated */
        OT_TRY(ot_trainer_ensure_state(t, k));
        /* Per-parameter step: a parameter first reached by a gradient at a
           later step starts its momentum and bias corrections at 1, as in PyTorch. */
        ot_optim_coeffs co;
        OT_TRY(ot_optim_coeffs_compute(&t->optim, p->steps + 1, lr, &co));
        p->steps++;
        int64_t numel = ot_tensor_numel(p->data);
        void *param[1] = {p->data->data}, *st0[1] = {ns > 0 ? p->state[0]->data : NULL},
             *st1[1] = {ns > 1 ? p->state[1]->data : NULL};
        const void *grad[1] = {p->grad->data};
        ot_optim_group grp = {1, &numel, param, grad, {st0, st1}};
        OT_TRY(ot_cpu_optim_update(p->data->dtype, &co, &grp));
        p->got_grad = false;
    }
    t->steps++;
    t->pending = false;
    if (lr_used) *lr_used = lr;
    return OT_OK;
}

ot_status ot_trainer_step(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs, double *loss) {
    OT_TRY(ot_trainer_accumulate(t, n, names, inputs, 1.0, loss));
    return ot_trainer_update(t, NULL);
}

/* Correct arg-max predictions of cross-entropy logits (class axis k). */
static void ot_count_correct(const ot_tensor *x, const ot_tensor *y, int k, int64_t ignore, int64_t *correct, int64_t *counted) {
    int64_t outer = 1, inner = 1, C = x->dims[k];
    for (int d = 0; d < k; d++) outer *= x->dims[d];
    for (int d = k + 1; d < x->rank; d++) inner *= x->dims[d];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t label = ot_load_i64(y->dtype, y->data, o * inner + i);
            if (label == ignore) continue;
            int64_t best = 0;
            double bv = ot_load_f64(x->dtype, x->data, o * C * inner + i);
            for (int64_t c = 1; c < C; c++) {
                double v = ot_load_f64(x->dtype, x->data, (o * C + c) * inner + i);
                if (v > bv) bv = v, best = c;
            }
            *correct += best == label;
            (*counted)++;
        }
}

ot_status ot_trainer_evaluate(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs, double *loss,
                              int64_t *correct, int64_t *counted) {
    if (!t || !loss) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_evaluate: NULL argument");
    ot_tensor *ordered[65];
    int total = ot_graph_bound_input_count(t->model->graph) + (t->o.loss == OT_LOSS_OUTPUT ? 0 : 1);
    if (total > 63) return ot_error(OT_ERR_UNSUPPORTED, "more than 63 model inputs");
    OT_TRY(ot_trainer_bind(t, n, names, inputs, ordered));
    ot_train_program *p;
    OT_TRY(ot_trainer_program(t, ordered, true, &p));
    OT_TRY(ot_run(t, p, ordered, 1.0, 0, loss));
    if (correct && counted) {
        *correct = *counted = 0;
        if (p->class_axis >= 0)
            ot_count_correct(&p->prog->slots[p->output], ordered[total - 1], p->class_axis, t->o.ignore_index, correct, counted);
    }
    return OT_OK;
}

int64_t ot_trainer_steps_done(const ot_trainer *t) { return t->steps; }
