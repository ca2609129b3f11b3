/* ONNX import/export: models are built in C through the protobuf-c structs,
 * packed, loaded, saved and reloaded.  Covers every tensor storage form,
 * every attribute type, subgraphs, sparse tensors, model-local functions,
 * external data (and paths that try to escape the model folder), and bad
 * input: truncated files, random bytes, bad dims, deep nesting.
 *
 * Set OT_TEST_PYTHON=/path/to/python (with onnx and onnxruntime) to also run
 * onnx.checker and onnxruntime on a saved model, and OT_TEST_ONNX_NODE_DIR to
 * round-trip every backend node-test model found there. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#include "check.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"
#include "src/core/shape.h"
#include "src/core/status.h"
#include "src/onnx/model.h"

/* ---- a tiny arena for building protos ------------------------------------------------ */

static void *arena_ptrs[100000];
static int arena_n;

static void *A(size_t n) {
    void *p = calloc(1, n ? n : 1);
    arena_ptrs[arena_n++] = p;
    return p;
}
static void arena_reset(void) {
    while (arena_n) free(arena_ptrs[--arena_n]);
}
static char *S(const char *s) { return strcpy(A(strlen(s) + 1), s); }
#define CAP 64
#define NEWP(T, desc) ((T *)newp(&(desc)))
static void *newp(const ProtobufCMessageDescriptor *d) {
    void *p = A(d->sizeof_message);
    protobuf_c_message_init(d, p);
    return p;
}
#define PUSH(arr, n, x)                                 \
    do {                                                \
        if (!(arr)) (arr) = A(CAP * sizeof(*(arr)));    \
        (arr)[(n)++] = (x);                             \
    } while (0)

static Onnx__TensorProto *t_new(const char *name, int dt, int rank, const int64_t *dims) {
    Onnx__TensorProto *t = NEWP(Onnx__TensorProto, onnx__tensor_proto__descriptor);
    t->name = S(name);
    t->has_data_type = 1;
    t->data_type = dt;
    t->n_dims = (size_t)rank;
    t->dims = A(sizeof(int64_t) * (size_t)(rank + 1));
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    return t;
}
static Onnx__TensorProto *t_raw(const char *name, int dt, int rank, const int64_t *dims, const void *data, size_t n) {
    Onnx__TensorProto *t = t_new(name, dt, rank, dims);
    t->has_raw_data = 1;
    t->raw_data.len = n;
    t->raw_data.data = A(n);
    memcpy(t->raw_data.data, data, n);
    return t;
}
static Onnx__TypeProto *ty_tensor(int elem, int rank, const int64_t *dims, const char *const *params) {
    Onnx__TypeProto *tp = NEWP(Onnx__TypeProto, onnx__type_proto__descriptor);
    Onnx__TypeProto__Tensor *tt = NEWP(Onnx__TypeProto__Tensor, onnx__type_proto__tensor__descriptor);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (rank >= 0) {
        tt->shape = NEWP(Onnx__TensorShapeProto, onnx__tensor_shape_proto__descriptor);
        for (int d = 0; d < rank; d++) {
            Onnx__TensorShapeProto__Dimension *dim =
                NEWP(Onnx__TensorShapeProto__Dimension, onnx__tensor_shape_proto__dimension__descriptor);
            if (params && params[d]) {
                dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dim->dim_param = S(params[d]);
            } else if (dims[d] >= 0) {
                dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dim->dim_value = dims[d];
            }
            PUSH(tt->shape->dim, tt->shape->n_dim, dim);
        }
    }
    return tp;
}
static Onnx__ValueInfoProto *vi(const char *name, Onnx__TypeProto *tp) {
    Onnx__ValueInfoProto *v = NEWP(Onnx__ValueInfoProto, onnx__value_info_proto__descriptor);
    v->name = S(name);
    v->type = tp;
    return v;
}
static Onnx__NodeProto *node(Onnx__GraphProto *g, const char *op, const char *name, const char *ins, const char *outs) {
    /* ins/outs: comma-separated names ("" entries allowed) */
    Onnx__NodeProto *n = NEWP(Onnx__NodeProto, onnx__node_proto__descriptor);
    n->op_type = S(op);
    n->name = S(name);
    for (int k = 0; k < 2; k++) {
        const char *p = k ? outs : ins;
        while (p && *p) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            char *s = A(len + 1);
            memcpy(s, p, len);
            if (k) PUSH(n->output, n->n_output, s);
            else PUSH(n->input, n->n_input, s);
            p = e ? e + 1 : p + len;
        }
    }
    if (g) PUSH(g->node, g->n_node, n);
    return n;
}
static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = NEWP(Onnx__AttributeProto, onnx__attribute_proto__descriptor);
    a->name = S(name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    if (n) PUSH(n->attribute, n->n_attribute, a);
    return a;
}
static Onnx__GraphProto *graph(const char *name) {
    Onnx__GraphProto *g = NEWP(Onnx__GraphProto, onnx__graph_proto__descriptor);
    g->name = S(name);
    return g;
}
static Onnx__OperatorSetIdProto *opset(const char *dom, int64_t v) {
    Onnx__OperatorSetIdProto *o = NEWP(Onnx__OperatorSetIdProto, onnx__operator_set_id_proto__descriptor);
    o->domain = S(dom);
    o->has_version = 1;
    o->version = v;
    return o;
}
static Onnx__ModelProto *model(Onnx__GraphProto *g, int64_t op) {
    Onnx__ModelProto *m = NEWP(Onnx__ModelProto, onnx__model_proto__descriptor);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = S("test_onnx_io");
    m->graph = g;
    PUSH(m->opset_import, m->n_opset_import, opset("", op));
    return m;
}
static uint8_t *pack(const ProtobufCMessage *m, size_t *n) {
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = A(*n + 1);
    protobuf_c_message_pack(m, b);
    return b;
}
static ot_status load_msg(const Onnx__ModelProto *mp, const char *dir, ot_model **out) {
    size_t n;
    uint8_t *b = pack(&mp->base, &n);
    return ot_model_load_buffer(b, n, dir, out);
}
static const ot_value *val(const ot_graph *g, const char *name) {
    int id = ot_graph_find(g, name);
    return id >= 0 ? &g->values[id] : NULL;
}
static int msg_has(const char *s) { return strstr(ot_last_error(), s) != NULL; }

