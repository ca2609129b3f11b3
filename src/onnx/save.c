/* IR -> ModelProto, written atomically.  The proto structs are built in a
 * throw-away arena and point at the IR's strings and tensor data (nothing is
 * copied), then packed straight into the file through a small buffer, so a
 * save costs no second copy of the weights.  Initializers at least
 * external_threshold_bytes large go to "<model file>.data" beside the model,
 * at 4096-aligned offsets (loaders can map them). */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/dtype.h"
#include "pb.h"

#define OT_EXT_ALIGN 4096
#define OT_STR_(x) #x
#define OT_STR(x) OT_STR_(x)

typedef struct save_ctx {
    const ot_model *m;
    const char *path;
    uint64_t threshold;
    void **allocs; /* arena: every ot_malloc'd block, freed at the end */
    int n_allocs, cap_allocs;
    ot_tensor **tensors; /* temporary tensors (sparse re-encoding) */
    int n_tensors, cap_tensors;
    Onnx__TypeProto **types; /* unpacked kept types, freed with protobuf-c */
    int n_types, cap_types;
    ot_atomic_file data;
    int data_open;
    char *data_location; /* "<model file name>.data" */
} save_ctx;

static void *arena(save_ctx *c, size_t n) {
    if (ot_grow((void **)&c->allocs, &c->cap_allocs, c->n_allocs + 1, sizeof(void *))) return NULL;
    void *p = ot_calloc(1, n ? n : 1);
    if (p) c->allocs[c->n_allocs++] = p;
    return p;
}

/* A new message of type T, initialised from its descriptor (desc: e.g. onnx__node_proto__descriptor). */
#define NEW(c, T, desc) ((T *)new_msg((c), &(desc)))
static void *new_msg(save_ctx *c, const ProtobufCMessageDescriptor *d) {
    void *p = arena(c, d->sizeof_message);
    if (p) protobuf_c_message_init(d, p);
    return p;
}

static ot_status oom(void) { return ot_error(OT_ERR_NOMEM, "out of memory"); }

/* ---- tensors -------------------------------------------------------------------------- */

static ot_status ext_open(save_ctx *c) {
    if (c->data_open) return OT_OK;
    char *base = ot_path_basename(c->path);
    size_t n = base ? strlen(base) + 8 : 0;
    char *loc = base ? arena(c, n) : NULL;
    char *full = base ? ot_malloc(strlen(c->path) + 8) : NULL;
    ot_status s = loc && full ? OT_OK : oom();
    if (!s) {
        snprintf(loc, n, "%s.data", base);
        sprintf(full, "%s.data", c->path);
        c->data_location = loc;
        if (!(s = ot_atomic_open(&c->data, full))) c->data_open = 1;
    }
    ot_free(base);
    ot_free(full);
    return s;
}

static Onnx__StringStringEntryProto *kv(save_ctx *c, const char *k, const char *v) {
    Onnx__StringStringEntryProto *e = NEW(c, Onnx__StringStringEntryProto, onnx__string_string_entry_proto__descriptor);
    if (e) {
        e->key = (char *)k;
        e->value = (char *)v;
    }
    return e;
}

/* `external`: graph initializers may go to the data file; attribute tensors stay inline. */
static ot_status tensor_proto(save_ctx *c, const ot_tensor *t, const char *name, int external, Onnx__TensorProto **out) {
    Onnx__TensorProto *tp = arena(c, sizeof *tp);
    if (!tp) return oom();
    void *scratch = NULL;
    OT_TRY(ot_tensor_to_proto(t, name, tp, &scratch));
    if (scratch) {
        if (ot_grow((void **)&c->allocs, &c->cap_allocs, c->n_allocs + 1, sizeof(void *))) {
            ot_free(scratch);
            return oom();
        }
        c->allocs[c->n_allocs++] = scratch;
    }
    size_t bytes = tp->raw_data.len;
    if (external && c->threshold && bytes >= c->threshold) {
        OT_TRY(ext_open(c));
        uint64_t off = (c->data.written + OT_EXT_ALIGN - 1) / OT_EXT_ALIGN * OT_EXT_ALIGN;
        ot_atomic_pad_to(&c->data, off);
        ot_atomic_write(&c->data, tp->raw_data.data, bytes);
        if (c->data.err) return c->data.err;
        char *soff = arena(c, 24), *slen = arena(c, 24);
        Onnx__StringStringEntryProto **e = arena(c, 3 * sizeof *e);
        if (!soff || !slen || !e) return oom();
        snprintf(soff, 24, "%llu", (unsigned long long)off);
        snprintf(slen, 24, "%zu", bytes);
        if (!(e[0] = kv(c, "location", c->data_location)) || !(e[1] = kv(c, "offset", soff)) ||
            !(e[2] = kv(c, "length", slen)))
            return oom();
        tp->has_raw_data = 0;
        tp->raw_data.len = 0;
        tp->raw_data.data = NULL;
        tp->has_data_location = 1;
        tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        tp->n_external_data = 3;
        tp->external_data = e;
    }
    *out = tp;
    return OT_OK;
}

