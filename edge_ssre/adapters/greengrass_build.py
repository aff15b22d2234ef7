"""``edge-ssre greengrass build``: runs the project's ``tools/build_greengrass.py``, the script that
``gdk component build`` runs (gdk-config.json), so both paths write the same files from the same
recipe template. Host side only: the component's runtime (``greengrass.py``) never imports this.

The build makes the wheel from the source tree, so it needs a checkout: the current directory,
``--project DIR``, or the checkout this package is installed from in editable mode.
"""

import os
import subprocess
import sys

SCRIPT = os.path.join("tools", "build_greengrass.py")


def project_root(explicit=None):
    """The first of ``explicit``, the current directory and this package's checkout that holds the
    recipe template and the build script; OSError saying where it looked otherwise."""
    here = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    roots = [os.path.abspath(explicit)] if explicit else [os.getcwd(), here]
    for root in roots:
        if os.path.exists(os.path.join(root, SCRIPT)) and os.path.exists(os.path.join(root, "recipe.yaml")):
            return root
    raise OSError("no edge_ssre project (recipe.yaml and %s) in %s: the build makes the wheel from the "
                  "source tree, so run it in a checkout or give --project DIR" % (SCRIPT, " or ".join(roots)))


def main(args):
    root = project_root(args.project)
    cmd = [sys.executable, os.path.join(root, SCRIPT), "--project", root, "--out", args.out]
    if args.version:
        cmd += ["--version", args.version]
    if args.bucket:
        cmd += ["--bucket", args.bucket]
    return subprocess.call(cmd)
