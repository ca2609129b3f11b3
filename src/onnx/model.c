/* The public model API around ot_model_parse: loading from a file or a
 * buffer, and freeing (the read-only accessors live in src/api/model_info.c).
 * Also the side table of non-tensor value types that save writes back. */
#include <sys/mman.h>
#include <string.h>

#include "../core/alloc.h"
#include "pb.h"

ot_status ot_model_load(const char *path, ot_model **out) {
    if (!path || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_model_load: NULL argument");
    *out = NULL;
    ot_file_view v;
    OT_TRY(ot_file_view_open(path, &v));
    char *dir = ot_path_dirname(path);
    ot_status s = dir ? ot_model_parse(v.data, v.size, dir, path, out) : ot_error(OT_ERR_NOMEM, "out of memory");
    ot_free(dir);
    ot_file_view_close(&v);
    return s;
}

ot_status ot_model_load_buffer(const void *data, size_t size, const char *base_dir, ot_model **out) {
    if (!out || (size && !data)) return ot_error(OT_ERR_INVALID_ARG, "ot_model_load_buffer: NULL argument");
    return ot_model_parse(data, size, base_dir, "<buffer>", out);
}

void ot_model_free(ot_model *m) {
    if (!m) return;
    ot_graph_free(m->graph); /* before the maps: initializers may point into them */
    for (int i = 0; i < m->n_maps; i++) {
        munmap(m->maps[i].base, m->maps[i].size);
        ot_free(m->maps[i].path);
    }
    ot_free(m->maps);
    for (int i = 0; i < m->n_kept_types; i++) {
        ot_free(m->kept_types[i].name);
        ot_free(m->kept_types[i].bytes);
    }
    ot_free(m->kept_types);
    for (int i = 0; i < m->n_meta; i++) {
        ot_free(m->meta_keys[i]);
        ot_free(m->meta_values[i]);
    }
    ot_free(m->meta_keys);
    ot_free(m->meta_values);
    ot_free(m->producer_name);
    ot_free(m->producer_version);
    ot_free(m->domain);
    ot_free(m->doc);
    ot_free(m->base_dir);
    ot_free(m);
}

/* ---- non-tensor types -------------------------------------------------------------- */

const ot_kept_type *ot_model_find_type(const ot_model *m, const ot_graph *g, const char *name) {
    for (int i = m ? m->n_kept_types - 1 : -1; i >= 0; i--)
        if (m->kept_types[i].graph == g && !strcmp(m->kept_types[i].name, name)) return &m->kept_types[i];
    return NULL;
}

ot_status ot_model_keep_type(ot_model *m, const ot_graph *g, const char *name, const Onnx__TypeProto *tp) {
    size_t n = protobuf_c_message_get_packed_size(&tp->base);
    uint8_t *b = ot_malloc(n);
    char *nm = ot_strdup(name);
    ot_kept_type *k = ot_realloc(m->kept_types, sizeof *k * (size_t)(m->n_kept_types + 1));
    if (k) m->kept_types = k;
    if (!b || !nm || !k) {
        ot_free(b);
        ot_free(nm);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    protobuf_c_message_pack(&tp->base, b);
    m->kept_types[m->n_kept_types++] = (ot_kept_type){g, nm, b, n};
    return OT_OK;
}