static char tmpdir[256];
static char *tpath(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}
static void write_file(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

/* ---- a model using most features: x (N,3) -> MatMul(W) -> Add(B) -> If(cond) -> y ---- */

static Onnx__ModelProto *sample_model(void) {
    Onnx__GraphProto *g = graph("sample");
    int64_t d32[] = {3, 2}, d2[] = {2}, dx[] = {-1, 3};
    const char *px[] = {"N", NULL};
    float w[6] = {1, -2, 3.5f, -0.0f, NAN, 1e-40f};
    PUSH(g->initializer, g->n_initializer, t_raw("W", 1, 2, d32, w, sizeof w));
    Onnx__TensorProto *b = t_new("B", 1, 1, d2);
    b->n_float_data = 2;
    b->float_data = A(8);
    b->float_data[0] = 0.5f;
    b->float_data[1] = -1.5f;
    PUSH(g->initializer, g->n_initializer, b);
    PUSH(g->input, g->n_input, vi("x", ty_tensor(1, 2, dx, px)));
    PUSH(g->input, g->n_input, vi("cond", ty_tensor(9, 0, NULL, NULL)));
    PUSH(g->input, g->n_input, vi("W", ty_tensor(1, 2, d32, NULL))); /* an initializer listed as input */
    /* nodes out of order on purpose: the loader sorts them */
    Onnx__NodeProto *nif = node(g, "If", "if0", "cond", "y");
    node(g, "Add", "add0", "h,B", "h2");
    node(g, "MatMul", "", "x,W", "h");
    Onnx__GraphProto *then_g = graph("then"), *else_g = graph("else");
    node(then_g, "Relu", "r", "h2", "t_out"); /* h2 captured from the outer graph */
    PUSH(then_g->output, then_g->n_output, vi("t_out", ty_tensor(1, -1, NULL, NULL)));
    node(else_g, "Neg", "n", "h2", "e_out");
    PUSH(else_g->output, else_g->n_output, vi("e_out", ty_tensor(1, -1, NULL, NULL)));
    attr(nif, "then_branch", 5)->g = then_g;
    attr(nif, "else_branch", 5)->g = else_g;
    int64_t dy[] = {-1, 2};
    const char *py[] = {"N", NULL};
    PUSH(g->output, g->n_output, vi("y", ty_tensor(1, 2, dy, py)));
    PUSH(g->value_info, g->n_value_info, vi("h", ty_tensor(1, 2, dy, py)));
    Onnx__ModelProto *m = model(g, 17);
    m->doc_string = S("a sample");
    m->has_model_version = 1;
    m->model_version = 42;
    Onnx__StringStringEntryProto *kv = NEWP(Onnx__StringStringEntryProto, onnx__string_string_entry_proto__descriptor);
    kv->key = S("author");
    kv->value = S("me");
    PUSH(m->metadata_props, m->n_metadata_props, kv);
    return m;
}

static void test_basic_load(void) {
    ot_model *m = NULL;
    ot_status s = load_msg(sample_model(), NULL, &m);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s) return;
    const ot_graph *g = m->graph;
    CHECK(ot_graph_opset(g, "") == 17);
    CHECK(m->model_version == 42 && !strcmp(m->producer_name, "test_onnx_io") && !strcmp(m->doc, "a sample"));
    CHECK(m->n_meta == 1 && !strcmp(m->meta_keys[0], "author") && !strcmp(m->meta_values[0], "me"));
    CHECK(g->n_inputs == 3 && g->n_outputs == 1 && g->n_inits == 2);
    CHECK(ot_model_input_count(m) == 2);
    const ot_value *x = val(g, "x"), *w = val(g, "W"), *b = val(g, "B"), *h = val(g, "h");
    CHECK(x && x->role == OT_ROLE_INPUT && x->dtype == OT_FLOAT && x->rank == 2 && x->dims[0] == -1 && x->dims[1] == 3);
    CHECK(x && x->dim_params[0] && !strcmp(x->dim_params[0], "N") && !x->dim_params[1]);
    CHECK(w && w->role == OT_ROLE_INITIALIZER && w->is_input && w->init && w->init->dims[0] == 3);
    CHECK(b && b->role == OT_ROLE_INITIALIZER && !b->is_input && ((float *)b->init->data)[1] == -1.5f);
    CHECK(h && h->rank == 2 && h->dims[1] == 2 && h->dtype == OT_FLOAT);
    /* sorted: MatMul, Add, If */
    CHECK(g->n_nodes == 3 && !strcmp(g->nodes[0].op_type, "MatMul") && !strcmp(g->nodes[2].op_type, "If"));
    CHECK(!strcmp(g->nodes[0].name, "")); /* empty names stay empty */
    const ot_attr *tb = ot_node_attr(&g->nodes[2], "then_branch");
    CHECK(tb && tb->type == OT_ATTR_GRAPH && tb->g && tb->g->parent == g);
    if (tb && tb->g) {
        const ot_value *cap = val(tb->g, "h2");
        CHECK(cap && cap->role == OT_ROLE_OUTER);
    }
    ot_value_info info;
    CHECK(ot_model_input(m, 0, &info) == OT_OK && !strcmp(info.name, "x") && info.dim_names[0] &&
          !strcmp(info.dim_names[0], "N"));
    ot_model_free(m);
}

/* ---- tensor storage forms ------------------------------------------------------------- */

static Onnx__ModelProto *const_model(Onnx__TensorProto *t) {
    Onnx__GraphProto *g = graph("c");
    PUSH(g->initializer, g->n_initializer, t);
    node(g, "Identity", "id", t->name, "out");
    PUSH(g->output, g->n_output, vi("out", ty_tensor(t->data_type, -1, NULL, NULL)));
    return model(g, 17);
}

static ot_status load_tensor_model(Onnx__TensorProto *t, const char *dir, ot_model **m) {
    return load_msg(const_model(t), dir, m);
}

