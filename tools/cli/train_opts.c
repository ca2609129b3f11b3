/* Options of `train` and `eval` (and the training flags of `bench` and
 * `info --train`): one table says which command takes an option, how its
 * value is parsed, and whether it belongs to the training configuration a
 * checkpoint records (a resume must repeat those). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

typedef enum opt_kind {
    K_FLAG,   /* bool */
    K_INT,    /* int64_t in [lo, hi] */
    K_U64,    /* uint64_t */
    K_DOUBLE, /* finite double */
    K_STR,    /* const char *, non-empty */
    K_CHOICE, /* const char *, one of `choices` */
    K_LIST    /* repeated: the --data lists, handled by name */
} opt_kind;

enum {
    M_TRAIN = CLI_MODE_TRAIN,
    M_EVAL = CLI_MODE_EVAL,
    M_BENCH = CLI_MODE_BENCH,
    M_INFO = CLI_MODE_INFO,
    M_BOTH = M_TRAIN | M_EVAL,
    M_DATA = M_BOTH | M_BENCH,            /* what reads data */
    M_OPTIM = M_TRAIN | M_BENCH | M_INFO, /* what builds a training step */
    M_ALL = M_DATA | M_INFO
};

typedef struct opt_def {
    const char *name; /* without the leading "--" */
    const char *alias;
    opt_kind kind;
    size_t off;
    unsigned modes;
    bool config; /* recorded in checkpoints and compared on --resume */
    int64_t lo, hi;
    const char *choices;
} opt_def;

#define F(field) offsetof(cli_train_cfg, field)
#define BIG INT64_MAX
static const opt_def opts[] = {
    {"out", "-o", K_STR, F(out), M_TRAIN, false, 0, 0, NULL},
    {"data", NULL, K_LIST, 0, M_DATA, false, 0, 0, NULL},
    {"eval-data", NULL, K_LIST, 0, M_TRAIN, false, 0, 0, NULL},
    {"loss", NULL, K_STR, F(loss), M_ALL, true, 0, 0, NULL},
    {"output", NULL, K_STR, F(output), M_ALL, true, 0, 0, NULL},
    {"labels", NULL, K_STR, F(labels), M_ALL, true, 0, 0, NULL},
    {"class-axis", NULL, K_INT, F(class_axis), M_ALL, true, 0, OT_MAX_RANK - 1, NULL},
    {"ignore-index", NULL, K_INT, F(ignore_index), M_ALL, true, INT64_MIN, BIG, NULL},
    {"optimizer", NULL, K_CHOICE, F(optimizer), M_OPTIM, true, 0, 0, "sgd|momentum|nesterov|adam|adamw|adagrad"},
    {"lr", NULL, K_DOUBLE, F(lr), M_OPTIM, true, 0, 0, NULL},
    {"momentum", NULL, K_DOUBLE, F(momentum), M_OPTIM, true, 0, 0, NULL},
    {"dampening", NULL, K_DOUBLE, F(dampening), M_OPTIM, true, 0, 0, NULL},
    {"beta1", NULL, K_DOUBLE, F(beta1), M_OPTIM, true, 0, 0, NULL},
    {"beta2", NULL, K_DOUBLE, F(beta2), M_OPTIM, true, 0, 0, NULL},
    {"eps", NULL, K_DOUBLE, F(eps), M_OPTIM, true, 0, 0, NULL},
    {"weight-decay", NULL, K_DOUBLE, F(weight_decay), M_OPTIM, true, 0, 0, NULL},
    {"lr-decay", NULL, K_DOUBLE, F(lr_decay), M_OPTIM, true, 0, 0, NULL},
    {"initial-accumulator", NULL, K_DOUBLE, F(initial_accumulator), M_OPTIM, true, 0, 0, NULL},
    {"lr-schedule", NULL, K_CHOICE, F(lr_schedule), M_OPTIM, true, 0, 0, "constant|linear|cosine|step"},
    {"warmup-steps", NULL, K_INT, F(warmup_steps), M_OPTIM, true, 0, BIG, NULL},
    {"min-lr", NULL, K_DOUBLE, F(min_lr), M_OPTIM, true, 0, 0, NULL},
    {"gamma", NULL, K_DOUBLE, F(gamma), M_OPTIM, true, 0, 0, NULL},
    {"step-size", NULL, K_INT, F(step_size), M_OPTIM, true, 1, BIG, NULL},
    {"clip-grad-norm", NULL, K_DOUBLE, F(clip_grad_norm), M_OPTIM, true, 0, 0, NULL},
    {"accumulate", NULL, K_INT, F(accumulate), M_TRAIN | M_BENCH, true, 1, 1 << 30, NULL},
    {"freeze", NULL, K_STR, F(freeze), M_OPTIM, true, 0, 0, NULL},
    {"trainable", NULL, K_STR, F(trainable), M_OPTIM, true, 0, 0, NULL},
    {"input-scale", NULL, K_DOUBLE, F(input_scale), M_DATA, true, 0, 0, NULL},
    {"csv-delimiter", NULL, K_STR, F(csv_delimiter), M_DATA, true, 0, 0, NULL},
    {"label-column", NULL, K_STR, F(label_column), M_DATA, true, 0, 0, NULL},
    {"batch-size", NULL, K_INT, F(batch_size), M_ALL, true, 1, (int64_t)1 << 40, NULL},
    {"epochs", NULL, K_INT, F(epochs), M_TRAIN, false, 1, (int64_t)1 << 40, NULL},
    {"steps", NULL, K_INT, F(steps), M_TRAIN | M_BENCH, false, 1, (int64_t)1 << 50, NULL},
    {"seed", NULL, K_U64, F(seed), M_OPTIM, true, 0, 0, NULL},
    {"no-shuffle", NULL, K_FLAG, F(no_shuffle), M_TRAIN | M_BENCH, true, 0, 0, NULL},
    {"drop-last", NULL, K_FLAG, F(drop_last), M_TRAIN, true, 0, 0, NULL},
    {"no-fuse", NULL, K_FLAG, F(no_fuse), M_TRAIN | M_EVAL, false, 0, 0, NULL},
    {"recompute", NULL, K_FLAG, F(recompute), M_TRAIN, false, 0, 0, NULL},
    {"threads", NULL, K_INT, F(threads), M_DATA, false, 0, 4096, NULL},
    {"log", NULL, K_STR, F(log), M_TRAIN, false, 0, 0, NULL},
    {"quiet", "-q", K_FLAG, F(quiet), M_DATA, false, 0, 0, NULL},
    {"print-every", NULL, K_INT, F(print_every), M_TRAIN, false, 1, BIG, NULL},
    {"eval-every", NULL, K_INT, F(eval_every), M_TRAIN, false, 0, BIG, NULL},
    {"checkpoint-dir", NULL, K_STR, F(checkpoint_dir), M_TRAIN, false, 0, 0, NULL},
    {"save-every", NULL, K_INT, F(save_every), M_TRAIN, false, 1, BIG, NULL},
    {"resume", NULL, K_STR, F(resume), M_TRAIN, false, 0, 0, NULL},
    {"metric", NULL, K_CHOICE, F(metric), M_EVAL, false, 0, 0, "accuracy|loss"},
    {"json", NULL, K_FLAG, F(json), M_EVAL | M_BENCH, false, 0, 0, NULL},
};
enum { N_OPTS = sizeof opts / sizeof opts[0] };

