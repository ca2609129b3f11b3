/* Checkpoints: save, continue, and a fresh trainer resumed from the
 * checkpoint continues bit for bit the same (losses and parameters); the
 * refusals (another model, another configuration, another trainable set, a
 * damaged or incomplete checkpoint) leave the trainer unchanged; leftovers
 * of interrupted saves are ignored and cleaned up; the model fingerprint.
 * Runs from tests/ (the ctest working folder). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scratch.h"
#include "onnx.pb-c.h"
#include "onnxtrain.h"
#include "src/onnx/model.h"
#include "src/train/checkpoint_format.h"
#include "src/train/fingerprint.h"
#include "src/train/trainer.h"

#define MLP "models/test_mlp_train_opset17/model.onnx"
#define MLP11 "models/test_mlp_train_opset11/model.onnx"
#define CNN_BN "models/test_cnn_bn_train_opset15/model.onnx"


static void path_in(char *buf, size_t cap, const char *a, const char *b) { snprintf(buf, cap, "%s/%s", a, b); }

static int count_files(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d) closedir(d);
    return n;
}

static void write_text(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(s, 1, n, f);
    fclose(f);
}

/* The archive checkpoint.json names, as a path. */
static void archive_path(const char *dir, char *buf, size_t cap) {
    char p[512];
    size_t n;
    path_in(p, sizeof p, dir, "checkpoint.json");
    char *s = read_file(p, &n);
    const char *at = s ? strstr(s, "\"tensors_file\": \"") : NULL;
    buf[0] = 0;
    if (at) {
        at += strlen("\"tensors_file\": \"");
        const char *end = strchr(at, '"');
        snprintf(buf, cap, "%s/%.*s", dir, (int)(end - at), at);
    }
    free(s);
}

/* A model built here with protobuf-c, for BatchNorm statistics without ops
   whose gradients may still be missing: x (N, 4) -> BatchNormalization
   (training, momentum 0.8) -> Gemm (3 outputs) -> logits (N, 3). */
