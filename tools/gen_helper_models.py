#!/usr/bin/env python3
"""Generates golden models that torch 1.13 cannot export, with onnx.helper.

Same layout as tools/gen_pytorch_models.py (tests/models/test_helper_*/model.onnx
+ test_data_set_K/{input,output}_I.pb).  Reference outputs are computed with
onnx.reference.ReferenceEvaluator (the functions model: a numpy transcription,
as the evaluator cannot run it) and cross-checked with onnxruntime when it is
installed; a disagreement beyond 1e-4 or a model onnxruntime cannot run is
printed (the generator still writes the reference evaluator's answer, which
follows the spec text).

Run with a python that has onnx (1.22.0) and numpy:

    .venv/bin/python tools/gen_helper_models.py [--out tests/models] [--only NAME...]

Deterministic: inputs and weights come from numpy generators seeded per model.
"""

import argparse
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F = TensorProto.FLOAT
PRODUCER = "onnxtrain tools/gen_helper_models.py"


def rng(seed):
    return np.random.default_rng(seed)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def vinfo(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def make_model(graph, opset, functions=(), ir_version=None, check=True):
    imports = [helper.make_opsetid("", opset)]
    for fn in functions:
        if all(i.domain != fn.domain for i in imports):
            imports.append(helper.make_opsetid(fn.domain, 1))
    model = helper.make_model(graph, opset_imports=imports, functions=list(functions), producer_name=PRODUCER)
    # The lowest IR version that can hold the opset (and IR 9 attribute
    # defaults in functions), so that older runtimes can read the file.
    model.ir_version = ir_version or helper.find_min_ir_version_for(list(imports), ignore_unknown=True)
    if check:
        onnx.checker.check_model(model, full_check=True)
    return model


# --------------------------------------------------------------------------
# (a) model-local functions
# --------------------------------------------------------------------------
def functions_opset18():
    """Two model-local functions in domain "local": Dense calls ScaledLeaky.

    ScaledLeaky(X; alpha, scale=2.0) = scale * LeakyRelu(X, alpha): alpha is an
    attribute reference on LeakyRelu, scale an attribute reference on a Constant
    node's value_float, with a default (FunctionProto.attribute_proto, IR 9).
    Dense(X, W, B; alpha) = ScaledLeaky(X @ W + B; alpha=alpha) passes its own
    attribute through and leaves scale at its default.
    X (N, 4) -> Dense (N, 8) -> ScaledLeaky(alpha 0.3, scale 0.5) -> Dense (N, 3) -> ReduceMean(axes [1], input) (N, 1)
    """
    def ref(name, ref_name, typ):
        a = onnx.AttributeProto()
        a.name, a.ref_attr_name, a.type = name, ref_name, typ
        return a

    leaky = helper.make_node("LeakyRelu", ["X"], ["L"])
    leaky.attribute.append(ref("alpha", "alpha", onnx.AttributeProto.FLOAT))
    scale = helper.make_node("Constant", [], ["S"])
    scale.attribute.append(ref("value_float", "scale", onnx.AttributeProto.FLOAT))
    scaled_leaky = helper.make_function(
        "local", "ScaledLeaky", ["X"], ["Y"], [leaky, scale, helper.make_node("Mul", ["L", "S"], ["Y"])],
        opset_imports=[helper.make_opsetid("", 18)], attributes=["alpha"],
        attribute_protos=[helper.make_attribute("scale", 2.0)])

    call = helper.make_node("ScaledLeaky", ["H"], ["Y"], domain="local")
    call.attribute.append(ref("alpha", "alpha", onnx.AttributeProto.FLOAT))
    dense = helper.make_function(
        "local", "Dense", ["X", "W", "B"], ["Y"],
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["H"]), call],
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("local", 1)], attributes=["alpha"])

    g = rng(18001)
    nodes = [
        helper.make_node("Dense", ["x", "w1", "b1"], ["h1"], domain="local", alpha=0.1),
        helper.make_node("ScaledLeaky", ["h1"], ["h2"], domain="local", alpha=0.3, scale=0.5),
        helper.make_node("Dense", ["h2", "w2", "b2"], ["h3"], domain="local", alpha=0.2),
        helper.make_node("ReduceMean", ["h3", "axes"], ["mean"], keepdims=1),
    ]
    inits = [const("w1", g.standard_normal((4, 8), dtype=np.float32)), const("b1", g.standard_normal(8, dtype=np.float32)),
             const("w2", g.standard_normal((8, 3), dtype=np.float32)), const("b2", g.standard_normal(3, dtype=np.float32)),
             const("axes", np.array([1], dtype=np.int64))]
    graph = helper.make_graph(nodes, "functions", [vinfo("x", ["N", 4])],
                              [vinfo("h3", ["N", 3]), vinfo("mean", ["N", 1])], inits)
    model = make_model(graph, 18, [scaled_leaky, dense], ir_version=9)

    # onnx 1.22's ReferenceEvaluator cannot run this model (an attribute
    # reference on LeakyRelu raises "unexpected keyword argument
    # 'linked_attributes'"), and onnx.inliner.inline_local_functions drops the
    # attribute_proto default (the Constant loses its value), so the reference
    # is written out in numpy, in float32 like the model.
    w = {t.name: numpy_helper.to_array(t) for t in inits}

    def reference(x):
        def scaled_leaky(v, alpha, scale=np.float32(2.0)):
            return (scale * np.where(v >= 0, v, np.float32(alpha) * v)).astype(np.float32)
        h1 = scaled_leaky(x @ w["w1"] + w["b1"], 0.1)
        h2 = scaled_leaky(h1, 0.3, np.float32(0.5))
        h3 = scaled_leaky(h2 @ w["w2"] + w["b2"], 0.2)
        return [h3, h3.mean(axis=1, keepdims=True)]

    return model, [[g.standard_normal((2, 4), dtype=np.float32)], [g.standard_normal((5, 4), dtype=np.float32)]], \
        reference


