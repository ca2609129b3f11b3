/* A protobuf wire-format scanner that bounds message nesting before
 * protobuf-c unpacks anything.  protobuf-c recurses once per nested message
 * and has no limit, while ONNX nests attribute -> graph -> node -> attribute
 * without bound: a few kilobytes of crafted input could exhaust the stack.
 *
 * The scanner knows which fields of the ONNX messages are messages themselves
 * (bytes/strings/packed arrays are skipped); messages that cannot recurse
 * (opset ids, string pairs, shapes, ...) are counted as one level and not
 * entered.  Also the allocator every protobuf-c call here is given. */
#include "../core/alloc.h"
#include "pb.h"

static void *pb_alloc(void *data, size_t size) {
    (void)data;
    return ot_malloc(size);
}
static void pb_free(void *data, void *p) {
    (void)data;
    ot_free(p);
}
ProtobufCAllocator ot_pb_allocator = {pb_alloc, pb_free, NULL};

enum {
    W_NONE = 0, /* not a message: skipped */
    W_LEAF,     /* a message that cannot nest further: counted, not entered */
    W_MODEL,
    W_GRAPH,
    W_NODE,
    W_ATTR,
    W_TENSOR,
    W_SPARSE,
    W_VALUE_INFO,
    W_TYPE,
    W_TYPE_TENSOR, /* TypeProto.Tensor and TypeProto.SparseTensor */
    W_TYPE_ELEM,   /* TypeProto.Sequence and TypeProto.Optional: field 1 */
    W_TYPE_MAP,
    W_FUNCTION,
    W_TRAINING
};

/* The message type of field `f` inside a message of type `m` (field numbers from onnx.proto). */
static int wire_child(int m, uint32_t f) {
    switch (m) {
    case W_MODEL:
        switch (f) {
        case 7: return W_GRAPH;
        case 8: case 14: case 26: return W_LEAF;
        case 20: return W_TRAINING;
        case 25: return W_FUNCTION;
        }
        break;
    case W_GRAPH:
        switch (f) {
        case 1: return W_NODE;
        case 5: return W_TENSOR;
        case 15: return W_SPARSE;
        case 11: case 12: case 13: return W_VALUE_INFO;
        case 14: case 16: return W_LEAF;
        }
        break;
    case W_NODE:
        if (f == 5) return W_ATTR;
        if (f == 9 || f == 10) return W_LEAF;
        break;
    case W_ATTR:
        switch (f) {
        case 5: case 10: return W_TENSOR;
        case 6: case 11: return W_GRAPH;
        case 22: case 23: return W_SPARSE;
        case 14: case 15: return W_TYPE;
        }
        break;
    case W_TENSOR:
        if (f == 3 || f == 13 || f == 16) return W_LEAF;
        break;
    case W_SPARSE:
        if (f == 1 || f == 2) return W_TENSOR;
        break;
    case W_VALUE_INFO:
        if (f == 2) return W_TYPE;
        if (f == 4) return W_LEAF;
        break;
    case W_TYPE:
        switch (f) {
        case 1: case 8: return W_TYPE_TENSOR;
        case 4: case 9: return W_TYPE_ELEM;
        case 5: return W_TYPE_MAP;
        }
        break;
    case W_TYPE_TENSOR:
        if (f == 2) return W_LEAF;
        break;
    case W_TYPE_ELEM:
        if (f == 1) return W_TYPE;
        break;
    case W_TYPE_MAP:
        if (f == 2) return W_TYPE;
        break;
    case W_FUNCTION:
        switch (f) {
        case 7: return W_NODE;
        case 11: return W_ATTR;
        case 12: return W_VALUE_INFO;
        case 9: case 14: return W_LEAF;
        }
        break;
    case W_TRAINING:
        if (f == 1 || f == 2) return W_GRAPH;
        if (f == 3 || f == 4) return W_LEAF;
        break;
    }
    return W_NONE;
}

typedef struct wire_scan {
    const char *what;
    const char *kind; /* "ONNX model" or "ONNX tensor" */
    ot_status st;
} wire_scan;

static ot_status wire_bad(wire_scan *w, const char *why) {
    if (!w->st) w->st = ot_error(OT_ERR_PARSE, "%s: not a valid %s (protobuf parse failed: %s)", w->what, w->kind, why);
    return w->st;
}

/* Reads a varint of at most 10 bytes; returns the bytes consumed or 0 when truncated/overlong. */
static size_t wire_varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static ot_status wire_scan_msg(wire_scan *w, const uint8_t *p, const uint8_t *end, int type, int depth) {
    if (depth > OT_PB_MAX_DEPTH) {
        w->st = ot_error(OT_ERR_PARSE, "%s: not a valid %s: protobuf messages nest deeper than %d levels",
                         w->what, w->kind, OT_PB_MAX_DEPTH);
        return w->st;
    }
    while (p < end) {
        uint64_t key, v;
        size_t k = wire_varint(p, end, &key);
        if (!k) return wire_bad(w, "truncated field key");
        p += k;
        uint32_t field = (uint32_t)(key >> 3);
        if (field == 0 || (key >> 3) > 0x1fffffff) return wire_bad(w, "invalid field number");
        switch (key & 7) {
        case 0:
            if (!(k = wire_varint(p, end, &v))) return wire_bad(w, "truncated varint");
            p += k;
            break;
        case 1:
            if (end - p < 8) return wire_bad(w, "truncated 64-bit field");
            p += 8;
            break;
        case 5:
            if (end - p < 4) return wire_bad(w, "truncated 32-bit field");
            p += 4;
            break;
        case 2: {
            if (!(k = wire_varint(p, end, &v))) return wire_bad(w, "truncated length");
            p += k;
            if (v > (uint64_t)(end - p)) return wire_bad(w, "a field's length runs past the end of the data");
            int child = wire_child(type, field);
            if (child == W_LEAF && depth + 1 > OT_PB_MAX_DEPTH)
                return wire_scan_msg(w, p, p, child, depth + 1); /* reports the depth */
            if (child > W_LEAF) OT_TRY(wire_scan_msg(w, p, p + v, child, depth + 1));
            p += v;
            break;
        }
        default:
            return wire_bad(w, "unsupported wire type (groups are not used by ONNX)");
        }
    }
    return OT_OK;
}

ot_status ot_pb_check_wire(const uint8_t *data, size_t size, ot_pb_root root, const char *what) {
    wire_scan w = {what ? what : "<buffer>", root == OT_PB_ROOT_MODEL ? "ONNX model" : "ONNX tensor", OT_OK};
    if (size && !data) return ot_error(OT_ERR_INVALID_ARG, "%s: NULL data", w.what);
    return wire_scan_msg(&w, data, data + size, root == OT_PB_ROOT_MODEL ? W_MODEL : W_TENSOR, 1);
}
