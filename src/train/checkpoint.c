/* Checkpoints: save and restore everything a trainer needs to continue as
 * if never stopped (CONTRACTS.md "Checkpoints"; the format is described in
 * docs/formats.md).
 *
 * A checkpoint is a folder holding checkpoint.json (what the checkpoint is:
 * format version, model identity, configuration, step counts, the caller's
 * loop state and the list of tensors with their checksums) and one
 * tensors-<steps>.npz (parameter values, BatchNorm statistics, optimizer
 * state, pending gradients).
 *
 * Atomicity.  The rename of checkpoint.json is the one commit point: the
 * archive is written under a new name (never over the archive the current
 * checkpoint.json names), made durable (fsync of the file, rename, fsync of
 * the folder), and only then is checkpoint.json replaced the same way.  A
 * crash before that rename leaves the previous checkpoint intact (plus
 * unreferenced files that loading ignores); after it, the new one complete.
 * The next successful save removes what a crash left behind.  One writer
 * per folder at a time.
 *
 * Loading reads and checks everything into temporaries first (identity,
 * configuration, names, types, shapes, checksums) and changes the trainer
 * only when nothing can fail any more. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "../core/fileio.h"
#include "../core/shape.h"
#include "../data/npz.h"
#include "checkpoint_format.h"
#include "trainer.h"

#define CKPT_FORMAT "onnxtrain-checkpoint"
#define CKPT_VERSION 1
#define CKPT_JSON "checkpoint.json"

/* Tensor roles beside the optimizer's state names ("exp_avg", ...). */
#define ROLE_VALUE "value"
#define ROLE_GRAD "grad"

static const char *kind_name(ot_param_kind k) { return k == OT_PARAM_BN_STAT ? "batchnorm_statistic" : "trainable"; }

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = ot_malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- configuration text ------------------------------------------------------------ */

/* One "key=value" line; blank lines and lines starting with '#' are skipped. */
typedef struct cfg_line {
    const char *key, *val;
    size_t klen, vlen;
} cfg_line;

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Splits text into lines (*out: ot_free); a line without '=' or with an
   empty key is an error naming `what`. */
static ot_status cfg_parse(const char *text, const char *what, cfg_line **out, int *n) {
    *out = NULL;
    *n = 0;
    int cap = 0, lineno = 0;
    for (const char *p = text ? text : ""; *p;) {
        const char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        lineno++;
        const char *a = p, *b = end;
        while (a < b && is_blank(*a)) a++;
        while (b > a && is_blank(b[-1])) b--;
        p = *end ? end + 1 : end;
        if (a == b || *a == '#') continue;
        const char *eq = memchr(a, '=', (size_t)(b - a));
        const char *ke = eq;
        while (eq && ke > a && is_blank(ke[-1])) ke--;
        if (!eq || ke == a) {
            ot_free(*out);
            *out = NULL;
            return ot_error(OT_ERR_INVALID_ARG, "%s: line %d ('%.*s') is not key=value", what, lineno, (int)(b - a), a);
        }
        const char *v = eq + 1;
        while (v < b && is_blank(*v)) v++;
        if (ot_grow((void **)out, &cap, *n + 1, sizeof **out)) {
            ot_free(*out);
            *out = NULL;
            return ot_error(OT_ERR_NOMEM, "out of memory");
        }
        (*out)[(*n)++] = (cfg_line){a, v, (size_t)(ke - a), (size_t)(b - v)};
    }
    return OT_OK;
}

static bool key_is(const cfg_line *l, const char *key, size_t klen) { return l->klen == klen && !memcmp(l->key, key, klen); }

/* A key's values, in order, joined by ", " ("(not set)" when absent); a key
   given several times (--data NAME=FILE ...) compares as the whole list. */
static char *cfg_values(const cfg_line *l, int n, const char *key, size_t klen) {
    size_t len = 0;
    int count = 0;
    for (int i = 0; i < n; i++)
        if (key_is(&l[i], key, klen)) len += l[i].vlen + 2, count++;
    if (!count) return ot_strdup("(not set)");
    char *s = ot_malloc(len + 1), *o = s;
    if (!s) return NULL;
    for (int i = 0; i < n; i++) {
        if (!key_is(&l[i], key, klen)) continue;
        if (o != s) memcpy(o, ", ", 2), o += 2;
        memcpy(o, l[i].val, l[i].vlen);
        o += l[i].vlen;
    }
    *o = 0;
    return s;
}