static void test_typed_fields(void) {
    int64_t d3[] = {3};
    struct { int dt; int32_t v[3]; } i32cases[] = {
        {3, {-128, 127, -1}}, {2, {0, 255, 7}}, {5, {-32768, 32767, 5}}, {4, {0, 65535, 9}},
        {9, {1, 0, 5}}, {6, {INT32_MIN, INT32_MAX, 0}}, {10, {0x3c00, 0xc000, 0x7c00}}, {16, {0x3f80, 0xc000, 0x7f80}}};
    for (size_t c = 0; c < sizeof i32cases / sizeof i32cases[0]; c++) {
        Onnx__TensorProto *t = t_new("T", i32cases[c].dt, 1, d3);
        t->n_int32_data = 3;
        t->int32_data = A(12);
        memcpy(t->int32_data, i32cases[c].v, 12);
        ot_model *m;
        ot_status s = load_tensor_model(t, NULL, &m);
        CHECK_MSG(s == OT_OK, "dtype %d: %s", i32cases[c].dt, ot_last_error());
        if (s) continue;
        const ot_tensor *v = val(m->graph, "T")->init;
        ot_dtype dt = (ot_dtype)i32cases[c].dt;
        for (int i = 0; i < 3; i++) {
            int64_t want = dt == OT_BOOL ? i32cases[c].v[i] != 0 : i32cases[c].v[i];
            if (dt == OT_FLOAT16 || dt == OT_BFLOAT16) CHECK(((uint16_t *)v->data)[i] == (uint16_t)want);
            else CHECK_MSG(ot_load_i64(dt, v->data, i) == want, "dtype %d elem %d", (int)dt, i);
        }
        ot_model_free(m);
    }
    /* int64_data, uint64_data (uint32 too), double_data, float_data pairs (complex64) */
    ot_model *m;
    for (int c = 0; c < 4; c++) {
        static const int dts[] = {7, 12, 11, 14};
        Onnx__TensorProto *t = t_new("V", dts[c], 1, d3);
        switch (c) {
        case 0: t->n_int64_data = 3; t->int64_data = A(24); t->int64_data[0] = INT64_MIN; break;
        case 1: t->n_uint64_data = 3; t->uint64_data = A(24); t->uint64_data[0] = 4000000000u; break;
        case 2: t->n_double_data = 3; t->double_data = A(24); t->double_data[0] = -2.25; break;
        case 3: t->n_float_data = 6; t->float_data = A(24); t->float_data[0] = 9; break;
        }
        CHECK_MSG(load_tensor_model(t, NULL, &m) == OT_OK, "%s", ot_last_error());
        const void *d = val(m->graph, "V")->init->data;
        CHECK(c == 0 ? ((int64_t *)d)[0] == INT64_MIN : c == 1 ? ((uint32_t *)d)[0] == 4000000000u
              : c == 2 ? ((double *)d)[0] == -2.25 : ((float *)d)[0] == 9 && val(m->graph, "V")->init->dims[0] == 3);
        ot_model_free(m);
    }
    /* raw bool bytes are canonicalised */
    uint8_t bb[3] = {0, 2, 1};
    CHECK(load_tensor_model(t_raw("BB", 9, 1, d3, bb, 3), NULL, &m) == OT_OK);
    CHECK(((uint8_t *)val(m->graph, "BB")->init->data)[1] == 1);
    ot_model_free(m);
}

static void test_bad_tensors(void) {
    int64_t d3[] = {3}, neg[] = {2, -3}, huge[] = {1 << 30, 1 << 30, 1 << 30}, d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float f[3] = {1, 2, 3};
    ot_model *m = NULL;
    CHECK(load_tensor_model(t_raw("short", 1, 1, d3, f, 8), NULL, &m) == OT_ERR_PARSE);
    CHECK(msg_has("short") && msg_has("8 bytes, expected 12"));
    Onnx__TensorProto *t = t_new("few", 1, 1, d3);
    t->n_float_data = 2;
    t->float_data = A(8);
    CHECK(load_tensor_model(t, NULL, &m) == OT_ERR_PARSE && msg_has("float_data holds 2 values"));
    CHECK(load_tensor_model(t_raw("neg", 1, 2, neg, f, 0), NULL, &m) == OT_ERR_PARSE && msg_has("negative dimension"));
    CHECK(load_tensor_model(t_raw("huge", 1, 3, huge, f, 12), NULL, &m) == OT_ERR_PARSE && msg_has("2^40"));
    CHECK(load_tensor_model(t_raw("r9", 1, 9, d9, f, 4), NULL, &m) == OT_ERR_UNSUPPORTED && msg_has("rank 9"));
    t = t_new("str", 8, 1, d3);
    CHECK(load_tensor_model(t, NULL, &m) == OT_ERR_UNSUPPORTED && msg_has("string tensor") && msg_has("str"));
    CHECK(load_tensor_model(t_raw("f8", 17, 1, d3, f, 3), NULL, &m) == OT_ERR_UNSUPPORTED && msg_has("float8e4m3fn"));
    t = t_raw("nodt", 1, 1, d3, f, 12);
    t->has_data_type = 0;
    CHECK(load_tensor_model(t, NULL, &m) == OT_ERR_PARSE && msg_has("no data_type"));
    CHECK(m == NULL);
}

/* ---- attributes and sparse tensors ----------------------------------------------------- */

static Onnx__SparseTensorProto *sparse(const char *name, int coo) {
    /* dense (2, 3) float with 5 at [0,1] and 7 at [1,2] */
    Onnx__SparseTensorProto *sp = NEWP(Onnx__SparseTensorProto, onnx__sparse_tensor_proto__descriptor);
    int64_t nnz[] = {2}, nnz2[] = {2, 2};
    float v[] = {5, 7};
    int64_t lin[] = {1, 5}, co[] = {0, 1, 1, 2};
    sp->values = t_raw(name, 1, 1, nnz, v, sizeof v);
    sp->indices = coo ? t_raw("", 7, 2, nnz2, co, sizeof co) : t_raw("", 7, 1, nnz, lin, sizeof lin);
    sp->n_dims = 2;
    sp->dims = A(16);
    sp->dims[0] = 2;
    sp->dims[1] = 3;
    return sp;
}

