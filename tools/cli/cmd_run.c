/* `onnxtrain run MODEL --input ... --out DIR`: one inference pass, graph as
 * written, outputs saved one file each. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char run_help[] =
    "usage: onnxtrain run MODEL [--input [NAME=]FILE]... [--out DIR] [--format npy|pb]\n"
    "                           [--threads N] [--quiet]\n"
    "\n"
    "Run the model once, as written (ONNX semantics: a BatchNormalization with\n"
    "training_mode=1 uses batch statistics), and save every graph output.\n"
    "\n"
    "options:\n"
    "  -i, --input [NAME=]FILE  bind FILE (.npy, or a serialized ONNX TensorProto,\n"
    "                           told apart by content) to graph input NAME; without\n"
    "                           NAME=, inputs fill the graph inputs not bound by name,\n"
    "                           in graph-input order (initializers are not inputs).\n"
    "                           Repeat for each input.\n"
    "  -o, --out DIR            directory for the outputs (default: .; created if\n"
    "                           missing)\n"
    "  --format npy|pb          npy (default): DIR/<output name>.npy, the name with\n"
    "                           every character outside [A-Za-z0-9._-] replaced by\n"
    "                           '_' and _2, _3, ... appended on collisions, in\n"
    "                           graph-output order.  pb: DIR/output_K.pb (K = graph\n"
    "                           output index), a TensorProto named after the output.\n"
    "  --threads N              threads to use (default 0: the number of cores)\n"
    "  -q, --quiet              print nothing on success\n"
    "  -h, --help               show this help\n"
    "\n"
    "Prints one line per output: NAME: DTYPE [DIMS] -> FILE.\n"
    "exit status: 0 success, 1 the model, an input or an output failed (missing or\n"
    "unknown input, unreadable file, wrong shape...), 2 bad command line\n";

typedef struct run_input {
    const char *name; /* NULL: bound by position */
    const char *path;
} run_input;

typedef struct run_opts {
    const char *model;
    run_input *inputs;
    int n_inputs;
    const char *out_dir;
    bool pb;
    int threads;
    bool quiet;
} run_opts;

static int parse_args(int argc, char **argv, run_opts *o) {
    cli_args a;
    cli_args_init(&a, argc, argv);
    o->out_dir = ".";
    /* at most one input per argument */
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    if (!o->inputs) return cli_fail("out of memory");
    const char *pos, *val;
    for (int k; (k = cli_args_next(&a, &pos)) != CLI_ARG_END;) {
        if (k == CLI_ARG_POS) {
            if (o->model) return cli_usage(a.cmd, "unexpected argument '%s' (inputs are given with --input)", pos);
            o->model = pos;
            continue;
        }
        const char *opt = a.opt;
        if (cli_is_help(opt)) {
            cli_print_help(&cli_cmd_run);
            return -1; /* done: exit 0 */
        }
        if (!strcmp(opt, "--input") || !strcmp(opt, "-i")) {
            if (!cli_args_value(&a, &val)) return CLI_USAGE;
            run_input *in = &o->inputs[o->n_inputs++];
            /* The first '=' separates the name: a path holding '=' needs NAME= in front. */
            const char *eq = strchr(val, '=');
            in->path = eq ? eq + 1 : val;
            if (eq) {
                size_t n = (size_t)(eq - val);
                if (n == 0) return cli_usage(a.cmd, "empty input name in '--input %s'", val);
                char *name = malloc(n + 1);
                if (!name) return cli_fail("out of memory");
                memcpy(name, val, n);
                name[n] = 0;
                in->name = name;
                for (int j = 0; j < o->n_inputs - 1; j++)
                    if (o->inputs[j].name && !strcmp(o->inputs[j].name, name))
                        return cli_usage(a.cmd, "input '%s' is given twice", name);
            }
            if (!*in->path) return cli_usage(a.cmd, "empty file name in '--input %s'", val);
        } else if (!strcmp(opt, "--out") || !strcmp(opt, "-o")) {
            if (!cli_args_value(&a, &val)) return CLI_USAGE;
            if (!*val) return cli_usage(a.cmd, "empty --out directory");
            o->out_dir = val;
        } else if (!strcmp(opt, "--format")) {
            if (!cli_args_value(&a, &val)) return CLI_USAGE;
            if (!strcmp(val, "pb"))
                o->pb = true;
            else if (!strcmp(val, "npy"))
                o->pb = false;
            else
                return cli_usage(a.cmd, "--format must be npy or pb, not '%s'", val);
        } else if (!strcmp(opt, "--threads")) {
            long n;
            if (!cli_args_value(&a, &val)) return CLI_USAGE;
            if (!cli_parse_int(val, 0, 4096, &n))
                return cli_usage(a.cmd, "--threads needs a whole number from 0 to 4096, not '%s'", val);
            o->threads = (int)n;
        } else if (!strcmp(opt, "--quiet") || !strcmp(opt, "-q")) {
            if (!cli_args_no_value(&a)) return CLI_USAGE;
            o->quiet = true;
        } else {
            return cli_usage(a.cmd, "unknown option '%s'", opt);
        }
    }
    if (!o->model) return cli_usage(a.cmd, "missing MODEL");
    return CLI_OK;
}