# --------------------------------------------------------------------------
# (b) ops whose signatures changed in opsets 18..23
# --------------------------------------------------------------------------
def reducemean_axes_opset18():
    """ReduceMean-18 takes axes as an input. x (N, 3, 4, 5):
    axes [1, 3] keepdims -> (N, 1, 4, 1); axes [-1] no keepdims -> (N, 3, 4);
    no axes -> mean of all, keepdims (1, 1, 1, 1); empty axes with noop_with_empty_axes -> x."""
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes13"], ["m13"]),
        helper.make_node("ReduceMean", ["x", "axes_last"], ["m_last"], keepdims=0),
        helper.make_node("ReduceMean", ["x"], ["m_all"]),
        helper.make_node("ReduceMean", ["x", "axes_empty"], ["m_noop"], noop_with_empty_axes=1),
    ]
    inits = [const("axes13", np.array([1, 3], np.int64)), const("axes_last", np.array([-1], np.int64)),
             const("axes_empty", np.zeros(0, np.int64))]
    graph = helper.make_graph(nodes, "reducemean_axes", [vinfo("x", ["N", 3, 4, 5])],
                              [vinfo("m13", ["N", 1, 4, 1]), vinfo("m_last", ["N", 3, 4]), vinfo("m_all", [1, 1, 1, 1]),
                               vinfo("m_noop", ["N", 3, 4, 5])], inits)
    g = rng(18002)
    return make_model(graph, 18), [[g.standard_normal((2, 3, 4, 5), dtype=np.float32)],
                                   [g.standard_normal((1, 3, 4, 5), dtype=np.float32)]]


def split_num_outputs_opset18():
    """Split-18: num_outputs with an uneven last chunk, x (N, 7) on axis 1 -> 3, 3, 1;
    and the split sizes as an input, on axis -1 -> 2, 5."""
    nodes = [
        helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3),
        helper.make_node("Split", ["x", "sizes"], ["d", "e"], axis=-1),
    ]
    graph = helper.make_graph(nodes, "split_num_outputs", [vinfo("x", ["N", 7])],
                              [vinfo("a", ["N", 3]), vinfo("b", ["N", 3]), vinfo("c", ["N", 1]),
                               vinfo("d", ["N", 2]), vinfo("e", ["N", 5])],
                              [const("sizes", np.array([2, 5], np.int64))])
    g = rng(18003)
    return make_model(graph, 18), [[g.standard_normal((2, 7), dtype=np.float32)],
                                   [g.standard_normal((3, 7), dtype=np.float32)]]


