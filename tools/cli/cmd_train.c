/* `onnxtrain train MODEL --data ... -o OUT.onnx`: the training loop, with
 * gradient accumulation, evaluation, logging, checkpoints and a clean stop on
 * SIGINT / SIGTERM.  PyTorch's semantics (docs/training.md). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train.h"

static const char train_help[] =
    "usage: onnxtrain train MODEL --data SPEC... (--epochs N | --steps N) -o OUT.onnx [options]\n"
    "\n"
    "Train the model's initializers on the data and write the trained model as an\n"
    "inference model (BatchNormalization without training_mode, Dropout off).\n"
    "Semantics follow PyTorch: docs/training.md.\n"
    "\n"
    "data:\n"
    "  --data SPEC              FILE.npz (every array by its name) or NAME=FILE (.npy,\n"
    "                           IDX raw or .gz, CSV); repeat.  Each model input takes\n"
    "                           the array of its name; a one-input model takes the\n"
    "                           only array that is not the labels, whatever its name\n"
    "  --labels NAME            the labels array (default labels)\n"
    "  --batch-size N           samples per micro-batch (default 32)\n"
    "  --epochs N | --steps N   length of the run, in epochs or optimizer steps\n"
    "  --no-shuffle             visit samples in file order (default: a new\n"
    "                           permutation each epoch, from --seed)\n"
    "  --drop-last              skip each epoch's last partial batch\n"
    "  --seed S                 shuffling and dropout seed (default 0)\n"
    "  --input-scale F          integer data fed to float inputs is multiplied by F\n"
    "  --csv-delimiter C        CSV field separator (default ','; \\t or tab for tabs)\n"
    "  --label-column COL       CSV label column, by name or index (default: the\n"
    "                           column named label, else the last)\n"
    "\n"
    "loss:\n"
    "  --loss L                 cross-entropy (default), mse, bce-logits, l1, or\n"
    "                           output:NAME (the graph output NAME is the loss)\n"
    "  --output NAME            the graph output the loss applies to (default: first)\n"
    "  --class-axis K           cross-entropy class axis when the shapes leave a choice\n"
    "  --ignore-index I         cross-entropy: targets equal to I are skipped (-100)\n"
    "\n"
    "optimizer:\n"
    "  --optimizer O            sgd, momentum, nesterov, adam (default), adamw, adagrad\n"
    "  --lr X                   learning rate (default: PyTorch's for the optimizer;\n"
    "                           required for sgd, momentum and nesterov)\n"
    "  --momentum X --dampening X --beta1 X --beta2 X --eps X --weight-decay X\n"
    "  --lr-decay X --initial-accumulator X      (defaults as in PyTorch)\n"
    "  --lr-schedule S          constant (default), linear, cosine, step; stepped once\n"
    "                           per optimizer step\n"
    "  --warmup-steps W         linear warm-up from 0 over W steps (all schedules)\n"
    "  --min-lr X               final lr of linear and cosine (default 0)\n"
    "  --gamma X --step-size N  step: multiply by X (0.1) every N steps\n"
    "  --clip-grad-norm X       clip the global gradient L2 norm to X\n"
    "  --accumulate N           one optimizer step per N micro-batches (default 1)\n"
    "  --freeze A,B             initializers not to train\n"
    "  --trainable A,B          train exactly these initializers\n"
    "\n"
    "evaluation, output, logging:\n"
    "  -o, --out OUT.onnx       the trained model (required)\n"
    "  --eval-data SPEC         validation data (like --data); repeat\n"
    "  --eval-every N           validate every N steps (default 0: each epoch's end)\n"
    "  --log FILE               one row per optimizer step: CSV, or JSON lines when\n"
    "                           FILE ends in .jsonl\n"
    "  --print-every N          progress line every N steps when stderr is not a\n"
    "                           terminal (default 50)\n"
    "  -q, --quiet              no progress, no summary\n"
    "  --threads N              threads (default 0: one per core)\n"
    "\n"
    "checkpoints:\n"
    "  --checkpoint-dir DIR     save a checkpoint there at the end, on SIGINT/SIGTERM,\n"
    "  --save-every N           and every N optimizer steps\n"
    "  --resume DIR             continue the run saved in DIR (same settings; --epochs\n"
    "                           and --steps count from the start of the run)\n"
    "\n"
    "compilation:\n"
    "  --no-fuse                compile the step without fusion (for comparison)\n"
    "  --recompute              recompute cheap activations (elementwise chains,\n"
    "                           norms) in the backward pass instead of keeping them:\n"
    "                           less memory, a little more time, the same results\n"
    "\n"
    "Ctrl-C finishes the current optimizer step, saves a checkpoint (with\n"
    "--checkpoint-dir) and exits with status 130 (143 for SIGTERM).\n"
    "exit status: 0 success, 1 training failed (data, model, numeric error...),\n"
    "2 bad command line\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) { g_stop = sig; }

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* a second Ctrl-C kills at once: the default action comes back; writes to
       a terminal or pipe resume rather than fail with EINTR */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct train_run {
    cli_train_cfg c;
    ot_model *m;
    ot_dataset *ds, *eds;
    cli_binding bd, ebd;
    ot_batcher *b, *eb;
    ot_trainer *t;
    char *config;
    const char *ignore;
    cli_log log;
    cli_progress pg;
    int64_t batches_per_epoch, steps_per_epoch, total;
} train_run;