static ot_status bn_model(ot_model **out) {
    static float scale[4] = {1, 0.5f, 2, 1.5f}, bias[4] = {0, 0.1f, -0.2f, 0.3f}, mean[4] = {0.1f, 0, -0.1f, 0.2f};
    static float var[4] = {1, 2, 0.5f, 1}, w[12], c[3] = {0.01f, -0.02f, 0.03f};
    for (int i = 0; i < 12; i++) w[i] = (float)((i * 5) % 7 - 3) / 4.0f;
    const char *init_names[6] = {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "fc.weight", "fc.bias"};
    float *init_data[6] = {scale, bias, mean, var, w, c};
    int64_t init_dims[6][2] = {{4}, {4}, {4}, {4}, {3, 4}, {3}};
    Onnx__TensorProto inits[6], *init_ptr[6];
    for (int i = 0; i < 6; i++) {
        Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
        t.name = (char *)init_names[i];
        t.n_dims = i == 4 ? 2 : 1;
        t.dims = init_dims[i];
        t.has_data_type = 1;
        t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        t.n_float_data = (size_t)(i == 4 ? 12 : i == 5 ? 3 : 4);
        t.float_data = init_data[i];
        inits[i] = t;
        init_ptr[i] = &inits[i];
    }
    Onnx__AttributeProto a_mode = ONNX__ATTRIBUTE_PROTO__INIT, a_mom = ONNX__ATTRIBUTE_PROTO__INIT, a_tb = ONNX__ATTRIBUTE_PROTO__INIT;
    a_mode.name = "training_mode", a_mode.has_type = 1, a_mode.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a_mode.has_i = 1, a_mode.i = 1;
    a_mom.name = "momentum", a_mom.has_type = 1, a_mom.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, a_mom.has_f = 1, a_mom.f = 0.8f;
    a_tb.name = "transB", a_tb.has_type = 1, a_tb.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a_tb.has_i = 1, a_tb.i = 1;
    Onnx__AttributeProto *bn_attrs[2] = {&a_mode, &a_mom}, *fc_attrs[1] = {&a_tb};
    char *bn_in[5] = {"input", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, *bn_out[1] = {"y"};
    char *fc_in[3] = {"y", "fc.weight", "fc.bias"}, *fc_out[1] = {"output"};
    Onnx__NodeProto bn = ONNX__NODE_PROTO__INIT, fc = ONNX__NODE_PROTO__INIT, *nodes[2] = {&bn, &fc};
    bn.op_type = "BatchNormalization", bn.n_input = 5, bn.input = bn_in, bn.n_output = 1, bn.output = bn_out;
    bn.n_attribute = 2, bn.attribute = bn_attrs;
    fc.op_type = "Gemm", fc.n_input = 3, fc.input = fc_in, fc.n_output = 1, fc.output = fc_out;
    fc.n_attribute = 1, fc.attribute = fc_attrs;
    Onnx__TensorShapeProto__Dimension dn = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, d4 = dn, d3 = dn;
    dn.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, dn.dim_param = "N";
    d4.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, d4.dim_value = 4;
    d3.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, d3.dim_value = 3;
    Onnx__TensorShapeProto__Dimension *dims_in[2] = {&dn, &d4}, *dims_out[2] = {&dn, &d3};
    Onnx__TensorShapeProto sh_in = ONNX__TENSOR_SHAPE_PROTO__INIT, sh_out = ONNX__TENSOR_SHAPE_PROTO__INIT;
    sh_in.n_dim = 2, sh_in.dim = dims_in, sh_out.n_dim = 2, sh_out.dim = dims_out;
    Onnx__TypeProto__Tensor tt_in = ONNX__TYPE_PROTO__TENSOR__INIT, tt_out = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt_in.has_elem_type = tt_out.has_elem_type = 1, tt_in.elem_type = tt_out.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt_in.shape = &sh_in, tt_out.shape = &sh_out;
    Onnx__TypeProto ty_in = ONNX__TYPE_PROTO__INIT, ty_out = ONNX__TYPE_PROTO__INIT;
    ty_in.value_case = ty_out.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    ty_in.tensor_type = &tt_in, ty_out.tensor_type = &tt_out;
    Onnx__ValueInfoProto vi_in = ONNX__VALUE_INFO_PROTO__INIT, vi_out = ONNX__VALUE_INFO_PROTO__INIT;
    vi_in.name = "input", vi_in.type = &ty_in, vi_out.name = "output", vi_out.type = &ty_out;
    Onnx__ValueInfoProto *ins[1] = {&vi_in}, *outs[1] = {&vi_out};
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "bn", g.n_node = 2, g.node = nodes, g.n_initializer = 6, g.initializer = init_ptr;
    g.n_input = 1, g.input = ins, g.n_output = 1, g.output = outs;
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT, *ops[1] = {&op};
    op.domain = "", op.has_version = 1, op.version = 15;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1, m.ir_version = 8, m.n_opset_import = 1, m.opset_import = ops, m.graph = &g;
    size_t n = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(n);
    onnx__model_proto__pack(&m, buf);
    ot_status s = ot_model_load_buffer(buf, n, NULL, out);
    free(buf);
    return s;
}

static ot_status load_model(const char *path, ot_model **m) {
    return strcmp(path, "bn") ? ot_model_load(path, m) : bn_model(m);
}

/* ---- a model, a trainer and deterministic batches ------------------------------------ */

typedef struct model_case {
    const char *path;
    int rank;
    int64_t dims[4]; /* one batch of inputs */
    int classes;
} model_case;

static const model_case mlp_case = {MLP, 2, {6, 784}, 10};
static const model_case cnn_case = {CNN_BN, 4, {4, 1, 16, 16}, 10};
static const model_case bn_case = {"bn", 2, {5, 4}, 3};

typedef struct batch {
    ot_tensor *in[2]; /* input, labels */
} batch;

static batch make_batch(const model_case *mc, int k) {
    batch b;
    ot_tensor_create(OT_FLOAT, mc->rank, mc->dims, &b.in[0]);
    ot_tensor_create(OT_INT64, 1, mc->dims, &b.in[1]);
    float *x = ot_tensor_data(b.in[0]);
    for (int64_t i = 0; i < ot_tensor_numel(b.in[0]); i++) x[i] = (float)(((i * 37 + k * 101) % 97) - 48) / 48.0f;
    int64_t *y = ot_tensor_data(b.in[1]);
    for (int64_t i = 0; i < mc->dims[0]; i++) y[i] = (i * 3 + k) % mc->classes;
    return b;
}

static void free_batch(batch *b) {
    ot_tensor_free(b->in[0]);
    ot_tensor_free(b->in[1]);
}

static const char *names[2] = {"input", "labels"};

static ot_status make_trainer(const char *path, ot_optimizer_kind kind, const char *freeze, ot_model **m, ot_trainer **t) {
    *t = NULL;
    ot_status s = load_model(path, m);
    if (s) return s;
    ot_train_options o;
    ot_train_options_init(&o);
    o.optimizer = kind;
    o.lr = kind == OT_OPTIM_ADAGRAD ? 0.05 : 0.01;
    if (kind == OT_OPTIM_NESTEROV) o.weight_decay = 1e-3;
    o.schedule = OT_LR_COSINE;
    o.warmup_steps = 2;
    o.total_steps = 12;
    o.clip_grad_norm = 1.0;
    o.threads = 2;
    o.freeze = freeze;
    s = ot_trainer_create(*m, &o, t);
    if (s) ot_model_free(*m);
    return s;
}

static void free_trainer(ot_model *m, ot_trainer *t) {
    ot_trainer_free(t);
    ot_model_free(m);
}

/* Every parameter and statistic equal, bit for bit. */
static int same_params(const ot_trainer *a, const ot_trainer *b) {
    if (a->n_params != b->n_params) return 0;
    for (int k = 0; k < a->n_params; k++)
        if (memcmp(a->params[k].data->data, b->params[k].data->data, ot_tensor_nbytes(a->params[k].data))) return 0;
    return 1;
}

static const char *CONFIG = "optimizer=adam\nlr=0.01\nepochs=5\ndata=input=x.npy\ndata=labels=y.npy\n";

/* Save after 3 steps plus half an accumulation group; A goes on, B resumes
   from the checkpoint: the same losses and parameters, bit for bit. */
static void resume_case(const model_case *mc, ot_optimizer_kind kind, const char *label) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s-%d", tmpdir, label, (int)kind);
    ot_model *ma, *mb;
    ot_trainer *a, *b;
    ot_status s = make_trainer(mc->path, kind, NULL, &ma, &a);
    if (s) {
        printf("  skip %s (%s): %s\n", label, ot_status_name(s), ot_last_error());
        return;
    }
    batch bt[8];
    for (int k = 0; k < 8; k++) bt[k] = make_batch(mc, k);
    double loss;
    for (int k = 0; k < 3 && !s; k++) s = ot_trainer_step(a, 2, names, bt[k].in, &loss);
    if (s) {
        printf("  skip %s: training fails here (%s: %s)\n", label, ot_status_name(s), ot_last_error());
        for (int k = 0; k < 8; k++) free_batch(&bt[k]);
        free_trainer(ma, a);
        return;
    }
    /* mid-group: one of two micro-batches accumulated */
    CHECK(!ot_trainer_accumulate(a, 2, names, bt[3].in, 0.5, &loss));
    ot_loop_state ls = {1, 24, 0xfedcba9876543210ull, 1};
    s = ot_trainer_save_checkpoint(a, dir, CONFIG, &ls);
    CHECK_MSG(!s, "%s", ot_last_error());
    double la[6], lb[6];
    CHECK(!ot_trainer_accumulate(a, 2, names, bt[4].in, 0.5, &la[0]));
    CHECK(!ot_trainer_update(a, NULL));
    for (int k = 1; k < 4; k++) CHECK(!ot_trainer_step(a, 2, names, bt[4 + k].in, &la[k]));

    CHECK(!make_trainer(mc->path, kind, NULL, &mb, &b));
    ot_loop_state got = {0};
    s = ot_trainer_load_checkpoint(b, dir, CONFIG, NULL, &got);
    CHECK_MSG(!s, "%s", ot_last_error());
    CHECK(got.epoch == 1 && got.cursor == 24 && got.data_seed == 0xfedcba9876543210ull && got.micro_batches == 1);
    CHECK(ot_trainer_steps_done(b) == 3);
    CHECK(b->pending);
    CHECK(!ot_trainer_accumulate(b, 2, names, bt[4].in, 0.5, &lb[0]));
    CHECK(!ot_trainer_update(b, NULL));
    for (int k = 1; k < 4; k++) CHECK(!ot_trainer_step(b, 2, names, bt[4 + k].in, &lb[k]));
    int same = 1;
    for (int k = 0; k < 4; k++) same &= memcmp(&la[k], &lb[k], sizeof la[k]) == 0;
    CHECK_MSG(same, "%s: losses differ after resume: %.17g vs %.17g", label, la[3], lb[3]);
    CHECK_MSG(same_params(a, b), "%s: parameters differ after resume", label);
    for (int k = 0; k < a->n_params; k++) {
        CHECK(a->params[k].steps == b->params[k].steps);
        for (int j = 0; j < OT_OPTIM_MAX_STATE; j++)
            CHECK((a->params[k].state[j] == NULL) == (b->params[k].state[j] == NULL));
    }
    printf("  %s: resumed bit-identically (%d tensors)\n", label, a->n_params);
    for (int k = 0; k < 8; k++) free_batch(&bt[k]);
    free_trainer(ma, a);
    free_trainer(mb, b);
}