def pad_axes_opset18():
    """Pad-18 with the axes input, x (N, 2, 5, 6):
    constant 1.5 on axes [2, 3], pads [1, 0, 1, -1] (begins, then ends; -1 crops) -> (N, 2, 7, 5);
    reflect on axis [-1] pads [2, 1] -> (N, 2, 5, 9); edge on axes [-2, 1] pads [1, 0, 2, 1] -> (N, 3, 8, 6)."""
    nodes = [
        helper.make_node("Pad", ["x", "p_const", "cval", "ax_const"], ["y_const"], mode="constant"),
        helper.make_node("Pad", ["x", "p_reflect", "", "ax_reflect"], ["y_reflect"], mode="reflect"),
        helper.make_node("Pad", ["x", "p_edge", "", "ax_edge"], ["y_edge"], mode="edge"),
    ]
    inits = [const("p_const", np.array([1, 0, 1, -1], np.int64)), const("cval", np.array(1.5, np.float32)),
             const("ax_const", np.array([2, 3], np.int64)),
             const("p_reflect", np.array([2, 1], np.int64)), const("ax_reflect", np.array([-1], np.int64)),
             const("p_edge", np.array([1, 0, 2, 1], np.int64)), const("ax_edge", np.array([-2, 1], np.int64))]
    graph = helper.make_graph(nodes, "pad_axes", [vinfo("x", ["N", 2, 5, 6])],
                              [vinfo("y_const", ["N", 2, 7, 5]), vinfo("y_reflect", ["N", 2, 5, 9]),
                               vinfo("y_edge", ["N", 3, 8, 6])], inits)
    g = rng(18004)

    # numpy reference: onnx 1.22's ReferenceEvaluator rejects negative pads
    # (the spec allows them: they remove elements).
    def reference(x):
        y_const = np.pad(x, [(0, 0), (0, 0), (1, 1), (0, 0)], constant_values=np.float32(1.5))[:, :, :, :-1]
        y_reflect = np.pad(x, [(0, 0), (0, 0), (0, 0), (2, 1)], mode="reflect")
        y_edge = np.pad(x, [(0, 0), (0, 1), (1, 2), (0, 0)], mode="edge")
        return [y_const, y_reflect, y_edge]

    return make_model(graph, 18), [[g.standard_normal((2, 2, 5, 6), dtype=np.float32)],
                                   [g.standard_normal((1, 2, 5, 6), dtype=np.float32)]], reference


def pad_wrap_opset19():
    """Pad-19 adds mode "wrap": x (N, 3, 4) pads axes [1, 2] by (1, 2, 2, 3) -> (N, 6, 9)."""
    nodes = [helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="wrap")]
    inits = [const("pads", np.array([1, 2, 2, 3], np.int64)), const("axes", np.array([1, 2], np.int64))]
    graph = helper.make_graph(nodes, "pad_wrap", [vinfo("x", ["N", 3, 4])], [vinfo("y", ["N", 6, 9])], inits)
    g = rng(19001)
    return make_model(graph, 19), [[g.standard_normal((2, 3, 4), dtype=np.float32)],
                                   [g.standard_normal((1, 3, 4), dtype=np.float32)]]


def groupnorm(opset):
    """GroupNormalization x (N, 6, 4, 4), 3 groups of 2 channels.  Opset 18:
    scale and bias have one value per group (3,); opset 21: one per channel (6,),
    and stash_type (1: statistics in float32).  onnx's checker rejects the
    deprecated GroupNormalization-18 outright, but exporters did emit it
    (torch.onnx dynamo at opset 18), so that model is written unchecked."""
    g = rng(18005 + opset)
    per = 3 if opset == 18 else 6
    attrs = dict(num_groups=3, epsilon=1e-3)
    if opset >= 21:
        attrs["stash_type"] = 1
    nodes = [helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], **attrs)]
    inits = [const("scale", (1.0 + 0.3 * g.standard_normal(per)).astype(np.float32)),
             const("bias", (0.2 * g.standard_normal(per)).astype(np.float32))]
    graph = helper.make_graph(nodes, "groupnorm%d" % opset, [vinfo("x", ["N", 6, 4, 4])],
                              [vinfo("y", ["N", 6, 4, 4])], inits)
    return make_model(graph, opset, check=opset != 18), [[(2.0 * g.standard_normal((2, 6, 4, 4)) + 0.5).astype(np.float32)],
                                      [(2.0 * g.standard_normal((1, 6, 4, 4)) + 0.5).astype(np.float32)]]


def gelu_opset20():
    """Gelu-20, exact (erf) and approximate="tanh", x (N, 10)."""
    nodes = [helper.make_node("Gelu", ["x"], ["y_exact"]),
             helper.make_node("Gelu", ["x"], ["y_tanh"], approximate="tanh")]
    graph = helper.make_graph(nodes, "gelu", [vinfo("x", ["N", 10])],
                              [vinfo("y_exact", ["N", 10]), vinfo("y_tanh", ["N", 10])])
    g = rng(20001)
    return make_model(graph, 20), [[(3.0 * g.standard_normal((2, 10))).astype(np.float32)],
                                   [(3.0 * g.standard_normal((4, 10))).astype(np.float32)]]


