/* Named sample arrays opened from .npy / .npz / IDX / CSV files. */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "../core/shape.h"
#include "../core/status.h"
#include "csv.h"
#include "idx.h"
#include "npy.h"
#include "npz.h"

typedef struct ds_entry {
    char *name;
    char *source;
    ot_tensor *t;
    double scale;
    bool csv;
} ds_entry;

struct ot_dataset {
    ds_entry *e;
    int n, cap;
};

ot_status ot_dataset_new(ot_dataset **out) {
    if (!out) return ot_error(OT_ERR_INVALID_ARG, "ot_dataset_new: NULL argument");
    *out = ot_calloc(1, sizeof **out);
    return *out ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
}

/* Drops entries [n0, n): a file whose arrays fail half-way adds none. */
static void ds_truncate(ot_dataset *ds, int n0) {
    for (int i = n0; i < ds->n; i++) {
        ot_free(ds->e[i].name);
        ot_free(ds->e[i].source);
        ot_tensor_free(ds->e[i].t);
    }
    ds->n = n0;
}

void ot_dataset_free(ot_dataset *ds) {
    if (!ds) return;
    ds_truncate(ds, 0);
    ot_free(ds->e);
    ot_free(ds);
}

int ot_dataset_count(const ot_dataset *ds) { return ds ? ds->n : 0; }
int64_t ot_dataset_samples(const ot_dataset *ds) { return ds && ds->n ? ds->e[0].t->dims[0] : 0; }
const char *ot_dataset_name(const ot_dataset *ds, int i) { return ds->e[i].name; }
const ot_tensor *ot_dataset_tensor(const ot_dataset *ds, int i) { return ds->e[i].t; }
const char *ot_dataset_source(const ot_dataset *ds, int i) { return ds->e[i].source; }
double ot_dataset_scale(const ot_dataset *ds, int i) { return ds->e[i].scale; }
bool ot_dataset_from_csv(const ot_dataset *ds, int i) { return ds->e[i].csv; }

int ot_dataset_find(const ot_dataset *ds, const char *name) {
    for (int i = 0; ds && name && i < ds->n; i++)
        if (!strcmp(ds->e[i].name, name)) return i;
    return -1;
}

const ot_tensor *ot_dataset_get(const ot_dataset *ds, const char *name) {
    int i = ot_dataset_find(ds, name);
    return i < 0 ? NULL : ds->e[i].t;
}

const char *ot_dataset_names_str(const ot_dataset *ds, char *buf, size_t cap) {
    size_t len = 0;
    if (!cap) return buf;
    buf[0] = 0;
    for (int i = 0; ds && i < ds->n && len + 8 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s'%s'", i ? ", " : "", ds->e[i].name);
        if (w < 0 || (size_t)w >= cap - len) {
            if (cap > 4) memcpy(buf + cap - 4, "...", 4);
            return buf;
        }
        len += (size_t)w;
    }
    if (ds && ds->n == 0) snprintf(buf, cap, "none");
    return buf;
}

