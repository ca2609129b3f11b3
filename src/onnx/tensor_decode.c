/* TensorProto <-> ot_tensor.  Reads every storage form ONNX allows: raw_data
 * (little-endian bytes), the typed repeated fields, and external data files;
 * densifies SparseTensorProto; writes raw_data for save.  4- and 2-bit types
 * are packed in files (low bits first) and unpacked to a byte each in memory
 * (src/core/lowprec.h).  Every size in the
 * file is checked against the dims before any copy. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "../core/lowprec.h"
#include "../core/shape.h"
#include "pb.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define OT_HOST_BIG_ENDIAN 1
#else
#define OT_HOST_BIG_ENDIAN 0
#endif

const char *ot_onnx_type_name(int32_t t) {
    static const char *names[] = {"undefined", "float32", "uint8", "int8", "uint16", "int16", "int32",
                                  "int64", "string", "bool", "float16", "float64", "uint32", "uint64",
                                  "complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz",
                                  "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1",
                                  "float8e8m0", "uint2", "int2"};
    if (t >= 0 && t < (int32_t)(sizeof names / sizeof names[0])) return names[t];
    return "unknown element type";
}

ot_dtype ot_dtype_from_onnx(int32_t t) {
    return t >= OT_FLOAT && t <= OT_INT2 ? (ot_dtype)t : OT_UNDEFINED;
}

/* Prefix for every message: "FILE: ROLE 'NAME' (TYPE, dims (..))". */
static const char *tensor_desc(const ot_tensor_ctx *ctx, const char *role, const char *name, ot_dtype dt, int rank,
                               const int64_t *dims, char *buf, size_t cap) {
    char sh[256];
    if (rank >= 0) ot_shape_str(rank, dims, sh, sizeof sh);
    snprintf(buf, cap, *name ? "%s: %s '%s' (%s%s%s)" : "%s: %s%s (%s%s%s)", ctx->what, role, name, ot_dtype_name(dt),
             rank >= 0 ? ", dims " : "", rank >= 0 ? sh : "");
    return buf;
}

static void swap_bytes(void *data, size_t n_elems, size_t es) {
    uint8_t *p = data;
    if (es < 2) return;
    for (size_t i = 0; i < n_elems; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t c = p[a];
            p[a] = p[b];
            p[b] = c;
        }
}

/* After raw bytes land in t->data: host byte order, canonical bools. */
static void fix_raw(ot_tensor *t, int64_t numel) {
    size_t es = ot_dtype_size(t->dtype);
    if (OT_HOST_BIG_ENDIAN) {
        /* complex numbers swap per component */
        size_t comp = (t->dtype == OT_COMPLEX64 || t->dtype == OT_COMPLEX128) ? 2 : 1;
        swap_bytes(t->data, (size_t)numel * comp, es / comp);
    }
    if (t->dtype == OT_BOOL) {
        uint8_t *b = t->data;
        for (int64_t i = 0; i < numel; i++) b[i] = b[i] != 0;
    }
}