def layernorm_softmax_opset23():
    """A small attention-free head at opset 23, x (N, 4, 16):
    LayerNormalization(axis -1) with its Mean and InvStdDev outputs (N, 4, 1) ->
    MatMul (16, 8) + bias -> Softmax(axis -1) -> probs (N, 4, 8);
    LayerNormalization(axis -2, no bias) over (4, 16) -> z (N, 4, 16)."""
    g = rng(23001)
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln_scale", "ln_bias"], ["h", "mean", "inv_std"], axis=-1,
                         epsilon=1e-5),
        helper.make_node("MatMul", ["h", "w"], ["hw"]),
        helper.make_node("Add", ["hw", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
        helper.make_node("LayerNormalization", ["x", "ln2_scale"], ["z"], axis=-2, epsilon=1e-3),
    ]
    inits = [const("ln_scale", (1.0 + 0.2 * g.standard_normal(16)).astype(np.float32)),
             const("ln_bias", (0.1 * g.standard_normal(16)).astype(np.float32)),
             const("w", (0.5 * g.standard_normal((16, 8))).astype(np.float32)),
             const("b", (0.1 * g.standard_normal(8)).astype(np.float32)),
             const("ln2_scale", (1.0 + 0.2 * g.standard_normal((4, 16))).astype(np.float32))]
    graph = helper.make_graph(nodes, "layernorm_softmax", [vinfo("x", ["N", 4, 16])],
                              [vinfo("probs", ["N", 4, 8]), vinfo("mean", ["N", 4, 1]),
                               vinfo("inv_std", ["N", 4, 1]), vinfo("z", ["N", 4, 16])], inits)
    return make_model(graph, 23), [[(g.standard_normal((2, 4, 16)) + 0.3).astype(np.float32)],
                                   [(g.standard_normal((3, 4, 16)) + 0.3).astype(np.float32)]]


MODELS = {
    "functions_opset18": functions_opset18,
    "reducemean_axes_opset18": reducemean_axes_opset18,
    "split_num_outputs_opset18": split_num_outputs_opset18,
    "pad_axes_opset18": pad_axes_opset18,
    "pad_wrap_opset19": pad_wrap_opset19,
    "groupnorm_opset18": lambda: groupnorm(18),
    "groupnorm_opset21": lambda: groupnorm(21),
    "gelu_opset20": gelu_opset20,
    "layernorm_softmax_opset23": layernorm_softmax_opset23,
}


def ort_outputs(model, feeds):
    """onnxruntime's outputs, or the reason it cannot run the model."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None, "onnxruntime not installed"
    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        return [sess.run(None, f) for f in feeds], ""
    except Exception as e:
        return None, str(e).strip().splitlines()[0][:200]


def write_case(out_root, name, model, input_sets, reference=None):
    case_dir = os.path.join(out_root, "test_helper_" + name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    onnx.save(model, os.path.join(case_dir, "model.onnx"))
    in_names = [i.name for i in model.graph.input]
    out_names = [o.name for o in model.graph.output]
    feeds = [dict(zip(in_names, ins)) for ins in input_sets]
    if reference:
        refs = [reference(*ins) for ins in input_sets]
    else:
        ev = ReferenceEvaluator(model)
        refs = [ev.run(None, f) for f in feeds]
    for k, (ins, outs) in enumerate(zip(input_sets, refs)):
        set_dir = os.path.join(case_dir, "test_data_set_%d" % k)
        os.makedirs(set_dir)
        for kind, names, arrays in (("input", in_names, ins), ("output", out_names, outs)):
            for i, (n, a) in enumerate(zip(names, arrays)):
                with open(os.path.join(set_dir, "%s_%d.pb" % (kind, i)), "wb") as f:
                    f.write(numpy_helper.from_array(np.asarray(a), n).SerializeToString())
    ort_res, why = ort_outputs(model, feeds)
    if ort_res is None:
        return "onnxruntime: not compared (%s)" % why
    worst = 0.0
    for r_set, o_set in zip(refs, ort_res):
        for r, o in zip(r_set, o_set):
            worst = max(worst, float(np.max(np.abs(np.asarray(r, np.float64) - np.asarray(o, np.float64)))))
    return "onnxruntime max abs diff %.3g%s" % (worst, "  ** DISAGREES **" if worst > 1e-4 else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "models"))
    ap.add_argument("--only", nargs="*", help="names to regenerate: %s" % ", ".join(MODELS))
    args = ap.parse_args()
    for name, build in MODELS.items():
        if args.only and name not in args.only:
            continue
        built = build()
        note = write_case(args.out, name, *built)
        print("test_helper_%-32s %s" % (name, note), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