static bool key_ignored(const char *ignore, const char *key, size_t klen) {
    while (key[0] == '-' && klen) key++, klen--;
    for (const char *p = ignore ? ignore : ""; *p;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (is_blank(*a) || *a == '-')) a++;
        while (b > a && is_blank(b[-1])) b--;
        if ((size_t)(b - a) == klen && !memcmp(a, key, klen)) return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

/* Compares key by key, checkpoint order first; names the first difference. */
static ot_status cfg_compare(const char *dir, const char *saved, const char *now, const char *ignore) {
    cfg_line *a = NULL, *b = NULL;
    int na, nb;
    ot_status s = cfg_parse(saved, "the checkpoint's configuration", &a, &na);
    if (!s) s = cfg_parse(now, "the configuration", &b, &nb);
    for (int pass = 0; pass < 2 && !s; pass++) {
        const cfg_line *l = pass ? b : a;
        int n = pass ? nb : na;
        for (int i = 0; i < n && !s; i++) {
            bool seen = false; /* compare each key once, at its first line */
            for (int j = 0; j < i && !seen; j++) seen = key_is(&l[j], l[i].key, l[i].klen);
            for (int j = 0; pass && j < na && !seen; j++) seen = key_is(&a[j], l[i].key, l[i].klen);
            if (seen || key_ignored(ignore, l[i].key, l[i].klen)) continue;
            char *va = cfg_values(a, na, l[i].key, l[i].klen), *vb = cfg_values(b, nb, l[i].key, l[i].klen);
            if (!va || !vb) s = ot_error(OT_ERR_NOMEM, "out of memory");
            else if (strcmp(va, vb))
                s = ot_error(OT_ERR_INVALID_ARG, "cannot resume from %s: %s%.*s differs: checkpoint %s, now %s", dir,
                             l[i].key[0] == '-' ? "" : "--", (int)l[i].klen, l[i].key, va[0] ? va : "(empty)",
                             vb[0] ? vb : "(empty)");
            ot_free(va);
            ot_free(vb);
        }
    }
    ot_free(a);
    ot_free(b);
    return s;
}

/* ---- saving -------------------------------------------------------------------------- */

/* mkdir -p: every missing folder of the path. */
static ot_status make_dirs(const char *dir) {
    char *p = ot_strdup(dir);
    if (!p) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = OT_OK;
    for (char *c = p + 1; !s; c++) {
        bool last = !*c;
        if (*c != '/' && !last) continue;
        *c = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) s = ot_error(OT_ERR_IO, "%s: cannot create the folder: %s", p, strerror(errno));
        if (last) break;
        *c = '/';
    }
    struct stat st;
    if (!s && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) s = ot_error(OT_ERR_IO, "%s: not a folder", dir);
    ot_free(p);
    return s;
}

/* "tensors-<steps>.npz", or with "-2", "-3"... when that name is taken
   (by the archive the current checkpoint.json names, when saving twice at
   one step): a save never writes over the committed checkpoint's files. */
static void archive_name(const char *dir, int64_t steps, char *name, size_t cap) {
    for (int k = 1; k < 1000; k++) {
        if (k == 1) snprintf(name, cap, "tensors-%lld.npz", (long long)steps);
        else snprintf(name, cap, "tensors-%lld-%d.npz", (long long)steps, k);
        char *path = path_join(dir, name);
        struct stat st;
        bool taken = !path || lstat(path, &st) == 0;
        ot_free(path);
        if (!taken) return;
    }
}

static bool has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }
static bool has_suffix(const char *s, const char *x) {
    size_t n = strlen(s), k = strlen(x);
    return n >= k && !strcmp(s + n - k, x);
}

/* After a commit: earlier archives and the temporaries of interrupted saves
   (only names this code creates; best effort, failures change nothing). */
static void remove_stale(const char *dir, const char *keep) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        bool ours = (has_prefix(n, "tensors-") && (has_suffix(n, ".npz") || strstr(n, ".npz.tmp."))) ||
                    has_prefix(n, CKPT_JSON ".tmp.");
        if (!ours || !strcmp(n, keep)) continue;
        char *path = path_join(dir, n);
        if (path) unlink(path);
        ot_free(path);
    }
    closedir(d);
}