/* ---- external data -------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* True when `location` has a ".." component. */
static int has_dotdot(const char *location) {
    const char *p = location;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Maps `real` (copy-on-write) once per model; returns the mapping. */
static ot_status map_file(ot_model *m, const char *real, int fd, size_t size, const ot_extdata_map **out) {
    for (int i = 0; i < m->n_maps; i++)
        if (!strcmp(m->maps[i].path, real)) {
            *out = &m->maps[i];
            return m->maps[i].size == size ? OT_OK : OT_ERR_IO; /* changed under us: read instead */
        }
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) return OT_ERR_IO; /* caller falls back to reading */
    ot_extdata_map *maps = ot_realloc(m->maps, sizeof *maps * (size_t)(m->n_maps + 1));
    char *p = ot_strdup(real);
    if (!maps || !p) {
        if (maps) m->maps = maps;
        ot_free(p);
        munmap(base, size);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    m->maps = maps;
    maps[m->n_maps] = (ot_extdata_map){p, base, size};
    *out = &maps[m->n_maps++];
    return OT_OK;
}

static ot_status read_at(int fd, void *dst, size_t n, uint64_t off, const char *file) {
    uint8_t *p = dst;
    while (n) {
        ssize_t r = pread(fd, p, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return ot_error(OT_ERR_IO, "%s: read failed: %s", file, r < 0 ? strerror(errno) : "unexpected end of file");
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return OT_OK;
}

static ot_status load_external(const Onnx__TensorProto *tp, const ot_tensor_ctx *ctx, const char *desc, ot_tensor *t,
                               size_t bytes) {
    const char *location = NULL;
    uint64_t offset = 0, length = 0;
    int has_length = 0;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv || !kv->key) continue;
        const char *v = kv->value ? kv->value : "";
        if (!strcmp(kv->key, "location")) location = v;
        else if (!strcmp(kv->key, "offset")) {
            if (parse_u64(v, &offset)) return ot_error(OT_ERR_PARSE, "%s: external data offset '%s' is not a byte count", desc, v);
        } else if (!strcmp(kv->key, "length")) {
            if (parse_u64(v, &length)) return ot_error(OT_ERR_PARSE, "%s: external data length '%s' is not a byte count", desc, v);
            has_length = 1;
        }
        /* "checksum" (SHA-1) is optional and not verified, as in the onnx package. */
    }
    if (!location || !*location) return ot_error(OT_ERR_PARSE, "%s: external data without a 'location'", desc);
    if (location[0] == '/')
        return ot_error(OT_ERR_PARSE, "%s: external data location '%s' is an absolute path; it must be relative to the model's folder",
                        desc, location);
    if (has_dotdot(location))
        return ot_error(OT_ERR_PARSE, "%s: external data location '%s' escapes the model's folder ('..' is not allowed)", desc,
                        location);
    if (has_length && length != bytes)
        return ot_error(OT_ERR_PARSE, "%s: external data length is %llu bytes, expected %zu", desc, (unsigned long long)length,
                        bytes);
    const char *base = ctx->base_dir && *ctx->base_dir ? ctx->base_dir : ".";
    char full[PATH_MAX], real_base[PATH_MAX], real[PATH_MAX];
    if (snprintf(full, sizeof full, "%s/%s", base, location) >= (int)sizeof full)
        return ot_error(OT_ERR_PARSE, "%s: external data path too long", desc);
    if (!realpath(base, real_base)) return ot_error(OT_ERR_IO, "%s: model folder '%s': %s", desc, base, strerror(errno));
    if (!realpath(full, real))
        return ot_error(OT_ERR_IO, "%s: external data file '%s' cannot be opened: %s", desc, full, strerror(errno));
    size_t nb = strlen(real_base);
    int inside = nb == 1 ? real[0] == '/' : !strncmp(real, real_base, nb) && real[nb] == '/';
    if (!inside)
        return ot_error(OT_ERR_PARSE, "%s: external data file '%s' resolves to '%s', outside the model's folder '%s'", desc,
                        location, real, real_base);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ot_error(OT_ERR_IO, "%s: external data file '%s' cannot be opened: %s", desc, full, strerror(errno));
    struct stat st;
    ot_status s = OT_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = ot_error(OT_ERR_IO, "%s: external data file '%s' is not a regular file", desc, full);
        goto out;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    if (offset > fsize || bytes > fsize - offset) {
        s = ot_error(OT_ERR_PARSE, "%s: external data needs bytes %llu..%llu of '%s', which has %llu bytes", desc,
                     (unsigned long long)offset, (unsigned long long)(offset + bytes), full, (unsigned long long)fsize);
        goto out;
    }
    size_t es = ot_dtype_size(t->dtype);
    const ot_extdata_map *map = NULL;
    if (ctx->model && bytes > 0 && offset % es == 0 && fsize <= SIZE_MAX &&
        map_file(ctx->model, real, fd, (size_t)fsize, &map) == OT_OK) {
        t->data = (uint8_t *)map->base + offset;
        t->owns = false;
    } else {
        ot_error_clear();
        if ((s = ot_tensor_alloc_data(t))) goto out;
        if ((s = read_at(fd, t->data, bytes, offset, full))) goto out;
    }
out:
    close(fd);
    return s;
}

/* ---- typed fields -------------------------------------------------------------------- */

/* Copies the typed repeated field that holds dtype `dt` (ONNX spec's mapping). */
static ot_status load_typed(const Onnx__TensorProto *tp, ot_tensor *t, int64_t numel, const char *desc) {
    ot_dtype dt = t->dtype;
    size_t have;
    const char *field;
    int64_t per = (dt == OT_COMPLEX64 || dt == OT_COMPLEX128) ? 2 : 1;
    switch (dt) {
    case OT_FLOAT: case OT_COMPLEX64: have = tp->n_float_data; field = "float_data"; break;
    case OT_DOUBLE: case OT_COMPLEX128: have = tp->n_double_data; field = "double_data"; break;
    case OT_INT64: have = tp->n_int64_data; field = "int64_data"; break;
    case OT_UINT32: case OT_UINT64: have = tp->n_uint64_data; field = "uint64_data"; break;
    default: have = tp->n_int32_data; field = "int32_data"; break;
    }
    if (ot_dtype_bits(dt) < 8) { /* packed types: each int32 holds one byte of packed elements */
        const int64_t epb = 8 / ot_dtype_bits(dt), nb = (numel + epb - 1) / epb;
        if ((uint64_t)have != (uint64_t)nb)
            return ot_error(OT_ERR_PARSE, "%s: %s holds %zu values (and there is no raw_data), expected %lld (%lld packed "
                            "elements each)", desc, field, have, (long long)nb, (long long)epb);
        OT_TRY(ot_tensor_alloc_data(t));
        for (int64_t i = 0; i < numel; i++)
            ((uint8_t *)t->data)[i] =
                ot_lowprec_unpack_bits(dt, (unsigned)tp->int32_data[i / epb] >> ((i % epb) * ot_dtype_bits(dt)));
        return OT_OK;
    }
    if ((uint64_t)have != (uint64_t)(numel * per))
        return ot_error(OT_ERR_PARSE, "%s: %s holds %zu values (and there is no raw_data), expected %lld", desc, field, have,
                        (long long)(numel * per));
    OT_TRY(ot_tensor_alloc_data(t));
    void *d = t->data;
    if (have == 0) return OT_OK; /* empty tensor: the typed field may be NULL */
    switch (dt) {
    case OT_FLOAT: case OT_COMPLEX64: memcpy(d, tp->float_data, have * sizeof(float)); break;
    case OT_DOUBLE: case OT_COMPLEX128: memcpy(d, tp->double_data, have * sizeof(double)); break;
    case OT_INT64: memcpy(d, tp->int64_data, have * sizeof(int64_t)); break;
    case OT_UINT64: memcpy(d, tp->uint64_data, have * sizeof(uint64_t)); break;
    case OT_UINT32:
        for (size_t i = 0; i < have; i++) ((uint32_t *)d)[i] = (uint32_t)tp->uint64_data[i];
        break;
    case OT_INT32: memcpy(d, tp->int32_data, have * sizeof(int32_t)); break;
    case OT_BOOL:
        for (size_t i = 0; i < have; i++) ((uint8_t *)d)[i] = tp->int32_data[i] != 0;
        break;
    case OT_INT8: case OT_UINT8:
        for (size_t i = 0; i < have; i++) ((uint8_t *)d)[i] = (uint8_t)tp->int32_data[i];
        break;
    case OT_INT16: case OT_UINT16: case OT_FLOAT16: case OT_BFLOAT16: /* 16-bit patterns in the low bits */
        for (size_t i = 0; i < have; i++) ((uint16_t *)d)[i] = (uint16_t)tp->int32_data[i];
        break;
    default:
        if (!ot_dtype_is_lowprec(dt)) return ot_error(OT_ERR_INTERNAL, "%s: no typed field for this element type", desc);
        for (size_t i = 0; i < have; i++) ((uint8_t *)d)[i] = (uint8_t)tp->int32_data[i];
        break;
    }
    return OT_OK;
}

/* ---- decode -------------------------------------------------------------------------- */

/* 4/2-bit types from raw_data or an external file: `bytes` packed bytes
   unpacked into one byte per element. */
static ot_status load_packed(const Onnx__TensorProto *tp, const ot_tensor_ctx *ctx, const char *desc, ot_tensor *t,
                             size_t bytes, int64_t numel) {
    OT_TRY(ot_tensor_alloc_data(t));
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        const int64_t dims[1] = {(int64_t)bytes};
        ot_tensor *raw;
        OT_TRY(ot_tensor_new_desc(OT_UINT8, 1, dims, &raw));
        ot_status s = load_external(tp, ctx, desc, raw, bytes);
        if (!s) ot_lowprec_unpack(t->dtype, raw->data, numel, t->data);
        ot_tensor_free(raw);
        return s;
    }
    if (tp->raw_data.len != bytes)
        return ot_error(OT_ERR_PARSE, "%s: raw_data holds %zu bytes, expected %zu (%d-bit elements, packed)", desc,
                        tp->raw_data.len, bytes, ot_dtype_bits(t->dtype));
    if (numel) ot_lowprec_unpack(t->dtype, tp->raw_data.data, numel, t->data);
    return OT_OK;
}

