/* `onnxtrain bench MODEL [--train] --steps K`: times training steps (with
 * --train) or inference runs (without).  W warm-up steps (compilation,
 * first-touch of the arena, scratch re-planning) are not timed; then K steps
 * are, one by one, on synthetic batches (ot_trainer_example_batch,
 * ot_model_example_inputs) or, with --data, on real ones from the batcher.
 * Reports the median step time with p10/p90, samples/s, achieved GFLOP/s
 * (FLOPs from ot_trainer_plan / ot_session_plan) and the process's peak
 * resident memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "train.h"

static const char bench_help[] =
    "usage: onnxtrain bench MODEL [--train] [--steps K] [--warmup W] [options]\n"
    "\n"
    "Time training steps (forward, loss, backward and the optimizer update) of the\n"
    "model with --train, or inference runs (the graph as written) without: W\n"
    "untimed warm-up steps, then K timed ones.  Prints the median step time with\n"
    "the 10th and 90th percentiles, samples per second (batch / median), the\n"
    "achieved GFLOP/s (FLOPs of the compiled step / median) and the peak resident\n"
    "memory of the process.  With --train parameters change as in training: the\n"
    "optimizer really steps.\n"
    "\n"
    "options:\n"
    "  --train              benchmark training steps (default: inference)\n"
    "  --steps K            timed steps (default 20)\n"
    "  --warmup W           untimed steps first (default 3)\n"
    "  --batch-size N       samples per step (default 32; a model whose batch axis\n"
    "                       is fixed uses its own)\n"
    "  --dim NAME=N         size of a symbolic input dimension other than the batch\n"
    "                       (default 1); repeat\n"
    "  --data SPEC          real batches from data files (as for `train`: FILE.npz\n"
    "                       or NAME=FILE; repeat), visited in order (--no-shuffle) or\n"
    "                       shuffled (--seed); partial batches are skipped.  Default:\n"
    "                       synthetic inputs valid for the model (random normal\n"
    "                       floats, indices and labels in range), the same each step\n"
    "  --accumulate N       one optimizer step per N micro-batches\n"
    "  --threads N          threads (default 0: one per core)\n"
    "  --json               print exactly one JSON object on stdout (keys:\n"
    "                       step_ms_median, step_ms_p10, step_ms_p90, step_ms_mean,\n"
    "                       step_ms_min, samples_per_s, gflops, flops_per_step,\n"
    "                       peak_rss_bytes, batch, steps, warmup, threads, fused,\n"
    "                       recompute,\n"
    "                       kernels, arena_bytes, persistent_bytes, loss_first,\n"
    "                       loss_last)\n"
    "  --no-fuse            compile the step without fusion (for comparison)\n"
    "  --recompute          recompute cheap activations (elementwise chains, norms)\n"
    "                       in the backward pass instead of keeping them\n"
    "  -q, --quiet          no warnings about unused data arrays\n"
    "  -h, --help           show this help\n"
    "\n"
    "The loss, optimizer and schedule options of `train` apply (--loss, --output,\n"
    "--labels, --optimizer, --lr, --momentum, --weight-decay, --freeze, --trainable,\n"
    "--clip-grad-norm, ...; see 'onnxtrain train --help').  Without --train only\n"
    "--steps, --warmup, --batch-size, --dim, --data (model inputs only), --seed,\n"
    "--no-shuffle, the data-reading options, --threads, --json, --no-fuse and -q\n"
    "apply; the others are refused.\n"
    "\n"
    "exit status: 0 success, 1 the model or a step failed, 2 bad command line\n";

typedef struct bench_opts {
    bool train, no_fuse, recompute;
    int64_t warmup;
    cli_dims dims;
} bench_opts;

static int bench_option(cli_args *a, void *ctx) {
    bench_opts *o = ctx;
    const char *v;
    bool *flag = !strcmp(a->opt, "--train")       ? &o->train
                 : !strcmp(a->opt, "--no-fuse")   ? &o->no_fuse
                 : !strcmp(a->opt, "--recompute") ? &o->recompute
                                                  : NULL;
    if (flag) {
        if (!cli_args_no_value(a)) return CLI_USAGE;
        *flag = true;
        return CLI_OK;
    }
    if (!strcmp(a->opt, "--warmup")) {
        long w;
        if (!cli_args_value(a, &v)) return CLI_USAGE;
        if (!cli_parse_int(v, 0, 1000000, &w)) return cli_usage(a->cmd, "--warmup needs a whole number from 0 to 1000000, not '%s'", v);
        o->warmup = w;
        return CLI_OK;
    }
    if (!strcmp(a->opt, "--dim")) {
        if (!cli_args_value(a, &v)) return CLI_USAGE;
        return cli_dims_add(a->cmd, &o->dims, v);
    }
    return CLI_OPT_UNKNOWN;
}

/* Where each step's micro-batches come from. */
typedef struct bench_src {
    /* synthetic: one batch, reused */
    ot_tensor **example;
    int n_example;
    const char *names[65];
    /* --data */
    ot_dataset *ds;
    cli_binding bd;
    ot_batcher *b;
    int n_outputs; /* inference: tensors each run returns */
} bench_src;

