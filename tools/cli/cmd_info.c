/* `onnxtrain info MODEL [--json]`: what a model contains and whether onnxtrain
 * can run it; with --train, what training it would do: the trainable
 * initializers, why the others are not trained, the derived training graph
 * (--dump) and the compiled step's figures (--plan). */
#include <stdlib.h>
#include <string.h>

#include "train.h"

static const char info_help[] =
    "usage: onnxtrain info MODEL [--json]\n"
    "       onnxtrain info MODEL --train [training options] [--dump FILE] [--plan]\n"
    "                          [--plan-svg FILE] [--dim NAME=N]... [--json]\n"
    "\n"
    "Describe an ONNX model: IR version, producer, opset imports, graph inputs and\n"
    "outputs (element type and shape; symbolic dimensions by name), parameter count\n"
    "and bytes (all initializers), the operator histogram, and the operators\n"
    "onnxtrain does not support.  Unsupported operators are reported, not an error.\n"
    "\n"
    "options:\n"
    "  --json       print exactly one JSON object on stdout (keys: ir_version,\n"
    "               producer, opsets, inputs, outputs, parameters, parameter_bytes,\n"
    "               ops, unsupported; with --train: trainable, not_trained,\n"
    "               shared_through_identity, and the --plan figures)\n"
    "  -h, --help   show this help\n"
    "\n"
    "training (--train): the initializers `onnxtrain train` would train with the\n"
    "same options (name, element type, shape, elements), and why each other float\n"
    "initializer is not trained.  Takes the training options of `train` that decide\n"
    "this: --loss, --output, --labels, --class-axis, --ignore-index, --freeze,\n"
    "--trainable, --optimizer and its settings, --lr-schedule..., --seed,\n"
    "--batch-size N (default 1).\n"
    "  --dump FILE       write the derived training graph (forward, loss, backward)\n"
    "                    for --batch-size samples as an ONNX file, e.g. for Netron\n"
    "  --plan            the compiled training step: ops, kernels per step, arena,\n"
    "                    lower bound, naive and persistent bytes, FLOPs per step\n"
    "  --plan-svg FILE   draw the memory plan: buffers over time (x: kernel index,\n"
    "                    y: arena offset)\n"
    "  --dim NAME=N      size of a symbolic input dimension other than the batch\n"
    "                    (default 1); repeat\n"
    "  --no-fuse         plan the step compiled without fusion (for comparison)\n"
    "  --recompute       plan the step with cheap activations (elementwise chains,\n"
    "                    norms) recomputed in the backward pass instead of kept\n"
    "\n"
    "exit status: 0 success, 1 the model cannot be read (or the training step\n"
    "cannot be built), 2 bad command line\n";

typedef struct op_count {
    const char *domain; /* "" for the default ONNX domain */
    const char *op_type;
    int64_t count;
} op_count;

typedef struct model_summary {
    int64_t parameters, parameter_bytes;
    int n_inits;
    op_count *ops;
    int n_ops;
    char *unsupported; /* NULL when every op is supported */
} model_summary;

static bool default_domain(const char *d) { return !d || !*d || !strcmp(d, "ai.onnx"); }

static const char *domain_label(const char *d) { return default_domain(d) ? "ai.onnx" : d; }

static int cmp_ops(const void *pa, const void *pb) {
    const op_count *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    int c = strcmp(a->domain, b->domain);
    return c ? c : strcmp(a->op_type, b->op_type);
}

/* Op name as shown: "Conv" for the ONNX domain, "com.microsoft:FusedConv" otherwise. */
static void op_label(const op_count *o, char *buf, size_t cap) {
    if (default_domain(o->domain))
        snprintf(buf, cap, "%s", o->op_type);
    else
        snprintf(buf, cap, "%s:%s", o->domain, o->op_type);
}