static ot_status keep_tensor(save_ctx *c, ot_tensor *t) {
    if (ot_grow((void **)&c->tensors, &c->cap_tensors, c->n_tensors + 1, sizeof(ot_tensor *))) {
        ot_tensor_free(t);
        return oom();
    }
    c->tensors[c->n_tensors++] = t;
    return OT_OK;
}

/* Sparse attributes were densified at load; write the nonzero elements back
   as values (NNZ) and linear int64 indices (NNZ). */
static ot_status sparse_proto(save_ctx *c, const ot_tensor *t, Onnx__SparseTensorProto **out) {
    size_t es = ot_dtype_size(t->dtype);
    int64_t numel = ot_tensor_numel(t), nnz = 0;
    static const uint8_t zero[16];
    const uint8_t *d = t->data;
    for (int64_t i = 0; i < numel; i++) nnz += memcmp(d + (size_t)i * es, zero, es) != 0;
    ot_tensor *vals, *idx;
    OT_TRY(ot_tensor_new(t->dtype, 1, &nnz, &vals));
    OT_TRY(keep_tensor(c, vals));
    OT_TRY(ot_tensor_new(OT_INT64, 1, &nnz, &idx));
    OT_TRY(keep_tensor(c, idx));
    for (int64_t i = 0, k = 0; i < numel; i++)
        if (memcmp(d + (size_t)i * es, zero, es)) {
            memcpy((uint8_t *)vals->data + (size_t)k * es, d + (size_t)i * es, es);
            ((int64_t *)idx->data)[k++] = i;
        }
    Onnx__SparseTensorProto *sp = NEW(c, Onnx__SparseTensorProto, onnx__sparse_tensor_proto__descriptor);
    if (!sp) return oom();
    OT_TRY(tensor_proto(c, vals, t->name ? t->name : "", 0, &sp->values));
    OT_TRY(tensor_proto(c, idx, "", 0, &sp->indices));
    sp->n_dims = (size_t)t->rank;
    sp->dims = (int64_t *)t->dims;
    *out = sp;
    return OT_OK;
}

/* ---- types ---------------------------------------------------------------------------- */

static ot_status unpack_type(save_ctx *c, const uint8_t *b, size_t n, const char *what, Onnx__TypeProto **out) {
    if (ot_grow((void **)&c->types, &c->cap_types, c->n_types + 1, sizeof(void *))) return oom();
    Onnx__TypeProto *tp = onnx__type_proto__unpack(&ot_pb_allocator, n, b);
    if (!tp) return ot_error(OT_ERR_INTERNAL, "%s: stored type of %s does not parse", c->path, what);
    c->types[c->n_types++] = tp;
    *out = tp;
    return OT_OK;
}

