/* The public data API (include/onnxtrain.h "data"): thin wrappers over
 * src/data/dataset.h and src/data/batcher.h.
 *
 * ot_dataset_free, ot_dataset_samples, ot_batcher_free and
 * ot_batcher_batches_per_epoch have the same signature inside and outside, so
 * src/data defines them and the public declaration exports them.  The others
 * have public names of their own because their internal namesakes take
 * internal types (bool flags, ot_data_options, ot_batch_binding). */
#include <string.h>

#include "../core/alloc.h"
#include "../core/status.h"
#include "../data/batcher.h"
#include "../data/dataset.h"

ot_status ot_dataset_create(ot_dataset **out) { return ot_dataset_new(out); }

static void ot_data_options_from(const ot_dataset_options *in, ot_data_options *out) {
    memset(out, 0, sizeof *out);
    if (!in) return;
    out->labels_name = in->labels;
    out->csv_delimiter = in->csv_delimiter;
    out->label_column = in->label_column;
    out->input_scale = in->input_scale;
}

ot_status ot_dataset_load(ot_dataset *ds, const char *spec, const ot_dataset_options *opt) {
    if (!ds || !spec) return ot_error(OT_ERR_INVALID_ARG, "ot_dataset_load: NULL argument");
    ot_data_options o;
    ot_data_options_from(opt, &o);
    return ot_dataset_add_spec(ds, spec, &o);
}

int ot_dataset_array_count(const ot_dataset *ds) { return ot_dataset_count(ds); }

ot_status ot_dataset_array(const ot_dataset *ds, int i, ot_value_info *out) {
    if (!ds || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_dataset_array: NULL argument");
    if (i < 0 || i >= ot_dataset_count(ds))
        return ot_error(OT_ERR_INVALID_ARG, "data array index %d out of range (%d arrays)", i, ot_dataset_count(ds));
    const ot_tensor *t = ot_dataset_tensor(ds, i);
    memset(out, 0, sizeof *out);
    out->name = ot_dataset_name(ds, i);
    out->dtype = t->dtype;
    out->rank = t->rank;
    for (int d = 0; d < t->rank && d < OT_MAX_RANK; d++) out->dims[d] = t->dims[d];
    return OT_OK;
}

const char *ot_dataset_array_source(const ot_dataset *ds, int i) {
    if (!ds || i < 0 || i >= ot_dataset_count(ds)) return "";
    return ot_dataset_source(ds, i);
}

ot_status ot_batcher_open(const ot_dataset *ds, const ot_data_binding *bindings, int n, int64_t batch_size, int shuffle,
                          int drop_last, uint64_t seed, ot_batcher **out) {
    if (!ds || !bindings || n < 1 || !out)
        return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_open: NULL argument or no bindings");
    ot_batch_binding *b = ot_calloc((size_t)n, sizeof *b);
    if (!b) return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const ot_data_binding *p = &bindings[i];
        if (p->rank > OT_MAX_RANK) {
            ot_free(b);
            return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_open: binding %d has rank %d (at most %d)", i, p->rank,
                            OT_MAX_RANK);
        }
        b[i].array = p->array;
        b[i].target = p->target;
        b[i].dtype = p->dtype;
        b[i].rank = p->rank;
        memcpy(b[i].dims, p->dims, sizeof b[i].dims);
        b[i].n_classes = p->n_classes;
        b[i].has_ignore_index = p->has_ignore_index != 0;
        b[i].ignore_index = p->ignore_index;
    }
    ot_status s = ot_batcher_create(ds, b, n, batch_size, shuffle != 0, drop_last != 0, seed, out);
    ot_free(b);
    return s;
}

ot_status ot_batcher_fetch(ot_batcher *b, ot_tensor ***batch, int64_t *rows, int *epoch_end) {
    bool end = false;
    OT_TRY(ot_batcher_next(b, batch, rows, &end));
    if (epoch_end) *epoch_end = end;
    return OT_OK;
}

void ot_batcher_get_position(const ot_batcher *b, ot_loop_state *pos) {
    if (!b || !pos) return;
    ot_batcher_state st = ot_batcher_get_state(b);
    pos->epoch = st.epoch;
    pos->cursor = st.cursor;
    pos->data_seed = st.seed;
}

ot_status ot_batcher_set_position(ot_batcher *b, const ot_loop_state *pos) {
    if (!b || !pos) return ot_error(OT_ERR_INVALID_ARG, "ot_batcher_set_position: NULL argument");
    ot_batcher_state st = {pos->epoch, pos->cursor, pos->data_seed};
    return ot_batcher_set_state(b, &st);
}