static int summarize(const ot_model *m, model_summary *s) {
    memset(s, 0, sizeof *s);
    s->n_inits = ot_model_initializer_count(m);
    for (int i = 0; i < s->n_inits; i++) {
        ot_value_info v;
        if (ot_model_initializer(m, i, &v) != OT_OK) return cli_fail_lib();
        int64_t numel = 1;
        for (int d = 0; d < v.rank; d++) {
            if (v.dims[d] < 0 || __builtin_mul_overflow(numel, v.dims[d], &numel))
                return cli_fail("initializer '%s' has an invalid shape", v.name);
        }
        int64_t bytes;
        if (__builtin_mul_overflow(numel, (int64_t)ot_dtype_size(v.dtype), &bytes) ||
            __builtin_add_overflow(s->parameters, numel, &s->parameters) ||
            __builtin_add_overflow(s->parameter_bytes, bytes, &s->parameter_bytes))
            return cli_fail("initializer '%s' is too large", v.name);
    }

    int n_nodes = ot_model_node_count(m);
    s->ops = calloc((size_t)(n_nodes > 0 ? n_nodes : 1), sizeof *s->ops);
    if (!s->ops) return cli_fail("out of memory");
    for (int i = 0; i < n_nodes; i++) {
        const char *op_type = NULL, *domain = NULL, *name = NULL;
        if (ot_model_node(m, i, &op_type, &domain, &name) != OT_OK) return cli_fail_lib();
        if (!domain || !strcmp(domain, "ai.onnx")) domain = "";
        int k = 0;
        while (k < s->n_ops && (strcmp(s->ops[k].op_type, op_type) || strcmp(s->ops[k].domain, domain))) k++;
        if (k == s->n_ops) s->ops[s->n_ops++] = (op_count){domain, op_type, 0};
        s->ops[k].count++;
    }
    qsort(s->ops, (size_t)s->n_ops, sizeof *s->ops, cmp_ops);

    ot_status st = ot_model_check_supported(m);
    if (st == OT_ERR_UNSUPPORTED) {
        s->unsupported = strdup(ot_last_error());
        if (!s->unsupported) return cli_fail("out of memory");
    } else if (st != OT_OK) {
        return cli_fail_lib();
    }
    return CLI_OK;
}

static void summary_free(model_summary *s) {
    free(s->ops);
    free(s->unsupported);
}

/* ---- text ----------------------------------------------------------------- */

static int print_values(const ot_model *m, bool outputs) {
    int n = outputs ? ot_model_output_count(m) : ot_model_input_count(m);
    printf("%s:%s\n", outputs ? "outputs" : "inputs", n ? "" : " none");
    for (int i = 0; i < n; i++) {
        ot_value_info v;
        if ((outputs ? ot_model_output(m, i, &v) : ot_model_input(m, i, &v)) != OT_OK) return cli_fail_lib();
        char shape[512];
        cli_format_shape(&v, shape, sizeof shape);
        printf("  ");
        cli_put_text(stdout, v.name);
        printf(": %s ", ot_dtype_name(v.dtype));
        cli_put_text(stdout, shape);
        printf("\n");
    }
    return CLI_OK;
}

