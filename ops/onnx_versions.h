/* The schema history of the default ONNX domain (generated table). */
#ifndef OT_OPS_ONNX_VERSIONS_H
#define OT_OPS_ONNX_VERSIONS_H

#define OT_ONNX_MAX_VERSIONS 16

typedef struct ot_onnx_op_versions {
    const char *name;
    int n;
    int since[OT_ONNX_MAX_VERSIONS]; /* ascending */
} ot_onnx_op_versions;

extern const ot_onnx_op_versions ot_onnx_versions[];
extern const int ot_onnx_versions_count;

#endif
