"""Checks for a team's answers, against the platform's answers and the teams already onboarded.

The team scope reads the platform's answers file (copier `_external_data`), and these checks
look at the other teams' answers files in the destination repo, so a namespace or an ingress host
can never be claimed twice, the namespaces the platform's answers reserve stay the platform's, the
recorded platform settings are the platform's own, and a team can only use clusters, tags, egress
hosts and the ingress domain the platform actually has.
"""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path

import yaml

from naming_rules import dns_label_problem, dns_subdomain_problem, external_host_problem, namespace_owner, quoted_answer

SNAPSHOT_KEYS = (
    "platform_name", "gitops_engine", "git_repo_url", "git_branch", "argocd_namespace", "gateway_layout",
    "gateways_enabled", "egress_allowed_hosts", "ingress_domain", "trust_domain", "codeowners_org",
    "istio_revision_tags", "istio_default_tag",
)


def platform_snapshot(answers: Mapping) -> dict:
    """The platform answers a team builds on, recorded in the team's answers file.

    copier renders the team's old and new versions in temporary folders during an update, where the
    platform's answers file is out of reach; recording what the team uses keeps those renders exact.
    """
    snapshot = {key: answers[key] for key in SNAPSHOT_KEYS if key in answers}
    if answers.get("external_authz_service"):  # only when set: teams onboarded before the question existed stay equal
        snapshot["external_authz_service"] = answers["external_authz_service"]
    snapshot["clusters"] = [str(c.get("name")) for c in answers.get("clusters", []) if isinstance(c, Mapping)]
    return snapshot


def platform_answers(external_data: object) -> Mapping:
    """The platform's answers as copier's `_external_data` reads them; {} where the file is missing.

    It is missing in the temporary folders copier renders an update's old and new versions in; copier warns about
    that on first access, and the warning would only be noise in every team update.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answers = external_data.get("platform") if isinstance(external_data, Mapping) else None
    return answers if isinstance(answers, Mapping) else {}


def team_platform_problem(value: object, external_data: object = None) -> str:
    """The platform settings a team is checked against must be the platform's own: whenever the platform's answers
    file is readable (`external_data["platform"]`; not in copier's temporary renders), they must equal its
    snapshot, so neither --data nor an edited team answers file can stand in for them."""
    if not isinstance(value, Mapping) or not value.get("clusters") or not value.get("istio_revision_tags"):
        return (
            "team_platform: no platform answers found; run the team scope inside a platform repo generated "
            "by this template (its .copier-answers.yml is read)"
        )
    recorded = platform_answers(external_data)
    if recorded:
        expected = platform_snapshot(recorded)
        differing = sorted(key for key in set(expected) | set(value) if value.get(key) != expected.get(key))
        if differing:
            first = differing[0]
            return (
                f"team_platform: {', '.join(differing)} differ(s) from the platform's .copier-answers.yml "
                f"({first}: {_shown(value, first)} here, {_shown(expected, first)} there). Fix: leave team_platform "
                "out when onboarding, it is read from that file; to refresh an onboarded team after a platform change, "
                "pass the output of `hooks/team_folders.py --snapshot .copier-answers.yml` (docs/onboard-team.md)"
            )
    return ""


def _shown(answers: Mapping, key: str) -> str:
    return repr(answers[key]) if key in answers else "nothing"


TEAM_NAME_MAX = 30


# {text of a team's answers file: its answers}: copier renders the team validators more than once per run (a team
# update checks the namespaces twice), and each check parsed every other team's answers file again. Keyed by the
# text, read each time (cheap): what is parsed is always what the file holds now.
_PARSED: dict[str, dict] = {}


def _team_answers(path: Path) -> dict:
    """A team's answers file, parsed once per distinct content in this process."""
    text = path.read_text()
    if text not in _PARSED:
        # libyaml where PyYAML has it: the pure-Python loader cost ~1.3 ms per onboarded team per check
        _PARSED[text] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return _PARSED[text]


def other_teams(destination: str | Path, team: str) -> dict[str, dict]:
    """Answers of every team onboarded in the destination repo except `team`."""
    found = {}
    for path in sorted(Path(destination).glob(".copier/team-*.yml")):
        name = path.name.removeprefix("team-").removesuffix(".yml")
        if name != team:
            found[name] = _team_answers(path)
    return found


def uncommitted_paths(destination: str | Path) -> list[str]:
    """What `git status` lists in the destination repo (changed, staged and untracked paths); [] outside git."""
    if not (Path(destination) / ".git").exists():
        return []
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=normal"], cwd=destination,
                          capture_output=True, text=True, check=False)
    return [line[3:] for line in done.stdout.splitlines() if line] if done.returncode == 0 else []


def team_name_problem(value: object, destination: str | Path = ".", operation: str = "copy",
                      external_data: object = None) -> str:
    """A new team's name: a DNS label that is no namespace of the platform, onboarded into a clean checkout
    (checked here because team_name is the first team question: nothing is written yet)."""
    problem = dns_label_problem(value, TEAM_NAME_MAX)
    if problem:
        return f"team_name {quoted_answer(value)}: {problem}"
    if operation != "copy":
        return ""  # the name is fixed once onboarded: it names the team's answers file
    platform = platform_answers(external_data)
    owner = namespace_owner(value, platform_snapshot(platform) if platform else None)
    if owner:
        return f"team_name '{value}' is reserved for the platform (a namespace of {owner}); choose another name"
    if (Path(destination) / ".copier" / f"team-{value}.yml").exists():
        return f"team '{value}' is already onboarded; change it with `copier update -a .copier/team-{value}.yml`"
    changed = uncommitted_paths(destination)
    if changed:
        listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        return (f"team_name '{value}': the platform repo has uncommitted changes ({listed}). Fix: commit or stash "
                "them first, so the onboarding is one reviewable change that later `copier update` runs can tell apart")
    return ""


