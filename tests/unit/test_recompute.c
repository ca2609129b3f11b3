/* --recompute (src/passes/recompute.c): on the GPT parity model the arena
 * shrinks (GELU's erf chain and LayerNormalization outputs are rerun in the
 * backward pass) while every loss and parameter stays what it is without
 * recomputation; on the MLP nothing is worth recomputing (ReLU follows a GEMM
 * whose output is not kept), so nothing is.  The values themselves are
 * checked against PyTorch by the parity tests run with --recompute.
 *
 *   test_recompute     (run from tests/) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "onnxtrain.h"

typedef struct run_result {
    ot_plan_summary plan;
    double loss[4];
    int n_params;
    ot_tensor *params[64]; /* every trained parameter after training */
} run_result;

static int train_run(const char *path, ot_optimizer_kind optim, int recompute, int no_fuse, run_result *r) {
    memset(r, 0, sizeof *r);
    ot_model *m = NULL;
    ot_trainer *t = NULL;
    ot_tensor **in = NULL;
    int n = 0, ok = 0;
    ot_train_options o;
    ot_train_options_init(&o);
    o.optimizer = optim;
    o.lr = 1e-3;
    o.threads = 1;
    o.recompute = recompute;
    o.no_fuse = no_fuse;
    if (ot_model_load(path, &m) || ot_trainer_create(m, &o, &t)) goto out;
    if (ot_trainer_plan(t, 8, 0, NULL, NULL, NULL, &r->plan)) goto out;
    if (ot_trainer_example_batch(t, 8, 0, NULL, NULL, &in, &n)) goto out;
    for (int s = 0; s < 4; s++)
        if (ot_trainer_accumulate(t, n, NULL, in, 1.0, &r->loss[s]) || ot_trainer_update(t, NULL)) goto out;
    for (int k = 0; k < ot_trainer_param_count(t) && k < 64; k++, r->n_params++)
        if (ot_trainer_get_param(t, ot_trainer_param_name(t, k), &r->params[k])) goto out;
    ok = r->n_params > 0;
out:
    if (!ok) fprintf(stderr, "%s: %s\n", path, ot_last_error());
    for (int i = 0; i < n; i++) ot_tensor_free(in[i]);
    ot_free_array(in);
    ot_trainer_free(t);
    ot_model_free(m);
    return ok;
}

static double max_rel_diff(ot_tensor *a, ot_tensor *b) {
    int64_t n = ot_tensor_numel(a);
    if (n != ot_tensor_numel(b) || ot_tensor_dtype(a) != OT_FLOAT) return INFINITY;
    const float *x = ot_tensor_data(a), *y = ot_tensor_data(b);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - y[i]) / (fabs((double)y[i]) + 1e-6);
        if (d > worst) worst = d;
    }
    return worst;
}

static void compare(const char *path, ot_optimizer_kind optim, int no_fuse, int expect_recompute) {
    run_result base, rc;
    int ok_base = train_run(path, optim, 0, no_fuse, &base), ok_rc = train_run(path, optim, 1, no_fuse, &rc);
    CHECK(ok_base && ok_rc);
    if (!ok_base || !ok_rc) goto out;
    printf("%s%s: arena %llu -> %llu bytes (lower bound %llu), %lld ops recomputed, %llu bytes released\n", path,
           no_fuse ? " (not fused)" : "", (unsigned long long)base.plan.arena_bytes,
           (unsigned long long)rc.plan.arena_bytes, (unsigned long long)rc.plan.lower_bound_bytes,
           (long long)rc.plan.recomputed_ops, (unsigned long long)rc.plan.released_bytes);
    CHECK(base.plan.recomputed_ops == 0 && base.plan.released_bytes == 0);
    if (expect_recompute) {
        CHECK(rc.plan.recomputed_ops > 0 && rc.plan.released_bytes > 0);
        CHECK_MSG(rc.plan.arena_bytes < base.plan.arena_bytes * 3 / 4, "arena %llu -> %llu",
                  (unsigned long long)base.plan.arena_bytes, (unsigned long long)rc.plan.arena_bytes);
    } else {
        CHECK(rc.plan.recomputed_ops == 0);
        CHECK(rc.plan.arena_bytes == base.plan.arena_bytes);
    }
    /* The planner's bound holds with the clones as without. */
    CHECK(rc.plan.arena_bytes <= rc.plan.lower_bound_bytes + rc.plan.lower_bound_bytes / 20);
    for (int s = 0; s < 4; s++) CHECK_CLOSE(rc.loss[s], base.loss[s], 1e-6, 0);
    CHECK(rc.n_params == base.n_params);
    for (int k = 0; k < rc.n_params && k < base.n_params; k++) {
        double d = max_rel_diff(rc.params[k], base.params[k]);
        CHECK_MSG(d <= 1e-5, "parameter %d differs by %.3g", k, d);
    }
out:
    for (int k = 0; k < base.n_params; k++) ot_tensor_free(base.params[k]);
    for (int k = 0; k < rc.n_params; k++) ot_tensor_free(rc.params[k]);
}

int main(void) {
    compare("parity/gpt_adamw/model.onnx", OT_OPTIM_ADAMW, 0, 1);
    compare("parity/gpt_adamw/model.onnx", OT_OPTIM_ADAMW, 1, 1);
    compare("../models/mlp.onnx", OT_OPTIM_ADAM, 0, 0);
    return check_done();
}
