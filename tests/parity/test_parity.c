/* Training parity with PyTorch: trains tests/parity/<case>/model.onnx with
 * the options in config.txt on input.npy/labels.npy (file order, the last
 * partial batch kept), and compares every step's loss (losses.txt) and the
 * final parameters (final/<name>.npy) with PyTorch's within 1e-3 relative
 * error.  The goldens come from tools/gen_parity_goldens.py.
 *
 *   test_parity CASE_DIR [--no-fuse] [--recompute]
 *
 * The flags compile the step without fusion / with recomputation: PyTorch's
 * numbers must hold either way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../train_case.h"
#include "onnxtrain.h"
#include "src/core/tensor.h"
#include "src/train/optim_config.h"
#include "src/train/lr_schedule.h"

#define REL_TOL 1e-3

static char cfg_lines[64][2][128];
static int n_cfg;

static const char *cfg(const char *key) {
    for (int i = 0; i < n_cfg; i++)
        if (!strcmp(cfg_lines[i][0], key)) return cfg_lines[i][1];
    return NULL;
}

static double cfg_num(const char *key, double dflt) {
    const char *v = cfg(key);
    return v ? atof(v) : dflt;
}

static int fail(const char *what) {
    printf("%s: %s\n", what, ot_last_error());
    printf("0 passed, 1 failed\n");
    return 1;
}

int main(int argc, char **argv) {
    bool no_fuse = false, recompute = false;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--no-fuse")) no_fuse = true;
        else if (!strcmp(argv[i], "--recompute")) recompute = true;
        else argc = 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: test_parity CASE_DIR [--no-fuse] [--recompute]\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cannot read %s\n0 passed, 1 failed\n", path);
        return 1;
    }
    while (n_cfg < 64 && fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        line[strcspn(line, "\r\n")] = 0;
        eq[1 + strcspn(eq + 1, "\r\n")] = 0;
        snprintf(cfg_lines[n_cfg][0], 128, "%s", line);
        snprintf(cfg_lines[n_cfg][1], 128, "%s", eq + 1);
        n_cfg++;
    }
    fclose(f);

    ot_train_options o;
    ot_train_options_init(&o);
    o.loss = !strcmp(cfg("loss"), "mse") ? OT_LOSS_MSE : OT_LOSS_CROSS_ENTROPY;
    ot_optim_kind kind;
    if (ot_optim_kind_parse(cfg("optimizer"), &kind)) return fail("optimizer");
    o.optimizer = kind;
    o.lr = cfg_num("lr", NAN);
    o.momentum = cfg_num("momentum", NAN);
    o.dampening = cfg_num("dampening", NAN);
    o.weight_decay = cfg_num("weight-decay", NAN);
    o.clip_grad_norm = cfg_num("clip-grad-norm", 0);
    o.freeze = cfg("freeze");
    if (cfg("lr-schedule")) {
        ot_lr_kind lk;
        if (ot_lr_kind_parse(cfg("lr-schedule"), &lk)) return fail("lr-schedule");
        o.schedule = lk;
    }
    o.warmup_steps = (int64_t)cfg_num("warmup-steps", 0);
    o.min_lr = cfg_num("min-lr", 0);
    o.gamma = cfg_num("gamma", 0.1);
    o.step_size = (int64_t)cfg_num("step-size", 0);
    int64_t steps = (int64_t)cfg_num("steps", 1), batch = (int64_t)cfg_num("batch-size", 1);
    int accumulate = (int)cfg_num("accumulate", 1);
    o.total_steps = steps;
    o.threads = 1;
    o.no_fuse = no_fuse;
    o.recompute = recompute;

    ot_model *m;
    ot_trainer *t;
    ot_tensor *x, *y;
    if (load_train_case(dir, &m, &x, &y)) return fail("load the case");
    if (ot_trainer_create(m, &o, &t)) return fail("create trainer");

    snprintf(path, sizeof path, "%s/losses.txt", dir);
    FILE *lf = fopen(path, "r");
    int failures = 0, checks = 0;
    double worst_loss = 0, worst_param = 0;
    /* Groups of `accumulate` micro-batches never cross an epoch boundary:
       the epoch's last group may be shorter, and each of its micro-batches
       is scaled by 1/k for its own group size k (CONTRACTS.md). */
    int64_t n = x->dims[0], cursor = 0, per_epoch = (n + batch - 1) / batch, mb_in_epoch = 0;
    for (int64_t s = 0; s < steps; s++) {
        double sum = 0;
        int64_t k_group = per_epoch - mb_in_epoch < accumulate ? per_epoch - mb_in_epoch : accumulate;
        for (int64_t k = 0; k < k_group; k++) {
            int64_t rows = cursor + batch <= n ? batch : n - cursor;
            ot_tensor xb = rows_of(x, cursor, rows), yb = rows_of(y, cursor, rows);
            cursor = cursor + rows == n ? 0 : cursor + rows;
            ot_tensor *in[2] = {&xb, &yb};
            double loss;
            if (ot_trainer_accumulate(t, 2, NULL, in, 1.0 / (double)k_group, &loss)) return fail("step");
            sum += loss;
        }
        mb_in_epoch = (mb_in_epoch + k_group) % per_epoch;
        if (ot_trainer_update(t, NULL)) return fail("update");
        double ours = sum / (double)k_group, theirs = NAN;
        if (!lf || !fgets(line, sizeof line, lf)) {
            printf("losses.txt has fewer than %lld lines\n", (long long)steps);
            failures++;
            break;
        }
        theirs = atof(line);
        double rel = fabs(ours - theirs) / fabs(theirs);
        if (rel > worst_loss) worst_loss = rel;
        checks++;
        if (!(rel <= REL_TOL)) {
            printf("step %lld: loss %.9g, PyTorch %.9g (relative error %.3g)\n", (long long)s + 1, ours, theirs, rel);
            failures++;
        }
    }
    if (lf) fclose(lf);

    /* Final parameters: every file under final/ names one initializer. */
    snprintf(path, sizeof path, "ls '%s/final'", dir);
    FILE *ls = popen(path, "r");
    while (ls && fgets(line, sizeof line, ls)) {
        line[strcspn(line, "\n")] = 0;
        char name[512], file[4096];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(line) - 4), line); /* drop ".npy" */
        snprintf(file, sizeof file, "%s/final/%s", dir, line);
        ot_tensor *want, *got;
        if (ot_tensor_load(file, &want)) return fail(file);
        if (ot_trainer_get_param(t, name, &got)) {
            printf("parameter %s: %s\n", name, ot_last_error());
            failures++;
            ot_tensor_free(want);
            continue;
        }
        double num = 0, den = 0, worst = 0;
        int64_t bad = 0;
        for (int64_t i = 0; i < ot_tensor_numel(want); i++) {
            double a = ((float *)got->data)[i], b = ((float *)want->data)[i];
            num += (a - b) * (a - b);
            den += b * b;
            double e = fabs(a - b) / (fabs(b) + 1e-3); /* relative, floored for near-zero weights */
            if (e > worst) worst = e;
            if (e > REL_TOL) bad++;
        }
        double rel = sqrt(num / (den > 0 ? den : 1));
        if (worst > worst_param) worst_param = worst;
        checks++;
        if (bad || rel > REL_TOL) {
            printf("parameter %s: %lld elements off by more than %g relative (worst %.3g; tensor relative error %.3g)\n", name,
                   (long long)bad, REL_TOL, worst, rel);
            failures++;
        }
        ot_tensor_free(want);
        ot_tensor_free(got);
    }
    if (ls) pclose(ls);
    printf("%s: max loss relative error %.3g, max parameter relative error %.3g\n", dir, worst_loss, worst_param);
    printf("%d passed, %d failed\n", checks - failures, failures);
    ot_trainer_free(t);
    ot_tensor_free(x);
    ot_tensor_free(y);
    ot_model_free(m);
    return failures ? 1 : 0;
}