static int print_text(const char *path, const ot_model *m, const model_summary *s) {
    printf("model: ");
    cli_put_text(stdout, path);
    printf("\n");
    printf("ir_version: %lld\n", (long long)ot_model_ir_version(m));
    const char *pn = ot_model_producer_name(m), *pv = ot_model_producer_version(m);
    printf("producer: ");
    cli_put_text(stdout, *pn ? pn : "(unknown)");
    if (*pv) printf(" ");
    cli_put_text(stdout, pv);
    printf("\n");
    printf("opsets:");
    int n_opsets = ot_model_opset_count(m);
    for (int i = 0; i < n_opsets; i++) {
        const char *domain;
        int64_t version;
        if (ot_model_opset(m, i, &domain, &version) != OT_OK) return cli_fail_lib();
        printf("%s ", i ? "," : "");
        cli_put_text(stdout, domain_label(domain));
        printf(" %lld", (long long)version);
    }
    printf("%s\n", n_opsets ? "" : " none");
    if (print_values(m, false) || print_values(m, true)) return CLI_FAIL;
    printf("parameters: %lld (%lld bytes", (long long)s->parameters, (long long)s->parameter_bytes);
    if (s->parameter_bytes >= 1024 * 1024)
        printf(", %.1f MiB", (double)s->parameter_bytes / (1024.0 * 1024.0));
    else if (s->parameter_bytes >= 1024)
        printf(", %.1f KiB", (double)s->parameter_bytes / 1024.0);
    printf(") in %d initializer%s\n", s->n_inits, s->n_inits == 1 ? "" : "s");

    int n_nodes = ot_model_node_count(m);
    printf("ops: %d node%s, %d op type%s\n", n_nodes, n_nodes == 1 ? "" : "s", s->n_ops, s->n_ops == 1 ? "" : "s");
    int width = 0;
    char label[512];
    for (int i = 0; i < s->n_ops; i++) {
        op_label(&s->ops[i], label, sizeof label);
        int w = (int)strlen(label);
        if (w > width) width = w;
    }
    for (int i = 0; i < s->n_ops; i++) {
        op_label(&s->ops[i], label, sizeof label);
        printf("  ");
        cli_put_text(stdout, label);
        printf("%*s %lld\n", width - (int)strlen(label), "", (long long)s->ops[i].count);
    }
    printf("unsupported: ");
    cli_put_text(stdout, s->unsupported ? s->unsupported : "none");
    printf("\n");
    return CLI_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

static int json_values(const ot_model *m, bool outputs) {
    int n = outputs ? ot_model_output_count(m) : ot_model_input_count(m);
    printf("[");
    for (int i = 0; i < n; i++) {
        ot_value_info v;
        if ((outputs ? ot_model_output(m, i, &v) : ot_model_input(m, i, &v)) != OT_OK) return cli_fail_lib();
        printf("%s{\"name\": ", i ? ", " : "");
        cli_json_string(stdout, v.name);
        printf(", \"dtype\": ");
        cli_json_string(stdout, ot_dtype_name(v.dtype));
        printf(", \"shape\": ");
        if (v.rank < 0) {
            printf("null}");
            continue;
        }
        /* a dim is a number, its symbolic name as a string, or null if unknown */
        printf("[");
        for (int d = 0; d < v.rank && d < OT_MAX_RANK; d++) {
            if (d) printf(", ");
            if (v.dim_names[d] && v.dim_names[d][0])
                cli_json_string(stdout, v.dim_names[d]);
            else if (v.dims[d] < 0)
                printf("null");
            else
                printf("%lld", (long long)v.dims[d]);
        }
        printf("]}");
    }
    printf("]");
    return CLI_OK;
}

static int print_json(const ot_model *m, const model_summary *s) {
    /* Everything that can fail is read before the first byte is written, so a
       failure never leaves half an object on stdout. */
    int n_opsets = ot_model_opset_count(m);
    for (int i = 0; i < n_opsets; i++) {
        const char *domain;
        int64_t version;
        if (ot_model_opset(m, i, &domain, &version) != OT_OK) return cli_fail_lib();
    }
    for (int i = 0; i < ot_model_input_count(m); i++) {
        ot_value_info v;
        if (ot_model_input(m, i, &v) != OT_OK) return cli_fail_lib();
    }
    for (int i = 0; i < ot_model_output_count(m); i++) {
        ot_value_info v;
        if (ot_model_output(m, i, &v) != OT_OK) return cli_fail_lib();
    }

    printf("{\"ir_version\": %lld, \"producer\": {\"name\": ", (long long)ot_model_ir_version(m));
    cli_json_string(stdout, ot_model_producer_name(m));
    printf(", \"version\": ");
    cli_json_string(stdout, ot_model_producer_version(m));
    printf("}, \"opsets\": {");
    for (int i = 0; i < n_opsets; i++) {
        const char *domain;
        int64_t version;
        ot_model_opset(m, i, &domain, &version);
        printf("%s", i ? ", " : "");
        cli_json_string(stdout, domain_label(domain));
        printf(": %lld", (long long)version);
    }
    printf("}, \"inputs\": ");
    json_values(m, false);
    printf(", \"outputs\": ");
    json_values(m, true);
    printf(", \"parameters\": %lld, \"parameter_bytes\": %lld, \"ops\": {", (long long)s->parameters,
           (long long)s->parameter_bytes);
    char label[512];
    for (int i = 0; i < s->n_ops; i++) {
        op_label(&s->ops[i], label, sizeof label);
        printf("%s", i ? ", " : "");
        cli_json_string(stdout, label);
        printf(": %lld", (long long)s->ops[i].count);
    }
    printf("}, \"unsupported\": ");
    if (s->unsupported)
        cli_json_string(stdout, s->unsupported);
    else
        printf("null");
    printf("}\n");
    return CLI_OK;
}

/* ---- --train: what training would do ----------------------------------------- */

typedef struct info_opts {
    bool json, train, plan, no_fuse, recompute;
    const char *dump, *plan_svg;
    cli_dims dims;
} info_opts;

/* info's own options beside the training options of the table (train_opts.c). */
static int info_option(cli_args *a, void *ctx) {
    info_opts *o = ctx;
    const char *v;
    bool *flag = !strcmp(a->opt, "--json") ? &o->json : !strcmp(a->opt, "--train") ? &o->train
                 : !strcmp(a->opt, "--plan") ? &o->plan : !strcmp(a->opt, "--no-fuse") ? &o->no_fuse
                 : !strcmp(a->opt, "--recompute") ? &o->recompute : NULL;
    if (flag) {
        if (!cli_args_no_value(a)) return CLI_USAGE;
        *flag = true;
        return CLI_OK;
    }
    const char **file = !strcmp(a->opt, "--dump") ? &o->dump : !strcmp(a->opt, "--plan-svg") ? &o->plan_svg : NULL;
    if (file) {
        if (!cli_args_value(a, &v)) return CLI_USAGE;
        if (!*v) return cli_usage(a->cmd, "%s needs a file name", a->opt);
        *file = v;
        return CLI_OK;
    }
    if (!strcmp(a->opt, "--dim")) {
        if (!cli_args_value(a, &v)) return CLI_USAGE;
        return cli_dims_add(a->cmd, &o->dims, v);
    }
    return CLI_OPT_UNKNOWN;
}

static bool is_float_dtype(ot_dtype t) { return t == OT_FLOAT || t == OT_DOUBLE || t == OT_FLOAT16 || t == OT_BFLOAT16; }

static int64_t numel_of(const ot_value_info *v) {
    int64_t n = 1;
    for (int d = 0; d < v->rank; d++) n *= v->dims[d] > 0 ? v->dims[d] : 0;
    return n;
}

/* ---- initializers fanned out through Identity nodes ----
 * PyTorch's eval-mode export keeps one copy of equal-valued tensors and feeds
 * the other users through Identity nodes: the graph then trains them as one
 * tensor.  An initializer is reported when an Identity reads it and it
 * reaches more than one consumer in all (directly or through Identities). */

typedef struct name_index {
    const char *name;
    int init;
} name_index;

static int cmp_name_index(const void *a, const void *b) {
    return strcmp(((const name_index *)a)->name, ((const name_index *)b)->name);
}

static int init_lookup(const name_index *ix, int n, const char *name) {
    name_index key = {name, -1};
    const name_index *hit = bsearch(&key, ix, (size_t)n, sizeof *ix, cmp_name_index);
    return hit ? hit->init : -1;
}

/* Node inputs (and graph outputs) reading `name`; at least 1. */
static int consumers_of(const ot_model *m, const char *name) {
    int count = 0, n_nodes = ot_model_node_count(m);
    for (int i = 0; i < n_nodes; i++) {
        int n_in = 0;
        if (ot_model_node_io(m, i, &n_in, NULL) != OT_OK) continue;
        for (int k = 0; k < n_in; k++) {
            const char *v = ot_model_node_value(m, i, 0, k);
            if (v && *v && !strcmp(v, name)) count++;
        }
    }
    for (int i = 0; i < ot_model_output_count(m); i++) {
        ot_value_info o;
        if (ot_model_output(m, i, &o) == OT_OK && !strcmp(o.name, name)) count++;
    }
    return count ? count : 1;
}

/* paths[i] > 0 for every trained initializer i fanned out through Identity
   nodes: the number of consumers it reaches (one that is not trained is
   harmless: it holds the same value everywhere).  Returns the count found,
   or -1 out of memory. */
static int find_identity_fanout(const ot_model *m, const ot_trainer *t, int *paths) {
    int n_inits = ot_model_initializer_count(m), n_nodes = ot_model_node_count(m), found = 0;
    name_index *ix = calloc((size_t)n_inits + 1, sizeof *ix);
    int *idents = calloc((size_t)n_inits + 1, sizeof *idents);
    if (!ix || !idents) {
        free(ix);
        free(idents);
        return -1;
    }
    for (int i = 0; i < n_inits; i++) {
        ot_value_info v;
        ix[i] = (name_index){"", -1};
        if (ot_model_initializer(m, i, &v) == OT_OK) ix[i] = (name_index){v.name, i};
        paths[i] = 0;
    }
    qsort(ix, (size_t)n_inits, sizeof *ix, cmp_name_index);
    for (int i = 0; i < n_nodes; i++) {
        const char *op, *domain;
        int n_in = 0, n_out = 0;
        if (ot_model_node(m, i, &op, &domain, NULL) != OT_OK || ot_model_node_io(m, i, &n_in, &n_out) != OT_OK) continue;
        bool identity = !strcmp(op, "Identity") && (!domain || !*domain || !strcmp(domain, "ai.onnx"));
        for (int k = 0; k < n_in; k++) {
            const char *v = ot_model_node_value(m, i, 0, k);
            int j = v && *v ? init_lookup(ix, n_inits, v) : -1;
            if (j < 0) continue;
            if (identity && n_out > 0) {
                idents[j]++;
                paths[j] += consumers_of(m, ot_model_node_value(m, i, 1, 0));
            } else {
                paths[j]++;
            }
        }
    }
    for (int i = 0; i < n_inits; i++) {
        const char *why = ot_trainer_param_reason(t, i);
        bool fanned = idents[i] > 0 && paths[i] >= 2 && why && !strcmp(why, "trainable");
        if (fanned) found++;
        else paths[i] = 0;
    }
    free(ix);
    free(idents);
    return found;
}

static void warn_fanout(const ot_model *m, const int *paths) {
    for (int i = 0; i < ot_model_initializer_count(m); i++) {
        ot_value_info v;
        if (!paths[i] || ot_model_initializer(m, i, &v) != OT_OK) continue;
        fprintf(stderr, "onnxtrain: warning: initializer '");
        cli_put_text(stderr, v.name);
        fprintf(stderr, "' feeds %d consumers, through Identity nodes as", paths[i]);
        int shown = 0;
        for (int k = 0; k < ot_model_node_count(m); k++) { /* the names the export merged */
            const char *op, *in;
            if (ot_model_node(m, k, &op, NULL, NULL) != OT_OK || strcmp(op, "Identity")) continue;
            if (!(in = ot_model_node_value(m, k, 0, 0)) || strcmp(in, v.name)) continue;
            if (shown++ == 6) {
                fputs(", ...", stderr);
                break;
            }
            fputs(shown > 1 ? ", '" : " '", stderr);
            cli_put_text(stderr, ot_model_node_value(m, k, 1, 0));
            fputc('\'', stderr);
        }
        fprintf(stderr, " (PyTorch's eval-mode export merges equal-valued tensors this way): they are trained as one "
                        "tensor. To train them apart, export with training=torch.onnx.TrainingMode.TRAINING, "
                        "do_constant_folding=False\n");
    }
}

/* ---- output ---- */

static void print_bytes_line(const char *label, uint64_t b, const char *what) {
    printf("  %-12s %llu bytes (%.2f MiB)%s%s\n", label, (unsigned long long)b, (double)b / (1024.0 * 1024.0),
           what ? "  " : "", what ? what : "");
}

static int print_train_text(const char *path, const ot_model *m, const ot_trainer *t, const info_opts *io,
                            const cli_train_cfg *c, const ot_plan_summary *ps, bool planned) {
    int n = ot_model_initializer_count(m), width = 4, n_train = 0, n_other = 0, n_nonfloat = 0;
    int64_t params = 0, bytes = 0;
    for (int i = 0; i < n; i++) {
        ot_value_info v;
        if (ot_model_initializer(m, i, &v) != OT_OK) return cli_fail_lib();
        int w = (int)strlen(v.name);
        if (w > width && w < 60) width = w;
        const char *why = ot_trainer_param_reason(t, i);
        if (why && !strcmp(why, "trainable")) {
            n_train++;
            params += numel_of(&v);
            bytes += numel_of(&v) * (int64_t)ot_dtype_size(v.dtype);
        } else if (is_float_dtype(v.dtype)) {
            n_other++;
        } else {
            n_nonfloat++;
        }
    }
    printf("model: ");
    cli_put_text(stdout, path);
    printf("\ntrainable: %d initializer%s, %lld parameters (%lld bytes, %.2f MiB)%s\n", n_train, n_train == 1 ? "" : "s",
           (long long)params, (long long)bytes, (double)bytes / (1024.0 * 1024.0), n_train ? "" : ": nothing to train");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) printf("not trained:%s\n", n_other ? "" : " none");
        for (int i = 0; i < n; i++) {
            ot_value_info v;
            ot_model_initializer(m, i, &v);
            const char *why = ot_trainer_param_reason(t, i);
            bool trainable = why && !strcmp(why, "trainable");
            if (pass == 0 ? !trainable : trainable || !is_float_dtype(v.dtype)) continue;
            char shape[256];
            cli_format_shape(&v, shape, sizeof shape);
            printf("  ");
            cli_put_text(stdout, v.name);
            printf("%*s  %-8s %-16s %10lld", width - (int)strlen(v.name) > 0 ? width - (int)strlen(v.name) : 0, "",
                   ot_dtype_name(v.dtype), shape, (long long)numel_of(&v));
            if (pass == 1) printf("  %s", why ? why : "(unknown)");
            printf("\n");
        }
    }
    if (n_nonfloat)
        printf("(%d integer or bool initializer%s: never trained)\n", n_nonfloat, n_nonfloat == 1 ? "" : "s");
    if (io->dump) {
        printf("training graph: ");
        cli_put_text(stdout, io->dump);
        printf(" (batch %lld)\n", (long long)c->batch_size);
    }
    if (io->plan && planned) {
        printf("plan (batch %lld):\n", (long long)c->batch_size);
        printf("  %-12s %lld  nodes of the training graph (forward, loss, backward)\n", "ops", (long long)ps->ops);
        printf("  %-12s %lld  kernel launches per step, optimizer updates included%s%s\n", "kernels",
               (long long)ps->kernels, c->o.no_fuse ? ", not fused" : "",
               c->o.clip_grad_norm > 0 ? " (with clipping, outside the program)" : "");
        print_bytes_line("arena", ps->arena_bytes, "every transient tensor, planned");
        print_bytes_line("lower bound", ps->lower_bound_bytes, "most transient bytes live at once");
        print_bytes_line("unscheduled", ps->unscheduled_peak_bytes, "the same in the graph's order (no memory-aware schedule)");
        print_bytes_line("naive", ps->naive_bytes, "every transient tensor in its own buffer");
        print_bytes_line("persistent", ps->persistent_bytes, "parameters, statistics, gradients, optimizer state");
        printf("  %-12s %.4g per step (%.3f GFLOP)\n", "flops", ps->flops, ps->flops / 1e9);
        if (c->o.recompute)
            printf("  %-12s %lld forward ops run again in the backward pass; %llu bytes (%.2f MiB) of activations no "
                   "longer kept for it\n",
                   "recompute", (long long)ps->recomputed_ops, (unsigned long long)ps->released_bytes,
                   (double)ps->released_bytes / (1024.0 * 1024.0));
    }
    if (io->plan_svg && planned) {
        printf("plan drawing: ");
        cli_put_text(stdout, io->plan_svg);
        printf("\n");
    }
    return CLI_OK;
}