static void src_free(bench_src *s) {
    for (int i = 0; i < s->n_example; i++) ot_tensor_free(s->example[i]);
    if (s->example) ot_free_array(s->example);
    ot_batcher_free(s->b);
    cli_binding_free(&s->bd);
    ot_dataset_free(s->ds);
}

/* t NULL: inference, the model's inputs only. */
static int src_open(const cli_train_cfg *c, const bench_opts *o, ot_model *m, ot_trainer *t, bench_src *s) {
    s->n_outputs = ot_model_output_count(m);
    if (!c->n_data) {
        ot_status st = t ? ot_trainer_example_batch(t, c->batch_size, o->dims.n, o->dims.names, o->dims.values,
                                                    &s->example, &s->n_example)
                         : ot_model_example_inputs(m, c->batch_size, o->dims.n, o->dims.names, o->dims.values,
                                                   &s->example, &s->n_example);
        if (st != OT_OK) return cli_fail_lib();
        if (s->n_example > 64) return cli_fail("more than 64 model inputs");
        for (int i = 0; i < s->n_example; i++) {
            ot_value_info v;
            s->names[i] = t ? ot_trainer_binding_name(t, i) : ot_model_input(m, i, &v) == OT_OK ? v.name : NULL;
        }
        return CLI_OK;
    }
    int rc = cli_data_load(c, "--data", c->data, c->n_data, &s->ds);
    if (!rc) rc = cli_data_bind(c, m, s->ds, "--data", &s->bd);
    if (rc) return rc;
    if (ot_dataset_samples(s->ds) < c->batch_size)
        return cli_fail("--data has %lld samples, fewer than one batch of %lld (bench times full batches only)",
                        (long long)ot_dataset_samples(s->ds), (long long)c->batch_size);
    /* drop_last: every timed step sees the same shapes */
    if (ot_batcher_open(s->ds, s->bd.bind, s->bd.n, c->batch_size, !c->no_shuffle, 1, c->seed, &s->b) != OT_OK)
        return cli_fail("--data: %s", ot_last_error());
    return CLI_OK;
}

/* The next micro-batch: the synthetic one again, or the batcher's next. */
static int next_batch(bench_src *s, ot_tensor ***batch, const char *const **names, int *n, int64_t *rows) {
    *batch = s->example;
    *names = s->names;
    *n = s->n_example;
    *rows = s->n_example && ot_tensor_rank(s->example[0]) > 0 ? ot_tensor_dims(s->example[0])[0] : 1;
    if (s->b) {
        if (ot_batcher_fetch(s->b, batch, rows, NULL) != OT_OK) return cli_fail_lib();
        *names = s->bd.names;
        *n = s->bd.n;
    }
    return CLI_OK;
}

