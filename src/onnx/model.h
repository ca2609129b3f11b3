/* A loaded model: the ModelProto's metadata plus the IR graph.
 * Model-local functions are inlined at load, so the graph holds only ops. */
#ifndef OT_ONNX_MODEL_H
#define OT_ONNX_MODEL_H

#include "../ir/graph.h"

struct ot_model {
    int64_t ir_version;
    char *producer_name;
    char *producer_version;
    char *domain;
    int64_t model_version;
    char *doc;
    int n_meta;
    char **meta_keys; /* metadata_props */
    char **meta_values;
    ot_graph *graph;  /* owns the opset imports (graph->opsets) */
    char *base_dir;   /* folder of the model file: external data resolves here */
};

/* Parses a serialized ModelProto into *out.  base_dir may be NULL. */
ot_status ot_model_parse(const void *data, size_t size, const char *base_dir, const char *what,
                         ot_model **out);

#endif
