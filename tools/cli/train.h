/* `onnxtrain train` and `onnxtrain eval`: what the two commands share (and
 * the training flags of `bench` and `info --train`).
 *
 *   train_opts.c  the option table: parsing, checks, ot_train_options, and the
 *                 configuration text stored in checkpoints
 *   train_data.c  --data files into a data set, the binding of data arrays to
 *                 model inputs and labels, batchers, the evaluation pass
 *   train_log.c   the --log file (CSV or JSON lines) and the progress display
 * All of them use the public API only (onnxtrain.h). */
#ifndef ONNXTRAIN_CLI_TRAIN_H
#define ONNXTRAIN_CLI_TRAIN_H

#include "cli.h"

/* Which command parses: each option of the table names the commands taking it. */
typedef enum cli_mode { CLI_MODE_TRAIN = 1, CLI_MODE_EVAL = 2, CLI_MODE_BENCH = 4, CLI_MODE_INFO = 8 } cli_mode;

/* Every option of both commands; which command takes which is in the table in
 * train_opts.c.  Integers are int64_t; "not given" is the default shown. */
typedef struct cli_train_cfg {
    cli_mode mode;
    const char *model;
    const char *out;                 /* -o OUT.onnx */
    const char **data, **eval_data;  /* --data / --eval-data specs (arrays of argc) */
    int n_data, n_eval_data;
    /* loss */
    const char *loss;                /* cross-entropy|mse|bce-logits|l1|output:NAME */
    const char *output;              /* graph output the loss applies to (NULL: the first) */
    const char *labels;              /* "labels" */
    int64_t class_axis;              /* -1: automatic */
    int64_t ignore_index;            /* -100 */
    /* optimizer and schedule (NaN: PyTorch's default for the optimizer) */
    const char *optimizer;
    double lr, momentum, dampening, beta1, beta2, eps, weight_decay, lr_decay, initial_accumulator;
    const char *lr_schedule;
    int64_t warmup_steps, step_size;
    double min_lr, gamma;
    double clip_grad_norm;
    int64_t accumulate;
    const char *freeze, *trainable;
    /* data */
    double input_scale;
    const char *csv_delimiter;
    const char *label_column;
    int64_t batch_size;
    int64_t epochs, steps;           /* 0: not given */
    bool no_shuffle, drop_last;
    bool no_fuse; /* compile without fusion (for comparison) */
    bool recompute; /* recompute cheap activations in the backward pass */
    uint64_t seed;
    int64_t threads;
    /* the run */
    const char *log;
    bool quiet;
    int64_t print_every;
    int64_t eval_every;              /* -1: not given */
    const char *checkpoint_dir;
    int64_t save_every;
    const char *resume;
    /* eval */
    const char *metric;              /* NULL: both */
    bool json;

    const char *first_given;         /* the first table option on the command line (info:
                                        training flags need --train) */
    const char *given[64];           /* the table options given (names without "--"), up to 64 */
    int n_given;

    /* derived by cli_train_parse */
    ot_train_options o;              /* total_steps is filled in later */
    ot_dataset_options dopt;
} cli_train_cfg;

/* Parses argv (argv[0] is the command).  Returns CLI_OK, CLI_USAGE (message
 * printed), or -1 when --help was printed (exit 0). */
int cli_train_parse(cli_mode mode, const cli_command *cmd, int argc, char **argv, cli_train_cfg *c);
/* The same with a command's own options beside the table's (bench, info):
 * `extra` is called for an option the table does not know, with a->opt set;
 * it returns CLI_OK when it took the option (and its value), CLI_USAGE after
 * printing a message, or CLI_OPT_UNKNOWN. */
enum { CLI_OPT_UNKNOWN = 3 };
typedef int (*cli_extra_option)(cli_args *a, void *ctx);
int cli_train_parse_with(cli_mode mode, const cli_command *cmd, int argc, char **argv, cli_train_cfg *c,
                         cli_extra_option extra, void *ctx);
/* The command name of a mode ("train", "eval", "bench", "info"). */
const char *cli_mode_name(cli_mode mode);