def namespace_owners(destination: str | Path, team: str) -> dict[str, str]:
    """{namespace: team} for every namespace the other onboarded teams own."""
    return {str(ns): name for name, answers in other_teams(destination, team).items()
            for ns in answers.get("team_namespaces") or []}


def team_namespaces_problem(value: object, team: str, destination: str | Path = ".",
                            platform: Mapping | None = None) -> str:
    """The team's namespaces: DNS labels that neither the platform (as its answers say) nor another team uses."""
    if not isinstance(value, list) or not value:
        return "team_namespaces: give a YAML list of namespaces, e.g. [payments]"
    owners = namespace_owners(destination, team)
    for namespace in value:
        problem = dns_label_problem(namespace)
        if problem:
            return f"namespace {quoted_answer(namespace)}: {problem}"
        owner = namespace_owner(namespace, platform if isinstance(platform, Mapping) else None)
        if owner:
            return (f"namespace '{namespace}' belongs to the platform ({owner}); choose a namespace of the "
                    "team's own")
        if namespace in owners:
            return f"namespace '{namespace}' is already owned by team '{owners[namespace]}'; choose another"
        if value.count(namespace) > 1:
            return f"namespace '{namespace}' is listed twice"
    return ""


def team_clusters_problem(value: object, platform: Mapping) -> str:
    known = list(platform.get("clusters", []))
    if not isinstance(value, list) or not value:
        return f"team_clusters: give a YAML list of platform clusters ({', '.join(map(str, known))})"
    for cluster in value:
        if cluster not in known:
            return f"cluster '{cluster}' is not a platform cluster; choose from {', '.join(map(str, known))}"
        if value.count(cluster) > 1:
            return f"cluster '{cluster}' is listed twice"
    return ""


def team_tag_problem(value: object, platform: Mapping) -> str:
    tags = [t.get("name") for t in platform.get("istio_revision_tags", [])]
    if value not in tags:
        return f"team_revision_tag '{value}': use one of the platform's revision tags ({', '.join(map(str, tags))})"
    return ""


def team_egress_problem(value: object, platform: Mapping) -> str:
    if not isinstance(value, list):
        return "team_egress_hosts: give a YAML list of host names, or [] for none"
    allowed = platform.get("egress_allowed_hosts", []) if "egress" in platform.get("gateways_enabled", []) else []
    for host in value:
        problem = external_host_problem(host)
        if problem:
            return f"egress host {quoted_answer(host)}: {problem}"
        if host not in allowed:
            return (
                f"egress host '{host}' is not on the platform's egress allow-list ({', '.join(allowed) or 'empty'}); "
                "ask the network owners to add it to egress_allowed_hosts first"
            )
    return ""


def team_ingress_problem(value: object, namespaces: object, platform: Mapping, destination: str | Path = ".",
                         team: str = "") -> str:
    """Routes the network owners expose: hosts under the ingress domain, each claimed by one team only."""
    if not isinstance(value, list):
        return "team_ingress_routes: give a YAML list of {host, service, port}, or [] for none"
    if value and "ingress" not in platform.get("gateways_enabled", []):
        return "team_ingress_routes: the platform runs no ingress gateway; leave this empty"
    domain = str(platform.get("ingress_domain", "example.com"))
    team_namespaces = namespaces if isinstance(namespaces, list) else []
    claimed = ingress_host_owners(destination, team) if value else {}
    hosts: set[str] = set()
    for index, route in enumerate(value):
        if not isinstance(route, Mapping) or not {"host", "service", "port"} <= set(route) or set(route) - {"host", "service", "port", "namespace"}:
            return f"team_ingress_routes[{index}]: write {{host, service, port}} and optionally namespace"
        host = route["host"]
        problem = dns_subdomain_problem(host)
        if problem:
            return f"ingress host {quoted_answer(host)}: {problem}"
        if not str(host).endswith(f".{domain}"):
            return f"ingress host '{host}': the ingress gateway serves *.{domain}; use a host under it"
        if host in hosts:
            return f"ingress host '{host}' is listed twice"
        if host in claimed:
            return (f"ingress host '{host}' is already routed to team '{claimed[host]}' "
                    f"(.copier/team-{claimed[host]}.yml); choose another host, or ask that team to give it up first")
        hosts.add(host)
        problem = dns_label_problem(route["service"])
        if problem:
            return f"ingress route '{host}': service '{route['service']}': {problem}"
        if not isinstance(route["port"], int) or not 0 < route["port"] < 65536:
            return f"ingress route '{host}': port must be a number from 1 to 65535"
        if route.get("namespace", team_namespaces[0] if team_namespaces else None) not in team_namespaces:
            return f"ingress route '{host}': namespace must be one of the team's namespaces ({', '.join(map(str, team_namespaces))})"
    return ""


def ingress_host_owners(destination: str | Path, team: str) -> dict[str, str]:
    """{host: team} for every ingress host the other onboarded teams route."""
    return {str(route.get("host")): name for name, answers in other_teams(destination, team).items()
            for route in answers.get("team_ingress_routes") or [] if isinstance(route, Mapping)}