/* One timed unit: with a trainer, an optimizer step of `accumulate`
   micro-batches (*loss: their mean loss); else one inference run (*loss NaN).
   *rows: samples used. */
static int one_step(const cli_train_cfg *c, ot_trainer *t, ot_session *sess, bench_src *s, double *loss, int64_t *rows) {
    double sum = 0;
    *rows = 0;
    for (int64_t j = 0; j < (t ? c->accumulate : 1); j++) {
        ot_tensor **batch, **outs;
        const char *const *names;
        int n;
        int64_t r;
        if (next_batch(s, &batch, &names, &n, &r)) return CLI_FAIL;
        *rows += r;
        if (!t) {
            if (ot_session_run(sess, n, names, batch, &outs) != OT_OK) return cli_fail_lib();
            for (int k = 0; k < s->n_outputs; k++) ot_tensor_free(outs[k]);
            ot_free_array(outs);
            *loss = NAN;
            return CLI_OK;
        }
        double l;
        if (ot_trainer_accumulate(t, n, names, batch, 1.0 / (double)c->accumulate, &l) != OT_OK) return cli_fail_lib();
        sum += l;
    }
    if (ot_trainer_update(t, NULL) != OT_OK) return cli_fail_lib();
    *loss = sum / (double)c->accumulate;
    return CLI_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Linear interpolation between closest ranks (numpy's default). */
static double percentile(const double *sorted, int64_t n, double q) {
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - (double)lo);
}

/* The sizes of the model's symbolic non-batch dims in the first data batch,
   so that the plan (and its FLOPs) is the one the data runs. */
static int dims_from_batch(const ot_model *m, bench_src *s, cli_dims *dims) {
    if (!s->b) return CLI_OK;
    ot_tensor **batch;
    int64_t rows;
    if (ot_batcher_fetch(s->b, &batch, &rows, NULL) != OT_OK) return cli_fail_lib();
    for (int i = 0; i < ot_model_input_count(m) && i < s->bd.n; i++) {
        ot_value_info v;
        if (ot_model_input(m, i, &v) != OT_OK) return cli_fail_lib();
        for (int d = 1; d < v.rank && d < ot_tensor_rank(batch[i]); d++) {
            if (!v.dim_names[d] || !v.dim_names[d][0]) continue;
            bool given = false;
            for (int k = 0; k < dims->n; k++) given |= !strcmp(dims->names[k], v.dim_names[d]);
            char spec[512];
            snprintf(spec, sizeof spec, "%s=%lld", v.dim_names[d], (long long)ot_tensor_dims(batch[i])[d]);
            if (!given && cli_dims_add("bench", dims, spec)) return CLI_FAIL;
        }
    }
    return CLI_OK;
}

/* The process's peak resident set.  Linux's VmHWM, not getrusage: after
   fork + exec, ru_maxrss keeps the parent's peak (a benchmark driver
   started from a 200 MiB Python would report 200 MiB). */
static uint64_t peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
            found = true;
            break;
        }
    if (f) fclose(f);
    if (found) return (uint64_t)kib * 1024u;
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_maxrss * 1024u : 0; /* KiB on Linux */
}

typedef struct bench_result {
    double median, p10, p90, mean, min, loss_first, loss_last;
    int64_t batch;
    uint64_t peak_rss;
    ot_plan_summary plan;
} bench_result;