static void free_opts(run_opts *o) {
    for (int i = 0; i < o->n_inputs; i++) free((char *)o->inputs[i].name);
    free(o->inputs);
}

/* Names for every input: named ones as given, the others take the graph
 * inputs nobody named, in graph-input order.  *names stays NULL when no input
 * is named (the library then binds by position and reports what is missing). */
static int bind_names(const ot_model *m, const run_opts *o, const char ***names) {
    *names = NULL;
    int named = 0;
    for (int i = 0; i < o->n_inputs; i++) named += o->inputs[i].name != NULL;
    if (named == 0) return CLI_OK;
    const char **out = calloc((size_t)o->n_inputs, sizeof *out);
    if (!out) return cli_fail("out of memory");
    int n_graph = ot_model_input_count(m), slot = 0;
    for (int i = 0; i < o->n_inputs; i++) {
        if (o->inputs[i].name) {
            out[i] = o->inputs[i].name;
            continue;
        }
        for (;; slot++) {
            ot_value_info v;
            if (slot >= n_graph) {
                free(out);
                return cli_fail("%d inputs given, the model has %d (%s)", o->n_inputs, n_graph,
                                "inputs without NAME= fill the graph inputs not named, in order");
            }
            if (ot_model_input(m, slot, &v) != OT_OK) {
                free(out);
                return cli_fail_lib();
            }
            bool taken = false;
            for (int j = 0; j < o->n_inputs; j++)
                if (o->inputs[j].name && !strcmp(o->inputs[j].name, v.name)) taken = true;
            if (!taken) {
                out[i] = v.name; /* owned by the model */
                slot++;
                break;
            }
        }
    }
    *names = out;
    return CLI_OK;
}

static int load_inputs(const run_opts *o, ot_tensor **tensors) {
    for (int i = 0; i < o->n_inputs; i++) {
        const char *path = o->inputs[i].path;
        if (ot_tensor_load(path, &tensors[i]) == OT_OK) continue;
        /* The user must learn which file failed even if the message omits it. */
        const char *msg = ot_last_error();
        if (msg && strstr(msg, path)) return cli_fail_lib();
        return cli_fail("%s: %s", path, msg && *msg ? msg : "cannot read tensor");
    }
    return CLI_OK;
}

/* ---- output files ------------------------------------------------------------ */

static char *sanitize(const char *name) {
    size_t n = strlen(name);
    char *s = malloc(n + 2);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        s[i] = ok ? c : '_';
    }
    if (n == 0) s[n++] = '_'; /* an empty name would give the hidden file ".npy" */
    s[n] = 0;
    return s;
}

static char *join_path(const char *dir, const char *file) {
    size_t nd = strlen(dir), nf = strlen(file);
    bool slash = nd > 0 && dir[nd - 1] != '/';
    char *p = malloc(nd + nf + 2);
    if (!p) return NULL;
    memcpy(p, dir, nd);
    if (slash) p[nd++] = '/';
    memcpy(p + nd, file, nf + 1);
    return p;
}

/* File paths for all outputs, per CONTRACTS.md: sanitized names with _2, _3...
 * on collision (npy), or output_K.pb. */
