"""copier itself rejects bad answers before anything is written, with a message naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from copier import run_copy

BAD_ANSWERS = [
    ({"clusters": [{"name": "Prod_EU", "network": "n"}]}, "clusters", "cluster 'Prod_EU': use a DNS-1123 label"),
    ({"clusters": []}, "clusters", "give at least one cluster"),
    ({"clusters": [{"name": "kube-system", "network": "n"}]}, "clusters", "reserved"),
    ({"istio_versions": ["1.31"]}, "istio_versions", "MAJOR.MINOR.PATCH"),
    ({"istio_versions": ["1.29.7", "1.30.4", "1.31.1", "1.31.0"]}, "istio_versions", "keep at most 3"),
    ({"istio_versions": ["1.29.7", "1.29.7"]}, "istio_versions", "listed twice"),
    (
        {"istio_versions": ["1.31.1"], "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.4"}]},
        "istio_revision_tags",
        "not in istio_versions",
    ),
    ({"istio_default_tag": "prod-canary"}, "istio_default_tag", "must be one of the revision tags"),
    ({"gateway_revision": "1.30.4"}, "gateway_revision", "use a revision tag to follow"),
    ({"git_repo_url": "http://example.com/x.git"}, "git_repo_url", "plain http is refused"),
    ({"platform_name": "My Platform"}, "platform_name", "DNS-1123 label"),
    ({"egress_allowed_hosts": ["*.example.com"]}, "egress_allowed_hosts", "wildcards"),
    ({"trust_domain": "Cluster_Local"}, "trust_domain", "DNS-1123 subdomain"),
    (
        {"clusters": [{"name": "a", "network": "n1"}, {"name": "b", "network": "n2"}]},
        "clusters",
        "add 'eastwest' to gateways_enabled",
    ),
]


@pytest.mark.parametrize(("answers", "question", "message"), BAD_ANSWERS, ids=[q for _, q, _ in BAD_ANSWERS])
def test_bad_answer_is_refused_and_nothing_written(
    template_snapshot: Path, tmp_path: Path, answers: dict, question: str, message: str
) -> None:
    destination = tmp_path / "platform"
    with pytest.raises(Exception) as caught:
        run_copy(str(template_snapshot), destination, data=answers, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
    text = str(caught.value)
    assert f"Validation error for question '{question}'" in text
    assert message in text
    assert not destination.exists() or not any(destination.iterdir())


def test_defaults_alone_answer_everything(render) -> None:
    answers = yaml.safe_load((render({}) / ".copier-answers.yml").read_text())
    assert answers["gitops_engine"] == "argocd"
    assert answers["istio_versions"] == ["1.31.1"]
    assert answers["istio_revision_tags"] == [{"name": "prod-stable", "version": "1.31.1"}]
    assert answers["istio_default_tag"] == "prod-stable"
    assert answers["outbound_traffic_policy"] == "REGISTRY_ONLY"
    assert answers["clusters"][0]["name"] == "cluster-1"
    for computed in ("istio_revisions", "istio_default_revision", "istio_base_version", "gateway_target", "gateway_namespaces"):
        assert computed not in answers, "computed values must not be stored as answers"


def test_every_question_is_typed_with_help(template_snapshot: Path) -> None:
    config = yaml.safe_load((template_snapshot / "copier.yml").read_text())
    questions = {k: v for k, v in config.items() if not k.startswith("_")}
    for name, spec in questions.items():
        assert "type" in spec, name
        if spec.get("when") is not False:
            assert "?" in spec.get("help", ""), f"{name}: help should ask a question"
            assert "default" in spec or name == "team_name", f"{name}: --defaults must produce a complete repo"