/* `--dim NAME=N`: sizes of symbolic dimensions (bench, info --train). */
#define CLI_MAX_DIMS 32
typedef struct cli_dims {
    int n;
    const char *names[CLI_MAX_DIMS]; /* malloc'ed */
    int64_t values[CLI_MAX_DIMS];
} cli_dims;
/* Parses "NAME=N" (N >= 1) into d; a repeated NAME takes the last value.
 * CLI_OK or CLI_USAGE (message printed). */
int cli_dims_add(const char *cmd, cli_dims *d, const char *spec);
void cli_dims_free(cli_dims *d);
void cli_train_cfg_free(cli_train_cfg *c);

/* The configuration as "key=value" lines for checkpoints (malloc'ed), with
 * facts of the run the options do not show (samples; total steps when the
 * schedule depends on them).  *ignore receives the keys a resume may change. */
char *cli_train_config_text(const cli_train_cfg *c, int64_t samples, int64_t total_steps, const char **ignore);

/* Reports a failure of ot_trainer_create: bad option values (OT_ERR_INVALID_ARG)
 * are command-line errors (exit 2), anything else exit 1. */
int cli_trainer_create_failed(const cli_train_cfg *c, ot_status s);

/* ---- data --------------------------------------------------------------------- */

/* How the batches of one data set feed the trainer: bindings[i] fills names[i]
 * (the model inputs, then the labels unless the loss is a graph output). */
typedef struct cli_binding {
    int n;
    ot_data_binding *bind;
    const char **names;
    char (*targets)[160];            /* "input 'x'", "labels" for messages */
    bool has_accuracy;               /* cross-entropy: arg-max accuracy is counted */
    int64_t ignore_index;            /* cross-entropy */
} cli_binding;

/* Reads every spec into a new data set; exit code. `flag` is "--data" or
 * "--eval-data" for messages. */
int cli_data_load(const cli_train_cfg *c, const char *flag, const char *const *specs, int n, ot_dataset **out);
/* Binds the data arrays to the model (docs/training.md "Binding"); warns about
 * arrays nothing uses unless quiet.  Exit code. */
int cli_data_bind(const cli_train_cfg *c, const ot_model *m, const ot_dataset *ds, const char *flag, cli_binding *out);
void cli_binding_free(cli_binding *b);

typedef struct cli_eval_result {
    double loss;        /* mean over samples (cross-entropy: over counted targets) */
    double accuracy;    /* when has_accuracy */
    bool has_accuracy;
    int64_t samples, counted;
} cli_eval_result;

/* One pass over every batch of b (which must not shuffle), in inference mode.
 * Exit code. */
int cli_evaluate(ot_trainer *t, ot_batcher *b, const cli_binding *bd, cli_eval_result *r);

/* ---- log and progress ------------------------------------------------------------ */

typedef struct cli_log {
    FILE *f;
    const char *path;
    bool jsonl, with_eval;
} cli_log;

/* path NULL: no log.  resume_step >= 0 (after --resume): continue an existing
 * file without a second header, dropping its rows past that step.  Exit code. */
int cli_log_open(cli_log *l, const char *path, int64_t resume_step, bool with_eval);
/* One row per optimizer step; ev is the evaluation run after it, or NULL. */
int cli_log_row(cli_log *l, int64_t step, int64_t epoch, double loss, double lr, double samples_per_s,
                const cli_eval_result *ev);
int cli_log_close(cli_log *l);

typedef struct cli_progress {
    bool quiet, tty, drawn;
    int64_t total, epochs, every, first_step;
    double t_start, t_drawn;
    int64_t samples;                 /* since the start of this run */
    int64_t epoch;                   /* current epoch (1-based) */
    double epoch_loss;               /* sum of the epoch's step losses so far */
    int64_t epoch_steps;
} cli_progress;

double cli_now(void); /* seconds, monotonic */
void cli_progress_init(cli_progress *p, bool quiet, int64_t total, int64_t epochs, int64_t every, int64_t first_step);
void cli_progress_step(cli_progress *p, int64_t step, int64_t epoch, double loss, double lr, int64_t samples,
                       bool epoch_end);
/* A line on stderr that does not collide with the bar (nothing when quiet). */
void cli_progress_note(cli_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_progress_done(cli_progress *p);

#endif