/* ---- refusals, damage and leftovers --------------------------------------------------- */

/* A load that must fail with `code`, mention `needle`, and change nothing. */
static void expect_refusal(ot_trainer *t, const char *dir, const char *config, const char *ignore, ot_status code,
                           const char *needle) {
    ot_tensor *before;
    ot_trainer_get_param(t, t->params[0].name, &before);
    int64_t steps = ot_trainer_steps_done(t);
    ot_loop_state ls = {-7, -7, 7, -7};
    ot_status s = ot_trainer_load_checkpoint(t, dir, config, ignore, &ls);
    CHECK_MSG(s == code, "expected %s, got %s: %s", ot_status_name(code), ot_status_name(s), ot_last_error());
    CHECK_MSG(strstr(ot_last_error(), needle), "message '%s' lacks '%s'", ot_last_error(), needle);
    CHECK(ls.epoch == -7 && ls.cursor == -7);
    CHECK(ot_trainer_steps_done(t) == steps);
    CHECK(!memcmp(ot_tensor_data(before), t->params[0].data->data, ot_tensor_nbytes(before)));
    ot_tensor_free(before);
}

static void refusals(void) {
    char dir[512], p[1024], arch[1024];
    snprintf(dir, sizeof dir, "%s/refuse", tmpdir);
    ot_model *m, *m2;
    ot_trainer *t, *t2;
    if (make_trainer(MLP, OT_OPTIM_ADAM, NULL, &m, &t)) return;
    batch b0 = make_batch(&mlp_case, 0);
    double loss;
    if (ot_trainer_step(t, 2, names, b0.in, &loss)) {
        printf("  skip refusals: training fails here (%s)\n", ot_last_error());
        free_batch(&b0);
        free_trainer(m, t);
        return;
    }
    CHECK(!ot_trainer_save_checkpoint(t, dir, CONFIG, NULL));

    /* the configuration: first differing key named; ignored keys may differ */
    CHECK(!make_trainer(MLP, OT_OPTIM_ADAM, NULL, &m2, &t2));
    expect_refusal(t2, dir, "optimizer=sgd\nlr=0.01\nepochs=5\ndata=input=x.npy\ndata=labels=y.npy\n", NULL, OT_ERR_INVALID_ARG,
                   "--optimizer differs: checkpoint adam, now sgd");
    expect_refusal(t2, dir, "optimizer=adam\nlr=0.01\nepochs=9\ndata=input=x.npy\ndata=labels=y.npy\n", "steps,log", OT_ERR_INVALID_ARG,
                   "--epochs differs: checkpoint 5, now 9");
    expect_refusal(t2, dir, "optimizer=adam\nlr=0.01\nepochs=5\ndata=input=x2.npy\ndata=labels=y.npy\n", NULL, OT_ERR_INVALID_ARG,
                   "--data differs: checkpoint input=x.npy, labels=y.npy, now input=x2.npy, labels=y.npy");
    expect_refusal(t2, dir, "optimizer=adam\nlr=0.01\nepochs=5\ndata=input=x.npy\ndata=labels=y.npy\nwarmup=3\n", NULL,
                   OT_ERR_INVALID_ARG, "--warmup differs: checkpoint (not set), now 3");
    expect_refusal(t2, dir, "optimizer=adam\nlr=0.01\nepochs\n", NULL, OT_ERR_INVALID_ARG, "not key=value");
    ot_loop_state ls;
    CHECK_MSG(!ot_trainer_load_checkpoint(t2, dir, " optimizer = adam \nlr=0.01\n# comment\n\nepochs=7\ndata=input=x.npy\ndata=labels=y.npy",
                                          "--epochs, log", &ls), "%s", ot_last_error());
    CHECK(same_params(t, t2));
    CHECK(ot_trainer_steps_done(t2) == 1);
    CHECK_MSG(!ot_trainer_load_checkpoint(t2, dir, NULL, NULL, NULL), "%s", ot_last_error()); /* NULL config: not compared */
    free_trainer(m2, t2);

    /* another model: a different opset import; the same file changed in one weight */
    CHECK(!make_trainer(MLP11, OT_OPTIM_ADAM, NULL, &m2, &t2));
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_INVALID_ARG, "was made for a different model (id xxh64:");
    free_trainer(m2, t2);
    CHECK(!ot_model_load(MLP, &m2));
    ot_graph *g = m2->graph;
    ((float *)g->values[g->inits[0]].init->data)[5] += 1.0f;
    ot_train_options o;
    ot_train_options_init(&o);
    CHECK(!ot_trainer_create(m2, &o, &t2));
    CHECK(strcmp(t2->model_id, t->model_id) != 0);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_INVALID_ARG, "different model");
    free_trainer(m2, t2);

    /* another optimizer with the same configuration text; another trainable set */
    CHECK(!make_trainer(MLP, OT_OPTIM_MOMENTUM, NULL, &m2, &t2));
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_INVALID_ARG, "--optimizer adam, this trainer uses momentum");
    free_trainer(m2, t2);
    CHECK(!make_trainer(MLP, OT_OPTIM_ADAM, "fc2.bias", &m2, &t2));
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_INVALID_ARG, "'fc2.bias'");
    free_trainer(m2, t2);

    /* damage: each case on a fresh copy of the checkpoint */
    CHECK(!make_trainer(MLP, OT_OPTIM_ADAM, NULL, &m2, &t2));
    size_t n, an;
    path_in(p, sizeof p, dir, "checkpoint.json");
    char *json = read_file(p, &n);
    archive_path(dir, arch, sizeof arch);
    char *npz = read_file(arch, &an);
    CHECK(json && npz && an > 4096);
    /* a flipped bit in the last tensor's data */
    npz[1000] ^= 0x10;
    write_text(arch, npz, an);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_PARSE, "corrupt");
    npz[1000] ^= 0x10;
    /* a truncated archive */
    write_text(arch, npz, an / 2);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_PARSE, "tensors-1.npz");
    /* a missing archive */
    unlink(arch);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_IO, "is missing");
    write_text(arch, npz, an);
    /* a truncated description */
    write_text(p, json, n / 2);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_PARSE, "invalid JSON");
    /* a description whose shape does not fit the model */
    char *edited = strdup(json), *at = strstr(edited, "\"shape\": [64, 784]");
    CHECK(at != NULL);
    if (at) memcpy(at, "\"shape\": [64, 783]", strlen("\"shape\": [64, 783]"));
    write_text(p, edited, n);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_SHAPE, "float32 (64, 783) there and float32 (64, 784) in this model");
    free(edited);
    /* a checksum that does not fit the data */
    edited = strdup(json);
    at = strstr(edited, "\"crc32\": \"");
    if (at) at[10] = at[10] == '0' ? '1' : '0';
    write_text(p, edited, n);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_PARSE, "does not match its checksum");
    free(edited);
    /* a newer format */
    edited = strdup(json);
    at = strstr(edited, "\"version\": 1");
    if (at) at[11] = '2';
    write_text(p, edited, n);
    expect_refusal(t2, dir, CONFIG, NULL, OT_ERR_UNSUPPORTED, "newer onnxtrain");
    free(edited);
    write_text(p, json, n);
    CHECK_MSG(!ot_trainer_load_checkpoint(t2, dir, CONFIG, NULL, NULL), "%s", ot_last_error());
    CHECK(same_params(t, t2));
    expect_refusal(t2, tmpdir, CONFIG, NULL, OT_ERR_IO, "is not a checkpoint");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nothing-here", tmpdir);
    expect_refusal(t2, missing, CONFIG, NULL, OT_ERR_IO, "no such folder");
    free(json);
    free(npz);
    free_trainer(m2, t2);

    /* leftovers of an interrupted save are ignored, then removed by the next save */
    char junk1[1024], junk2[1024], mine[1024];
    path_in(junk1, sizeof junk1, dir, "tensors-7.npz.tmp.4242");
    path_in(junk2, sizeof junk2, dir, "checkpoint.json.tmp.4242");
    path_in(mine, sizeof mine, dir, "notes.txt");
    write_text(junk1, "half an archive", 15);
    write_text(junk2, "{\"format\"", 9);
    write_text(mine, "user file", 9);
    CHECK(!make_trainer(MLP, OT_OPTIM_ADAM, NULL, &m2, &t2));
    CHECK_MSG(!ot_trainer_load_checkpoint(t2, dir, CONFIG, NULL, NULL), "%s", ot_last_error());
    CHECK(same_params(t, t2));
    CHECK(!ot_trainer_step(t2, 2, names, b0.in, &loss));
    CHECK(!ot_trainer_save_checkpoint(t2, dir, CONFIG, NULL)); /* step 2 */
    CHECK(!ot_trainer_save_checkpoint(t2, dir, CONFIG, NULL)); /* step 2 again: a new name, then the old one goes */
    CHECK(access(junk1, F_OK) != 0 && access(junk2, F_OK) != 0);
    CHECK(access(mine, F_OK) == 0); /* not ours: kept */
    CHECK(count_files(dir, "tensors-") == 1);
    archive_path(dir, arch, sizeof arch);
    CHECK_MSG(strstr(arch, "tensors-2-2.npz") != NULL, "%s", arch);
    CHECK(count_files(dir, "checkpoint.json") == 1);
    free_trainer(m2, t2);

    /* ZIP64 records (forced with a zero threshold) read back the same */
    snprintf(p, sizeof p, "%s/zip64", tmpdir);
    CHECK_MSG(!ot_checkpoint_save(t, p, CONFIG, NULL, 0), "%s", ot_last_error());
    CHECK(!make_trainer(MLP, OT_OPTIM_ADAM, NULL, &m2, &t2));
    CHECK_MSG(!ot_trainer_load_checkpoint(t2, p, CONFIG, NULL, NULL), "%s", ot_last_error());
    CHECK(same_params(t, t2));
    free_trainer(m2, t2);

    free_batch(&b0);
    free_trainer(m, t);
}

