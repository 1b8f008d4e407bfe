"""Real-client round trip against `aidlc server`: the unmodified `mlflow` 3.x client logs,
registers, aliases, loads, searches and deletes through aidlc, and every answer is checked.

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python client_test.py
Exit status 0 means every round trip matched.
"""

import math
import os
import sys
import tempfile
import time
import uuid

# Fail fast instead of retrying for minutes if the server ever answers 5xx.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

CHECKS = 0


def check(condition, what):
    global CHECKS
    CHECKS += 1
    if not condition:
        raise AssertionError(what)


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except MlflowException as e:
        check(e.error_code == code, f"expected {code}, got {e.error_code}: {e}")
        return e
    raise AssertionError(f"expected an {code} error from {fn.__name__}")


def main():
    uri = os.environ["MLFLOW_TRACKING_URI"]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    suffix = uuid.uuid4().hex[:8]
    exp_name = f"aidlc-client-{suffix}"

    # Experiments: set_experiment creates on a miss, then finds by name.
    exp = mlflow.set_experiment(exp_name)
    check(client.get_experiment_by_name(exp_name).experiment_id == exp.experiment_id, "experiment by name")
    check(client.get_experiment("0").name == "Default", "default experiment exists")
    expect_error("RESOURCE_ALREADY_EXISTS", client.create_experiment, exp_name)

    # A run with params, metric histories with steps, tags and artifacts.
    with mlflow.start_run(run_name="train") as run:
        run_id = run.info.run_id
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 3, "solver": "lbfgs"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.5, "f1": 0.25}, step=1)
        mlflow.log_metric("nan_metric", float("nan"))
        mlflow.set_tag("team", "ml")
        mlflow.set_tags({"aidlc.note": "round trip", "stage": "dev"})
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "notes.txt")
            with open(path, "w") as f:
                f.write("hello artifacts")
            mlflow.log_artifact(path)
            mlflow.log_artifact(path, artifact_path="sub/dir")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        mlflow.log_text("some text", "texts/t.txt")
        # Changing an already-logged param is refused.
        expect_error("INVALID_PARAMETER_VALUE", mlflow.log_param, "lr", 0.2)

        # A small scikit-learn model, logged and registered in one call.
        rng = np.random.default_rng(7)
        X = rng.normal(size=(80, 3))
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
        model = LogisticRegression().fit(X, y)
        model_name = f"clf-{suffix}"
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=X[:2], registered_model_name=model_name
        )
        check(info.registered_model_version is not None, "log_model registered a version")

    got = client.get_run(run_id)
    check(got.info.status == "FINISHED", f"run finished: {got.info.status}")
    check(got.info.run_name == "train", "run name")
    check(got.data.params == {"lr": "0.1", "depth": "3", "solver": "lbfgs"}, f"params {got.data.params}")
    check(got.data.metrics["loss"] == 0.2, f"latest loss is the last step's: {got.data.metrics}")
    check(math.isnan(got.data.metrics["nan_metric"]), "NaN round-trips")
    check(got.data.tags["team"] == "ml" and got.data.tags["stage"] == "dev", "tags")
    # log_model re-logs the run's metrics tagged with the model's id; the run's own history is
    # the entries without one.
    history = [m for m in client.get_metric_history(run_id, "loss") if not getattr(m, "model_id", None)]
    check([(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)], "metric history")
    tagged = client.get_logged_model(info.model_id).metrics
    check(any(m.key == "loss" for m in tagged), "the logged model carries its metrics")

    # Artifacts: listing and downloads through the proxy.
    names = sorted(a.path for a in client.list_artifacts(run_id))
    check(names == ["config.json", "notes.txt", "sub", "texts"], f"artifact listing {names}")
    nested = [a.path for a in client.list_artifacts(run_id, "sub/dir")]
    check(nested == ["sub/dir/notes.txt"], f"nested listing {nested}")
    check(mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1, "b": [1, 2]}, "load_dict")
    check(mlflow.artifacts.load_text(f"runs:/{run_id}/texts/t.txt") == "some text", "load_text")
    with tempfile.TemporaryDirectory() as d:
        local = client.download_artifacts(run_id, "notes.txt", d)
        with open(local) as f:
            check(f.read() == "hello artifacts", "downloaded bytes")

    # Registry: alias, load by alias, predictions match.
    client.set_registered_model_alias(model_name, "staging", "1")
    mv = client.get_model_version_by_alias(model_name, "staging")
    check(mv.version == "1" and "staging" in mv.aliases, "alias resolves")
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@staging")
    check(np.array_equal(np.asarray(loaded.predict(X)), model.predict(X)), "predictions of the loaded model")
    by_version = mlflow.sklearn.load_model(f"models:/{model_name}/1")
    check(np.allclose(by_version.predict_proba(X), model.predict_proba(X)), "load by version")
    client.set_model_version_tag(model_name, "1", "validated", "yes")
    check(client.get_model_version(model_name, "1").tags.get("validated") == "yes", "version tag")
    client.set_registered_model_tag(model_name, "owner", "ml")
    check(client.get_registered_model(model_name).tags.get("owner") == "ml", "model tag")
    found = client.search_model_versions(f"name='{model_name}'")
    check([v.version for v in found] == ["1"], "search model versions")
    check(any(m.name == model_name for m in client.search_registered_models(f"name = '{model_name}'")),
          "search registered models")
    expect_error("INVALID_PARAMETER_VALUE", client.get_model_version_by_alias, model_name, "nope")

    # Governed alias: champion needs a passing evaluation report, refused with a 4xx.
    err = expect_error("PERMISSION_DENIED", client.set_registered_model_alias, model_name, "champion", "1")
    check("evaluation report" in str(err), f"refusal explains itself: {err}")
    client.delete_registered_model_alias(model_name, "staging")
    expect_error("INVALID_PARAMETER_VALUE", client.get_model_version_by_alias, model_name, "staging")

    # Search runs: filters, ordering and pagination over a known set.
    search_exp = client.create_experiment(f"aidlc-search-{suffix}")
    for i in range(7):
        r = client.create_run(search_exp, run_name=f"r{i}", start_time=1_000 + i)
        client.log_batch(
            r.info.run_id,
            metrics=[mlflow.entities.Metric("m", float(i), 0, 0)],
            params=[mlflow.entities.Param("parity", str(i % 2))],
            tags=[mlflow.entities.RunTag("kind", "even" if i % 2 == 0 else "odd")],
        )
        client.set_terminated(r.info.run_id)
    runs = client.search_runs([search_exp], "metrics.m >= 2 and params.parity = '0'", order_by=["metrics.m DESC"])
    check([r.info.run_name for r in runs] == ["r6", "r4", "r2"], f"filtered+ordered {[r.info.run_name for r in runs]}")
    runs = client.search_runs([search_exp], "tags.kind LIKE 'od%'", order_by=["attributes.start_time ASC"])
    check([r.info.run_name for r in runs] == ["r1", "r3", "r5"], "LIKE on tags")
    page1 = client.search_runs([search_exp], max_results=3, order_by=["metrics.m ASC"])
    check(len(page1) == 3 and page1.token, "first page has a token")
    page2 = client.search_runs([search_exp], max_results=3, order_by=["metrics.m ASC"], page_token=page1.token)
    page3 = client.search_runs([search_exp], max_results=3, order_by=["metrics.m ASC"], page_token=page2.token)
    seen = [r.info.run_name for r in list(page1) + list(page2) + list(page3)]
    check(seen == [f"r{i}" for i in range(7)] and not page3.token, f"pagination {seen}")
    df = mlflow.search_runs([search_exp], filter_string="metrics.m < 2")
    check(len(df) == 2, "fluent pandas search")
    expect_error("INVALID_PARAMETER_VALUE", client.search_runs, [search_exp], "metrics.m >> 1")

    # Delete and restore a run.
    victim = runs[0].info.run_id
    client.delete_run(victim)
    check(client.get_run(victim).info.lifecycle_stage == "deleted", "deleted run readable")
    check(len(client.search_runs([search_exp])) == 6, "deleted run hidden")
    expect_error("INVALID_PARAMETER_VALUE", client.log_metric, victim, "m", 1.0)
    client.restore_run(victim)
    check(len(client.search_runs([search_exp])) == 7, "restored run visible")

    # Error codes for a missing run.
    missing = uuid.uuid4().hex
    expect_error("RESOURCE_DOES_NOT_EXIST", client.get_run, missing)
    expect_error("RESOURCE_DOES_NOT_EXIST", client.log_param, missing, "k", "v")
    expect_error("RESOURCE_DOES_NOT_EXIST", client.get_experiment, "999999")

    print(f"mlflow client test: {CHECKS} checks passed against {uri}")


if __name__ == "__main__":
    started = time.time()
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report any failure as one line and a non-zero exit
        print(f"mlflow client test FAILED after {CHECKS} checks: {type(e).__name__}: {e}", file=sys.stderr)
        raise
    print(f"({time.time() - started:.1f} s)")