static int output_paths(const ot_model *m, const run_opts *o, int n_out, char **paths) {
    char **stems = calloc((size_t)(n_out > 0 ? n_out : 1), sizeof *stems);
    if (!stems) return cli_fail("out of memory");
    int rc = CLI_OK;
    for (int i = 0; i < n_out && rc == CLI_OK; i++) {
        char file[64];
        if (o->pb) {
            snprintf(file, sizeof file, "output_%d.pb", i);
            if (!(paths[i] = join_path(o->out_dir, file))) rc = cli_fail("out of memory");
            continue;
        }
        ot_value_info v;
        if (ot_model_output(m, i, &v) != OT_OK) {
            rc = cli_fail_lib();
            break;
        }
        char *base = sanitize(v.name);
        if (!base) {
            rc = cli_fail("out of memory");
            break;
        }
        char *stem = NULL;
        for (int k = 1; rc == CLI_OK; k++) {
            size_t cap = strlen(base) + 24;
            free(stem);
            if (!(stem = malloc(cap))) {
                rc = cli_fail("out of memory");
                break;
            }
            if (k == 1)
                snprintf(stem, cap, "%s", base);
            else
                snprintf(stem, cap, "%s_%d", base, k);
            bool used = false;
            for (int j = 0; j < i && !used; j++) used = !strcmp(stems[j], stem);
            if (!used) break;
        }
        free(base);
        if (rc != CLI_OK) {
            free(stem);
            break;
        }
        stems[i] = stem;
        size_t cap = strlen(stem) + 5;
        char *withext = malloc(cap);
        if (!withext) {
            rc = cli_fail("out of memory");
            break;
        }
        snprintf(withext, cap, "%s.npy", stem);
        paths[i] = join_path(o->out_dir, withext);
        free(withext);
        if (!paths[i]) rc = cli_fail("out of memory");
    }
    for (int i = 0; i < n_out; i++) free(stems[i]);
    free(stems);
    return rc;
}

static int save_outputs(const ot_model *m, const run_opts *o, ot_tensor **outs, int n_out) {
    if (!cli_mkdirs(o->out_dir)) return CLI_FAIL;
    char **paths = calloc((size_t)(n_out > 0 ? n_out : 1), sizeof *paths);
    if (!paths) return cli_fail("out of memory");
    int rc = output_paths(m, o, n_out, paths);
    for (int i = 0; i < n_out && rc == CLI_OK; i++) {
        ot_value_info v;
        if (ot_model_output(m, i, &v) != OT_OK) {
            rc = cli_fail_lib();
            break;
        }
        ot_status st = o->pb ? ot_tensor_save_pb(outs[i], v.name, paths[i]) : ot_tensor_save_npy(outs[i], paths[i]);
        if (st != OT_OK) {
            const char *msg = ot_last_error();
            rc = msg && strstr(msg, paths[i]) ? cli_fail_lib() : cli_fail("%s: %s", paths[i], msg);
            break;
        }
        if (!o->quiet) {
            char dims[512];
            cli_format_dims(ot_tensor_rank(outs[i]), ot_tensor_dims(outs[i]), dims, sizeof dims);
            cli_put_text(stdout, v.name);
            printf(": %s %s -> ", ot_dtype_name(ot_tensor_dtype(outs[i])), dims);
            cli_put_text(stdout, paths[i]);
            printf("\n");
        }
    }
    for (int i = 0; i < n_out; i++) free(paths[i]);
    free(paths);
    return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static int run_main(int argc, char **argv) {
    run_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc != CLI_OK) {
        free_opts(&o);
        return rc < 0 ? CLI_OK : rc; /* -1: help was printed */
    }

    ot_model *m = NULL;
    ot_session *s = NULL;
    const char **names = NULL;
    ot_tensor **ins = calloc((size_t)(o.n_inputs > 0 ? o.n_inputs : 1), sizeof *ins);
    ot_tensor **outs = NULL;
    int n_out = 0;
    if (!ins) rc = cli_fail("out of memory");
    if (rc == CLI_OK && ot_model_load(o.model, &m) != OT_OK) rc = cli_fail_lib();
    if (rc == CLI_OK) rc = bind_names(m, &o, &names);
    if (rc == CLI_OK) rc = load_inputs(&o, ins);
    if (rc == CLI_OK) {
        ot_session_options so = {.threads = o.threads};
        if (ot_session_create(m, &so, &s) != OT_OK) rc = cli_fail_lib();
    }
    if (rc == CLI_OK) {
        n_out = ot_model_output_count(m);
        if (ot_session_run(s, o.n_inputs, names, ins, &outs) != OT_OK) {
            outs = NULL;
            rc = cli_fail_lib();
        }
    }
    if (rc == CLI_OK) rc = save_outputs(m, &o, outs, n_out);

    if (outs) {
        for (int i = 0; i < n_out; i++) ot_tensor_free(outs[i]);
        ot_free_array(outs);
    }
    for (int i = 0; ins && i < o.n_inputs; i++) ot_tensor_free(ins[i]);
    free(ins);
    free(names);
    ot_session_free(s);
    ot_model_free(m);
    free_opts(&o);
    return rc;
}

const cli_command cli_cmd_run = {
    .name = "run",
    .summary = "run a model once on input files and save its outputs",
    .help = run_help,
    .main = run_main,
};