static void set_defaults(cli_train_cfg *c, cli_mode mode) {
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->loss = "cross-entropy";
    c->labels = "labels";
    c->class_axis = -1;
    c->ignore_index = -100;
    c->optimizer = "adam";
    c->lr = c->momentum = c->dampening = c->beta1 = c->beta2 = c->eps = NAN;
    c->weight_decay = c->lr_decay = c->initial_accumulator = NAN;
    c->lr_schedule = "constant";
    c->gamma = 0.1;
    c->accumulate = 1;
    c->input_scale = 1.0;
    c->batch_size = mode == CLI_MODE_INFO ? 1 : 32; /* info: the figures of one sample */
    c->print_every = 50;
    c->eval_every = -1;
}

static const opt_def *find_opt(const char *opt, cli_mode mode, bool *other_mode) {
    *other_mode = false;
    for (int i = 0; i < N_OPTS; i++) {
        const opt_def *d = &opts[i];
        bool hit = (opt[0] == '-' && opt[1] == '-' && !strcmp(opt + 2, d->name)) || (d->alias && !strcmp(opt, d->alias));
        if (!hit) continue;
        if (d->modes & mode) return d;
        *other_mode = true;
    }
    return NULL;
}

static bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || (errno == ERANGE && fabs(v) > 1)) return false;
    *out = v;
    return true;
}

/* "a|b|c" contains v as a whole entry. */
static int choice_index(const char *choices, const char *v) {
    size_t n = strlen(v);
    int k = 0;
    for (const char *p = choices;; k++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return k;
        if (!bar) return -1;
        p = bar + 1;
    }
}

