#include "tensor.h"

#include <string.h>

#include "alloc.h"
#include "dtype.h"
#include "shape.h"
#include "status.h"

void ot_tensor_set_shape(ot_tensor *t, ot_dtype dtype, int rank, const int64_t *dims) {
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
}

ot_status ot_tensor_new_desc(ot_dtype dtype, int rank, const int64_t *dims, ot_tensor **out) {
    if (rank < 0 || rank > OT_MAX_RANK)
        return ot_error(OT_ERR_UNSUPPORTED, "tensor rank %d (onnxtrain supports up to %d)", rank, OT_MAX_RANK);
    ot_tensor *t = ot_calloc(1, sizeof *t);
    if (!t) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_tensor_set_shape(t, dtype, rank, dims);
    *out = t;
    return OT_OK;
}

ot_status ot_tensor_alloc_data(ot_tensor *t) {
    size_t bytes;
    size_t es = ot_dtype_size(t->dtype);
    if (!es) return ot_error(OT_ERR_UNSUPPORTED, "tensors of type %s are not supported", ot_dtype_name(t->dtype));
    OT_TRY(ot_shape_bytes(t->rank, t->dims, es, &bytes));
    void *d = ot_calloc(1, bytes ? bytes : 1);
    if (!d) return ot_error(OT_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    if (t->owns) ot_free(t->data);
    t->data = d;
    t->owns = true;
    return OT_OK;
}

ot_status ot_tensor_new(ot_dtype dtype, int rank, const int64_t *dims, ot_tensor **out) {
    ot_tensor *t;
    OT_TRY(ot_tensor_new_desc(dtype, rank, dims, &t));
    ot_status s = ot_tensor_alloc_data(t);
    if (s) {
        ot_tensor_free(t);
        return s;
    }
    *out = t;
    return OT_OK;
}

ot_status ot_tensor_create(ot_dtype dtype, int rank, const int64_t *dims, ot_tensor **out) {
    if (!out || (rank > 0 && !dims)) return ot_error(OT_ERR_INVALID_ARG, "ot_tensor_create: NULL argument");
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0) return ot_error(OT_ERR_INVALID_ARG, "ot_tensor_create: negative dimension");
    return ot_tensor_new(dtype, rank, dims, out);
}

void ot_tensor_free(ot_tensor *t) {
    if (!t) return;
    if (t->owns) ot_free(t->data);
    ot_free(t->name);
    ot_free(t);
}

int64_t ot_tensor_numel(const ot_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

size_t ot_tensor_nbytes(const ot_tensor *t) { return (size_t)ot_tensor_numel(t) * ot_dtype_size(t->dtype); }

ot_status ot_tensor_clone(const ot_tensor *t, ot_tensor **out) {
    ot_tensor *c;
    OT_TRY(ot_tensor_new_desc(t->dtype, t->rank, t->dims, &c));
    ot_status s = OT_OK;
    if (t->data) {
        s = ot_tensor_alloc_data(c);
        if (!s) memcpy(c->data, t->data, ot_tensor_nbytes(t));
    }
    if (!s && t->name) s = ot_tensor_set_name(c, t->name);
    if (s) {
        ot_tensor_free(c);
        return s;
    }
    *out = c;
    return OT_OK;
}

ot_status ot_tensor_set_name(ot_tensor *t, const char *name) {
    char *n = ot_strdup(name ? name : "");
    if (!n) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_free(t->name);
    t->name = n;
    return OT_OK;
}

ot_status ot_tensor_to_i64(const ot_tensor *t, int64_t *out, int64_t cap, int64_t *count) {
    if (!ot_dtype_is_int(t->dtype))
        return ot_error(OT_ERR_TYPE, "expected an integer tensor, got %s", ot_dtype_name(t->dtype));
    if (!t->data) return ot_error(OT_ERR_INTERNAL, "tensor value not available");
    int64_t n = ot_tensor_numel(t);
    if (n > cap) return ot_error(OT_ERR_SHAPE, "expected at most %lld values, got %lld", (long long)cap, (long long)n);
    for (int64_t i = 0; i < n; i++) out[i] = ot_load_i64(t->dtype, t->data, i);
    *count = n;
    return OT_OK;
}

/* Public accessors. */
ot_dtype ot_tensor_dtype(const ot_tensor *t) { return t->dtype; }
int ot_tensor_rank(const ot_tensor *t) { return t->rank; }
const int64_t *ot_tensor_dims(const ot_tensor *t) { return t->dims; }
void *ot_tensor_data(ot_tensor *t) { return t->data; }
const char *ot_tensor_name(const ot_tensor *t) { return t->name ? t->name : ""; }