/* -o is checked before training: a run must not end in an unwritable path. */
static int check_out_dir(const char *out) {
    char dir[PATH_MAX];
    const char *slash = strrchr(out, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == out) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
    if (access(dir, W_OK) != 0) return cli_fail("-o %s: cannot write into '%s': %s", out, dir, strerror(errno));
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) return cli_fail("-o %s: is a directory, not a file name", out);
    return CLI_OK;
}

static int setup(train_run *r) {
    cli_train_cfg *c = &r->c;
    if (ot_model_load(c->model, &r->m) != OT_OK) return cli_fail_lib();
    int rc = cli_data_load(c, "--data", c->data, c->n_data, &r->ds);
    if (!rc && c->n_eval_data) rc = cli_data_load(c, "--eval-data", c->eval_data, c->n_eval_data, &r->eds);
    if (!rc) rc = cli_data_bind(c, r->m, r->ds, "--data", &r->bd);
    if (!rc && r->eds) rc = cli_data_bind(c, r->m, r->eds, "--eval-data", &r->ebd);
    if (rc) return rc;
    if (ot_batcher_open(r->ds, r->bd.bind, r->bd.n, c->batch_size, !c->no_shuffle, c->drop_last, c->seed, &r->b) != OT_OK)
        return cli_fail("--data: %s", ot_last_error());
    if (r->eds && ot_batcher_open(r->eds, r->ebd.bind, r->ebd.n, c->batch_size, 0, 0, 0, &r->eb) != OT_OK)
        return cli_fail("--eval-data: %s", ot_last_error());

    /* an epoch's micro-batches form groups of --accumulate, the last one
       possibly shorter: one optimizer step per group */
    r->batches_per_epoch = ot_batcher_batches_per_epoch(r->b);
    r->steps_per_epoch = (r->batches_per_epoch + c->accumulate - 1) / c->accumulate;
    if (c->steps) r->total = c->steps;
    else if (c->epochs > INT64_MAX / r->steps_per_epoch) return cli_fail("--epochs %lld: too many steps", (long long)c->epochs);
    else r->total = c->epochs * r->steps_per_epoch;
    c->o.total_steps = r->total;

    ot_status s = ot_trainer_create(r->m, &c->o, &r->t);
    if (s != OT_OK) return cli_trainer_create_failed(c, s);
    r->config = cli_train_config_text(c, ot_dataset_samples(r->ds), r->total, &r->ignore);
    if (!r->config) return cli_fail("out of memory");
    if (c->resume) {
        ot_loop_state loop = {0};
        if (ot_trainer_load_checkpoint(r->t, c->resume, r->config, r->ignore, &loop) != OT_OK) return cli_fail_lib();
        if (ot_batcher_set_position(r->b, &loop) != OT_OK) return cli_fail("--resume %s: %s", c->resume, ot_last_error());
    }
    rc = check_out_dir(c->out);
    if (!rc) rc = cli_log_open(&r->log, c->log, c->resume ? ot_trainer_steps_done(r->t) : -1, r->eb != NULL);
    return rc;
}