static Onnx__ModelProto *attr_model(void) {
    Onnx__GraphProto *g = graph("attrs");
    PUSH(g->input, g->n_input, vi("x", ty_tensor(1, 1, (int64_t[]){4}, NULL)));
    Onnx__NodeProto *n = node(g, "Custom", "all", "x", "y");
    n->domain = S("test.domain");
    n->doc_string = S("node doc");
    Onnx__AttributeProto *a = attr(n, "f", 1);
    a->has_f = 1;
    a->f = 1.5f;
    a = attr(n, "i", 2);
    a->has_i = 1;
    a->i = -7;
    a = attr(n, "s", 3);
    a->has_s = 1;
    a->s.len = 3;
    a->s.data = memcpy(A(3), "a\0b", 3); /* embedded NUL kept with its length */
    int64_t d2[] = {2};
    attr(n, "t", 4)->t = t_raw("tv", 7, 1, d2, (int64_t[]){3, 4}, 16);
    Onnx__GraphProto *sub = graph("body");
    node(sub, "Identity", "i", "x", "o");
    PUSH(sub->output, sub->n_output, vi("o", ty_tensor(1, -1, NULL, NULL)));
    attr(n, "g", 5)->g = sub;
    a = attr(n, "fs", 6);
    a->n_floats = 2;
    a->floats = A(8);
    a->floats[1] = -3;
    a = attr(n, "is", 7);
    a->n_ints = 3;
    a->ints = A(24);
    a->ints[2] = INT64_MAX;
    a = attr(n, "ss", 8);
    a->n_strings = 2;
    a->strings = A(2 * sizeof(ProtobufCBinaryData));
    a->strings[0] = (ProtobufCBinaryData){2, (uint8_t *)S("hi")};
    a->strings[1] = (ProtobufCBinaryData){0, (uint8_t *)S("")};
    a = attr(n, "ts", 9);
    PUSH(a->tensors, a->n_tensors, t_raw("t0", 1, 1, d2, (float[]){1, 2}, 8));
    a = attr(n, "gs", 10);
    Onnx__GraphProto *sub2 = graph("body2");
    PUSH(sub2->output, sub2->n_output, vi("x", ty_tensor(1, -1, NULL, NULL))); /* passthrough of an outer value */
    PUSH(a->graphs, a->n_graphs, sub2);
    attr(n, "sp", 11)->sparse_tensor = sparse("spv", 0);
    a = attr(n, "sps", 12);
    PUSH(a->sparse_tensors, a->n_sparse_tensors, sparse("spv2", 1));
    attr(n, "tp", 13)->tp = ty_tensor(7, 1, (int64_t[]){5}, NULL);
    a = attr(n, "tps", 14);
    PUSH(a->type_protos, a->n_type_protos, ty_tensor(1, 0, NULL, NULL));
    /* an IR-2 style attribute without `type` */
    a = attr(n, "old", 0);
    a->has_type = 0;
    a->has_i = 1;
    a->i = 9;
    PUSH(g->output, g->n_output, vi("y", ty_tensor(1, -1, NULL, NULL)));
    Onnx__ModelProto *m = model(g, 17);
    PUSH(m->opset_import, m->n_opset_import, opset("test.domain", 1));
    return m;
}

static void check_attrs(const ot_graph *g) {
    CHECK(g->n_nodes == 1);
    if (g->n_nodes != 1) return;
    const ot_node *n = &g->nodes[0];
    const ot_attr *a;
    CHECK(!strcmp(n->domain, "test.domain") && n->doc && !strcmp(n->doc, "node doc"));
    CHECK((a = ot_node_attr(n, "f")) && a->type == OT_ATTR_FLOAT && a->f == 1.5f);
    CHECK((a = ot_node_attr(n, "i")) && a->type == OT_ATTR_INT && a->i == -7);
    CHECK((a = ot_node_attr(n, "s")) && a->type == OT_ATTR_STRING && a->s_len == 3 && !memcmp(a->s, "a\0b", 3));
    CHECK((a = ot_node_attr(n, "t")) && a->type == OT_ATTR_TENSOR && a->t->dtype == OT_INT64 && ((int64_t *)a->t->data)[1] == 4);
    CHECK((a = ot_node_attr(n, "g")) && a->type == OT_ATTR_GRAPH && a->g->parent == g && a->g->n_nodes == 1);
    if (a && a->g) CHECK(val(a->g, "x") && val(a->g, "x")->role == OT_ROLE_OUTER);
    CHECK((a = ot_node_attr(n, "fs")) && a->type == OT_ATTR_FLOATS && a->n == 2 && a->floats[1] == -3);
    CHECK((a = ot_node_attr(n, "is")) && a->type == OT_ATTR_INTS && a->n == 3 && a->ints[2] == INT64_MAX);
    CHECK((a = ot_node_attr(n, "ss")) && a->type == OT_ATTR_STRINGS && a->n == 2 && !strcmp(a->strings[0], "hi") &&
          !strcmp(a->strings[1], ""));
    CHECK((a = ot_node_attr(n, "ts")) && a->type == OT_ATTR_TENSORS && a->n == 1 && ((float *)a->tensors[0]->data)[1] == 2);
    CHECK((a = ot_node_attr(n, "gs")) && a->type == OT_ATTR_GRAPHS && a->n == 1 && a->graphs[0]->n_outputs == 1);
    for (int k = 0; k < 2; k++) {
        a = ot_node_attr(n, k ? "sps" : "sp");
        const ot_tensor *t = a ? (k ? a->tensors[0] : a->t) : NULL;
        CHECK(a && a->type == (k ? OT_ATTR_SPARSE_TENSORS : OT_ATTR_SPARSE_TENSOR) && t && t->rank == 2 && t->dims[1] == 3);
        if (t) {
            const float *d = t->data;
            CHECK(d[0] == 0 && d[1] == 5 && d[5] == 7 && d[4] == 0);
        }
    }
    CHECK((a = ot_node_attr(n, "tp")) && a->type == OT_ATTR_TYPE_PROTO && a->s && a->s_len > 0);
    CHECK((a = ot_node_attr(n, "tps")) && a->type == OT_ATTR_TYPE_PROTOS && a->n == 1);
    CHECK((a = ot_node_attr(n, "old")) && a->type == OT_ATTR_INT && a->i == 9);
}

static void test_attributes(void) {
    ot_model *m;
    ot_status s = load_msg(attr_model(), NULL, &m);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s) return;
    check_attrs(m->graph);
    /* and after a save/load round trip */
    CHECK(ot_model_save(m, tpath("attrs.onnx"), NULL) == OT_OK);
    ot_model_free(m);
    s = ot_model_load(tpath("attrs.onnx"), &m);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s) return;
    check_attrs(m->graph);
    ot_model_free(m);
}

static void test_sparse_initializers(void) {
    for (int coo = 0; coo < 2; coo++) {
        Onnx__GraphProto *g = graph("sp");
        PUSH(g->sparse_initializer, g->n_sparse_initializer, sparse("S", coo));
        node(g, "Identity", "", "S", "y");
        PUSH(g->output, g->n_output, vi("y", ty_tensor(1, -1, NULL, NULL)));
        ot_model *m;
        ot_status s = load_msg(model(g, 17), NULL, &m);
        CHECK_MSG(s == OT_OK, "%s", ot_last_error());
        if (s) continue;
        const ot_value *v = val(m->graph, "S");
        CHECK(v && v->role == OT_ROLE_INITIALIZER && v->init->rank == 2 && ((float *)v->init->data)[5] == 7);
        CHECK(m->graph->n_inits == 1);
        ot_model_free(m);
    }
    Onnx__GraphProto *g = graph("sp");
    Onnx__SparseTensorProto *sp = sparse("S", 0);
    ((int64_t *)sp->indices->raw_data.data)[1] = 6; /* out of range */
    PUSH(g->sparse_initializer, g->n_sparse_initializer, sp);
    ot_model *m;
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE && msg_has("out of range"));
}

