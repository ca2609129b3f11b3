/* The public tensor file API: ot_tensor_load reads a .npy file or a
 * serialized ONNX TensorProto (as the ONNX backend tests store their inputs
 * and outputs), chosen by content; ot_tensor_save_pb writes a TensorProto
 * atomically. */
#include <string.h>

#include "../core/alloc.h"
#include "../data/npy.h"
#include "pb.h"

ot_status ot_tensor_load(const char *path, ot_tensor **out) {
    if (!path || !out) return ot_error(OT_ERR_INVALID_ARG, "ot_tensor_load: NULL argument");
    *out = NULL;
    ot_file_view v;
    OT_TRY(ot_file_view_open(path, &v));
    if (v.size >= 6 && !memcmp(v.data, "\x93NUMPY", 6)) {
        ot_file_view_close(&v);
        return ot_npy_read(path, out);
    }
    ot_status s = ot_pb_check_wire(v.data, v.size, OT_PB_ROOT_TENSOR, path);
    Onnx__TensorProto *tp = NULL;
    if (!s && !(tp = onnx__tensor_proto__unpack(&ot_pb_allocator, v.size, v.data)))
        s = ot_error(OT_ERR_PARSE, "%s: neither a .npy file nor a valid ONNX TensorProto (protobuf parse failed)", path);
    ot_file_view_close(&v);
    if (s) return s;
    char *dir = ot_path_dirname(path);
    if (!dir) s = ot_error(OT_ERR_NOMEM, "out of memory");
    else {
        /* No model owns mappings here: external data is read into the tensor. */
        ot_tensor_ctx ctx = {.what = path, .base_dir = dir, .model = NULL, .steal = 1};
        s = ot_tensor_from_proto(tp, &ctx, "tensor", out);
    }
    ot_free(dir);
    onnx__tensor_proto__free_unpacked(tp, &ot_pb_allocator);
    return s;
}

ot_status ot_tensor_save_pb(const ot_tensor *t, const char *name, const char *path) {
    if (!t || !path || !*path) return ot_error(OT_ERR_INVALID_ARG, "ot_tensor_save_pb: NULL argument");
    Onnx__TensorProto tp;
    void *scratch = NULL;
    OT_TRY(ot_tensor_to_proto(t, name ? name : (t->name ? t->name : ""), &tp, &scratch));
    size_t n = protobuf_c_message_get_packed_size(&tp.base);
    uint8_t *buf = ot_malloc(n);
    ot_status s = buf ? OT_OK : ot_error(OT_ERR_NOMEM, "%s: out of memory encoding %zu bytes", path, n);
    ot_atomic_file f;
    if (!s) {
        protobuf_c_message_pack(&tp.base, buf);
        s = ot_atomic_open(&f, path);
    }
    if (!s) {
        ot_atomic_write(&f, buf, n);
        s = ot_atomic_commit(&f);
    }
    ot_free(buf);
    ot_free(scratch);
    return s;
}
