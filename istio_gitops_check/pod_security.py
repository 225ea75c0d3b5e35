"""What Pod Security Admission does with a pod: the Pod Security Standards (Kubernetes 1.30+), `baseline` and
`restricted`, checked on a pod spec the way the built-in admission plugin checks it.

A namespace's `pod-security.kubernetes.io/enforce` label picks the level; a pod that breaks it is refused when a
controller creates it, so a Deployment syncs and its pods never start. The check runs this on the pod templates
of every workload the repo applies, with the containers sidecar injection adds (see `injected_containers`).
"""

from __future__ import annotations

from typing import Any, Iterator

LEVELS = ("privileged", "baseline", "restricted")
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes"})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUMES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"})


def namespace_level(namespace: dict | None) -> str:
    """The level a namespace enforces; without the label the cluster default, `privileged`."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    level = str(labels.get("pod-security.kubernetes.io/enforce", "privileged"))
    return level if level in LEVELS else "restricted"  # an unknown level is refused by the API server; be strict


def _containers(spec: dict) -> Iterator[dict]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in spec.get(field) or [] if isinstance(c, dict))


def _context(item: dict) -> dict:
    return item.get("securityContext") or {}


def baseline_violations(spec: dict, annotations: dict | None = None) -> list[str]:
    found: list[str] = []
    pod = _context(spec)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"{field}=true")
    for container in _containers(spec):
        name, sc = container.get("name", "?"), _context(container)
        if sc.get("privileged"):
            found.append(f"container {name!r} is privileged")
        added = set((sc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            found.append(f"container {name!r} adds capabilities {sorted(added)}")
        ports = [p.get("hostPort") for p in container.get("ports") or [] if p.get("hostPort")]
        if ports:
            found.append(f"container {name!r} uses hostPort {ports}")
        if sc.get("procMount") not in (None, "Default"):
            found.append(f"container {name!r} sets procMount {sc['procMount']!r}")
    for item, where in [(pod, "the pod")] + [(_context(c), f"container {c.get('name', '?')!r}") for c in _containers(spec)]:
        if (item.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where} is a Windows HostProcess")
        if (item.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where} sets seccompProfile Unconfined")
        if (item.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
            found.append(f"{where} sets appArmorProfile {item['appArmorProfile']['type']}")
        selinux = item.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            found.append(f"{where} sets seLinuxOptions {selinux}")
    for key, value in (annotations or {}).items():
        if str(key).startswith("container.apparmor.security.beta.kubernetes.io/") \
                and not (value == "runtime/default" or str(value).startswith("localhost/")):
            found.append(f"annotation {key}={value}")
    if any("hostPath" in v for v in spec.get("volumes") or []):
        found.append("a hostPath volume")
    unsafe = sorted(s.get("name") for s in pod.get("sysctls") or [] if s.get("name") not in SAFE_SYSCTLS)
    if unsafe:
        found.append(f"unsafe sysctls {unsafe}")
    return found


def restricted_violations(spec: dict) -> list[str]:
    found: list[str] = []
    pod = _context(spec)
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if kinds and not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume.get('name')!r} of type {sorted(kinds - RESTRICTED_VOLUMES)}")
    pod_seccomp = (pod.get("seccompProfile") or {}).get("type")
    for container in _containers(spec):
        name, sc = container.get("name", "?"), _context(container)
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"container {name!r} does not set allowPrivilegeEscalation=false")
        non_root = sc.get("runAsNonRoot", pod.get("runAsNonRoot"))
        if non_root is not True:
            found.append(f"container {name!r} may run as root (runAsNonRoot is not true)")
        if sc.get("runAsUser", pod.get("runAsUser")) == 0:
            found.append(f"container {name!r} runs as user 0")
        if (sc.get("seccompProfile") or {}).get("type", pod_seccomp) not in ("RuntimeDefault", "Localhost"):
            found.append(f"container {name!r} has no seccompProfile RuntimeDefault or Localhost")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"container {name!r} does not drop ALL capabilities")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"container {name!r} adds capabilities beyond NET_BIND_SERVICE")
    if pod.get("runAsUser") == 0:
        found.append("the pod runs as user 0")
    return found


def violations(pod: dict[str, Any], level: str) -> list[str]:
    """Why Pod Security at `level` refuses this pod; empty when it is admitted."""
    if level == "privileged":
        return []
    spec = pod.get("spec") or {}
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    found = baseline_violations(spec, annotations)
    if level == "restricted":
        found += restricted_violations(spec)
    return found