/* ---- structure errors -------------------------------------------------------------------- */

static void test_graph_errors(void) {
    ot_model *m;
    Onnx__GraphProto *g = graph("cyc");
    node(g, "Relu", "a", "q", "p");
    node(g, "Relu", "b", "p", "q");
    PUSH(g->output, g->n_output, vi("q", ty_tensor(1, -1, NULL, NULL)));
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE && msg_has("cycle"));
    g = graph("undef");
    node(g, "Relu", "a", "nowhere", "p");
    PUSH(g->output, g->n_output, vi("p", ty_tensor(1, -1, NULL, NULL)));
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE);
    /* a subgraph capturing a name no enclosing graph defines */
    g = graph("outer");
    PUSH(g->input, g->n_input, vi("c", ty_tensor(9, 0, NULL, NULL)));
    Onnx__NodeProto *n = node(g, "If", "if", "c", "y");
    Onnx__GraphProto *b = graph("branch");
    node(b, "Relu", "r", "ghost", "o");
    PUSH(b->output, b->n_output, vi("o", ty_tensor(1, -1, NULL, NULL)));
    attr(n, "then_branch", 5)->g = b;
    attr(n, "else_branch", 5)->g = b;
    PUSH(g->output, g->n_output, vi("y", ty_tensor(1, -1, NULL, NULL)));
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE && msg_has("ghost"));
    /* duplicate attribute, missing op_type, ref_attr_name outside a function */
    g = graph("dup");
    PUSH(g->input, g->n_input, vi("x", ty_tensor(1, -1, NULL, NULL)));
    n = node(g, "Relu", "r", "x", "y");
    attr(n, "a", 2);
    attr(n, "a", 2);
    PUSH(g->output, g->n_output, vi("y", ty_tensor(1, -1, NULL, NULL)));
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE && msg_has("given twice"));
    n->n_attribute = 1;
    n->attribute[0]->ref_attr_name = S("alpha");
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE && msg_has("outside of a function"));
    n->n_attribute = 0;
    n->op_type = S("");
    CHECK(load_msg(model(g, 17), NULL, &m) == OT_ERR_PARSE && msg_has("no op_type"));
    Onnx__ModelProto *mp = model(graph("g"), 17);
    mp->n_opset_import = 0;
    CHECK(load_msg(mp, NULL, &m) == OT_ERR_PARSE && msg_has("opset_import"));
    mp->graph = NULL;
    CHECK(load_msg(mp, NULL, &m) == OT_ERR_PARSE && msg_has("no graph"));
}

/* ---- model-local functions ------------------------------------------------------------------ */

/* ScaleAdd(a, b) -> c = (a + b) * alpha, alpha defaults to 2; Outer(p, q) calls
   ScaleAdd twice, passing its own attribute beta on as alpha. */
static Onnx__FunctionProto *fn_scale_add(int64_t fn_opset) {
    Onnx__FunctionProto *f = NEWP(Onnx__FunctionProto, onnx__function_proto__descriptor);
    f->name = S("ScaleAdd");
    f->domain = S("local");
    PUSH(f->input, f->n_input, S("a"));
    PUSH(f->input, f->n_input, S("b"));
    PUSH(f->output, f->n_output, S("c"));
    PUSH(f->attribute, f->n_attribute, S("alpha"));
    Onnx__AttributeProto *def = attr(NULL, "alpha", 1);
    def->has_f = 1;
    def->f = 2.0f;
    PUSH(f->attribute_proto, f->n_attribute_proto, def);
    PUSH(f->node, f->n_node, node(NULL, "Add", "", "a,b", "t"));
    Onnx__NodeProto *k = node(NULL, "Constant", "k", "", "s");
    attr(k, "value_float", 1)->ref_attr_name = S("alpha");
    PUSH(f->node, f->n_node, k);
    PUSH(f->node, f->n_node, node(NULL, "Mul", "", "t,s", "c"));
    PUSH(f->opset_import, f->n_opset_import, opset("", fn_opset));
    return f;
}

static Onnx__FunctionProto *fn_outer(void) {
    Onnx__FunctionProto *f = NEWP(Onnx__FunctionProto, onnx__function_proto__descriptor);
    f->name = S("Outer");
    f->domain = S("local");
    PUSH(f->input, f->n_input, S("p"));
    PUSH(f->input, f->n_input, S("q"));
    PUSH(f->output, f->n_output, S("r"));
    PUSH(f->attribute, f->n_attribute, S("beta"));
    Onnx__NodeProto *c1 = node(NULL, "ScaleAdd", "inner", "p,q", "u");
    c1->domain = S("local");
    attr(c1, "alpha", 1)->ref_attr_name = S("beta");
    PUSH(f->node, f->n_node, c1);
    Onnx__NodeProto *c2 = node(NULL, "ScaleAdd", "", "u,q", "r");
    c2->domain = S("local");
    PUSH(f->node, f->n_node, c2);
    PUSH(f->opset_import, f->n_opset_import, opset("local", 1));
    return f;
}

static Onnx__ModelProto *fn_model(int64_t fn_opset) {
    Onnx__GraphProto *g = graph("fn");
    PUSH(g->input, g->n_input, vi("x", ty_tensor(1, 1, (int64_t[]){2}, NULL)));
    PUSH(g->input, g->n_input, vi("z", ty_tensor(1, 1, (int64_t[]){2}, NULL)));
    Onnx__NodeProto *n1 = node(g, "ScaleAdd", "call1", "x,z", "y1");
    n1->domain = S("local");
    Onnx__AttributeProto *al = attr(n1, "alpha", 1);
    al->has_f = 1;
    al->f = 3.0f;
    Onnx__NodeProto *n2 = node(g, "ScaleAdd", "call1", "y1,z", "y2"); /* same call name: prefixes must still differ */
    n2->domain = S("local");
    Onnx__NodeProto *n3 = node(g, "Outer", "", "y2,x", "y3");
    n3->domain = S("local");
    Onnx__AttributeProto *be = attr(n3, "beta", 1);
    be->has_f = 1;
    be->f = 5.0f;
    PUSH(g->output, g->n_output, vi("y3", ty_tensor(1, 1, (int64_t[]){2}, NULL)));
    Onnx__ModelProto *m = model(g, 18);
    PUSH(m->opset_import, m->n_opset_import, opset("local", 1));
    PUSH(m->functions, m->n_functions, fn_scale_add(fn_opset));
    PUSH(m->functions, m->n_functions, fn_outer());
    return m;
}