static int set_value(const char *cmd, const opt_def *d, const char *val, cli_train_cfg *c) {
    void *field = (char *)c + d->off;
    switch (d->kind) {
    case K_INT:
        if (!parse_i64(val, d->lo, d->hi, field)) {
            if (d->hi == BIG)
                return cli_usage(cmd, "--%s needs a whole number >= %lld, not '%s'", d->name, (long long)d->lo, val);
            return cli_usage(cmd, "--%s needs a whole number from %lld to %lld, not '%s'", d->name, (long long)d->lo,
                             (long long)d->hi, val);
        }
        return CLI_OK;
    case K_U64:
        if (!parse_u64(val, field)) return cli_usage(cmd, "--%s needs a whole number >= 0, not '%s'", d->name, val);
        return CLI_OK;
    case K_DOUBLE:
        if (!parse_double(val, field)) return cli_usage(cmd, "--%s needs a finite number, not '%s'", d->name, val);
        return CLI_OK;
    case K_CHOICE:
        if (choice_index(d->choices, val) < 0) {
            char alts[128];
            snprintf(alts, sizeof alts, "%s", d->choices);
            for (char *p = alts; *p; p++)
                if (*p == '|') *p = ',';
            return cli_usage(cmd, "--%s must be one of %s, not '%s'", d->name, alts, val);
        }
        *(const char **)field = val;
        return CLI_OK;
    case K_STR:
        if (!*val) return cli_usage(cmd, "--%s needs a non-empty value", d->name);
        *(const char **)field = val;
        return CLI_OK;
    default: return cli_usage(cmd, "internal: option --%s has no parser", d->name);
    }
}

/* The checks that need every option: combinations, and values whose form
   only the CLI defines (--loss, --csv-delimiter). */
