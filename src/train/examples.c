/* Synthetic inputs for a model: what `info --train --dump` and `bench`
 * feed when no data is given.  Values are valid for the graph: integer
 * inputs that index a Gather stay inside the gathered axis, labels inside
 * the class count. */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../onnx/model.h"
#include "../core/rng.h"
#include "trainer.h"

/* The smallest Gather axis size an integer input indexes directly (or 2). */
static int64_t ot_index_bound(const ot_graph *g, int v) {
    int64_t bound = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const ot_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "Gather") || n->n_inputs < 2 || n->inputs[1] != v) continue;
        const ot_value *data = &g->values[n->inputs[0]];
        int64_t axis = 0;
        if (ot_attr_get_int(n, "axis", 0, &axis)) continue;
        int rank = data->init ? data->init->rank : data->rank;
        const int64_t *dims = data->init ? data->init->dims : data->dims;
        if (rank <= 0) continue;
        int a = (int)(axis < 0 ? axis + rank : axis);
        if (a < 0 || a >= rank || dims[a] <= 0) continue;
        if (bound < 0 || dims[a] < bound) bound = dims[a];
    }
    return bound > 0 ? bound : 2;
}

static void ot_fill_random(ot_tensor *t, uint64_t seed, int64_t int_bound) {
    int64_t n = ot_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = (seed + (uint64_t)i) * 0x9E3779B97F4A7C15ull; /* splitmix-style scramble */
        r ^= r >> 31;
        r *= 0xBF58476D1CE4E5B9ull;
        r ^= r >> 29;
        if (ot_dtype_is_float(t->dtype)) {
            double u1 = ((r >> 11) + 1.0) / 9007199254740993.0, u2 = ((r * 2654435761u) >> 11) / 9007199254740992.0;
            ot_store_f64(t->dtype, t->data, i, sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
        } else {
            ot_store_i64(t->dtype, t->data, i, (int64_t)(r % (uint64_t)int_bound));
        }
    }
}

static int64_t ot_dim_value(const ot_value_info *vi, int d, int64_t batch, int n_dims, const char *const *names,
                            const int64_t *values) {
    if (vi->dims[d] >= 0) return vi->dims[d];
    for (int k = 0; k < n_dims; k++)
        if (vi->dim_names[d] && !strcmp(vi->dim_names[d], names[k])) return values[k];
    return d == 0 ? batch : 1;
}

/* The model's inputs (graph-input order, initializers excluded) into out[]. */
static ot_status ot_model_inputs_fill(const ot_model *m, int64_t batch, int n_dims, const char *const *dim_names,
                                      const int64_t *dim_values, ot_tensor **out, int *n) {
    int nf = ot_model_input_count(m);
    ot_status s = OT_OK;
    *n = 0;
    for (int i = 0; i < nf && !s; i++) {
        ot_value_info vi;
        if ((s = ot_model_input(m, i, &vi))) break;
        if (vi.rank < 0) {
            s = ot_error(OT_ERR_SHAPE, "input '%s' has no declared rank: give data instead", vi.name);
            break;
        }
        int64_t dims[OT_MAX_RANK];
        for (int d = 0; d < vi.rank; d++) dims[d] = ot_dim_value(&vi, d, batch, n_dims, dim_names, dim_values);
        ot_dtype dt = vi.dtype == OT_UNDEFINED ? OT_FLOAT : vi.dtype;
        if ((s = ot_tensor_new(dt, vi.rank, dims, &out[i]))) break;
        *n = i + 1;
        ot_fill_random(out[i], 1000003u * (uint64_t)(i + 1), ot_index_bound(m->graph, ot_graph_find(m->graph, vi.name)));
    }
    if (s) {
        for (int i = 0; i < *n; i++) ot_tensor_free(out[i]);
        *n = 0;
    }
    return s;
}