static ot_status tensor_type(save_ctx *c, ot_dtype dt, int rank, const int64_t *dims, char *const *params,
                             Onnx__TypeProto **out) {
    Onnx__TypeProto *tp = NEW(c, Onnx__TypeProto, onnx__type_proto__descriptor);
    Onnx__TypeProto__Tensor *tt = NEW(c, Onnx__TypeProto__Tensor, onnx__type_proto__tensor__descriptor);
    if (!tp || !tt) return oom();
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    if (dt != OT_UNDEFINED) {
        tt->has_elem_type = 1;
        tt->elem_type = (int32_t)dt;
    }
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = NEW(c, Onnx__TensorShapeProto, onnx__tensor_shape_proto__descriptor);
        Onnx__TensorShapeProto__Dimension **dl = arena(c, sizeof *dl * (size_t)(rank + 1));
        if (!sh || !dl) return oom();
        for (int d = 0; d < rank; d++) {
            Onnx__TensorShapeProto__Dimension *dim =
                NEW(c, Onnx__TensorShapeProto__Dimension, onnx__tensor_shape_proto__dimension__descriptor);
            if (!dim) return oom();
            if (dims[d] >= 0) {
                dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dim->dim_value = dims[d];
            } else if (params && params[d]) {
                dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dim->dim_param = params[d];
            }
            dl[d] = dim;
        }
        sh->n_dim = (size_t)rank;
        sh->dim = dl;
        tt->shape = sh;
    }
    *out = tp;
    return OT_OK;
}

static ot_status value_info(save_ctx *c, const ot_graph *g, const ot_value *v, Onnx__ValueInfoProto **out) {
    Onnx__ValueInfoProto *vi = NEW(c, Onnx__ValueInfoProto, onnx__value_info_proto__descriptor);
    if (!vi) return oom();
    vi->name = v->name;
    if (v->doc && *v->doc) vi->doc_string = v->doc;
    const ot_kept_type *k = v->non_tensor ? ot_model_find_type(c->m, g, v->name) : NULL;
    if (k) OT_TRY(unpack_type(c, k->bytes, k->len, v->name, &vi->type));
    else if (v->init) OT_TRY(tensor_type(c, v->init->dtype, v->init->rank, v->init->dims, NULL, &vi->type));
    else if (!v->non_tensor && (v->dtype != OT_UNDEFINED || v->rank >= 0))
        OT_TRY(tensor_type(c, v->dtype, v->rank, v->dims, v->dim_params, &vi->type));
    *out = vi;
    return OT_OK;
}

/* ---- nodes and graphs ----------------------------------------------------------------- */

static ot_status graph_proto(save_ctx *c, const ot_graph *g, Onnx__GraphProto **out);

static int hexval(char ch) {
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static ot_status attr_proto(save_ctx *c, const ot_node *n, const ot_attr *a, Onnx__AttributeProto **out) {
    Onnx__AttributeProto *ap = NEW(c, Onnx__AttributeProto, onnx__attribute_proto__descriptor);
    if (!ap) return oom();
    ap->name = a->name;
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)a->type;
    size_t n_el = a->n > 0 ? (size_t)a->n : 0;
    switch (a->type) {
    case OT_ATTR_FLOAT: ap->has_f = 1; ap->f = a->f; break;
    case OT_ATTR_INT: ap->has_i = 1; ap->i = a->i; break;
    case OT_ATTR_STRING:
        ap->has_s = 1;
        ap->s.len = a->s ? a->s_len : 0;
        ap->s.data = (uint8_t *)(a->s ? a->s : "");
        break;
    case OT_ATTR_TENSOR: OT_TRY(tensor_proto(c, a->t, a->t->name ? a->t->name : "", 0, &ap->t)); break;
    case OT_ATTR_SPARSE_TENSOR: OT_TRY(sparse_proto(c, a->t, &ap->sparse_tensor)); break;
    case OT_ATTR_GRAPH: OT_TRY(graph_proto(c, a->g, &ap->g)); break;
    case OT_ATTR_TYPE_PROTO: OT_TRY(unpack_type(c, (const uint8_t *)a->s, a->s_len, a->name, &ap->tp)); break;
    case OT_ATTR_FLOATS: ap->n_floats = n_el; ap->floats = a->floats; break;
    case OT_ATTR_INTS: ap->n_ints = n_el; ap->ints = a->ints; break;
    case OT_ATTR_STRINGS:
        if (!(ap->strings = arena(c, sizeof *ap->strings * (n_el + 1)))) return oom();
        ap->n_strings = n_el;
        for (size_t k = 0; k < n_el; k++) ap->strings[k] = (ProtobufCBinaryData){strlen(a->strings[k]), (uint8_t *)a->strings[k]};
        break;
    case OT_ATTR_TENSORS:
    case OT_ATTR_SPARSE_TENSORS:
        if (a->type == OT_ATTR_TENSORS ? !(ap->tensors = arena(c, sizeof(void *) * (n_el + 1)))
                                       : !(ap->sparse_tensors = arena(c, sizeof(void *) * (n_el + 1))))
            return oom();
        for (size_t k = 0; k < n_el; k++)
            OT_TRY(a->type == OT_ATTR_TENSORS ? tensor_proto(c, a->tensors[k], a->tensors[k]->name ? a->tensors[k]->name : "", 0,
                                                             &ap->tensors[k])
                                              : sparse_proto(c, a->tensors[k], &ap->sparse_tensors[k]));
        if (a->type == OT_ATTR_TENSORS) ap->n_tensors = n_el;
        else ap->n_sparse_tensors = n_el;
        break;
    case OT_ATTR_GRAPHS:
        if (!(ap->graphs = arena(c, sizeof(void *) * (n_el + 1)))) return oom();
        for (size_t k = 0; k < n_el; k++) OT_TRY(graph_proto(c, a->graphs[k], &ap->graphs[k]));
        ap->n_graphs = n_el;
        break;
    case OT_ATTR_TYPE_PROTOS:
        if (!(ap->type_protos = arena(c, sizeof(void *) * (n_el + 1)))) return oom();
        for (size_t k = 0; k < n_el; k++) {
            const char *h = a->strings[k];
            size_t len = strlen(h) / 2;
            uint8_t *b = arena(c, len + 1);
            if (!b) return oom();
            for (size_t i = 0; i < len; i++) {
                int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    return ot_error(OT_ERR_INTERNAL, "node '%s': attribute '%s' holds a malformed type", n->name, a->name);
                b[i] = (uint8_t)(hi << 4 | lo);
            }
            OT_TRY(unpack_type(c, b, len, a->name, &ap->type_protos[k]));
        }
        ap->n_type_protos = n_el;
        break;
    default:
        return ot_error(OT_ERR_INTERNAL, "node '%s' (%s): attribute '%s' has unknown type %d", n->name, n->op_type, a->name,
                        (int)a->type);
    }
    *out = ap;
    return OT_OK;
}

