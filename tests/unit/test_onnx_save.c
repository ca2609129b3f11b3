/* ONNX export: models built in C (see onnx_builder.h) are loaded, saved and
 * reloaded; external data (and paths that try to escape the model folder)
 * and the tensor file API.
 *
 * Set OT_TEST_PYTHON=/path/to/python (with onnx and onnxruntime) to also run
 * onnx.checker and onnxruntime on a saved model, and OT_TEST_ONNX_NODE_DIR to
 * round-trip every backend node-test model found there. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "onnx_builder.h"

/* ---- save / load round trips ------------------------------------------------------------------ */

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
    s = ot_model_save(a, tmp_path("rt.onnx"), NULL);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    CHECK(access(tmp_path("rt.onnx.data"), F_OK) != 0);
    s = ot_model_load(tmp_path("rt.onnx"), &b);
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
    ot_status s = ot_model_save(a, tmp_path("ext.onnx"), &opt);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    struct stat st;
    CHECK(stat(tmp_path("ext.onnx.data"), &st) == 0 && st.st_size == 24); /* one tensor at offset 0 */
    s = ot_model_load(tmp_path("ext.onnx"), &b);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        compare_models(a, b);
        CHECK(val(b->graph, "W")->init->owns == false); /* mapped, not copied */
        CHECK(b->n_maps == 1);
        /* saving over the mapped file keeps the loaded model valid (rename, not overwrite) */
        opt.external_threshold_bytes = 4;
        CHECK(ot_model_save(b, tmp_path("ext.onnx"), &opt) == OT_OK);
        CHECK(stat(tmp_path("ext.onnx.data"), &st) == 0 && st.st_size == 4096 + 8);
        CHECK(tensors_identical(val(a->graph, "W")->init, val(b->graph, "W")->init));
        ot_model *c;
        CHECK(ot_model_load(tmp_path("ext.onnx"), &c) == OT_OK);
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
    write_file(tmp_path("model/w.bin"), f, sizeof f);
    write_file(tmp_path("secret.bin"), f, sizeof f);
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

/* ---- tensor files ----------------------------------------------------------------------------------- */

static void test_tensor_files(void) {
    int64_t dims[] = {2, 3};
    ot_tensor *t, *u;
    CHECK(ot_tensor_new(OT_DOUBLE, 2, dims, &t) == OT_OK);
    for (int i = 0; i < 6; i++) ((double *)t->data)[i] = i * 0.1 - 0.2;
    CHECK(ot_tensor_save_pb(t, "named", tmp_path("t.pb")) == OT_OK);
    ot_status s = ot_tensor_load(tmp_path("t.pb"), &u);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(tensors_identical(t, u) && !strcmp(ot_tensor_name(u), "named"));
        ot_tensor_free(u);
    }
    CHECK(ot_tensor_save_npy(t, tmp_path("t.npy")) == OT_OK);
    s = ot_tensor_load(tmp_path("t.npy"), &u);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(tensors_identical(t, u));
        ot_tensor_free(u);
    }
    /* truncations of a .pb: errors, never crashes */
    FILE *f = fopen(tmp_path("t.pb"), "rb");
    uint8_t buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t len = 0; len < n; len++) {
        write_file(tmp_path("cut.pb"), buf, len);
        if (ot_tensor_load(tmp_path("cut.pb"), &u) == OT_OK) ot_tensor_free(u);
    }
    write_file(tmp_path("cut.pb"), buf, n - 3);
    CHECK(ot_tensor_load(tmp_path("cut.pb"), &u) == OT_ERR_PARSE && msg_has("cut.pb"));
    ot_tensor_free(t);
}

/* ---- optional: the onnx package and onnxruntime on a saved model ------------------------------------- */

static void test_python_interop(void) {
    const char *py = getenv("OT_TEST_PYTHON");
    if (!py) return;
    ot_model *m;
    CHECK(load_msg(sample_model(), NULL, &m) == OT_OK);
    ot_save_options opt = {.external_threshold_bytes = 16};
    CHECK(ot_model_save(m, tmp_path("py.onnx"), &opt) == OT_OK);
    ot_model_free(m);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s -c \"import onnx, onnxruntime as rt, numpy as np; p='%s'; onnx.checker.check_model(onnx.load(p), full_check=True); "
             "s=rt.InferenceSession(p); y=s.run(None, {'x': np.ones((2,3),np.float32), 'cond': np.array(True)})[0]; "
             "assert y.shape==(2,2), y.shape\"",
             py, tmp_path("py.onnx"));
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
        ot_status s = ot_model_save(a, tmp_path("node.onnx"), NULL);
        if (!s) s = ot_model_load(tmp_path("node.onnx"), &b);
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
    if (!onnx_test_begin()) return 1;
    test_roundtrip();
    test_external_data();
    test_external_paths();
    test_tensor_files();
    test_python_interop();
    test_node_models();
    onnx_test_end();
    return check_done();
}