ot_status ot_trainer_example_inputs(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                    const int64_t *dim_values, ot_tensor **out, int *n) {
    const ot_model *m = t->model;
    int nf = ot_model_input_count(m);
    ot_status s = ot_model_inputs_fill(m, batch, n_dims, dim_names, dim_values, out, n);
    if (s || t->o.loss == OT_LOSS_OUTPUT) return s;
    /* Labels: shaped by the output the loss applies to, from a forward compile. */
    ot_program *p = NULL;
    ot_compile_options opt = {0};
    opt.mutable_values = t->is_mutable;
    if ((s = ot_program_compile(m->graph, out, &opt, &p))) goto done;
    int ov;
    if (!(s = ot_loss_output(m->graph, &t->o, &ov))) {
        const ot_tensor *y = &p->slots[ov];
        int64_t dims[OT_MAX_RANK];
        int r = 0;
        if (t->o.loss == OT_LOSS_CROSS_ENTROPY) {
            int k = t->o.class_axis >= 0 ? t->o.class_axis : (y->rank == 2 ? 1 : y->rank - 1);
            if (y->rank < 2 || k >= y->rank) {
                s = ot_error(OT_ERR_SHAPE, "output '%s' has no class axis for cross-entropy", m->graph->values[ov].name);
            } else {
                for (int d = 0; d < y->rank; d++)
                    if (d != k) dims[r++] = y->dims[d];
                if (!(s = ot_tensor_new(OT_INT64, r, dims, &out[nf]))) ot_fill_random(out[nf], 77, y->dims[k]);
            }
        } else {
            if (!(s = ot_tensor_new(y->dtype, y->rank, y->dims, &out[nf]))) {
                ot_fill_random(out[nf], 77, 2);
                if (t->o.loss == OT_LOSS_BCE_LOGITS) /* targets in {0, 1} */
                    for (int64_t i = 0; i < ot_tensor_numel(out[nf]); i++)
                        ot_store_f64(out[nf]->dtype, out[nf]->data, i, ot_load_f64(out[nf]->dtype, out[nf]->data, i) > 0);
            }
        }
        if (!s) *n = nf + 1;
    }
    ot_program_free(p);
done:
    if (s) {
        for (int i = 0; i < *n; i++) ot_tensor_free(out[i]);
        *n = 0;
    }
    return s;
}

ot_status ot_trainer_dump(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names, const int64_t *dim_values,
                          const char *path) {
    if (!t || !path || batch < 1) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_dump: bad argument");
    ot_tensor *in[65];
    int n;
    if (ot_model_input_count(t->model) > 63) return ot_error(OT_ERR_UNSUPPORTED, "more than 63 model inputs");
    OT_TRY(ot_trainer_example_inputs(t, batch, n_dims, dim_names, dim_values, in, &n));
    ot_train_program *p = NULL;
    ot_status s = ot_trainer_program(t, in, false, &p);
    ot_model dumped = *t->model;
    dumped.graph = p ? p->g : NULL;
    if (!s) s = ot_model_save(&dumped, path, NULL);
    for (int i = 0; i < n; i++) ot_tensor_free(in[i]);
    return s;
}

/* The array form of the public API: the model's inputs, then (trainer) the labels. */
static ot_status ot_example_array(const ot_model *m, ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                  const int64_t *dim_values, ot_tensor ***inputs, int *n) {
    int cap = ot_model_input_count(m) + 1;
    ot_tensor **arr = ot_calloc((size_t)cap + 1, sizeof *arr);
    if (!arr) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = t ? ot_trainer_example_inputs(t, batch, n_dims, dim_names, dim_values, arr, n)
                    : ot_model_inputs_fill(m, batch, n_dims, dim_names, dim_values, arr, n);
    if (s) {
        ot_free(arr);
        return s;
    }
    *inputs = arr;
    return OT_OK;
}

ot_status ot_trainer_example_batch(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                   const int64_t *dim_values, ot_tensor ***inputs, int *n) {
    if (!t || !inputs || !n || batch < 1 || (n_dims > 0 && (!dim_names || !dim_values)) || n_dims < 0)
        return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_example_batch: bad argument");
    return ot_example_array(t->model, t, batch, n_dims, dim_names, dim_values, inputs, n);
}

ot_status ot_model_example_inputs(const ot_model *m, int64_t batch, int n_dims, const char *const *dim_names,
                                  const int64_t *dim_values, ot_tensor ***inputs, int *n) {
    if (!m || !inputs || !n || batch < 1 || (n_dims > 0 && (!dim_names || !dim_values)) || n_dims < 0)
        return ot_error(OT_ERR_INVALID_ARG, "ot_model_example_inputs: bad argument");
    return ot_example_array(m, NULL, batch, n_dims, dim_names, dim_values, inputs, n);
}

const char *ot_trainer_binding_name(const ot_trainer *t, int i) {
    int nf = ot_model_input_count(t->model);
    if (i < 0) return NULL;
    if (i < nf) {
        ot_value_info vi;
        return ot_model_input(t->model, i, &vi) ? NULL : vi.name;
    }
    return i == nf && t->o.loss != OT_LOSS_OUTPUT ? t->o.labels : NULL;
}