static void print_result(const cli_train_cfg *c, const bench_opts *o, const bench_result *r) {
    double sps = r->median > 0 ? (double)r->batch / r->median : 0;
    double gflops = r->median > 0 ? r->plan.flops * (double)c->accumulate / r->median / 1e9 : 0;
    if (c->json) {
        printf("{\"model\": ");
        cli_json_string(stdout, c->model);
        printf(", \"mode\": \"%s\"", o->train ? "train" : "inference");
        printf(", \"batch\": %lld, \"accumulate\": %lld, \"steps\": %lld, \"warmup\": %lld, \"threads\": %lld, "
               "\"fused\": %s, \"recompute\": %s, "
               "\"step_ms_median\": %.6f, \"step_ms_p10\": %.6f, \"step_ms_p90\": %.6f, \"step_ms_mean\": %.6f, "
               "\"step_ms_min\": %.6f, \"samples_per_s\": %.6g, \"gflops\": %.6g, \"flops_per_step\": %.17g, "
               "\"peak_rss_bytes\": %llu, \"ops\": %lld, \"kernels\": %lld, \"arena_bytes\": %llu, "
               "\"persistent_bytes\": %llu, ",
               (long long)r->batch, (long long)c->accumulate, (long long)c->steps, (long long)o->warmup,
               (long long)c->threads, c->o.no_fuse ? "false" : "true",
               c->o.recompute ? "true" : "false", r->median * 1e3, r->p10 * 1e3, r->p90 * 1e3, r->mean * 1e3, r->min * 1e3, sps,
               gflops, r->plan.flops * (double)c->accumulate, (unsigned long long)r->peak_rss, (long long)r->plan.ops,
               (long long)r->plan.kernels, (unsigned long long)r->plan.arena_bytes,
               (unsigned long long)r->plan.persistent_bytes);
        if (o->train) printf("\"loss_first\": %.9g, \"loss_last\": %.9g", r->loss_first, r->loss_last);
        else printf("\"loss_first\": null, \"loss_last\": null");
        printf(", \"data\": %s}\n", c->n_data ? "\"files\"" : "\"synthetic\"");
        return;
    }
    printf("model: ");
    cli_put_text(stdout, c->model);
    char threads[32];
    snprintf(threads, sizeof threads, "%lld", (long long)c->threads);
    printf("\n%s, batch %lld%s, %lld timed steps after %lld warm-up, %s data, threads: %s%s%s\n",
           o->train ? "training" : "inference", (long long)r->batch,
           c->accumulate > 1 ? " (accumulated)" : "", (long long)c->steps, (long long)o->warmup,
           c->n_data ? "file" : "synthetic", c->threads ? threads : "one per core", c->o.no_fuse ? ", not fused" : "",
           c->o.recompute ? ", recomputing" : "");
    printf("step time:   median %.3f ms  (p10 %.3f, p90 %.3f, mean %.3f, min %.3f)\n", r->median * 1e3, r->p10 * 1e3,
           r->p90 * 1e3, r->mean * 1e3, r->min * 1e3);
    printf("throughput:  %.1f samples/s\n", sps);
    printf("compute:     %.3f GFLOP/s  (%.4g FLOPs per step, %lld kernels)\n", gflops,
           r->plan.flops * (double)c->accumulate, (long long)r->plan.kernels);
    printf("memory:      peak RSS %.1f MiB  (arena %.2f MiB, persistent %.2f MiB)\n",
           (double)r->peak_rss / (1024.0 * 1024.0), (double)r->plan.arena_bytes / (1024.0 * 1024.0),
           (double)r->plan.persistent_bytes / (1024.0 * 1024.0));
    if (o->train) printf("loss:        %.6g -> %.6g\n", r->loss_first, r->loss_last);
}