/* Validates data_type and dims; *out is a descriptor without data. */
static ot_status tensor_header(const Onnx__TensorProto *tp, const ot_tensor_ctx *ctx, const char *role, const char *name,
                               ot_tensor **out, size_t *bytes, int64_t *numel) {
    char desc[512], who[400];
    snprintf(who, sizeof who, *name ? "%s '%s'" : "%s%s", role, name);
    if (!tp->has_data_type || tp->data_type == 0)
        return ot_error(OT_ERR_PARSE, "%s: %s has no data_type", ctx->what, who);
    ot_dtype dt = ot_dtype_from_onnx(tp->data_type);
    if (dt == OT_STRING)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: %s is a string tensor; onnxtrain supports numeric tensors only", ctx->what, who);
    if (dt == OT_UNDEFINED)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: %s has element type %s (%d), which onnxtrain does not support", ctx->what, who,
                        ot_onnx_type_name(tp->data_type), (int)tp->data_type);
    if (tp->n_dims > OT_MAX_RANK)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: %s has rank %zu; onnxtrain supports up to %d", ctx->what, who, tp->n_dims,
                        OT_MAX_RANK);
    int rank = (int)tp->n_dims;
    for (int i = 0; i < rank; i++)
        if (tp->dims[i] < 0)
            return ot_error(OT_ERR_PARSE, "%s: negative dimension %lld at axis %d",
                            tensor_desc(ctx, role, name, dt, rank, tp->dims, desc, sizeof desc), (long long)tp->dims[i], i);
    if (ot_shape_numel(rank, tp->dims, numel) || ot_shape_bytes(rank, tp->dims, ot_dtype_size(dt), bytes))
        return ot_error(OT_ERR_PARSE, "%s: dims describe more than 2^40 elements",
                        tensor_desc(ctx, role, name, dt, rank, tp->dims, desc, sizeof desc));
    if (ot_dtype_bits(dt) < 8) *bytes = (size_t)((*numel * ot_dtype_bits(dt) + 7) / 8); /* as stored: packed */
    if (tp->segment)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: segmented tensors (TensorProto.segment) are not supported",
                        tensor_desc(ctx, role, name, dt, rank, tp->dims, desc, sizeof desc));
    return ot_tensor_new_desc(dt, rank, tp->dims, out);
}