static void test_functions(void) {
    ot_model *m;
    Onnx__ModelProto *mp;
    ot_status s = load_msg(fn_model(18), NULL, &m);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s) return;
    const ot_graph *g = m->graph;
    CHECK(g->n_nodes == 12); /* 4 ScaleAdd calls x 3 nodes */
    float alphas[4];
    int na = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        CHECK(strcmp(g->nodes[i].domain, "local") != 0);
        const ot_attr *a = ot_node_attr(&g->nodes[i], "value_float");
        if (!strcmp(g->nodes[i].op_type, "Constant")) {
            CHECK(a && a->type == OT_ATTR_FLOAT);
            if (a && na < 4) alphas[na++] = a->f;
        }
        for (int j = 0; j < i; j++) CHECK(strcmp(g->nodes[i].name, g->nodes[j].name) != 0);
    }
    CHECK(na == 4 && alphas[0] == 3 && alphas[1] == 2 && alphas[2] == 5 && alphas[3] == 2);
    CHECK(val(g, "y1") && val(g, "y1")->producer >= 0 && !strcmp(g->nodes[val(g, "y1")->producer].op_type, "Mul"));
    CHECK(val(g, "call1/t") && val(g, "call1_1/t")); /* internal names get the call prefix */
    CHECK(ot_graph_opset(g, "") == 18);
    ot_model_free(m);
    /* a tensor attribute bound at the call site and read by two body nodes, in two calls */
    Onnx__FunctionProto *f = NEWP(Onnx__FunctionProto, onnx__function_proto__descriptor);
    f->name = S("TwoConst");
    PUSH(f->output, f->n_output, S("o"));
    PUSH(f->attribute, f->n_attribute, S("v"));
    for (int k = 0; k < 2; k++) {
        Onnx__NodeProto *c = node(NULL, "Constant", "", "", k ? "c1" : "c0");
        Onnx__AttributeProto *r = attr(c, "value", 4);
        r->ref_attr_name = S("v");
        PUSH(f->node, f->n_node, c);
    }
    PUSH(f->node, f->n_node, node(NULL, "Add", "", "c0,c1", "o"));
    Onnx__GraphProto *g2 = graph("tc");
    int64_t d2[] = {2};
    for (int k = 0; k < 2; k++) {
        Onnx__NodeProto *call = node(g2, "TwoConst", "", "", k ? "z1" : "z0");
        attr(call, "v", 4)->t = t_raw("", 1, 1, d2, (float[]){1.5f, -2}, 8);
    }
    PUSH(g2->output, g2->n_output, vi("z1", ty_tensor(1, 1, d2, NULL)));
    mp = model(g2, 18);
    PUSH(mp->functions, mp->n_functions, f);
    s = load_msg(mp, NULL, &m);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(m->graph->n_nodes == 6);
        for (int i = 0; i < m->graph->n_nodes; i++) {
            const ot_attr *a = ot_node_attr(&m->graph->nodes[i], "value");
            if (!strcmp(m->graph->nodes[i].op_type, "Constant"))
                CHECK(a && a->t && ((float *)a->t->data)[1] == -2);
        }
        ot_model_free(m);
    }
    /* a function importing another version of the default domain */
    CHECK(load_msg(fn_model(13), NULL, &m) == OT_ERR_UNSUPPORTED && msg_has("ScaleAdd") && msg_has("version"));
    /* recursion */
    mp = fn_model(18);
    Onnx__NodeProto *self = node(NULL, "ScaleAdd", "self", "a,b", "c2");
    self->domain = S("local");
    PUSH(mp->functions[0]->node, mp->functions[0]->n_node, self);
    CHECK(load_msg(mp, NULL, &m) == OT_ERR_PARSE && msg_has("recursively"));
}

/* ---- save / load round trips ------------------------------------------------------------------ */

static int tensors_identical(const ot_tensor *a, const ot_tensor *b) {
    return a && b && a->dtype == b->dtype && ot_shape_equal(a->rank, a->dims, b->rank, b->dims) &&
           !memcmp(a->data, b->data, ot_tensor_nbytes(a));
}

static void compare_models(const ot_model *a, const ot_model *b) {
    const ot_graph *ga = a->graph, *gb = b->graph;
    CHECK(ga->n_nodes == gb->n_nodes && ga->n_inputs == gb->n_inputs && ga->n_outputs == gb->n_outputs);
    CHECK(ga->n_inits == gb->n_inits && ga->n_opsets == gb->n_opsets);
    for (int i = 0; i < ga->n_inits && i < gb->n_inits; i++) {
        const ot_value *va = &ga->values[ga->inits[i]], *vb = &gb->values[gb->inits[i]];
        CHECK(!strcmp(va->name, vb->name));
        CHECK_MSG(tensors_identical(va->init, vb->init), "initializer %s", va->name);
        CHECK(va->is_input == vb->is_input);
    }
    for (int i = 0; i < ga->n_inputs && i < gb->n_inputs; i++) {
        const ot_value *va = &ga->values[ga->inputs[i]], *vb = &gb->values[gb->inputs[i]];
        CHECK(!strcmp(va->name, vb->name) && va->dtype == vb->dtype && va->rank == vb->rank);
        for (int d = 0; d < va->rank && d < vb->rank; d++) {
            CHECK(va->dims[d] == vb->dims[d]);
            CHECK(!va->dim_params[d] == !vb->dim_params[d]);
        }
    }
    for (int i = 0; i < ga->n_nodes && i < gb->n_nodes; i++) {
        CHECK(!strcmp(ga->nodes[i].op_type, gb->nodes[i].op_type) && !strcmp(ga->nodes[i].name, gb->nodes[i].name));
        CHECK(ga->nodes[i].n_attrs == gb->nodes[i].n_attrs && ga->nodes[i].n_inputs == gb->nodes[i].n_inputs);
    }
    CHECK(a->n_meta == b->n_meta && a->model_version == b->model_version && a->ir_version == b->ir_version);
    CHECK(!strcmp(a->producer_name, b->producer_name));
}

static void test_roundtrip(void) {
    ot_model *a, *b;
    ot_status s = load_msg(sample_model(), NULL, &a);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s) return;
    s = ot_model_save(a, tpath("rt.onnx"), NULL);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    CHECK(access(tpath("rt.onnx.data"), F_OK) != 0);
    s = ot_model_load(tpath("rt.onnx"), &b);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        compare_models(a, b);
        const ot_value *h = val(b->graph, "h");
        CHECK(h && h->rank == 2 && h->dim_params[0] && !strcmp(h->dim_params[0], "N")); /* value_info kept */
        ot_model_free(b);
    }
    /* no temporary file is left behind */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int tmp_left = 0;
    while ((e = readdir(d))) tmp_left += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    CHECK(tmp_left == 0);
    ot_model_free(a);
}