static int bench_run(cli_train_cfg *c, bench_opts *o) {
    ot_model *m = NULL;
    ot_trainer *t = NULL;
    ot_session *sess = NULL;
    bench_src src;
    memset(&src, 0, sizeof src);
    double *times = NULL;
    int rc = CLI_OK;
    if (ot_model_load(c->model, &m) != OT_OK) return cli_fail_lib();
    c->o.total_steps = o->warmup + c->steps;
    if (o->train) {
        ot_status s = ot_trainer_create(m, &c->o, &t);
        if (s != OT_OK) {
            rc = cli_trainer_create_failed(c, s);
            goto out;
        }
    } else {
        ot_session_options so = {(int)c->threads, c->o.no_fuse};
        if (ot_session_create(m, &so, &sess) != OT_OK) {
            rc = cli_fail_lib();
            goto out;
        }
        c->o.loss = OT_LOSS_OUTPUT; /* --data binds the model's inputs only */
    }
    if ((rc = src_open(c, o, m, t, &src))) goto out;
    if ((rc = dims_from_batch(m, &src, &o->dims))) goto out;
    bench_result r;
    memset(&r, 0, sizeof r);
    double loss;
    int64_t rows;
    for (int64_t i = 0; i < o->warmup; i++)
        if ((rc = one_step(c, t, sess, &src, &loss, &rows))) goto out;
    /* After the warm-up: the plan is the program the steps run, re-planned
       for the scratch its kernels measured. */
    if (t && ot_trainer_plan(t, c->batch_size, o->dims.n, o->dims.names, o->dims.values, NULL, &r.plan) != OT_OK) {
        rc = cli_fail_lib();
        goto out;
    }
    if (!(times = malloc(sizeof(double) * (size_t)c->steps))) {
        rc = cli_fail("out of memory");
        goto out;
    }
    for (int64_t i = 0; i < c->steps; i++) {
        double t0 = cli_now();
        if ((rc = one_step(c, t, sess, &src, &loss, &rows))) goto out;
        times[i] = cli_now() - t0;
        if (i == 0) r.loss_first = loss;
        r.loss_last = loss;
        r.batch = rows;
        r.mean += times[i] / (double)c->steps;
    }
    qsort(times, (size_t)c->steps, sizeof *times, cmp_double);
    r.min = times[0];
    r.median = percentile(times, c->steps, 0.5);
    r.p10 = percentile(times, c->steps, 0.1);
    r.p90 = percentile(times, c->steps, 0.9);
    r.peak_rss = peak_rss_bytes();
    /* Inference: the program the last run used (the session compiles per input shape). */
    if (sess && ot_session_plan(sess, &r.plan) != OT_OK) {
        rc = cli_fail_lib();
        goto out;
    }
    print_result(c, o, &r);
out:
    free(times);
    src_free(&src);
    ot_trainer_free(t);
    ot_session_free(sess);
    ot_model_free(m);
    return rc;
}

static int bench_main(int argc, char **argv) {
    cli_train_cfg c;
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.warmup = 3;
    int rc = cli_train_parse_with(CLI_MODE_BENCH, &cli_cmd_bench, argc, argv, &c, bench_option, &o);
    /* Inference runs the graph as written: a training flag would be parsed and not honoured. */
    static const char *const inference_opts[] = {"steps", "batch-size", "data", "seed", "no-shuffle", "input-scale",
                                                 "csv-delimiter", "label-column", "threads", "quiet", "json"};
    for (int i = 0; !rc && !o.train && i < c.n_given; i++) {
        bool ok = false;
        for (size_t k = 0; k < sizeof inference_opts / sizeof *inference_opts; k++) ok |= !strcmp(c.given[i], inference_opts[k]);
        if (!ok) rc = cli_usage(argv[0], "--%s needs --train (without it bench times inference)", c.given[i]);
    }
    if (!rc && !o.train && o.recompute) rc = cli_usage(argv[0], "--recompute needs --train (without it bench times inference)");
    c.o.no_fuse = o.no_fuse;
    c.o.recompute = o.recompute;
    if (!rc) {
        if (!c.steps) c.steps = 20;
        rc = bench_run(&c, &o);
    }
    cli_dims_free(&o.dims);
    cli_train_cfg_free(&c);
    return rc < 0 ? CLI_OK : rc;
}

const cli_command cli_cmd_bench = {
    .name = "bench",
    .summary = "time training steps or inference: step time, samples/s, GFLOP/s, peak memory",
    .help = bench_help,
    .main = bench_main,
};