static void json_init_entry(const ot_value_info *v, const char *why) {
    printf("{\"name\": ");
    cli_json_string(stdout, v->name);
    printf(", \"dtype\": ");
    cli_json_string(stdout, ot_dtype_name(v->dtype));
    printf(", \"shape\": [");
    for (int d = 0; d < v->rank; d++) printf("%s%lld", d ? ", " : "", (long long)v->dims[d]);
    printf("], \"elements\": %lld", (long long)numel_of(v));
    if (why) {
        printf(", \"reason\": ");
        cli_json_string(stdout, why);
    }
    printf("}");
}

static int print_train_json(const char *path, const ot_model *m, const ot_trainer *t, const info_opts *io,
                            const cli_train_cfg *c, const ot_plan_summary *ps, bool planned, const int *paths) {
    int n = ot_model_initializer_count(m);
    for (int i = 0; i < n; i++) {
        ot_value_info v;
        if (ot_model_initializer(m, i, &v) != OT_OK) return cli_fail_lib();
    }
    int64_t params = 0;
    printf("{\"model\": ");
    cli_json_string(stdout, path);
    printf(", \"batch\": %lld", (long long)c->batch_size);
    for (int pass = 0; pass < 2; pass++) {
        printf(pass ? ", \"not_trained\": [" : ", \"trainable\": [");
        int k = 0;
        for (int i = 0; i < n; i++) {
            ot_value_info v;
            ot_model_initializer(m, i, &v);
            const char *why = ot_trainer_param_reason(t, i);
            bool trainable = why && !strcmp(why, "trainable");
            if (pass == 0 ? !trainable : trainable || !is_float_dtype(v.dtype)) continue;
            if (k++) printf(", ");
            if (!pass) params += numel_of(&v);
            json_init_entry(&v, pass ? (why ? why : "unknown") : NULL);
        }
        printf("]");
    }
    printf(", \"trainable_parameters\": %lld, \"shared_through_identity\": [", (long long)params);
    for (int i = 0, k = 0; i < n; i++) {
        ot_value_info v;
        if (!paths[i] || ot_model_initializer(m, i, &v) != OT_OK) continue;
        printf("%s{\"name\": ", k++ ? ", " : "");
        cli_json_string(stdout, v.name);
        printf(", \"consumers\": %d}", paths[i]);
    }
    printf("]");
    if (io->dump) {
        printf(", \"dump\": ");
        cli_json_string(stdout, io->dump);
    }
    if (io->plan && planned)
        printf(", \"ops\": %lld, \"kernels\": %lld, \"arena_bytes\": %llu, \"lower_bound_bytes\": %llu, "
               "\"naive_bytes\": %llu, \"persistent_bytes\": %llu, \"flops\": %.17g, \"fused\": %s, "
               "\"recompute\": %s, \"recomputed_ops\": %lld, \"released_bytes\": %llu, \"unscheduled_peak_bytes\": %llu",
               (long long)ps->ops, (long long)ps->kernels, (unsigned long long)ps->arena_bytes,
               (unsigned long long)ps->lower_bound_bytes, (unsigned long long)ps->naive_bytes,
               (unsigned long long)ps->persistent_bytes, ps->flops, c->o.no_fuse ? "false" : "true",
               c->o.recompute ? "true" : "false", (long long)ps->recomputed_ops,
               (unsigned long long)ps->released_bytes, (unsigned long long)ps->unscheduled_peak_bytes);
    if (io->plan_svg && planned) {
        printf(", \"plan_svg\": ");
        cli_json_string(stdout, io->plan_svg);
    }
    printf("}\n");
    return CLI_OK;
}

