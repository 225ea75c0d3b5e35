import sys

from istio_gitops_check.cli import main

sys.exit(main())