ot_status ot_tensor_from_proto(Onnx__TensorProto *tp, const ot_tensor_ctx *ctx, const char *role, ot_tensor **out) {
    const char *name = tp->name ? tp->name : "";
    ot_tensor *t;
    size_t bytes;
    int64_t numel;
    char desc[512];
    OT_TRY(tensor_header(tp, ctx, role, name, &t, &bytes, &numel));
    tensor_desc(ctx, role, name, t->dtype, t->rank, t->dims, desc, sizeof desc);
    ot_status s = ot_tensor_set_name(t, name);
    if (s) goto fail;
    if (ot_dtype_bits(t->dtype) < 8 && (tp->has_raw_data || (tp->has_data_location &&
                                                             tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))) {
        s = load_packed(tp, ctx, desc, t, bytes, numel);
        if (s) goto fail;
        *out = t;
        return OT_OK;
    }
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        s = load_external(tp, ctx, desc, t, bytes);
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != bytes) {
            s = ot_error(OT_ERR_PARSE, "%s: raw_data holds %zu bytes, expected %zu", desc, tp->raw_data.len, bytes);
            goto fail;
        }
        if (ctx->steal && bytes && tp->raw_data.data) {
            /* protobuf-c allocated this field on its own (through ot_malloc, so
               ot_free releases it with the tensor): take it rather than copy,
               so a model costs its size once, not twice, after unpacking. */
            t->data = tp->raw_data.data;
            t->owns = true;
            tp->raw_data.data = NULL;
            tp->raw_data.len = 0;
            tp->has_raw_data = 0;
        } else if (!(s = ot_tensor_alloc_data(t)) && bytes) {
            memcpy(t->data, tp->raw_data.data, bytes);
        }
    } else {
        s = load_typed(tp, t, numel, desc);
        if (!s) {
            *out = t;
            return OT_OK;
        }
    }
    if (s) goto fail;
    fix_raw(t, numel);
    *out = t;
    return OT_OK;