static int info_train(cli_train_cfg *c, info_opts *io) {
    ot_model *m = NULL;
    ot_trainer *t = NULL;
    int *paths = NULL, rc = CLI_OK;
    if (ot_model_load(c->model, &m) != OT_OK) return cli_fail_lib();
    /* schedules that need the run's length get one step: nothing here steps */
    c->o.total_steps = c->o.warmup_steps + 1;
    ot_status s = ot_trainer_create(m, &c->o, &t);
    if (s != OT_OK) {
        rc = cli_trainer_create_failed(c, s);
        goto out;
    }
    /* Building the step runs autodiff, which finds the initializers no
       gradient reaches: the reasons are final only after it. */
    ot_plan_summary ps;
    memset(&ps, 0, sizeof ps);
    bool planned = ot_trainer_plan(t, c->batch_size, io->dims.n, io->dims.names, io->dims.values, io->plan_svg, &ps) == OT_OK;
    if (!planned) {
        if (io->plan || io->plan_svg || io->dump) {
            rc = cli_fail_lib();
            goto out;
        }
        fprintf(stderr, "onnxtrain: warning: the training step could not be built (");
        cli_put_text(stderr, ot_last_error());
        fprintf(stderr, "): initializers no gradient reaches are listed as trainable\n");
    }
    if (io->dump && ot_trainer_dump(t, c->batch_size, io->dims.n, io->dims.names, io->dims.values, io->dump) != OT_OK) {
        rc = cli_fail_lib();
        goto out;
    }
    paths = calloc((size_t)ot_model_initializer_count(m) + 1, sizeof *paths);
    if (!paths || find_identity_fanout(m, t, paths) < 0) {
        rc = cli_fail("out of memory");
        goto out;
    }
    warn_fanout(m, paths);
    rc = io->json ? print_train_json(c->model, m, t, io, c, &ps, planned, paths)
                  : print_train_text(c->model, m, t, io, c, &ps, planned);
out:
    free(paths);
    ot_trainer_free(t);
    ot_model_free(m);
    return rc;
}