static void test_external_data(void) {
    ot_model *a, *b;
    CHECK(load_msg(sample_model(), NULL, &a) == OT_OK);
    ot_save_options opt = {.external_threshold_bytes = 16}; /* W (24 bytes) goes out, B (8) stays */
    ot_status s = ot_model_save(a, tpath("ext.onnx"), &opt);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    struct stat st;
    CHECK(stat(tpath("ext.onnx.data"), &st) == 0 && st.st_size == 24); /* one tensor at offset 0 */
    s = ot_model_load(tpath("ext.onnx"), &b);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        compare_models(a, b);
        CHECK(val(b->graph, "W")->init->owns == false); /* mapped, not copied */
        CHECK(b->n_maps == 1);
        /* saving over the mapped file keeps the loaded model valid (rename, not overwrite) */
        opt.external_threshold_bytes = 4;
        CHECK(ot_model_save(b, tpath("ext.onnx"), &opt) == OT_OK);
        CHECK(stat(tpath("ext.onnx.data"), &st) == 0 && st.st_size == 4096 + 8);
        CHECK(tensors_identical(val(a->graph, "W")->init, val(b->graph, "W")->init));
        ot_model *c;
        CHECK(ot_model_load(tpath("ext.onnx"), &c) == OT_OK);
        if (c) {
            compare_models(a, c);
            ot_model_free(c);
        }
        ot_model_free(b);
    }
    ot_model_free(a);
}

static Onnx__TensorProto *ext_tensor(const char *location, const char *offset, const char *length) {
    int64_t d3[] = {3};
    Onnx__TensorProto *t = t_new("E", 1, 1, d3);
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *kv[3][2] = {{"location", location}, {"offset", offset}, {"length", length}};
    for (int i = 0; i < 3; i++) {
        if (!kv[i][1]) continue;
        Onnx__StringStringEntryProto *e = NEWP(Onnx__StringStringEntryProto, onnx__string_string_entry_proto__descriptor);
        e->key = S(kv[i][0]);
        e->value = S(kv[i][1]);
        PUSH(t->external_data, t->n_external_data, e);
    }
    return t;
}

static void test_external_paths(void) {
    float f[4] = {0, 1, 2, 3};
    char sub[512], outside[512], link[512];
    snprintf(sub, sizeof sub, "%s/model", tmpdir);
    mkdir(sub, 0755);
    write_file(tpath("model/w.bin"), f, sizeof f);
    write_file(tpath("secret.bin"), f, sizeof f);
    snprintf(outside, sizeof outside, "%s/secret.bin", tmpdir);
    snprintf(link, sizeof link, "%s/model/link.bin", tmpdir);
    unlink(link);
    CHECK(symlink(outside, link) == 0);
    ot_model *m;
    ot_status s = load_tensor_model(ext_tensor("w.bin", "4", "12"), sub, &m);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        const float *d = val(m->graph, "E")->init->data;
        CHECK(d[0] == 1 && d[2] == 3);
        ot_model_free(m);
    }
    CHECK(load_tensor_model(ext_tensor("w.bin", "2", NULL), sub, &m) == OT_OK); /* unaligned: read, not mapped */
    if (m) {
        CHECK(val(m->graph, "E")->init->owns);
        ot_model_free(m);
    }
    CHECK(load_tensor_model(ext_tensor(outside, NULL, NULL), sub, &m) == OT_ERR_PARSE && msg_has("absolute"));
    CHECK(load_tensor_model(ext_tensor("../secret.bin", NULL, NULL), sub, &m) == OT_ERR_PARSE && msg_has("escapes"));
    CHECK(load_tensor_model(ext_tensor("x/../../secret.bin", NULL, NULL), sub, &m) == OT_ERR_PARSE);
    CHECK(load_tensor_model(ext_tensor("link.bin", NULL, NULL), sub, &m) == OT_ERR_PARSE && msg_has("outside"));
    CHECK(load_tensor_model(ext_tensor("missing.bin", NULL, NULL), sub, &m) == OT_ERR_IO && msg_has("missing.bin"));
    CHECK(load_tensor_model(ext_tensor("w.bin", "8", NULL), sub, &m) == OT_ERR_PARSE && msg_has("which has 16 bytes"));
    CHECK(load_tensor_model(ext_tensor("w.bin", "0", "16"), sub, &m) == OT_ERR_PARSE && msg_has("expected 12"));
    CHECK(load_tensor_model(ext_tensor("w.bin", "-4", NULL), sub, &m) == OT_ERR_PARSE);
    CHECK(load_tensor_model(ext_tensor("", NULL, NULL), sub, &m) == OT_ERR_PARSE);
}

/* ---- hostile bytes ----------------------------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void test_garbage(void) {
    size_t n;
    uint8_t *good = pack(&attr_model()->base, &n);
    ot_model *m;
    int ok_prefixes = 0;
    for (size_t len = 0; len < n; len++) { /* every truncation: an error or a valid smaller model, never a crash */
        ot_status s = ot_model_load_buffer(good, len, NULL, &m);
        if (s == OT_OK) {
            ok_prefixes++;
            ot_model_free(m);
        } else {
            CHECK_MSG(s == OT_ERR_PARSE || s == OT_ERR_UNSUPPORTED, "len %zu: %s", len, ot_last_error());
        }
    }
    CHECK(ok_prefixes < (int)n);
    CHECK(ot_model_load_buffer(good, 0, NULL, &m) == OT_ERR_PARSE && msg_has("no graph"));
    uint8_t *buf = A(n);
    for (int trial = 0; trial < 300; trial++) {
        memcpy(buf, good, n);
        for (int k = 0; k < 1 + (int)(rnd() % 4); k++) buf[rnd() % n] = (uint8_t)rnd();
        if (ot_model_load_buffer(buf, n, NULL, &m) == OT_OK) ot_model_free(m);
    }
    for (int trial = 0; trial < 200; trial++) {
        size_t len = rnd() % 512;
        for (size_t i = 0; i < len; i++) buf[i % n] = (uint8_t)rnd();
        if (len > n) len = n;
        if (ot_model_load_buffer(buf, len, NULL, &m) == OT_OK) ot_model_free(m);
    }
    CHECK(ot_model_load_buffer("\x0a\xff\xff\xff\xff\x0f", 6, NULL, &m) == OT_ERR_PARSE && msg_has("not a valid ONNX model"));
    write_file(tpath("junk.onnx"), "hello, world", 12);
    CHECK(ot_model_load(tpath("junk.onnx"), &m) == OT_ERR_PARSE && msg_has("junk.onnx"));
    CHECK(ot_model_load(tpath("does_not_exist.onnx"), &m) == OT_ERR_IO && msg_has("does_not_exist"));
    CHECK(ot_model_load(tmpdir, &m) == OT_ERR_IO);
}