fail:
    ot_tensor_free(t);
    return s;
}

ot_status ot_tensor_from_sparse_proto(const Onnx__SparseTensorProto *sp, const ot_tensor_ctx *ctx, const char *role,
                                      ot_tensor **out) {
    if (!sp->values) return ot_error(OT_ERR_PARSE, "%s: sparse %s has no values tensor", ctx->what, role);
    const char *name = sp->values->name ? sp->values->name : "";
    char desc[512], vrole[256];
    snprintf(vrole, sizeof vrole, "sparse %s values", role);
    ot_tensor *vals = NULL, *idx = NULL, *dense = NULL;
    ot_status s;
    OT_TRY(ot_tensor_from_proto(sp->values, ctx, vrole, &vals));
    int rank = (int)sp->n_dims;
    if (sp->n_dims > OT_MAX_RANK) {
        s = ot_error(OT_ERR_UNSUPPORTED, "%s: sparse %s '%s' has rank %zu; onnxtrain supports up to %d", ctx->what, role, name,
                     sp->n_dims, OT_MAX_RANK);
        goto out;
    }
    tensor_desc(ctx, role, name, vals->dtype, rank, sp->dims, desc, sizeof desc);
    int64_t numel;
    for (int i = 0; i < rank; i++)
        if (sp->dims[i] < 0) {
            s = ot_error(OT_ERR_PARSE, "%s: negative dimension", desc);
            goto out;
        }
    if (ot_shape_numel(rank, sp->dims, &numel)) {
        s = ot_error(OT_ERR_PARSE, "%s: dims describe more than 2^40 elements", desc);
        goto out;
    }
    if (vals->rank != 1) {
        s = ot_error(OT_ERR_PARSE, "%s: sparse values must have rank 1 (NNZ), got rank %d", desc, vals->rank);
        goto out;
    }
    int64_t nnz = vals->dims[0];
    if ((s = ot_tensor_new(vals->dtype, rank, sp->dims, &dense))) goto out;
    if ((s = ot_tensor_set_name(dense, name))) goto out;
    if (nnz > 0) {
        if (!sp->indices) {
            s = ot_error(OT_ERR_PARSE, "%s: sparse tensor with %lld values has no indices", desc, (long long)nnz);
            goto out;
        }
        snprintf(vrole, sizeof vrole, "sparse %s indices", role);
        if ((s = ot_tensor_from_proto(sp->indices, ctx, vrole, &idx))) goto out;
        int coo = idx->rank == 2 && idx->dims[0] == nnz && idx->dims[1] == rank;
        if (!ot_dtype_is_int(idx->dtype) || !(coo || (idx->rank == 1 && idx->dims[0] == nnz))) {
            char sh[128];
            s = ot_error(OT_ERR_PARSE, "%s: indices are %s %s, expected int64 (%lld) or (%lld, %d)", desc,
                         ot_dtype_name(idx->dtype), ot_shape_str(idx->rank, idx->dims, sh, sizeof sh), (long long)nnz,
                         (long long)nnz, rank);
            goto out;
        }
        size_t es = ot_dtype_size(vals->dtype);
        int64_t strides[OT_MAX_RANK];
        ot_shape_strides(rank, sp->dims, strides);
        for (int64_t k = 0; k < nnz; k++) {
            int64_t lin = 0;
            if (coo) {
                for (int d = 0; d < rank; d++) {
                    int64_t c = ot_load_i64(idx->dtype, idx->data, k * rank + d);
                    if (c < 0 || c >= sp->dims[d]) {
                        s = ot_error(OT_ERR_PARSE, "%s: index %lld of value %lld is out of range at axis %d", desc,
                                     (long long)c, (long long)k, d);
                        goto out;
                    }
                    lin += c * strides[d];
                }
            } else {
                lin = ot_load_i64(idx->dtype, idx->data, k);
                if (lin < 0 || lin >= numel) {
                    s = ot_error(OT_ERR_PARSE, "%s: linear index %lld of value %lld is out of range [0, %lld)", desc,
                                 (long long)lin, (long long)k, (long long)numel);
                    goto out;
                }
            }
            memcpy((uint8_t *)dense->data + (size_t)lin * es, (const uint8_t *)vals->data + (size_t)k * es, es);
        }
    }
    *out = dense;
    dense = NULL;
out:
    ot_tensor_free(vals);
    ot_tensor_free(idx);
    ot_tensor_free(dense);
    return s;
}

