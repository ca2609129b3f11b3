/* --data files, the binding of data arrays to the model, and the evaluation
 * pass shared by `train --eval-data` and `eval`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

int cli_data_load(const cli_train_cfg *c, const char *flag, const char *const *specs, int n, ot_dataset **out) {
    ot_dataset *ds;
    if (ot_dataset_create(&ds) != OT_OK) return cli_fail_lib();
    for (int i = 0; i < n; i++) {
        if (ot_dataset_load(ds, specs[i], &c->dopt) != OT_OK) {
            /* the library names the file; say which flag it came from */
            cli_fail("%s %s: %s", flag, specs[i], ot_last_error());
            ot_dataset_free(ds);
            return CLI_FAIL;
        }
    }
    *out = ds;
    return CLI_OK;
}

/* "'a' (a.npy), 'b' (b.npy)" */
static void array_list(const ot_dataset *ds, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    int n = ot_dataset_array_count(ds);
    for (int i = 0; i < n && len < cap; i++) {
        ot_value_info v;
        if (ot_dataset_array(ds, i, &v) != OT_OK) continue;
        int w = snprintf(buf + len, cap - len, "%s'%s'", i ? ", " : "", v.name);
        if (w < 0) break;
        len += (size_t)w;
    }
    if (!n) snprintf(buf, cap, "no arrays");
}

static int find_array(const ot_dataset *ds, const char *name, ot_value_info *v) {
    int n = ot_dataset_array_count(ds);
    for (int i = 0; i < n; i++)
        if (ot_dataset_array(ds, i, v) == OT_OK && !strcmp(v->name, name)) return i;
    return -1;
}

static bool is_float(ot_dtype t) { return t == OT_FLOAT || t == OT_DOUBLE || t == OT_FLOAT16 || t == OT_BFLOAT16; }

/* The output the loss applies to: --output, else the first graph output. */
static int loss_output(const cli_train_cfg *c, const ot_model *m, ot_value_info *out) {
    int n = ot_model_output_count(m);
    for (int i = 0; i < n; i++) {
        if (ot_model_output(m, i, out) != OT_OK) return cli_fail_lib();
        if (!c->output || !strcmp(out->name, c->output)) return CLI_OK;
    }
    if (!n) return cli_fail("the model has no outputs");
    return cli_usage(c->mode == CLI_MODE_TRAIN ? "train" : "eval", "--output: the model has no output named '%s'", c->output);
}

/* Per-sample dims of a model value: its dims without the batch axis, with
   every unknown or symbolic dim left to the data (-1). */
static void per_sample(const ot_value_info *v, ot_data_binding *b) {
    b->rank = v->rank < 1 ? -1 : v->rank - 1;
    for (int d = 1; d < v->rank && d <= OT_MAX_RANK - 1; d++) b->dims[d - 1] = v->dims[d] >= 0 ? v->dims[d] : -1;
}

/* Dims a and b (-1: any) can be the same. */
static bool dims_fit(int rank, const int64_t *a, const int64_t *b) {
    for (int d = 0; d < rank; d++)
        if (a[d] >= 0 && b[d] >= 0 && a[d] != b[d]) return false;
    return true;
}

/* Cross-entropy labels: the logits' shape without the class axis, chosen as
   the loss does (CONTRACTS.md "Losses": --class-axis, else the last axis,
   else axis 1), so that (N, 1) labels of an (N, C) model are reshaped to (N);
   the class count checks the label range when it is known. */
static void ce_labels(const cli_train_cfg *c, const ot_value_info *out, const ot_value_info *lab, ot_data_binding *b) {
    b->rank = -1;
    const int r = out->rank;
    if (r < 2) return;
    int64_t od[OT_MAX_RANK]; /* logits dims, -1 unknown */
    for (int d = 0; d < r; d++) od[d] = out->dims[d] >= 0 ? out->dims[d] : -1;
    int k = -1;
    int64_t without[OT_MAX_RANK];
    for (int pass = 0; pass < 3 && k < 0; pass++) {
        int cand = pass == 0 ? (int)c->class_axis : pass == 1 ? r - 1 : 1;
        if (cand < 1 || cand >= r || (pass > 0 && c->class_axis >= 0)) continue;
        int n = 0;
        for (int d = 1; d < r; d++)
            if (d != cand) without[n++] = od[d];
        /* rank 2 needs no look at the labels: (N) or (N, 1) both fit */
        if (r == 2 || (lab->rank - 1 == n && dims_fit(n, without, lab->dims + 1))) k = cand;
    }
    if (k < 0) return; /* the loss itself reports the mismatch */
    b->rank = r - 2;
    memcpy(b->dims, without, sizeof(int64_t) * (size_t)(r - 2));
    if (od[k] > 0) {
        b->n_classes = od[k];
        b->has_ignore_index = 1;
        b->ignore_index = c->ignore_index;
    }
}