static int save_checkpoint(train_run *r) {
    ot_loop_state loop = {0};
    ot_batcher_get_position(r->b, &loop);
    loop.micro_batches = 0; /* saved between optimizer steps only */
    if (ot_trainer_save_checkpoint(r->t, r->c.checkpoint_dir, r->config, &loop) != OT_OK) return cli_fail_lib();
    return CLI_OK;
}

static int run_eval(train_run *r, int64_t step, int64_t epoch, cli_eval_result *ev) {
    int rc = cli_evaluate(r->t, r->eb, &r->ebd, ev);
    if (rc) return rc;
    if (ev->has_accuracy)
        cli_progress_note(&r->pg, "eval step %lld epoch %lld: loss %.6f accuracy %.4f (%lld samples)", (long long)step,
                          (long long)epoch, ev->loss, ev->accuracy, (long long)ev->samples);
    else
        cli_progress_note(&r->pg, "eval step %lld epoch %lld: loss %.6f (%lld samples)", (long long)step,
                          (long long)epoch, ev->loss, (long long)ev->samples);
    return CLI_OK;
}

/* One optimizer step: k micro-batches, each scaled by 1/k, where k is
   --accumulate or what is left of the epoch.  *loss is the mean of the
   micro-batch losses, each computed before the update. */
static int one_step(train_run *r, double *loss, double *lr, int64_t *samples, bool *epoch_end, int64_t *epoch) {
    const cli_train_cfg *c = &r->c;
    ot_loop_state pos = {0};
    ot_batcher_get_position(r->b, &pos);
    *epoch = pos.epoch + 1;
    int64_t left = r->batches_per_epoch - pos.cursor / c->batch_size;
    int64_t k = left < c->accumulate ? left : c->accumulate;
    if (k < 1) k = 1;
    double sum = 0;
    *samples = 0;
    *epoch_end = false;
    for (int64_t j = 0; j < k && !*epoch_end; j++) {
        ot_tensor **batch;
        int64_t rows;
        int end = 0;
        if (ot_batcher_fetch(r->b, &batch, &rows, &end) != OT_OK) return cli_fail_lib();
        double l;
        if (ot_trainer_accumulate(r->t, r->bd.n, r->bd.names, batch, 1.0 / (double)k, &l) != OT_OK)
            return cli_fail_lib();
        sum += l;
        *samples += rows;
        *epoch_end = end != 0;
        if (*epoch_end && j + 1 < k)
            return cli_fail("internal error: the epoch ended after %lld of %lld micro-batches", (long long)j + 1,
                            (long long)k);
    }
    if (ot_trainer_update(r->t, lr) != OT_OK) return cli_fail_lib();
    *loss = sum / (double)k;
    return CLI_OK;
}

