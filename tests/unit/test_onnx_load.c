/* ONNX import: models are built in C through the protobuf-c structs (see
 * onnx_builder.h), packed and loaded.  Covers every tensor storage form,
 * every attribute type, subgraphs, sparse tensors, model-local functions,
 * structure errors, and bad input: truncated files, random bytes, bad dims,
 * deep nesting.  Saving is tested in test_onnx_save.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "onnx_builder.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"

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
    CHECK(load_tensor_model(t_raw("f8", 17, 1, d3, f, 3), NULL, &m) == OT_OK); /* float8: src/core/lowprec.h */
    ot_model_free(m);
    m = NULL;
    CHECK(load_tensor_model(t_raw("t40", 40, 1, d3, f, 3), NULL, &m) == OT_ERR_UNSUPPORTED && msg_has("40"));
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
    CHECK(ot_model_save(m, tmp_path("attrs.onnx"), NULL) == OT_OK);
    ot_model_free(m);
    s = ot_model_load(tmp_path("attrs.onnx"), &m);
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
    write_file(tmp_path("junk.onnx"), "hello, world", 12);
    CHECK(ot_model_load(tmp_path("junk.onnx"), &m) == OT_ERR_PARSE && msg_has("junk.onnx"));
    CHECK(ot_model_load(tmp_path("does_not_exist.onnx"), &m) == OT_ERR_IO && msg_has("does_not_exist"));
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

int main(void) {
    if (!onnx_test_begin()) return 1;
    test_basic_load();
    test_typed_fields();
    test_bad_tensors();
    test_attributes();
    test_sparse_initializers();
    test_graph_errors();
    test_functions();
    test_garbage();
    test_deep_nesting();
    onnx_test_end();
    return check_done();
}