static int info_main(int argc, char **argv) {
    cli_train_cfg c;
    info_opts io;
    memset(&io, 0, sizeof io);
    int rc = cli_train_parse_with(CLI_MODE_INFO, &cli_cmd_info, argc, argv, &c, info_option, &io);
    if (rc) goto out;
    if (!io.train) {
        const char *needs = c.first_given ? c.first_given : io.dump ? "dump" : io.plan ? "plan"
                          : io.plan_svg ? "plan-svg" : io.dims.n ? "dim" : io.no_fuse ? "no-fuse"
                          : io.recompute ? "recompute" : NULL;
        if (needs) {
            rc = cli_usage(argv[0], "--%s needs --train", needs);
            goto out;
        }
        ot_model *m = NULL;
        if (ot_model_load(c.model, &m) != OT_OK) {
            rc = cli_fail_lib();
            goto out;
        }
        model_summary s;
        rc = summarize(m, &s);
        if (rc == CLI_OK) rc = io.json ? print_json(m, &s) : print_text(c.model, m, &s);
        summary_free(&s);
        ot_model_free(m);
    } else {
        c.o.no_fuse = io.no_fuse;
        c.o.recompute = io.recompute;
        rc = info_train(&c, &io);
    }
out:
    cli_dims_free(&io.dims);
    cli_train_cfg_free(&c);
    return rc < 0 ? CLI_OK : rc;
}

const cli_command cli_cmd_info = {
    .name = "info",
    .summary = "describe a model: inputs, outputs, parameters, ops, support",
    .help = info_help,
    .main = info_main,
};
