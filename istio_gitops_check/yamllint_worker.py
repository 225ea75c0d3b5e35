"""One core's share of yamllint (repository_checks._lint_all): {"config", "texts"} on stdin, the problems of
each text as JSON on stdout."""

import json
import sys

from istio_gitops_check.repository_checks import lint_texts

job = json.load(sys.stdin)
json.dump(lint_texts(job["config"], job["texts"]), sys.stdout)