/* ---- the fingerprint and the pieces of the format --------------------------------------- */

static void fingerprint(void) {
    /* XXH64 reference values (xxhash 0.8) */
    CHECK(ot_hash64_of("", 0, 0) == 0xef46db3751d8e999ull);
    ot_model *a, *b, *c;
    if (ot_model_load(MLP, &a) || ot_model_load(MLP, &b) || ot_model_load(MLP11, &c)) {
        CHECK_MSG(0, "%s", ot_last_error());
        return;
    }
    char ia[OT_MODEL_ID_SIZE], ib[OT_MODEL_ID_SIZE], ic[OT_MODEL_ID_SIZE];
    ot_model_fingerprint(a->graph, ia);
    ot_model_fingerprint(b->graph, ib);
    ot_model_fingerprint(c->graph, ic);
    CHECK(!strcmp(ia, ib));
    CHECK(strcmp(ia, ic) != 0);
    CHECK(strlen(ia) == 22 && !strncmp(ia, "xxh64:", 6));
    /* an attribute value changes the identity */
    ot_graph *g = b->graph;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_attrs; k++)
            if (!strcmp(g->nodes[i].attrs[k].name, "alpha")) g->nodes[i].attrs[k].f = 0.5f;
    ot_model_fingerprint(b->graph, ib);
    CHECK(strcmp(ia, ib) != 0);
    ot_model_free(a);
    ot_model_free(b);
    ot_model_free(c);
}

