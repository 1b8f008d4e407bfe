#!/usr/bin/env python3
"""The real `tritonclient[http]` and plain HTTP (MLflow's scoring protocol) against a running
`aidlc server`: every ONNX test model must answer onnxruntime's own outputs.

Usage: triton_client_test.py URL --onnx-dir DIR --onnx NAME... [--builtin NAME --scored CSV]

Each ONNX NAME is a registered model whose alias `production` names the version built from
DIR/NAME.onnx (its expected outputs in DIR/NAME.expected.json). The built-in NAME is a
registered aidlc model with named features whose `production` version scored the rows of CSV
with `aidlc predict` (the file holds the input columns, `prediction` and `probability_<class>`).
This script deploys each at an endpoint of the same name (PUT /api/v1/deployments/NAME), then
checks, for every model:
- tritonclient's default path (binary tensors in and out) and its JSON path (binary_data=False);
- model metadata, readiness and a pinned version (`versions/1`);
- MLflow's /endpoints/NAME/invocations with dataframe_split, instances and CSV bodies;
- the x-aidlc-model-version / x-aidlc-variant headers, client mistakes as 400/404, /metrics.
Prints "N checks passed" and exits 0, or names the first failed check and exits 1.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import requests
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

TOL = 1e-5
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    checks += 1


def close(got, want, what):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    check(got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}")
    diff = float(np.max(np.abs(got - want))) if got.size else 0.0
    check(diff <= TOL, f"{what}: max difference {diff}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--onnx-dir", type=Path, required=True)
    parser.add_argument("--onnx", nargs="+", default=[])
    parser.add_argument("--builtin")
    parser.add_argument("--scored", type=Path)
    args = parser.parse_args()
    models_dir, names = args.onnx_dir, args.onnx
    base = args.url.rstrip("/")
    host = base.split("://", 1)[-1]
    client = httpclient.InferenceServerClient(host)

    for name in names + ([args.builtin] if args.builtin else []):
        r = requests.put(
            f"{base}/api/v1/deployments/{name}",
            json={"model": name, "alias": "production"},
        )
        check(r.status_code == 200, f"deploy {name}: {r.status_code} {r.text}")

    check(client.is_server_live(), "server live")
    check(client.is_server_ready(), "server ready")
    meta = client.get_server_metadata()
    check("binary_tensor_data" in meta["extensions"], f"extensions {meta}")

    for name in names:
        expected = json.loads((models_dir / f"{name}.expected.json").read_text())
        rows = np.asarray(expected["rows"], dtype=np.float32)
        want = expected["expected"]
        classifier = "label" in want
        check(client.is_model_ready(name), f"{name} ready")
        check(client.is_model_ready(name, "1"), f"{name} version 1 ready")
        meta = client.get_model_metadata(name)
        check(meta["name"] == name, f"{name}: metadata name {meta}")
        check(meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 10]}],
              f"{name}: inputs {meta['inputs']}")
        out_names = [o["name"] for o in meta["outputs"]]
        check(out_names == (["label", "probabilities"] if classifier else ["variable"]),
              f"{name}: outputs {out_names}")

        def verify(result, how):
            if classifier:
                labels = result.as_numpy("label")
                check(labels.dtype == np.int64, f"{name} {how}: label dtype {labels.dtype}")
                check(labels.tolist() == want["label"], f"{name} {how}: labels {labels.tolist()}")
                probs = result.as_numpy("probabilities")
                check(probs.dtype == np.float32, f"{name} {how}: probabilities dtype")
                close(probs, want["probabilities"], f"{name} {how}: probabilities")
            else:
                close(result.as_numpy("variable"), want["variable"], f"{name} {how}: values")

        # The default path: binary input, binary outputs (the client asks for them).
        inp = httpclient.InferInput("input", list(rows.shape), "FP32")
        inp.set_data_from_numpy(rows)
        result = client.infer(name, [inp], request_id="req-1")
        verify(result, "binary")
        check(result.get_response()["id"] == "req-1", f"{name}: request id echoed")
        check(result.get_response()["model_version"] == "1", f"{name}: model_version")

        # The JSON path.
        inp = httpclient.InferInput("input", list(rows.shape), "FP32")
        inp.set_data_from_numpy(rows, binary_data=False)
        outs = [httpclient.InferRequestedOutput(o, binary_data=False) for o in out_names]
        verify(client.infer(name, [inp], outputs=outs), "json")

        # Binary in, mixed out; and a pinned version.
        inp = httpclient.InferInput("input", list(rows.shape), "FP32")
        inp.set_data_from_numpy(rows)
        outs = [httpclient.InferRequestedOutput(o, binary_data=(i == 0)) for i, o in enumerate(out_names)]
        verify(client.infer(name, [inp], outputs=outs, model_version="1"), "pinned version")

        # Client mistakes raise with the server's message.
        bad = httpclient.InferInput("input", [1, 3], "FP32")
        bad.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
        try:
            client.infer(name, [bad])
            check(False, f"{name}: a [1, 3] input must fail")
        except InferenceServerException as e:
            check("[-1, 10]" in str(e), f"{name}: wrong shape message {e}")

        # MLflow's scoring protocol.
        mlflow_want = want["label"] if classifier else [v[0] for v in want["variable"]]
        for body in (
            {"dataframe_split": {"data": rows.tolist()}},
            {"dataframe_split": {"columns": [f"f{j}" for j in range(10)], "data": rows.tolist()}},
            {"instances": rows.tolist()},
            {"inputs": rows.tolist()},
        ):
            r = requests.post(f"{base}/endpoints/{name}/invocations", json=body)
            check(r.status_code == 200, f"{name} mlflow {list(body)}: {r.status_code} {r.text}")
            got = r.json()["predictions"]
            if classifier:
                check(got == mlflow_want, f"{name} mlflow labels {got}")
            else:
                close(got, mlflow_want, f"{name} mlflow values")
            check(r.headers.get("x-aidlc-model-version") == "1", f"{name}: version header")
            check(r.headers.get("x-aidlc-variant") == "production", f"{name}: variant header")
        csv = "\n".join([",".join(f"f{j}" for j in range(10))] +
                        [",".join(repr(float(x)) for x in row) for row in rows]) + "\n"
        r = requests.post(f"{base}/endpoints/{name}/invocations", data=csv,
                          headers={"Content-Type": "text/csv"})
        check(r.status_code == 200, f"{name} csv: {r.status_code} {r.text}")
        if classifier:
            check(r.json()["predictions"] == mlflow_want, f"{name} csv labels")
        r = requests.post(f"{base}/endpoints/{name}/invocations", json={"inputs": [[1.0, 2.0, 3.0]]})
        check(r.status_code == 400, f"{name}: 3 features must be a 400, got {r.status_code}")

    if args.builtin:
        check_builtin(client, base, args.builtin, args.scored)

    # Unknown models and endpoints are 404s.
    try:
        client.get_model_metadata("no-such-model")
        check(False, "unknown model metadata must fail")
    except InferenceServerException as e:
        check("no-such-model" in str(e), f"unknown model message {e}")
    r = requests.post(f"{base}/endpoints/no-such-model/invocations", json={"inputs": [[1.0]]})
    check(r.status_code == 404, f"unknown endpoint: {r.status_code}")
    r = requests.post(f"{base}/invocations", data="x", headers={"Content-Type": "text/plain"})
    check(r.status_code == 415, f"text/plain: {r.status_code}")
    check(requests.get(f"{base}/ping").status_code == 200, "ping")
    check(requests.get(f"{base}/version").status_code == 200, "version")

    metrics = requests.get(f"{base}/metrics").text
    for name in names + ([args.builtin] if args.builtin else []):
        for protocol in ("v2", "mlflow"):
            line = [l for l in metrics.splitlines() if l.startswith("aidlc_inference_requests_total{")
                    and f'endpoint="{name}"' in l and f'protocol="{protocol}"' in l
                    and 'variant="production"' in l]
            check(line and int(line[0].rsplit(" ", 1)[1]) > 0, f"metrics for {name} {protocol}")

    print(f"{checks} checks passed")


def check_builtin(client, base, name, scored):
    """A model with named features: one FP64 [N, 1] tensor per feature over tritonclient, records
    over MLflow's protocol, objects over the native endpoint; all must give `aidlc predict`'s
    answers."""
    with scored.open() as f:
        table = list(csv.DictReader(f))
    meta = client.get_model_metadata(name)
    check(meta["platform"] == "aidlc_builtin", f"{name}: platform {meta['platform']}")
    features = [i["name"] for i in meta["inputs"]]
    check(all(i["datatype"] == "FP64" and i["shape"] == [-1, 1] for i in meta["inputs"]),
          f"{name}: inputs {meta['inputs']}")
    classes = sorted(k[len("probability_"):] for k in table[0] if k.startswith("probability_"))
    want_labels = [int(r["prediction"]) for r in table]
    want_probs = [[float(r[f"probability_{c}"]) for c in classes] for r in table]
    check(meta["outputs"][0] == {"name": "label", "datatype": "INT64", "shape": [-1]},
          f"{name}: label output {meta['outputs']}")

    for binary in (True, False):
        inputs = []
        for feature in features:
            column = np.asarray([[float(r[feature])] for r in table], dtype=np.float64)
            inp = httpclient.InferInput(feature, list(column.shape), "FP64")
            inp.set_data_from_numpy(column, binary_data=binary)
            inputs.append(inp)
        outs = None if binary else [
            httpclient.InferRequestedOutput(o, binary_data=False) for o in ("label", "probabilities")
        ]
        result = client.infer(name, inputs, outputs=outs)
        how = "binary" if binary else "json"
        check(result.as_numpy("label").tolist() == want_labels, f"{name} {how}: labels")
        close(result.as_numpy("probabilities"), want_probs, f"{name} {how}: probabilities")

    # A missing feature and an unknown input are named.
    try:
        client.infer(name, inputs[1:])
        check(False, f"{name}: a missing feature must fail")
    except InferenceServerException as e:
        check(features[0] in str(e), f"{name}: missing feature message {e}")

    records = [{f: float(r[f]) for f in features} for r in table]
    r = requests.post(f"{base}/endpoints/{name}/invocations", json={"dataframe_records": records})
    check(r.status_code == 200, f"{name} mlflow records: {r.status_code} {r.text}")
    check(r.json()["predictions"] == want_labels, f"{name} mlflow labels {r.json()}")
    r = requests.post(f"{base}/api/v1/endpoints/{name}/predict", json={"rows": records})
    check(r.status_code == 200, f"{name} native: {r.status_code} {r.text}")
    answer = r.json()
    check(answer["variant"] == "production" and answer["model"] == name, f"{name} native {answer}")
    got = [[p["probabilities"][c] for c in classes] for p in answer["predictions"]]
    close(got, want_probs, f"{name} native probabilities")
    records[0].pop(features[0])
    r = requests.post(f"{base}/api/v1/endpoints/{name}/predict", json={"rows": records})
    check(r.status_code == 400 and features[0] in r.json()["message"], f"{name} native missing: {r.text}")


if __name__ == "__main__":
    main()