static int check_combination(const char *cmd, cli_train_cfg *c) {
    if (!c->model) return cli_usage(cmd, "missing MODEL");
    bool needs_data = c->mode == CLI_MODE_TRAIN || c->mode == CLI_MODE_EVAL;
    if (needs_data && c->n_data == 0) return cli_usage(cmd, "missing --data (the %s data)", c->mode == CLI_MODE_TRAIN ? "training" : "evaluation");
    const char *losses = "cross-entropy|mse|bce-logits|l1";
    if (!strncmp(c->loss, "output:", 7)) {
        if (!c->loss[7]) return cli_usage(cmd, "--loss output:NAME needs the name of a graph output");
    } else if (choice_index(losses, c->loss) < 0) {
        return cli_usage(cmd, "--loss must be cross-entropy, mse, bce-logits, l1 or output:NAME, not '%s'", c->loss);
    }
    if (c->csv_delimiter) {
        const char *d = c->csv_delimiter;
        if (!strcmp(d, "\\t") || !strcmp(d, "tab")) c->csv_delimiter = "\t";
        else if (strlen(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
            return cli_usage(cmd, "--csv-delimiter needs one character (or \\t / tab), not '%s'", d);
    }
    if (c->input_scale == 0) return cli_usage(cmd, "--input-scale must not be 0");
    if (c->mode != CLI_MODE_TRAIN && c->mode != CLI_MODE_EVAL) return CLI_OK; /* bench, info */
    if (c->mode == CLI_MODE_EVAL) {
        if (c->metric && !strcmp(c->metric, "accuracy") && strcmp(c->loss, "cross-entropy"))
            return cli_usage(cmd, "--metric accuracy needs --loss cross-entropy (accuracy is the arg-max of the class scores)");
        return CLI_OK;
    }
    if (!c->out) return cli_usage(cmd, "missing -o OUT.onnx (where the trained model is written)");
    if (!c->epochs && !c->steps) return cli_usage(cmd, "give --epochs N or --steps N");
    if (c->epochs && c->steps) return cli_usage(cmd, "--epochs and --steps exclude each other");
    if (c->eval_every >= 0 && !c->n_eval_data) return cli_usage(cmd, "--eval-every needs --eval-data");
    if (c->save_every && !c->checkpoint_dir) return cli_usage(cmd, "--save-every needs --checkpoint-dir");
    if (c->n_eval_data && c->eval_every < 0) c->eval_every = 0;
    return CLI_OK;
}

static void fill_train_options(cli_train_cfg *c) {
    ot_train_options *o = &c->o;
    ot_train_options_init(o);
    if (!strncmp(c->loss, "output:", 7)) {
        o->loss = OT_LOSS_OUTPUT;
        o->loss_output = c->loss + 7;
    } else {
        static const ot_loss_kind kinds[] = {OT_LOSS_CROSS_ENTROPY, OT_LOSS_MSE, OT_LOSS_BCE_LOGITS, OT_LOSS_L1};
        o->loss = kinds[choice_index("cross-entropy|mse|bce-logits|l1", c->loss)];
    }
    o->output = c->output;
    o->labels = c->labels;
    o->class_axis = (int)c->class_axis;
    o->ignore_index = c->ignore_index;
    static const ot_optimizer_kind optims[] = {OT_OPTIM_SGD,  OT_OPTIM_MOMENTUM, OT_OPTIM_NESTEROV,
                                               OT_OPTIM_ADAM, OT_OPTIM_ADAMW,    OT_OPTIM_ADAGRAD};
    o->optimizer = optims[choice_index("sgd|momentum|nesterov|adam|adamw|adagrad", c->optimizer)];
    o->lr = c->lr;
    o->momentum = c->momentum;
    o->dampening = c->dampening;
    o->beta1 = c->beta1;
    o->beta2 = c->beta2;
    o->eps = c->eps;
    o->weight_decay = c->weight_decay;
    o->lr_decay = c->lr_decay;
    o->initial_accumulator = c->initial_accumulator;
    static const ot_lr_schedule_kind scheds[] = {OT_LR_CONSTANT, OT_LR_LINEAR, OT_LR_COSINE, OT_LR_STEP};
    o->schedule = scheds[choice_index("constant|linear|cosine|step", c->lr_schedule)];
    o->warmup_steps = c->warmup_steps;
    o->step_size = c->step_size;
    o->min_lr = c->min_lr;
    o->gamma = c->gamma;
    o->clip_grad_norm = c->clip_grad_norm;
    if (c->no_fuse) o->no_fuse = 1;
    if (c->recompute) o->recompute = 1;
    o->freeze = c->freeze;
    o->trainable = c->trainable;
    o->seed = c->seed;
    o->threads = (int)c->threads;

    ot_dataset_options *d = &c->dopt;
    memset(d, 0, sizeof *d);
    d->labels = c->labels;
    d->csv_delimiter = c->csv_delimiter ? c->csv_delimiter[0] : 0;
    d->label_column = c->label_column;
    d->input_scale = c->input_scale;
}

const char *cli_mode_name(cli_mode mode) {
    switch (mode) {
    case CLI_MODE_TRAIN: return "train";
    case CLI_MODE_EVAL: return "eval";
    case CLI_MODE_BENCH: return "bench";
    case CLI_MODE_INFO: return "info";
    }
    return "?";
}

int cli_train_parse(cli_mode mode, const cli_command *cmd, int argc, char **argv, cli_train_cfg *c) {
    return cli_train_parse_with(mode, cmd, argc, argv, c, NULL, NULL);
}

int cli_train_parse_with(cli_mode mode, const cli_command *cmd, int argc, char **argv, cli_train_cfg *c,
                         cli_extra_option extra, void *ctx) {
    set_defaults(c, mode);
    /* every --data takes an argument of its own: argc bounds the lists */
    c->data = calloc((size_t)argc + 1, sizeof *c->data);
    c->eval_data = calloc((size_t)argc + 1, sizeof *c->eval_data);
    if (!c->data || !c->eval_data) return cli_fail("out of memory");
    cli_args a;
    cli_args_init(&a, argc, argv);
    const char *pos, *val;
    for (int k; (k = cli_args_next(&a, &pos)) != CLI_ARG_END;) {
        if (k == CLI_ARG_POS) {
            if (c->model) return cli_usage(a.cmd, "unexpected argument '%s' (one MODEL expected; data is given with --data)", pos);
            c->model = pos;
            continue;
        }
        if (cli_is_help(a.opt)) {
            cli_print_help(cmd);
            return -1;
        }
        bool other;
        const opt_def *d = find_opt(a.opt, mode, &other);
        if (!d && extra) { /* the command's own option? */
            int rc = extra(&a, ctx);
            if (rc != CLI_OPT_UNKNOWN) {
                if (rc) return rc;
                continue;
            }
        }
        if (d && !c->first_given) c->first_given = d->name;
        if (d && c->n_given < 64) c->given[c->n_given++] = d->name;
        if (!d) {
            if (other) return cli_usage(a.cmd, "option '%s' does not apply to '%s'", a.opt, a.cmd);
            return cli_usage(a.cmd, "unknown option '%s'", a.opt);
        }
        if (d->kind == K_FLAG) {
            if (!cli_args_no_value(&a)) return CLI_USAGE;
            *(bool *)((char *)c + d->off) = true;
            continue;
        }
        if (!cli_args_value(&a, &val)) return CLI_USAGE;
        if (d->kind == K_LIST) {
            if (!*val) return cli_usage(a.cmd, "--%s needs a file", d->name);
            if (!strcmp(d->name, "data")) c->data[c->n_data++] = val;
            else c->eval_data[c->n_eval_data++] = val;
            continue;
        }
        int rc = set_value(a.cmd, d, val, c);
        if (rc) return rc;
    }
    int rc = check_combination(argv[0], c);
    if (rc) return rc;
    fill_train_options(c);
    return CLI_OK;
}

void cli_train_cfg_free(cli_train_cfg *c) {
    free(c->data);
    free(c->eval_data);
    c->data = c->eval_data = NULL;
}

/* ---- the configuration a checkpoint records ------------------------------------ */

typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}

/* A value on one line: a newline in a name would start a new key. */
static void sb_value(strbuf *b, const char *v) {
    for (const char *p = v ? v : ""; *p; p++) sb_printf(b, "%c", *p == '\n' || *p == '\r' ? ' ' : *p);
}

char *cli_train_config_text(const cli_train_cfg *c, int64_t samples, int64_t total_steps, const char **ignore) {
    static char ignore_buf[512];
    size_t il = 0;
    ignore_buf[0] = 0;
    strbuf b = {0};
    for (int i = 0; i < N_OPTS; i++) {
        const opt_def *d = &opts[i];
        if (!(d->modes & M_TRAIN) || d->kind == K_LIST) continue;
        if (!d->config) {
            il += (size_t)snprintf(ignore_buf + il, sizeof ignore_buf - il, "%s%s", il ? "," : "", d->name);
            if (il >= sizeof ignore_buf) il = sizeof ignore_buf - 1;
        }
        const void *f = (const char *)c + d->off;
        sb_printf(&b, "%s=", d->name);
        switch (d->kind) {
        case K_FLAG: sb_printf(&b, "%s", *(const bool *)f ? "true" : "false"); break;
        case K_INT: sb_printf(&b, "%lld", (long long)*(const int64_t *)f); break;
        case K_U64: sb_printf(&b, "%llu", (unsigned long long)*(const uint64_t *)f); break;
        case K_DOUBLE: {
            double v = *(const double *)f;
            if (isnan(v)) sb_printf(&b, "default");
            else sb_printf(&b, "%.17g", v);
            break;
        }
        default: sb_value(&b, *(const char *const *)f); break;
        }
        sb_printf(&b, "\n");
    }
    /* Facts of the data and the run that the options alone do not pin down:
       another data set, or a linear/cosine schedule stretched over a different
       number of steps, would not continue the same run. */
    sb_printf(&b, "samples=%lld\n", (long long)samples);
    if (c->o.schedule == OT_LR_LINEAR || c->o.schedule == OT_LR_COSINE)
        sb_printf(&b, "schedule-steps=%lld\n", (long long)total_steps);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    *ignore = ignore_buf;
    return b.s;
}

int cli_trainer_create_failed(const cli_train_cfg *c, ot_status s) {
    const char *cmd = cli_mode_name(c->mode);
    /* ot_trainer_create validates the option values (an optimizer setting that
       does not apply, --lr missing for sgd, an unknown --freeze name...):
       those are command-line errors. */
    if (s == OT_ERR_INVALID_ARG) return cli_usage(cmd, "%s", ot_last_error());
    return cli_fail_lib();
}

/* ---- --dim NAME=N ------------------------------------------------------------------ */

int cli_dims_add(const char *cmd, cli_dims *d, const char *spec) {
    const char *eq = strrchr(spec, '=');
    int64_t v;
    if (!eq || eq == spec || !parse_i64(eq + 1, 1, (int64_t)1 << 40, &v))
        return cli_usage(cmd, "--dim needs NAME=N with N >= 1 (a symbolic dimension and its size), not '%s'", spec);
    size_t len = (size_t)(eq - spec);
    for (int i = 0; i < d->n; i++)
        if (strlen(d->names[i]) == len && !strncmp(d->names[i], spec, len)) {
            d->values[i] = v;
            return CLI_OK;
        }
    if (d->n == CLI_MAX_DIMS) return cli_usage(cmd, "more than %d --dim options", CLI_MAX_DIMS);
    char *name = malloc(len + 1);
    if (!name) return cli_fail("out of memory");
    memcpy(name, spec, len);
    name[len] = 0;
    d->names[d->n] = name;
    d->values[d->n++] = v;
    return CLI_OK;
}

void cli_dims_free(cli_dims *d) {
    for (int i = 0; i < d->n; i++) free((void *)d->names[i]);
    d->n = 0;
}