static int train_loop(train_run *r) {
    const cli_train_cfg *c = &r->c;
    int64_t step = ot_trainer_steps_done(r->t);
    cli_progress_init(&r->pg, c->quiet, r->total, c->epochs, c->print_every, step);
    if (step >= r->total) {
        cli_progress_note(&r->pg, "onnxtrain: the run is complete already (step %lld of %lld); writing the model",
                          (long long)step, (long long)r->total);
        return CLI_OK;
    }
    if (c->resume) cli_progress_note(&r->pg, "resuming at step %lld of %lld", (long long)step, (long long)r->total);
    bool evaluated = false, saved = false;
    int64_t epoch = 1;
    while (step < r->total && !g_stop) {
        double t0 = cli_now(), loss = 0, lr = 0;
        int64_t samples;
        bool epoch_end;
        int rc = one_step(r, &loss, &lr, &samples, &epoch_end, &epoch);
        if (rc) return rc;
        step = ot_trainer_steps_done(r->t);
        double dt = cli_now() - t0, sps = dt > 0 ? (double)samples / dt : 0;
        cli_progress_step(&r->pg, step, epoch, loss, lr, samples, epoch_end);
        cli_eval_result ev, *evp = NULL;
        evaluated = false;
        if (r->eb && (c->eval_every > 0 ? step % c->eval_every == 0 : epoch_end)) {
            if ((rc = run_eval(r, step, epoch, &ev))) return rc;
            evp = &ev;
            evaluated = true;
        }
        /* validation after the last step too, so that a run always ends with one */
        if (r->eb && !evaluated && step >= r->total && !g_stop) {
            if ((rc = run_eval(r, step, epoch, &ev))) return rc;
            evp = &ev;
            evaluated = true;
        }
        if ((rc = cli_log_row(&r->log, step, epoch, loss, lr, sps, evp))) return rc;
        saved = false;
        if (c->checkpoint_dir && c->save_every > 0 && step % c->save_every == 0) {
            if ((rc = save_checkpoint(r))) return rc;
            saved = true;
        }
    }
    cli_progress_done(&r->pg);
    if (c->checkpoint_dir && !saved) {
        int rc = save_checkpoint(r);
        if (rc) return rc;
    }
    if (g_stop) {
        cli_progress_note(&r->pg, "onnxtrain: %s at step %lld of %lld%s%s", g_stop == SIGINT ? "interrupted" : "terminated",
                          (long long)step, (long long)r->total, c->checkpoint_dir ? "; checkpoint saved to " : "; no --checkpoint-dir, nothing saved",
                          c->checkpoint_dir ? c->checkpoint_dir : "");
        return 128 + (int)g_stop;
    }
    return CLI_OK;
}

static int finish(train_run *r, double seconds) {
    const cli_train_cfg *c = &r->c;
    if (ot_trainer_export(r->t) != OT_OK) return cli_fail_lib();
    if (ot_model_save(r->m, c->out, NULL) != OT_OK) return cli_fail_lib();
    if (!c->quiet) {
        printf("trained %lld steps in %.1f s; wrote ", (long long)ot_trainer_steps_done(r->t), seconds);
        cli_put_text(stdout, c->out);
        printf("\n");
    }
    return CLI_OK;
}

static void cleanup(train_run *r) {
    cli_log_close(&r->log);
    ot_trainer_free(r->t);
    ot_batcher_free(r->b);
    ot_batcher_free(r->eb);
    cli_binding_free(&r->bd);
    cli_binding_free(&r->ebd);
    ot_dataset_free(r->ds);
    ot_dataset_free(r->eds);
    ot_model_free(r->m);
    free(r->config);
    cli_train_cfg_free(&r->c);
}

static int train_main(int argc, char **argv) {
    train_run r;
    memset(&r, 0, sizeof r);
    int rc = cli_train_parse(CLI_MODE_TRAIN, &cli_cmd_train, argc, argv, &r.c);
    if (rc) {
        cli_train_cfg_free(&r.c);
        return rc < 0 ? CLI_OK : rc;
    }
    double t0 = cli_now();
    g_stop = 0;
    install_handlers();
    rc = setup(&r);
    if (!rc) rc = train_loop(&r);
    if (!rc) rc = finish(&r, cli_now() - t0);
    int lrc = cli_log_close(&r.log);
    if (!rc) rc = lrc;
    cleanup(&r);
    return rc;
}

const cli_command cli_cmd_train = {
    .name = "train",
    .summary = "train a model on data files and write the trained model",
    .help = train_help,
    .main = train_main,
};