static char **value_names(save_ctx *c, const ot_graph *g, int n, const int *ids) {
    char **names = arena(c, sizeof(char *) * (size_t)(n + 1));
    for (int i = 0; names && i < n; i++) names[i] = ids[i] >= 0 ? g->values[ids[i]].name : "";
    return names;
}

static ot_status node_proto(save_ctx *c, const ot_graph *g, const ot_node *n, Onnx__NodeProto **out) {
    Onnx__NodeProto *np = NEW(c, Onnx__NodeProto, onnx__node_proto__descriptor);
    if (!np) return oom();
    if (n->name && *n->name) np->name = n->name;
    np->op_type = n->op_type;
    if (n->domain && *n->domain) np->domain = n->domain;
    if (n->doc && *n->doc) np->doc_string = n->doc;
    if (!(np->input = value_names(c, g, n->n_inputs, n->inputs)) || !(np->output = value_names(c, g, n->n_outputs, n->outputs)))
        return oom();
    np->n_input = (size_t)n->n_inputs;
    np->n_output = (size_t)n->n_outputs;
    if (!(np->attribute = arena(c, sizeof(void *) * (size_t)(n->n_attrs + 1)))) return oom();
    for (int k = 0; k < n->n_attrs; k++) OT_TRY(attr_proto(c, n, &n->attrs[k], &np->attribute[k]));
    np->n_attribute = (size_t)n->n_attrs;
    *out = np;
    return OT_OK;
}

