/* `onnxtrain info MODEL [--json]`: what a model contains and whether onnxtrain
 * can run it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char info_help[] =
    "usage: onnxtrain info MODEL [--json]\n"
    "\n"
    "Describe an ONNX model: IR version, producer, opset imports, graph inputs and\n"
    "outputs (element type and shape; symbolic dimensions by name), parameter count\n"
    "and bytes (all initializers), the operator histogram, and the operators\n"
    "onnxtrain does not support.  Unsupported operators are reported, not an error.\n"
    "\n"
    "options:\n"
    "  --json       print exactly one JSON object on stdout (keys: ir_version,\n"
    "               producer, opsets, inputs, outputs, parameters, parameter_bytes,\n"
    "               ops, unsupported)\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0 success, 1 the model cannot be read, 2 bad command line\n";

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

static int info_main(int argc, char **argv) {
    cli_args a;
    cli_args_init(&a, argc, argv);
    const char *path = NULL, *pos;
    bool json = false;
    for (int k; (k = cli_args_next(&a, &pos)) != CLI_ARG_END;) {
        if (k == CLI_ARG_POS) {
            if (path) return cli_usage(a.cmd, "unexpected argument '%s' (one MODEL expected)", pos);
            path = pos;
        } else if (cli_is_help(a.opt)) {
            return cli_print_help(&cli_cmd_info);
        } else if (!strcmp(a.opt, "--json")) {
            if (!cli_args_no_value(&a)) return CLI_USAGE;
            json = true;
        } else {
            return cli_usage(a.cmd, "unknown option '%s'", a.opt);
        }
    }
    if (!path) return cli_usage(a.cmd, "missing MODEL");

    ot_model *m = NULL;
    if (ot_model_load(path, &m) != OT_OK) return cli_fail_lib();
    model_summary s;
    int rc = summarize(m, &s);
    if (rc == CLI_OK) rc = json ? print_json(m, &s) : print_text(path, m, &s);
    summary_free(&s);
    ot_model_free(m);
    return rc;
}

const cli_command cli_cmd_info = {
    .name = "info",
    .summary = "describe a model: inputs, outputs, parameters, ops, support",
    .help = info_help,
    .main = info_main,
};