static void test_deep_nesting(void) {
    /* If inside If inside If ...: 3 wire levels per graph level */
    for (int levels = 10; levels <= 40; levels += 30) {
        Onnx__GraphProto *top = graph("top"), *g = top;
        PUSH(top->input, top->n_input, vi("c", ty_tensor(9, 0, NULL, NULL)));
        for (int l = 0; l < levels; l++) {
            Onnx__NodeProto *n = node(g, "If", "", "c", "o");
            Onnx__GraphProto *b = graph("b");
            PUSH(g->output, g->n_output, vi("o", ty_tensor(9, 0, NULL, NULL)));
            Onnx__GraphProto *leaf = graph("leaf"); /* not b: sharing it would double the file per level */
            node(leaf, "Identity", "", "c", "o");
            PUSH(leaf->output, leaf->n_output, vi("o", ty_tensor(9, 0, NULL, NULL)));
            attr(n, "then_branch", 5)->g = b;
            attr(n, "else_branch", 5)->g = leaf;
            g = b;
        }
        node(g, "Identity", "", "c", "o");
        PUSH(g->output, g->n_output, vi("o", ty_tensor(9, 0, NULL, NULL)));
        ot_model *m;
        ot_status s = load_msg(model(top, 17), NULL, &m);
        if (levels == 10) {
            CHECK_MSG(s == OT_OK, "%s", ot_last_error());
            if (!s) ot_model_free(m);
        } else {
            CHECK(s == OT_ERR_PARSE && msg_has("deeper than 64"));
        }
    }
    /* A hand-made ModelProto whose graph input has 100000 nested sequence types:
       rejected without recursing through it. */
    size_t cap = 100000 * 8 + 64, pos = cap;
    uint8_t *buf = A(cap);
    for (int i = 0; i < 100000 + 3; i++) {
        /* from the inside out: TypeProto.sequence_type(4) / Sequence.elem_type(1) alternate,
           then ValueInfo.type(2), GraphProto.input(11), ModelProto.graph(7) */
        uint8_t tag = i < 100000 ? ((i % 2) ? 0x22 : 0x0a) : i == 100000 ? 0x12 : i == 100001 ? 0x5a : 0x3a;
        size_t len = cap - pos;
        uint8_t hdr[11];
        size_t h = 0;
        hdr[h++] = tag;
        do {
            hdr[h++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
            len >>= 7;
        } while (len);
        pos -= h;
        memcpy(buf + pos, hdr, h);
    }
    ot_model *m;
    CHECK(ot_model_load_buffer(buf + pos, cap - pos, NULL, &m) == OT_ERR_PARSE && msg_has("deeper than 64"));
}

/* ---- tensor files ----------------------------------------------------------------------------------- */

static void test_tensor_files(void) {
    int64_t dims[] = {2, 3};
    ot_tensor *t, *u;
    CHECK(ot_tensor_new(OT_DOUBLE, 2, dims, &t) == OT_OK);
    for (int i = 0; i < 6; i++) ((double *)t->data)[i] = i * 0.1 - 0.2;
    CHECK(ot_tensor_save_pb(t, "named", tpath("t.pb")) == OT_OK);
    ot_status s = ot_tensor_load(tpath("t.pb"), &u);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(tensors_identical(t, u) && !strcmp(ot_tensor_name(u), "named"));
        ot_tensor_free(u);
    }
    CHECK(ot_tensor_save_npy(t, tpath("t.npy")) == OT_OK);
    s = ot_tensor_load(tpath("t.npy"), &u);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(tensors_identical(t, u));
        ot_tensor_free(u);
    }
    /* truncations of a .pb: errors, never crashes */
    FILE *f = fopen(tpath("t.pb"), "rb");
    uint8_t buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t len = 0; len < n; len++) {
        write_file(tpath("cut.pb"), buf, len);
        if (ot_tensor_load(tpath("cut.pb"), &u) == OT_OK) ot_tensor_free(u);
    }
    write_file(tpath("cut.pb"), buf, n - 3);
    CHECK(ot_tensor_load(tpath("cut.pb"), &u) == OT_ERR_PARSE && msg_has("cut.pb"));
    ot_tensor_free(t);
}

/* ---- optional: the onnx package and onnxruntime on a saved model ------------------------------------- */

static void test_python_interop(void) {
    const char *py = getenv("OT_TEST_PYTHON");
    if (!py) return;
    ot_model *m;
    CHECK(load_msg(sample_model(), NULL, &m) == OT_OK);
    ot_save_options opt = {.external_threshold_bytes = 16};
    CHECK(ot_model_save(m, tpath("py.onnx"), &opt) == OT_OK);
    ot_model_free(m);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s -c \"import onnx, onnxruntime as rt, numpy as np; p='%s'; onnx.checker.check_model(onnx.load(p), full_check=True); "
             "s=rt.InferenceSession(p); y=s.run(None, {'x': np.ones((2,3),np.float32), 'cond': np.array(True)})[0]; "
             "assert y.shape==(2,2), y.shape\"",
             py, tpath("py.onnx"));
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
}

static void test_node_models(void) {
    const char *dir = getenv("OT_TEST_ONNX_NODE_DIR");
    if (!dir) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    int loaded = 0, failed = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s/model.onnx", dir, e->d_name);
        ot_model *a, *b;
        if (ot_model_load(p, &a)) continue; /* unsupported types etc. */
        loaded++;
        ot_status s = ot_model_save(a, tpath("node.onnx"), NULL);
        if (!s) s = ot_model_load(tpath("node.onnx"), &b);
        if (s) {
            failed++;
            fprintf(stderr, "%s: %s\n", e->d_name, ot_last_error());
        } else {
            compare_models(a, b);
            ot_model_free(b);
        }
        ot_model_free(a);
    }
    closedir(d);
    printf("node models: %d loaded and round-tripped, %d failed\n", loaded, failed);
    CHECK(failed == 0);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ot_onnxio_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_basic_load();
    test_typed_fields();
    test_bad_tensors();
    test_attributes();
    test_sparse_initializers();
    test_graph_errors();
    test_functions();
    test_roundtrip();
    test_external_data();
    test_external_paths();
    test_garbage();
    test_deep_nesting();
    test_tensor_files();
    test_python_interop();
    test_node_models();
    arena_reset();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done();
}