static ot_status graph_proto(save_ctx *c, const ot_graph *g, Onnx__GraphProto **out) {
    Onnx__GraphProto *gp = NEW(c, Onnx__GraphProto, onnx__graph_proto__descriptor);
    int nv = g->n_values;
    char *mark = arena(c, (size_t)nv + 1); /* 1: graph output, 2: produced by a node, 4: written as initializer */
    if (!gp || !mark) return oom();
    gp->name = g->name && *g->name ? g->name : (g->parent ? "subgraph" : "main_graph");
    if (g->doc && *g->doc) gp->doc_string = g->doc;
    if (!(gp->node = arena(c, sizeof(void *) * (size_t)(g->n_nodes + 1)))) return oom();
    for (int i = 0; i < g->n_nodes; i++) {
        OT_TRY(node_proto(c, g, &g->nodes[i], &gp->node[i]));
        for (int k = 0; k < g->nodes[i].n_outputs; k++)
            if (g->nodes[i].outputs[k] >= 0) mark[g->nodes[i].outputs[k]] |= 2;
    }
    gp->n_node = (size_t)g->n_nodes;
    /* Initializers: the file's list first (its order), then any other valued
       initializer or folded constant a pass added. */
    if (!(gp->initializer = arena(c, sizeof(void *) * (size_t)(nv + 1)))) return oom();
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < (pass ? nv : g->n_inits); i++) {
            int v = pass ? i : g->inits[i];
            const ot_value *val = &g->values[v];
            if ((mark[v] & 4) || !val->init || (val->role != OT_ROLE_INITIALIZER && val->role != OT_ROLE_CONSTANT)) continue;
            mark[v] |= 4;
            OT_TRY(tensor_proto(c, val->init, val->name, 1, &gp->initializer[gp->n_initializer++]));
        }
    if (!(gp->input = arena(c, sizeof(void *) * (size_t)(g->n_inputs + 1))) ||
        !(gp->output = arena(c, sizeof(void *) * (size_t)(g->n_outputs + 1))) ||
        !(gp->value_info = arena(c, sizeof(void *) * (size_t)(nv + 1))))
        return oom();
    for (int i = 0; i < g->n_inputs; i++) OT_TRY(value_info(c, g, &g->values[g->inputs[i]], &gp->input[i]));
    gp->n_input = (size_t)g->n_inputs;
    for (int i = 0; i < g->n_outputs; i++) {
        OT_TRY(value_info(c, g, &g->values[g->outputs[i]], &gp->output[i]));
        mark[g->outputs[i]] |= 1;
    }
    gp->n_output = (size_t)g->n_outputs;
    /* value_info: shapes of intermediate values that are known. */
    for (int v = 0; v < nv; v++) {
        const ot_value *val = &g->values[v];
        if ((mark[v] & 3) != 2 || val->role != OT_ROLE_ACTIVATION || val->init) continue;
        if (val->non_tensor ? !ot_model_find_type(c->m, g, val->name) : val->dtype == OT_UNDEFINED) continue;
        OT_TRY(value_info(c, g, val, &gp->value_info[gp->n_value_info++]));
    }
    *out = gp;
    return OT_OK;
}

/* ---- the model --------------------------------------------------------------------------- */

/* The oldest IR version that can carry a given default-domain opset (onnx.helper's table). */
static int64_t ir_for_opset(int64_t opset) {
    static const int64_t first_opset[] = {0, 0, 0, 1, 9, 10, 11, 12, 15, 19, 21, 23, 24, 25};
    int64_t ir = 3;
    for (int64_t v = 4; v < (int64_t)(sizeof first_opset / sizeof first_opset[0]); v++)
        if (opset >= first_opset[v]) ir = v;
    return ir;
}

typedef struct file_buffer {
    ProtobufCBuffer base;
    ot_atomic_file *f;
    size_t n;
    uint8_t buf[1 << 16];
} file_buffer;

static void fb_flush(file_buffer *b) {
    ot_atomic_write(b->f, b->buf, b->n);
    b->n = 0;
}

static void fb_append(ProtobufCBuffer *pb, size_t len, const uint8_t *data) {
    file_buffer *b = (file_buffer *)pb;
    if (b->n + len > sizeof b->buf) fb_flush(b);
    if (len >= sizeof b->buf) ot_atomic_write(b->f, data, len);
    else {
        memcpy(b->buf + b->n, data, len);
        b->n += len;
    }
}