/* ---- encode -------------------------------------------------------------------------- */

ot_status ot_tensor_to_proto(const ot_tensor *t, const char *name, Onnx__TensorProto *tp, void **scratch) {
    static uint8_t empty[1];
    onnx__tensor_proto__init(tp);
    *scratch = NULL;
    size_t es = ot_dtype_size(t->dtype);
    if (!es || t->dtype == OT_STRING)
        return ot_error(OT_ERR_UNSUPPORTED, "tensor '%s': cannot write element type %s", name ? name : "",
                        ot_dtype_name(t->dtype));
    size_t bytes;
    OT_TRY(ot_shape_bytes(t->rank, t->dims, es, &bytes));
    if (bytes && !t->data) return ot_error(OT_ERR_INTERNAL, "tensor '%s' has no data to write", name ? name : "");
    if (ot_dtype_bits(t->dtype) < 8 && bytes) { /* packed in files: lowprec.h */
        const size_t packed = (bytes * (size_t)ot_dtype_bits(t->dtype) + 7) / 8;
        uint8_t *c = ot_malloc(packed);
        if (!c) return ot_error(OT_ERR_NOMEM, "out of memory");
        ot_lowprec_pack(t->dtype, t->data, (int64_t)bytes, c);
        *scratch = c;
        bytes = packed;
    }
    tp->n_dims = (size_t)t->rank;
    tp->dims = (int64_t *)t->dims; /* protobuf-c only reads it while packing */
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    tp->name = (char *)(name ? name : "");
    tp->has_raw_data = 1;
    tp->raw_data.len = bytes;
    tp->raw_data.data = *scratch ? (uint8_t *)*scratch : bytes ? (uint8_t *)t->data : empty;
    if (OT_HOST_BIG_ENDIAN && bytes && es > 1) {
        uint8_t *c = ot_malloc(bytes);
        if (!c) return ot_error(OT_ERR_NOMEM, "out of memory");
        memcpy(c, t->data, bytes);
        size_t comp = (t->dtype == OT_COMPLEX64 || t->dtype == OT_COMPLEX128) ? 2 : 1;
        swap_bytes(c, bytes / es * comp, es / comp);
        tp->raw_data.data = c;
        *scratch = c;
    }
    return OT_OK;
}