static void json_shape(ot_jbuf *j, const ot_tensor *t) {
    ot_jbuf_printf(j, "[");
    for (int d = 0; d < t->rank; d++) ot_jbuf_printf(j, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
    ot_jbuf_printf(j, "]");
}

/* Appends one tensor to the archive and its description to the JSON list. */
static ot_status save_tensor(ot_npz_writer *w, ot_jbuf *j, bool *first, const ot_param *p, const char *role, const ot_tensor *t) {
    size_t n = strlen(role) + strlen(p->name) + 2;
    char *entry = ot_malloc(n);
    if (!entry) return ot_error(OT_ERR_NOMEM, "out of memory");
    snprintf(entry, n, "%s/%s", role, p->name);
    uint32_t crc;
    ot_status s = ot_npz_writer_add(w, entry, t, &crc);
    if (!s) {
        ot_jbuf_printf(j, "%s\n    {\"param\": ", *first ? "" : ",");
        ot_jbuf_str(j, p->name);
        ot_jbuf_printf(j, ", \"role\": \"%s\", \"entry\": ", role);
        ot_jbuf_str(j, entry);
        ot_jbuf_printf(j, ", \"dtype\": \"%s\", \"shape\": ", ot_dtype_name(t->dtype));
        json_shape(j, t);
        ot_jbuf_printf(j, ", \"crc32\": \"%08" PRIx32 "\"}", crc);
        *first = false;
    }
    ot_free(entry);
    return s;
}

/* The tensors into the archive and their list into j. */
static ot_status save_tensors(const ot_trainer *t, ot_npz_writer *w, ot_jbuf *j) {
    int ns = ot_optim_state_count(t->optim.kind);
    bool first = true;
    for (int k = 0; k < t->n_params; k++) {
        const ot_param *p = &t->params[k];
        OT_TRY(save_tensor(w, j, &first, p, ROLE_VALUE, p->data));
        for (int s = 0; s < ns; s++)
            if (p->state[s]) OT_TRY(save_tensor(w, j, &first, p, ot_optim_state_name(t->optim.kind, s), p->state[s]));
        if (p->got_grad) OT_TRY(save_tensor(w, j, &first, p, ROLE_GRAD, p->grad));
    }
    return OT_OK;
}

static void save_json(const ot_trainer *t, const char *config, const ot_loop_state *loop, const char *archive, const char *tensors,
                      ot_jbuf *j) {
    ot_jbuf_printf(j, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"onnxtrain\": ", CKPT_FORMAT, CKPT_VERSION);
    ot_jbuf_str(j, ot_version());
    ot_jbuf_printf(j, ",\n  \"model_id\": \"%s\",\n  \"optimizer\": \"%s\",\n", t->model_id, ot_optim_kind_name(t->optim.kind));
    ot_jbuf_printf(j, "  \"steps\": %lld,\n  \"pending_gradients\": %s,\n", (long long)t->steps, t->pending ? "true" : "false");
    ot_jbuf_printf(j, "  \"loop\": {\"epoch\": %lld, \"cursor\": %lld, \"data_seed\": %llu, \"micro_batches\": %lld},\n",
                   (long long)loop->epoch, (long long)loop->cursor, (unsigned long long)loop->data_seed,
                   (long long)loop->micro_batches);
    ot_jbuf_printf(j, "  \"config\": ");
    ot_jbuf_str(j, config ? config : "");
    ot_jbuf_printf(j, ",\n  \"tensors_file\": ");
    ot_jbuf_str(j, archive);
    ot_jbuf_printf(j, ",\n  \"params\": [");
    for (int k = 0; k < t->n_params; k++) {
        ot_jbuf_printf(j, "%s\n    {\"name\": ", k ? "," : "");
        ot_jbuf_str(j, t->params[k].name);
        ot_jbuf_printf(j, ", \"kind\": \"%s\", \"steps\": %lld}", kind_name(t->params[k].kind), (long long)t->params[k].steps);
    }
    ot_jbuf_printf(j, "\n  ],\n  \"tensors\": [%s\n  ]\n}\n", tensors);
}

static ot_status write_json(const char *path, const ot_jbuf *j) {
    ot_atomic_file f;
    OT_TRY(ot_atomic_open(&f, path));
    ot_atomic_write(&f, j->s, j->n);
    return ot_atomic_commit(&f);
}

ot_status ot_checkpoint_save(const ot_trainer *t, const char *dir, const char *config, const ot_loop_state *loop,
                             uint64_t zip64_threshold) {
    if (!t || !dir || !dir[0]) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_save_checkpoint: NULL trainer or folder");
    ot_loop_state zero = {0};
    if (!loop) loop = &zero;
    cfg_line *lines;
    int n_lines;
    OT_TRY(cfg_parse(config, "checkpoint configuration", &lines, &n_lines));
    ot_free(lines);
    OT_TRY(make_dirs(dir));
    char archive[64];
    archive_name(dir, t->steps, archive, sizeof archive);
    char *npz_path = path_join(dir, archive), *json_path = path_join(dir, CKPT_JSON);
    ot_jbuf tensors = {0}, doc = {0};
    ot_npz_writer *w = NULL;
    bool committed = false;
    ot_status s = npz_path && json_path ? OT_OK : ot_error(OT_ERR_NOMEM, "out of memory");
    if (!s) s = ot_npz_writer_open(npz_path, zip64_threshold, &w);
    if (!s) s = save_tensors(t, w, &tensors);
    if (!s) s = ot_jbuf_status(&tensors);
    if (!s) {
        committed = true;
        s = ot_npz_writer_commit(w); /* frees w */
        w = NULL;
    }
    if (!s) {
        save_json(t, config, loop, archive, tensors.s ? tensors.s : "", &doc);
        s = ot_jbuf_status(&doc);
    }
    if (!s) s = write_json(json_path, &doc);
    if (s) {
        ot_npz_writer_abort(w);
        if (committed && npz_path) unlink(npz_path); /* renamed into place but never referenced */
        ot_error_context(s, "saving checkpoint %s", dir);
    } else {
        remove_stale(dir, archive);
    }
    ot_jbuf_free(&tensors);
    ot_jbuf_free(&doc);
    ot_free(npz_path);
    ot_free(json_path);
    return s;
}

ot_status ot_trainer_save_checkpoint(const ot_trainer *t, const char *dir, const char *config, const ot_loop_state *loop) {
    return ot_checkpoint_save(t, dir, config, loop, OT_NPZ_ZIP64_LIMIT);
}

/* ---- loading ---------------------------------------------------------------------------- */

/* What the checkpoint holds for one trainer parameter, read before anything
   in the trainer changes. */
typedef struct loaded_param {
    int64_t steps;
    ot_tensor *value;
    ot_tensor *state[OT_OPTIM_MAX_STATE];
    ot_tensor *grad;
} loaded_param;

typedef struct loader {
    const char *dir;
    ot_trainer *t;
    const ot_json *doc;
    loaded_param *lp; /* per trainer param */
} loader;

static ot_status corrupt(const loader *L, const char *why, const char *name) {
    return ot_error(OT_ERR_PARSE, "checkpoint %s is damaged: %s%s%s%s", L->dir, why, name ? " ('" : "", name ? name : "",
                    name ? "')" : "");
}

static int find_param(const ot_trainer *t, const char *name) {
    for (int k = 0; k < t->n_params; k++)
        if (!strcmp(t->params[k].name, name)) return k;
    return -1;
}

/* The params list: the same parameters, of the same kinds. */
static ot_status check_params(loader *L) {
    const ot_json *params = ot_json_get(L->doc, "params");
    if (!params || params->kind != OT_JSON_ARRAY) return corrupt(L, "no \"params\" list", NULL);
    ot_trainer *t = L->t;
    bool *seen = ot_calloc((size_t)t->n_params + 1, 1);
    if (!seen) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_status s = OT_OK;
    for (int i = 0; i < params->n && !s; i++) {
        const ot_json *e = &params->items[i];
        const char *name = ot_json_string(ot_json_get(e, "name")), *kind = ot_json_string(ot_json_get(e, "kind"));
        int64_t steps;
        if (!name || !kind || !ot_json_int64(ot_json_get(e, "steps"), &steps) || steps < 0) {
            s = corrupt(L, "a \"params\" entry lacks its name, kind or steps", name);
            break;
        }
        int k = find_param(t, name);
        if (k < 0)
            s = ot_error(OT_ERR_INVALID_ARG, "cannot resume from %s: it holds %s '%s', which this trainer does not train or track "
                         "(a different --freeze or --trainable?)", L->dir, kind, name);
        else if (seen[k]) s = corrupt(L, "a parameter is listed twice", name);
        else if (strcmp(kind, kind_name(t->params[k].kind)))
            s = ot_error(OT_ERR_INVALID_ARG, "cannot resume from %s: '%s' is a %s there and a %s here", L->dir, name, kind,
                         kind_name(t->params[k].kind));
        if (s) break;
        seen[k] = true;
        L->lp[k].steps = steps;
    }
    for (int k = 0; k < t->n_params && !s; k++)
        if (!seen[k])
            s = ot_error(OT_ERR_INVALID_ARG, "cannot resume from %s: it has no value for %s '%s' (saved with a different "
                         "--freeze or --trainable?)", L->dir, kind_name(t->params[k].kind), t->params[k].name);
    ot_free(seen);
    return s;
}

/* The slot a tensor of `role` fills for param k, or NULL for an unknown role. */
static ot_tensor **role_slot(loader *L, int k, const char *role, int *state) {
    *state = -1;
    if (!strcmp(role, ROLE_VALUE)) return &L->lp[k].value;
    if (!strcmp(role, ROLE_GRAD)) return &L->lp[k].grad;
    for (int s = 0; s < ot_optim_state_count(L->t->optim.kind); s++)
        if (!strcmp(role, ot_optim_state_name(L->t->optim.kind, s))) return *state = s, &L->lp[k].state[s];
    return NULL;
}

static ot_status shape_of(const ot_json *j, int *rank, int64_t *dims) {
    if (!j || j->kind != OT_JSON_ARRAY || j->n > OT_MAX_RANK) return OT_ERR_PARSE;
    *rank = j->n;
    for (int d = 0; d < j->n; d++)
        if (!ot_json_int64(&j->items[d], &dims[d]) || dims[d] < 0) return OT_ERR_PARSE;
    return OT_OK;
}

/* One tensor of the list: described consistently, read, checksummed. */
static ot_status load_tensor(loader *L, ot_npz *z, const char *archive, const ot_json *e) {
    const char *param = ot_json_string(ot_json_get(e, "param")), *role = ot_json_string(ot_json_get(e, "role"));
    const char *entry = ot_json_string(ot_json_get(e, "entry")), *dtype = ot_json_string(ot_json_get(e, "dtype"));
    const char *crc_text = ot_json_string(ot_json_get(e, "crc32"));
    int rank;
    int64_t dims[OT_MAX_RANK];
    if (!param || !role || !entry || !dtype || !crc_text || shape_of(ot_json_get(e, "shape"), &rank, dims))
        return corrupt(L, "a \"tensors\" entry lacks a field", param);
    int k = find_param(L->t, param), state;
    if (k < 0) return corrupt(L, "a tensor belongs to no listed parameter", param);
    ot_tensor **slot = role_slot(L, k, role, &state);
    if (!slot) return corrupt(L, "a tensor has an unknown role", role);
    if (*slot) return corrupt(L, "a tensor is listed twice", entry);
    const ot_param *p = &L->t->params[k];
    if (strcmp(dtype, ot_dtype_name(p->data->dtype)) || !ot_shape_equal(rank, dims, p->data->rank, p->data->dims)) {
        char a[128], b[128];
        return ot_error(OT_ERR_SHAPE, "cannot resume from %s: '%s' (%s) is %s %s there and %s %s in this model", L->dir, p->name,
                        role, dtype, ot_shape_str(rank, dims, a, sizeof a), ot_dtype_name(p->data->dtype),
                        ot_shape_str(p->data->rank, p->data->dims, b, sizeof b));
    }
    int i = ot_npz_find(z, entry);
    if (i < 0) return ot_error(OT_ERR_PARSE, "checkpoint %s is damaged: %s has no member '%s'", L->dir, archive, entry);
    ot_tensor *v;
    OT_TRY(ot_npz_read(z, i, &v));
    ot_dtype stored = p->data->dtype == OT_BFLOAT16 ? OT_UINT16 : p->data->dtype;
    char *end;
    unsigned long crc = strtoul(crc_text, &end, 16);
    ot_status s = OT_OK;
    if (v->dtype != stored || !ot_shape_equal(v->rank, v->dims, rank, dims))
        s = ot_error(OT_ERR_PARSE, "checkpoint %s is damaged: member '%s' of %s is %s, checkpoint.json says %s", L->dir, entry,
                     archive, ot_dtype_name(v->dtype), dtype);
    else if (*end || end == crc_text || crc != ot_crc32(v->data, ot_tensor_nbytes(v)))
        s = ot_error(OT_ERR_PARSE, "checkpoint %s is damaged: member '%s' of %s does not match its checksum", L->dir, entry,
                     archive);
    if (s) {
        ot_tensor_free(v);
        return s;
    }
    v->dtype = p->data->dtype; /* bfloat16 came back as its uint16 bit patterns */
    *slot = v;
    return OT_OK;
}

/* The archive's name: a plain file name in the folder, nothing else. */
static bool plain_name(const char *n) { return n && n[0] && n[0] != '.' && !strchr(n, '/') && !strchr(n, '\\'); }

static ot_status load_tensors(loader *L) {
    const char *archive = ot_json_string(ot_json_get(L->doc, "tensors_file"));
    const ot_json *list = ot_json_get(L->doc, "tensors");
    if (!plain_name(archive)) return corrupt(L, "\"tensors_file\" is missing or not a file name", archive);
    if (!list || list->kind != OT_JSON_ARRAY) return corrupt(L, "no \"tensors\" list", NULL);
    char *path = path_join(L->dir, archive);
    if (!path) return ot_error(OT_ERR_NOMEM, "out of memory");
    ot_npz *z = NULL;
    ot_status s = ot_npz_open(path, &z);
    if (s == OT_ERR_IO && access(path, F_OK) != 0)
        s = ot_error(OT_ERR_IO, "checkpoint %s is incomplete: %s is missing", L->dir, archive);
    for (int i = 0; i < list->n && !s; i++) s = load_tensor(L, z, archive, &list->items[i]);
    ot_npz_close(z);
    ot_free(path);
    int ns = ot_optim_state_count(L->t->optim.kind);
    for (int k = 0; k < L->t->n_params && !s; k++) {
        const loaded_param *lp = &L->lp[k];
        const ot_param *p = &L->t->params[k];
        int present = 0;
        for (int j = 0; j < ns; j++) present += lp->state[j] != NULL;
        if (!lp->value) s = corrupt(L, "a parameter has no value", p->name);
        else if (present && present != ns) s = corrupt(L, "a parameter has part of its optimizer state", p->name);
        else if (p->kind != OT_PARAM_TRAINABLE && (present || lp->grad))
            s = corrupt(L, "a BatchNorm statistic has optimizer state", p->name);
    }
    return s;
}

/* Format, identity, configuration and optimizer, in that order: the first
   reason not to resume is the one reported. */
static ot_status check_header(loader *L, const char *config, const char *ignore_keys) {
    const ot_json *d = L->doc;
    const char *format = ot_json_string(ot_json_get(d, "format"));
    int64_t version;
    if (!format || strcmp(format, CKPT_FORMAT) || !ot_json_int64(ot_json_get(d, "version"), &version))
        return ot_error(OT_ERR_PARSE, "%s/%s is not an onnxtrain checkpoint description", L->dir, CKPT_JSON);
    if (version != CKPT_VERSION)
        return ot_error(OT_ERR_UNSUPPORTED, "checkpoint %s has format version %lld; this onnxtrain (%s) reads version %d%s",
                        L->dir, (long long)version, ot_version(), CKPT_VERSION, version > CKPT_VERSION ? " (it was written by a newer onnxtrain)" : "");
    const char *id = ot_json_string(ot_json_get(d, "model_id"));
    if (!id) return corrupt(L, "no \"model_id\"", NULL);
    if (strcmp(id, L->t->model_id))
        return ot_error(OT_ERR_INVALID_ARG, "checkpoint %s was made for a different model (id %s, this model is %s)", L->dir, id,
                        L->t->model_id);
    const char *saved = ot_json_string(ot_json_get(d, "config"));
    if (!saved) return corrupt(L, "no \"config\"", NULL);
    if (config) OT_TRY(cfg_compare(L->dir, saved, config, ignore_keys));
    const char *opt = ot_json_string(ot_json_get(d, "optimizer"));
    if (!opt) return corrupt(L, "no \"optimizer\"", NULL);
    if (strcmp(opt, ot_optim_kind_name(L->t->optim.kind)))
        return ot_error(OT_ERR_INVALID_ARG, "cannot resume from %s: it was made with --optimizer %s, this trainer uses %s", L->dir,
                        opt, ot_optim_kind_name(L->t->optim.kind));
    return OT_OK;
}

/* *dst takes the loaded tensor: copied into dst's buffer when it has one of
   the same size (something may point at that buffer), else handed over.  A
   tensor the checkpoint lacks goes, as if never created. */
static void adopt(ot_tensor **dst, ot_tensor **loaded) {
    if (*dst && *loaded && ot_tensor_nbytes(*dst) == ot_tensor_nbytes(*loaded)) {
        memcpy((*dst)->data, (*loaded)->data, ot_tensor_nbytes(*dst));
        return; /* the loaded copy is freed with the other temporaries */
    }
    ot_tensor_free(*dst);
    *dst = *loaded;
    *loaded = NULL;
}

/* Nothing below can fail: the trainer takes the loaded values.  Parameter
   values are copied in place (compiled programs point at their buffers). */
static void commit(loader *L, int64_t steps, bool pending) {
    ot_trainer *t = L->t;
    for (int k = 0; k < t->n_params; k++) {
        ot_param *p = &t->params[k];
        loaded_param *lp = &L->lp[k];
        memcpy(p->data->data, lp->value->data, ot_tensor_nbytes(p->data));
        for (int s = 0; s < OT_OPTIM_MAX_STATE; s++) adopt(&p->state[s], &lp->state[s]);
        p->got_grad = lp->grad != NULL;
        if (lp->grad) adopt(&p->grad, &lp->grad); /* without one, the next accumulate overwrites p->grad */
        p->steps = lp->steps;
    }
    t->steps = steps;
    t->pending = pending;
    t->applied = false; /* a restored group never has its update already applied */
}

ot_status ot_trainer_load_checkpoint(ot_trainer *t, const char *dir, const char *config, const char *ignore_keys,
                                     ot_loop_state *loop) {
    if (!t || !dir || !dir[0]) return ot_error(OT_ERR_INVALID_ARG, "ot_trainer_load_checkpoint: NULL trainer or folder");
    char *json_path = path_join(dir, CKPT_JSON);
    if (!json_path) return ot_error(OT_ERR_NOMEM, "out of memory");
    struct stat st;
    int found = stat(dir, &st) == 0 ? 0 : errno;
    if (found || !S_ISDIR(st.st_mode)) {
        ot_free(json_path);
        return ot_error(OT_ERR_IO, "checkpoint %s: %s", dir, !found ? "not a folder" : found == ENOENT ? "no such folder" : strerror(found));
    }
    ot_file_view view;
    ot_status s = ot_file_view_open(json_path, &view);
    if (s) {
        s = ot_error(OT_ERR_IO, "%s is not a checkpoint: %s cannot be read%s", dir, CKPT_JSON,
                     access(json_path, F_OK) ? " (it does not exist)" : "");
        ot_free(json_path);
        return s;
    }
    loader L = {dir, t, NULL, ot_calloc((size_t)t->n_params + 1, sizeof(loaded_param))};
    ot_json *doc = NULL;
    if (!L.lp) s = ot_error(OT_ERR_NOMEM, "out of memory");
    if (!s) s = ot_json_parse((const char *)view.data, view.size, json_path, &doc);
    L.doc = doc;
    int64_t steps = 0;
    const ot_json *pending = NULL, *lj = NULL;
    ot_loop_state ls = {0};
    if (!s) s = check_header(&L, config, ignore_keys);
    if (!s) {
        pending = ot_json_get(doc, "pending_gradients");
        lj = ot_json_get(doc, "loop");
        if (!ot_json_int64(ot_json_get(doc, "steps"), &steps) || steps < 0 || !pending || pending->kind != OT_JSON_BOOL ||
            !ot_json_int64(ot_json_get(lj, "epoch"), &ls.epoch) || !ot_json_int64(ot_json_get(lj, "cursor"), &ls.cursor) ||
            !ot_json_uint64(ot_json_get(lj, "data_seed"), &ls.data_seed) ||
            !ot_json_int64(ot_json_get(lj, "micro_batches"), &ls.micro_batches))
            s = corrupt(&L, "the step counts or the loop state are missing or malformed", NULL);
    }
    if (!s) s = check_params(&L);
    if (!s) s = load_tensors(&L);
    if (!s) {
        commit(&L, steps, pending->b);
        if (loop) *loop = ls;
    }
    for (int k = 0; L.lp && k < t->n_params; k++) {
        ot_tensor_free(L.lp[k].value);
        ot_tensor_free(L.lp[k].grad);
        for (int j = 0; j < OT_OPTIM_MAX_STATE; j++) ot_tensor_free(L.lp[k].state[j]);
    }
    ot_free(L.lp);
    ot_json_free(doc);
    ot_file_view_close(&view);
    ot_free(json_path);
    return s;
}