static ot_status model_proto(save_ctx *c, Onnx__ModelProto *mp) {
    const ot_model *m = c->m;
    const ot_graph *g = m->graph;
    static char producer[] = "onnxtrain";
    static char version[] = OT_STR(OT_VERSION_MAJOR) "." OT_STR(OT_VERSION_MINOR) "." OT_STR(OT_VERSION_PATCH);
    int64_t opset = ot_graph_opset(g, "");
    mp->has_ir_version = 1;
    mp->ir_version = m->ir_version > 0 ? m->ir_version : ir_for_opset(opset);
    if (m->producer_name && *m->producer_name) {
        mp->producer_name = m->producer_name;
        mp->producer_version = m->producer_version && *m->producer_version ? m->producer_version : NULL;
    } else {
        mp->producer_name = producer;
        mp->producer_version = version;
    }
    if (m->domain && *m->domain) mp->domain = m->domain;
    if (m->model_version) {
        mp->has_model_version = 1;
        mp->model_version = m->model_version;
    }
    if (m->doc && *m->doc) mp->doc_string = m->doc;
    if (!(mp->opset_import = arena(c, sizeof(void *) * (size_t)(g->n_opsets + 1)))) return oom();
    for (int i = 0; i < g->n_opsets; i++) {
        Onnx__OperatorSetIdProto *o = NEW(c, Onnx__OperatorSetIdProto, onnx__operator_set_id_proto__descriptor);
        if (!o) return oom();
        o->domain = g->opsets[i].domain;
        o->has_version = 1;
        o->version = g->opsets[i].version;
        mp->opset_import[i] = o;
    }
    mp->n_opset_import = (size_t)g->n_opsets;
    if (!(mp->metadata_props = arena(c, sizeof(void *) * (size_t)(m->n_meta + 1)))) return oom();
    for (int i = 0; i < m->n_meta; i++)
        if (!(mp->metadata_props[i] = kv(c, m->meta_keys[i], m->meta_values[i]))) return oom();
    mp->n_metadata_props = (size_t)m->n_meta;
    return graph_proto(c, g, &mp->graph);
}

/* options == NULL: tensors of 1 GiB or more go external; and when the
   initializers add up to more than protobuf's 2 GiB message limit would allow
   (other readers refuse bigger files), every tensor of 1 KiB or more does, as
   onnx's convert_model_to_external_data does by default. */
static uint64_t default_threshold(const ot_graph *g) {
    uint64_t total = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init) total += ot_tensor_nbytes(g->values[v].init);
    return total > ((uint64_t)3 << 29) ? 1024 : (uint64_t)1 << 30;
}

ot_status ot_model_save(const ot_model *m, const char *path, const ot_save_options *options) {
    if (!m || !m->graph || !path || !*path) return ot_error(OT_ERR_INVALID_ARG, "ot_model_save: NULL argument");
    save_ctx c = {.m = m, .path = path, .threshold = options ? options->external_threshold_bytes : default_threshold(m->graph)};
    Onnx__ModelProto mp;
    onnx__model_proto__init(&mp);
    ot_atomic_file f;
    file_buffer *fb = NULL;
    ot_status s = model_proto(&c, &mp);
    if (s) s = ot_error_context(s, "saving %s", path);
    int f_open = 0;
    if (!s && !(s = ot_atomic_open(&f, path))) f_open = 1;
    if (!s && !(fb = ot_malloc(sizeof *fb))) s = oom();
    if (!s) {
        fb->base.append = fb_append;
        fb->f = &f;
        fb->n = 0;
        protobuf_c_message_pack_to_buffer(&mp.base, &fb->base);
        fb_flush(fb);
        /* Both files are durable under temporary names before either is renamed;
           the data file goes first so the new model never points at old data. */
        if (c.data_open) s = ot_atomic_sync(&c.data);
        if (!s) s = ot_atomic_sync(&f);
        if (!s && c.data_open && !(s = ot_atomic_rename(&c.data))) c.data_open = 0;
        if (!s && !(s = ot_atomic_rename(&f))) f_open = 0;
    }
    if (f_open) ot_atomic_abort(&f);
    if (c.data_open) ot_atomic_abort(&c.data);
    ot_free(fb);
    for (int i = 0; i < c.n_types; i++) onnx__type_proto__free_unpacked(c.types[i], &ot_pb_allocator);
    for (int i = 0; i < c.n_tensors; i++) ot_tensor_free(c.tensors[i]);
    for (int i = 0; i < c.n_allocs; i++) ot_free(c.allocs[i]);
    ot_free(c.types);
    ot_free(c.tensors);
    ot_free(c.allocs);
    return s;
}