int cli_data_bind(const cli_train_cfg *c, const ot_model *m, const ot_dataset *ds, const char *flag, cli_binding *bd) {
    memset(bd, 0, sizeof *bd);
    const bool needs_labels = c->o.loss != OT_LOSS_OUTPUT;
    const int n_in = ot_model_input_count(m), n_arr = ot_dataset_array_count(ds);
    const int n = n_in + (needs_labels ? 1 : 0);
    char list[1024];
    array_list(ds, list, sizeof list);
    if (n == 0) return cli_fail("the model has no inputs and the loss no labels: there is nothing to feed the data to");
    bd->bind = calloc((size_t)n, sizeof *bd->bind);
    bd->names = calloc((size_t)n, sizeof *bd->names);
    bd->targets = calloc((size_t)n, sizeof *bd->targets);
    bool *used = calloc((size_t)n_arr + 1, sizeof *used);
    if (!bd->bind || !bd->names || !bd->targets || !used) {
        free(used);
        return cli_fail("out of memory");
    }
    bd->n = n;
    int rc = CLI_OK;
    /* the only array that is not the labels: a single-input model takes it
       whatever its name (--data images=... for an input called 'input') */
    int lone = -1, n_features = 0;
    for (int i = 0; i < n_arr; i++) {
        ot_value_info v;
        if (ot_dataset_array(ds, i, &v) == OT_OK && strcmp(v.name, c->labels)) lone = i, n_features++;
    }
    if (needs_labels && find_array(ds, c->labels, &(ot_value_info){0}) < 0)
        rc = cli_fail("%s: the %s loss needs labels, but no data array is named '%s' (the data has %s); give %s "
                      "%s=FILE, or name the labels array with --labels",
                      flag, c->loss, c->labels, list, flag, c->labels);
    for (int i = 0; i < n_in && !rc; i++) {
        ot_value_info in, arr;
        if (ot_model_input(m, i, &in) != OT_OK) {
            rc = cli_fail_lib();
            break;
        }
        int a = find_array(ds, in.name, &arr);
        if (a < 0 && n_in == 1 && n_features == 1) a = lone, ot_dataset_array(ds, a, &arr);
        if (a < 0) {
            rc = cli_fail("%s: no data for model input '%s' (the data has %s); name it with %s %s=FILE%s", flag, in.name,
                          list, flag, in.name, n_in > 1 ? " (a model with several inputs binds arrays by name)" : "");
            break;
        }
        if (in.rank == 0) {
            rc = cli_fail("model input '%s' is a scalar: it has no batch axis to feed samples along", in.name);
            break;
        }
        if (in.rank > 0 && in.dims[0] > 0 && in.dims[0] != c->batch_size) {
            rc = cli_fail("model input '%s' has a fixed batch size of %lld: use --batch-size %lld (and --drop-last when "
                          "the sample count is not a multiple of it), or export the model with a dynamic batch axis",
                          in.name, (long long)in.dims[0], (long long)in.dims[0]);
            break;
        }
        used[a] = true;
        ot_data_binding *b = &bd->bind[i];
        b->array = arr.name;
        snprintf(bd->targets[i], sizeof bd->targets[i], "model input '%s'", in.name);
        b->target = bd->targets[i];
        b->dtype = in.dtype;
        per_sample(&in, b);
        bd->names[i] = in.name;
    }
    if (!rc && needs_labels) {
        ot_value_info out, lab;
        rc = loss_output(c, m, &out);
        int a = rc ? -1 : find_array(ds, c->labels, &lab);
        if (!rc && a >= 0) {
            used[a] = true;
            ot_data_binding *b = &bd->bind[n_in];
            b->array = lab.name;
            snprintf(bd->targets[n_in], sizeof bd->targets[n_in], "labels");
            b->target = bd->targets[n_in];
            bd->names[n_in] = c->labels;
            if (c->o.loss == OT_LOSS_CROSS_ENTROPY) {
                b->dtype = OT_INT64;
                ce_labels(c, &out, &lab, b);
                bd->has_accuracy = true;
                bd->ignore_index = c->ignore_index;
            } else {
                /* regression targets: shaped and typed like the output */
                b->dtype = is_float(out.dtype) ? out.dtype : OT_FLOAT;
                per_sample(&out, b);
            }
        }
    }
    for (int i = 0; i < n_arr && !rc && !c->quiet; i++) {
        ot_value_info v;
        if (used[i] || ot_dataset_array(ds, i, &v) != OT_OK) continue;
        fprintf(stderr, "onnxtrain: warning: %s: data array '", flag);
        cli_put_text(stderr, v.name);
        fprintf(stderr, "' (");
        cli_put_text(stderr, ot_dataset_array_source(ds, i));
        fprintf(stderr, ") feeds nothing: the model has no input of that name\n");
    }
    free(used);
    return rc;
}

void cli_binding_free(cli_binding *b) {
    free(b->bind);
    free(b->names);
    free(b->targets);
    memset(b, 0, sizeof *b);
}

int cli_evaluate(ot_trainer *t, ot_batcher *b, const cli_binding *bd, cli_eval_result *r) {
    memset(r, 0, sizeof *r);
    /* every pass starts at the first sample, whatever the last one did */
    ot_loop_state start = {0};
    ot_batcher_get_position(b, &start);
    start.epoch = 0;
    start.cursor = 0;
    if (ot_batcher_set_position(b, &start) != OT_OK) return cli_fail_lib();
    double weighted = 0, weight = 0;
    int64_t correct = 0, counted = 0;
    for (int end = 0; !end;) {
        ot_tensor **batch;
        int64_t rows;
        if (ot_batcher_fetch(b, &batch, &rows, &end) != OT_OK) return cli_fail_lib();
        double loss;
        int64_t bc = 0, bn = 0;
        if (ot_trainer_evaluate(t, bd->n, bd->names, batch, &loss, bd->has_accuracy ? &bc : NULL,
                                bd->has_accuracy ? &bn : NULL) != OT_OK)
            return cli_fail_lib();
        /* batch losses are means: weight each by what it averaged over (the
           counted targets for cross-entropy, which skips ignore_index) */
        double w = bd->has_accuracy ? (double)bn : (double)rows;
        weighted += loss * w;
        weight += w;
        correct += bc;
        counted += bn;
        r->samples += rows;
    }
    r->counted = counted;
    if (weight <= 0) return cli_fail("evaluation: every target equals --ignore-index %lld: there is nothing to score", (long long)bd->ignore_index);
    r->loss = weighted / weight;
    r->has_accuracy = bd->has_accuracy;
    r->accuracy = counted ? (double)correct / (double)counted : NAN;
    return CLI_OK;
}