static ot_status ds_add_entry(ot_dataset *ds, const char *name, ot_tensor *t, const char *source, double scale,
                              bool csv) {
    ot_status s = OT_OK;
    const char *src = source ? source : "(memory)";
    if (!name || !*name) {
        s = ot_error(OT_ERR_INVALID_ARG, "%s: a data array needs a name", src);
    } else if (t->rank < 1) {
        s = ot_error(OT_ERR_SHAPE,
                     "%s: array '%s' is a scalar; data arrays need a first dimension that counts the samples", src,
                     name);
    } else if (!ot_dtype_is_numeric(t->dtype)) {
        s = ot_error(OT_ERR_UNSUPPORTED, "%s: array '%s' has element type %s; data arrays must be numbers", src, name,
                     ot_dtype_name(t->dtype));
    } else if (!isfinite(scale) || scale == 0) {
        s = ot_error(OT_ERR_INVALID_ARG, "input scale %g is not a finite, non-zero number", scale);
    } else {
        int dup = ot_dataset_find(ds, name);
        if (dup >= 0)
            s = ot_error(OT_ERR_INVALID_ARG, "%s: array '%s' is given twice (it already came from %s)", src, name,
                         ds->e[dup].source);
        else if (ds->n && t->dims[0] != ds->e[0].t->dims[0])
            s = ot_error(OT_ERR_SHAPE,
                         "%s: array '%s' has %lld samples but array '%s' (%s) has %lld; every data array needs one "
                         "entry per sample along its first dimension",
                         src, name, (long long)t->dims[0], ds->e[0].name, ds->e[0].source,
                         (long long)ds->e[0].t->dims[0]);
    }
    if (!s && ot_grow((void **)&ds->e, &ds->cap, ds->n + 1, sizeof *ds->e) != 0)
        s = ot_error(OT_ERR_NOMEM, "out of memory");
    if (s) {
        ot_tensor_free(t);
        return s;
    }
    ds_entry *e = &ds->e[ds->n];
    e->name = ot_strdup(name);
    e->source = ot_strdup(src);
    if (!e->name || !e->source) {
        ot_free(e->name);
        ot_free(e->source);
        ot_tensor_free(t);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    e->t = t;
    e->scale = scale;
    e->csv = csv;
    ds->n++;
    return OT_OK;
}

ot_status ot_dataset_add(ot_dataset *ds, const char *name, ot_tensor *t, const char *source, double scale) {
    if (!ds || !t) {
        ot_tensor_free(t);
        return ot_error(OT_ERR_INVALID_ARG, "ot_dataset_add: NULL argument");
    }
    return ds_add_entry(ds, name, t, source, scale, false);
}

/* ---- format detection ------------------------------------------------- */

typedef enum ds_format { FMT_NPY, FMT_NPZ, FMT_IDX, FMT_CSV } ds_format;

static bool has_ext(const char *path, const char *ext) {
    size_t n = strlen(path), m = strlen(ext);
    return n > m && !strcasecmp(path + n - m, ext);
}

/* Text: no NUL and no control bytes other than whitespace in the first bytes. */
static bool looks_like_text(const uint8_t *p, size_t n) {
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') return false;
    return true;
}

static ot_status detect_gzip(const char *path, ds_format *fmt) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    uint8_t head[6] = {0};
    int got = gzread(gz, head, sizeof head);
    gzclose(gz);
    if (got >= 2 && head[0] == 0 && head[1] == 0) {
        *fmt = FMT_IDX;
        return OT_OK;
    }
    if (got >= 6 && !memcmp(head, "\x93NUMPY", 6))
        return ot_error(OT_ERR_UNSUPPORTED,
                        "%s: a gzip-compressed .npy file is not supported; save it with np.savez_compressed (.npz) "
                        "or uncompressed",
                        path);
    return ot_error(OT_ERR_UNSUPPORTED,
                    "%s: a gzip file that does not hold an IDX array (only IDX files may be gzip-compressed; "
                    "use .npz for compressed NumPy arrays)",
                    path);
}

