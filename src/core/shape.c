#include "shape.h"

#include <stdio.h>

#include "status.h"

ot_status ot_shape_numel(int rank, const int64_t *dims, int64_t *numel) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return ot_error(OT_ERR_SHAPE, "negative dimension %lld", (long long)dims[i]);
        if (dims[i] == 0) {
            n = 0;
            continue;
        }
        if (n > OT_MAX_NUMEL / dims[i]) return ot_error(OT_ERR_NOMEM, "tensor too large (more than 2^40 elements)");
        n *= dims[i];
    }
    *numel = n;
    return OT_OK;
}

ot_status ot_shape_bytes(int rank, const int64_t *dims, size_t elem_size, size_t *bytes) {
    int64_t n;
    OT_TRY(ot_shape_numel(rank, dims, &n));
    if (elem_size && (uint64_t)n > (uint64_t)SIZE_MAX / elem_size)
        return ot_error(OT_ERR_NOMEM, "tensor too large");
    *bytes = (size_t)n * elem_size;
    return OT_OK;
}

ot_status ot_shape_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *rout,
                             int64_t *out) {
    int r = ra > rb ? ra : rb;
    int64_t tmp[OT_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int64_t da = i - (r - ra) >= 0 ? a[i - (r - ra)] : 1;
        int64_t db = i - (r - rb) >= 0 ? b[i - (r - rb)] : 1;
        if (da == db || db == 1) tmp[i] = da;
        else if (da == 1) tmp[i] = db;
        else {
            char sa[128], sb[128];
            return ot_error(OT_ERR_SHAPE, "shapes %s and %s do not broadcast", ot_shape_str(ra, a, sa, sizeof sa),
                            ot_shape_str(rb, b, sb, sizeof sb));
        }
    }
    for (int i = 0; i < r; i++) out[i] = tmp[i];
    *rout = r;
    return OT_OK;
}

void ot_shape_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

void ot_shape_broadcast_strides(int rin, const int64_t *in, int rout, const int64_t *out,
                                int64_t *strides) {
    int64_t s = 1;
    for (int i = rout - 1; i >= 0; i--) {
        int j = i - (rout - rin);
        if (j < 0 || in[j] == 1) {
            strides[i] = 0;
            if (j >= 0) s *= in[j];
        } else {
            strides[i] = s;
            s *= in[j];
        }
        (void)out;
    }
}

ot_status ot_axis_normalize(int64_t axis, int rank, int *out) {
    if (axis < -rank || axis >= (rank ? rank : 1))
        return ot_error(OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return OT_OK;
}

bool ot_shape_equal(int ra, const int64_t *a, int rb, const int64_t *b) {
    if (ra != rb) return false;
    for (int i = 0; i < ra; i++)
        if (a[i] != b[i]) return false;
    return true;
}

const char *ot_shape_str(int rank, const int64_t *dims, char *buf, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "(");
    for (int i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, ")");
    return buf;
}