static void json_reader(void) {
    ot_json *j;
    const char *text = "{\"a\": [1, -2, 18446744073709551615, 1.5e3], \"s\": \"x\\u00e9\\n\\ud83d\\ude00\", \"t\": true, \"n\": null}";
    CHECK(!ot_json_parse(text, strlen(text), "t", &j));
    const ot_json *a = ot_json_get(j, "a");
    int64_t v;
    uint64_t u;
    CHECK(a && a->n == 4 && ot_json_int64(&a->items[1], &v) && v == -2);
    CHECK(ot_json_uint64(&a->items[2], &u) && u == UINT64_MAX && !ot_json_int64(&a->items[2], &v));
    CHECK(!ot_json_int64(&a->items[3], &v));
    CHECK(!strcmp(ot_json_string(ot_json_get(j, "s")), "x\xc3\xa9\n\xf0\x9f\x98\x80"));
    CHECK(ot_json_get(j, "t")->b && ot_json_get(j, "n")->kind == OT_JSON_NULL);
    ot_json_free(j);
    const char *bad[] = {"", "{", "{\"a\" 1}", "[1,]", "\"abc", "01", "[1] x", "\"\\ud800\"", "\"a\x01\"", "{\"a\":1,}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = NULL;
        CHECK_MSG(ot_json_parse(bad[i], strlen(bad[i]), "t", &j) == OT_ERR_PARSE, "accepted '%s'", bad[i]);
        ot_json_free(j);
    }
    char deep[200];
    memset(deep, '[', sizeof deep);
    CHECK(ot_json_parse(deep, sizeof deep, "t", &j) == OT_ERR_PARSE);
    ot_jbuf b = {0};
    ot_jbuf_str(&b, "q\"\\\x01\xc3\xa9");
    CHECK(!strcmp(b.s, "\"q\\\"\\\\\\u0001\xc3\xa9\""));
    ot_jbuf_free(&b);
}

int main(void) {
    if (!scratch_begin("ot-ckpt-test")) return 1;
    fingerprint();
    json_reader();
    resume_case(&mlp_case, OT_OPTIM_ADAM, "mlp-adam");
    resume_case(&mlp_case, OT_OPTIM_NESTEROV, "mlp-nesterov");
    resume_case(&mlp_case, OT_OPTIM_ADAGRAD, "mlp-adagrad");
    resume_case(&bn_case, OT_OPTIM_MOMENTUM, "bn-momentum");
    resume_case(&cnn_case, OT_OPTIM_ADAMW, "cnn-bn-adamw");
    refusals();
    scratch_end();
    return check_done();
}
