"""Checks the rendered Kubernetes manifests and the alert rules (`make lint`, deploy/lint-deploy.sh).

    python check-manifests.py RENDERED_DIR           check base.yaml, development.yaml, production.yaml
    python check-manifests.py --write-prometheusrule  regenerate the PrometheusRule from the rules file

RENDERED_DIR holds `kubectl kustomize` output of the base and each overlay. Checks:
  - every object against the Kubernetes JSON schemas (kubernetes-validate, strict: unknown
    fields are errors), offline; the Prometheus Operator kinds against the fields we use;
  - production: every image pinned by tag and digest, never `latest`; the Ingress routes only
    to auth-gateway's `http` port; no PersistentVolumeClaim (media are in the object store);
    HPAs for auth-gateway and publisher, whose Deployments leave replicas to them;
  - the PrometheusRule's groups equal deploy/prometheus/postbridge.rules.yml.
Runs with the python of .data/ops-venv (deploy/local/ops-tools.sh venv).
"""

import pathlib
import sys

import kubernetes_validate
import yaml

K8S_VERSION = "1.31.0"
HERE = pathlib.Path(__file__).resolve().parent
RULES = HERE / "prometheus" / "postbridge.rules.yml"
PROMETHEUS_RULE = HERE / "k8s" / "overlays" / "production" / "prometheusrule.yaml"

PROMETHEUS_RULE_HEADER = """\
# GENERATED from deploy/prometheus/postbridge.rules.yml by
#   .data/ops-venv/bin/python deploy/check-manifests.py --write-prometheusrule
# Edit the rules file, then regenerate; `make lint` fails while the two differ.
# `release:` must match your Prometheus' ruleSelector (kube-prometheus-stack: the release name).
"""


def prometheus_rule_from_rules() -> dict:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "postbridge", "labels": {"release": "kube-prometheus-stack"}},
        "spec": {"groups": groups},
    }


def write_prometheus_rule() -> None:
    body = yaml.safe_dump(prometheus_rule_from_rules(), sort_keys=False, width=100)
    PROMETHEUS_RULE.write_text(PROMETHEUS_RULE_HEADER + body)
    print(f"wrote {PROMETHEUS_RULE}")


def check_crd(doc: dict, errors: list, where: str) -> None:
    """The Prometheus Operator kinds: no schema in kubernetes-validate, so the fields we use."""
    kind = doc["kind"]
    spec = doc.get("spec") or {}
    if kind == "ServiceMonitor":
        if not spec.get("selector", {}).get("matchLabels"):
            errors.append(f"{where}: ServiceMonitor without spec.selector.matchLabels")
        for ep in spec.get("endpoints", []):
            if not ep.get("port") or not ep.get("path", "").startswith("/"):
                errors.append(f"{where}: ServiceMonitor endpoint needs a port name and a path")
    elif kind == "PrometheusRule":
        for group in spec.get("groups", []):
            for rule in group.get("rules", []):
                if not rule.get("expr") or not (rule.get("alert") or rule.get("record")):
                    errors.append(f"{where}: rule without expr or alert/record: {rule}")
    else:
        errors.append(f"{where}: no schema for {doc['apiVersion']} {kind}")


def check_schemas(docs: list, name: str, errors: list) -> None:
    for doc in docs:
        where = f"{name}: {doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            check_crd(doc, errors, where)
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = "/".join(str(p) for p in err.path)
            errors.append(f"{where}: {path}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{where}: no Kubernetes {K8S_VERSION} schema for {doc['apiVersion']}")


def containers(doc: dict) -> list:
    spec = doc.get("spec", {})
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
    pod = template.get("spec", {})
    return pod.get("containers", []) + pod.get("initContainers", [])


def check_production(docs: list, errors: list) -> None:
    by_kind: dict = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    for doc in docs:
        for c in containers(doc):
            image = c["image"]
            name, _, digest = image.partition("@")
            tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
            if not tag or tag == "latest" or not digest.startswith("sha256:"):
                errors.append(f"production: {doc['kind']}/{doc['metadata']['name']}: image {image} is not pinned (tag@sha256:digest)")
    for ing in by_kind.get("Ingress", {}).values():
        for rule in ing["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                if backend["name"] != "auth-gateway" or backend["port"].get("name") != "http":
                    errors.append(f"production: Ingress {ing['metadata']['name']} routes to {backend}: only auth-gateway:http may be public")
    if "PersistentVolumeClaim" in by_kind:
        errors.append("production: a PersistentVolumeClaim is rendered; media belong in the object store")
    for name in ("auth-gateway", "publisher"):
        hpa = by_kind.get("HorizontalPodAutoscaler", {}).get(name)
        if not hpa:
            errors.append(f"production: no HorizontalPodAutoscaler for {name}")
        if "replicas" in by_kind.get("Deployment", {}).get(name, {}).get("spec", {}):
            errors.append(f"production: Deployment {name} sets replicas although its HPA owns them")
    for kind in ("NetworkPolicy", "ServiceMonitor", "PrometheusRule"):
        if kind not in by_kind:
            errors.append(f"production: no {kind}")
    config = next((d for n, d in by_kind.get("ConfigMap", {}).items() if n.startswith("postbridge-config")), None)
    data = (config or {}).get("data", {})
    for key in (
        "POSTBRIDGE__AUTH__JWKS_URL",
        "POSTBRIDGE__AUTH__JWT_AUDIENCE",
        "POSTBRIDGE__AUTH__JWT_ISSUER",
        "POSTBRIDGE__AUTH_GATEWAY__PUBLIC_URL",
        "POSTBRIDGE__AUTH_GATEWAY__REDIRECT_ALLOW_LIST",
        "POSTBRIDGE__AUTH_GATEWAY__CORS_ALLOWED_ORIGINS",
        "POSTBRIDGE__MEDIA__PUBLIC_BASE_URL",
        "POSTBRIDGE__MEDIA__STORE",
        "POSTBRIDGE__MEDIA__S3__BUCKET",
    ):
        if not data.get(key):
            errors.append(f"production: ConfigMap postbridge-config does not set {key}")
    rendered_rule = by_kind.get("PrometheusRule", {}).get("postbridge")
    if rendered_rule and rendered_rule["spec"] != prometheus_rule_from_rules()["spec"]:
        errors.append(
            "production: the PrometheusRule differs from deploy/prometheus/postbridge.rules.yml; "
            "run: .data/ops-venv/bin/python deploy/check-manifests.py --write-prometheusrule"
        )


def main() -> int:
    if sys.argv[1:] == ["--write-prometheusrule"]:
        write_prometheus_rule()
        return 0
    rendered = pathlib.Path(sys.argv[1])
    errors: list = []
    counts = []
    for name in ("base", "development", "production"):
        docs = [d for d in yaml.safe_load_all((rendered / f"{name}.yaml").read_text()) if d]
        counts.append(f"{name} {len(docs)}")
        check_schemas(docs, name, errors)
        if name == "production":
            check_production(docs, errors)
    for e in errors:
        print(f"[lint]   {e}", file=sys.stderr)
    print(f"[lint]   objects checked against Kubernetes {K8S_VERSION} schemas: {', '.join(counts)}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