static ot_status detect_format(const char *path, ds_format *fmt) {
    struct stat st;
    if (stat(path, &st) != 0) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ot_error(OT_ERR_IO, "%s: is a directory, not a data file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return ot_error(OT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t head[64];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 0) return ot_error(OT_ERR_PARSE, "%s: the file is empty", path);
    if (n >= 6 && !memcmp(head, "\x93NUMPY", 6)) *fmt = FMT_NPY;
    else if (n >= 4 && (!memcmp(head, "PK\x03\x04", 4) || !memcmp(head, "PK\x05\x06", 4))) *fmt = FMT_NPZ;
    else if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return detect_gzip(path, fmt);
    else if (n >= 4 && head[0] == 0 && head[1] == 0 && head[2] >= 0x08 && head[2] <= 0x0E) *fmt = FMT_IDX;
    /* no magic: trust a NumPy extension so its reader explains what is wrong */
    else if (has_ext(path, ".npy")) *fmt = FMT_NPY;
    else if (has_ext(path, ".npz")) *fmt = FMT_NPZ;
    else if (has_ext(path, ".csv") || has_ext(path, ".tsv") || has_ext(path, ".txt") ||
             looks_like_text(head, n))
        *fmt = FMT_CSV;
    else
        return ot_error(OT_ERR_UNSUPPORTED,
                        "%s: unrecognised data format (expected .npy, .npz, IDX (raw or .gz) or a CSV text file)",
                        path);
    return OT_OK;
}

/* ---- per-format loaders ------------------------------------------------- */

static const char *labels_name(const ot_data_options *opt) {
    return opt && opt->labels_name && *opt->labels_name ? opt->labels_name : "labels";
}

static double scale_for(const char *name, const ot_data_options *opt) {
    if (!strcmp(name, labels_name(opt))) return 1.0;
    return opt && opt->input_scale != 0 ? opt->input_scale : 1.0;
}

static ot_status add_npz(ot_dataset *ds, const char *name, const char *path, const ot_data_options *opt) {
    ot_npz *z;
    OT_TRY(ot_npz_open(path, &z));
    ot_status s = OT_OK;
    int count = ot_npz_count(z);
    if (count == 0) s = ot_error(OT_ERR_PARSE, "%s: the archive holds no arrays", path);
    if (!s && name) {
        /* NAME=FILE.npz: the array of that name, or the only one */
        int i = ot_npz_find(z, name);
        if (i < 0 && count == 1) i = 0;
        if (i < 0) {
            char list[512];
            size_t len = 0;
            list[0] = 0;
            for (int k = 0; k < count && len + 64 < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", k ? ", " : "", ot_npz_name(z, k));
            s = ot_error(OT_ERR_INVALID_ARG,
                         "%s: no array named '%s' (the archive holds %s); give the file without NAME= to bind all "
                         "its arrays by their names",
                         path, name, list);
        } else {
            ot_tensor *t;
            s = ot_npz_read(z, i, &t);
            if (!s) s = ds_add_entry(ds, name, t, path, scale_for(name, opt), false);
        }
    } else if (!s) {
        int n0 = ds->n;
        for (int i = 0; i < count && !s; i++) {
            ot_tensor *t;
            s = ot_npz_read(z, i, &t);
            if (!s) s = ds_add_entry(ds, ot_npz_name(z, i), t, path, scale_for(ot_npz_name(z, i), opt), false);
        }
        if (s) ds_truncate(ds, n0);
    }
    ot_npz_close(z);
    return s;
}

/* Float labels that are all whole numbers become int64 (class indices); others
   stay float32 (regression targets).  Consumes `d` (a float64 tensor). */
static ot_status csv_labels(ot_tensor *d, ot_tensor **out) {
    int64_t n = ot_tensor_numel(d);
    const double *v = d->data;
    bool whole = true;
    for (int64_t i = 0; i < n && whole; i++) whole = v[i] == floor(v[i]) && fabs(v[i]) < 9.2e18;
    ot_tensor *t;
    ot_status s = ot_tensor_new(whole ? OT_INT64 : OT_FLOAT, d->rank, d->dims, &t);
    if (!s) {
        if (whole)
            for (int64_t i = 0; i < n; i++) ((int64_t *)t->data)[i] = (int64_t)v[i];
        else
            for (int64_t i = 0; i < n; i++) ((float *)t->data)[i] = (float)v[i];
        *out = t;
    }
    ot_tensor_free(d);
    return s;
}

static ot_status to_f32(ot_tensor *d, ot_tensor **out) {
    ot_tensor *t;
    ot_status s = ot_tensor_new(OT_FLOAT, d->rank, d->dims, &t);
    if (!s) {
        int64_t n = ot_tensor_numel(d);
        for (int64_t i = 0; i < n; i++) ((float *)t->data)[i] = (float)((const double *)d->data)[i];
        *out = t;
    }
    ot_tensor_free(d);
    return s;
}

/* The table is read as float64 so that labels keep every digit; features are
   stored as float32, the type models take. */
static ot_status add_csv(ot_dataset *ds, const char *name, const char *path, const ot_data_options *opt) {
    ot_csv_options co = {opt ? opt->csv_delimiter : 0, OT_DOUBLE};
    if (!co.delimiter && has_ext(path, ".tsv")) co.delimiter = '\t';
    ot_csv *c;
    OT_TRY(ot_csv_read(path, &co, &c));
    const char *lname = labels_name(opt);
    ot_status s = OT_OK;
    int n0 = ds->n;
    ot_tensor *lab = NULL, *feat = NULL;
    if (!strcmp(name, lname)) {
        /* NAME is the labels: the whole table, (rows) for one column */
        ot_tensor *whole;
        s = ot_tensor_clone(c->data, &whole);
        if (!s && c->cols == 1) whole->rank = 1;
        if (!s) s = csv_labels(whole, &lab);
        if (!s) s = ds_add_entry(ds, lname, lab, path, 1.0, true);
        ot_csv_free(c);
        return s;
    }
    int col;
    s = ot_csv_label_column(c, opt ? opt->label_column : NULL, &col);
    if (!s && c->cols < 2)
        s = ot_error(OT_ERR_SHAPE, "%s: the only column, '%s', is the label column; there are no columns left for '%s'",
                     path, c->names[col], name);
    if (!s) s = ot_csv_split(c, col, OT_DOUBLE, &feat, &lab);
    if (!s) {
        ot_tensor *f32 = NULL, *l = NULL;
        s = to_f32(feat, &f32);
        if (s) ot_tensor_free(lab);
        else s = csv_labels(lab, &l);
        if (!s) s = ds_add_entry(ds, name, f32, path, scale_for(name, opt), true);
        else ot_tensor_free(f32);
        if (!s) s = ds_add_entry(ds, lname, l, path, 1.0, true);
        else ot_tensor_free(l);
    }
    if (s) ds_truncate(ds, n0);
    ot_csv_free(c);
    return s;
}

ot_status ot_dataset_add_file(ot_dataset *ds, const char *name, const char *path, const ot_data_options *opt) {
    if (!ds || !path) return ot_error(OT_ERR_INVALID_ARG, "ot_dataset_add_file: NULL argument");
    if (name && !*name) name = NULL;
    ds_format fmt;
    OT_TRY(detect_format(path, &fmt));
    if (fmt == FMT_NPZ) return add_npz(ds, name, path, opt);
    if (!name)
        return ot_error(OT_ERR_INVALID_ARG,
                        "%s: only an .npz archive binds by the names inside it; bind this file with NAME=%s, where "
                        "NAME is a model input (or the labels)",
                        path, path);
    if (fmt == FMT_CSV) return add_csv(ds, name, path, opt);
    ot_tensor *t;
    OT_TRY(fmt == FMT_NPY ? ot_npy_read(path, &t) : ot_idx_read(path, &t));
    return ds_add_entry(ds, name, t, path, scale_for(name, opt), false);
}

ot_status ot_dataset_add_spec(ot_dataset *ds, const char *spec, const ot_data_options *opt) {
    if (!ds || !spec) return ot_error(OT_ERR_INVALID_ARG, "ot_dataset_add_spec: NULL argument");
    const char *eq = strchr(spec, '=');
    /* "NAME=FILE"; a file that exists under the whole spec wins, so paths
       with '=' in them still work without a name. */
    struct stat st;
    if (!eq || stat(spec, &st) == 0) return ot_dataset_add_file(ds, NULL, spec, opt);
    if (eq == spec) return ot_error(OT_ERR_INVALID_ARG, "--data %s: the array name before '=' is empty", spec);
    if (!eq[1]) return ot_error(OT_ERR_INVALID_ARG, "--data %s: no file after '='", spec);
    char *name = ot_strndup(spec, (size_t)(eq - spec));
    if (!name) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = ot_dataset_add_file(ds, name, eq + 1, opt);
    ot_free(name);
    return s;
}
