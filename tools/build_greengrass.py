#!/usr/bin/env python3
"""Build the Greengrass component from the recipe template: what `gdk component build` runs
(gdk-config.json's custom build command) and what `edge-ssre greengrass build` runs.

    python3 tools/build_greengrass.py [--out greengrass-build] [--version V] [--bucket B] [--project DIR]

Writes, where GDK's `gdk component publish` reads them:
    greengrass-build/recipes/recipe.yaml                          the template, placeholders filled in
    greengrass-build/artifacts/<component>/<version>/edge_ssre.zip   the wheel (Unarchive: ZIP)

<component>, the author and <version> come from gdk-config.json (the artifact folder is named by the
version string as written there, "NEXT_PATCH" included, because that is the folder GDK's publish
uploads; publish then sets the version it resolves). --version overrides it for builds without GDK,
--bucket fills the artifact URI's BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION for an upload by hand.

Before writing, the built recipe is checked as the nucleus will read it: platforms the nucleus
recognises (os linux, architecture amd64 | x86 | arm | aarch64), `{configuration:/...}` pointers
that name scalars (never `{configuration:/}`), accessControl that grants what the default
configuration uses and no bare "*", artifacts present, size within GDK's 16,000 bytes. Needs
PyYAML (GDK depends on it). Exit 0 when built, 1 when a check fails, 2 on usage errors.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TEMPLATE = "recipe.yaml"
ARTIFACT = "edge_ssre.zip"
# com.amazon.aws.iot.greengrass.component.common.Platform.Architecture / nucleus PlatformResolver
NUCLEUS_ARCHITECTURES = ("amd64", "x86", "arm", "aarch64")
NUCLEUS_OSES = ("linux", "windows", "darwin")
MAX_RECIPE_BYTES = 16000  # GDK's limit for a recipe file (gdk/common/consts.py)
POINTER = re.compile(r"\{configuration:([^:}]*)\}")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same wheel gives the same zip


class BuildError(Exception):
    pass


def gdk_settings(project):
    """(component name, version as written, author) from gdk-config.json."""
    path = os.path.join(project, "gdk-config.json")
    try:
        with open(path) as fh:
            conf = json.load(fh)
        name, comp = next(iter(conf["component"].items()))
    except (OSError, ValueError, KeyError, StopIteration, AttributeError) as exc:
        raise BuildError("%s: cannot read the component from it (%s)" % (path, exc)) from None
    return name, str(comp.get("version", "NEXT_PATCH")), str(comp.get("author", ""))


def package_version(project):
    text = open(os.path.join(project, "pyproject.toml")).read()
    m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        raise BuildError("pyproject.toml has no version")
    return m.group(1)


def build_wheel(project, dest):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                          "--disable-pip-version-check", "-w", dest, project], capture_output=True, text=True)
    if res.returncode != 0:
        raise BuildError("building the wheel failed: %s" % ((res.stderr or res.stdout).strip().splitlines()
                                                             or ["pip gave no reason"])[-1])
    wheels = sorted(f for f in os.listdir(dest) if f.startswith("edge_ssre-") and f.endswith("-py3-none-any.whl"))
    if len(wheels) != 1:
        raise BuildError("expected one edge_ssre wheel in %s, found %s" % (dest, wheels or "none"))
    return os.path.join(dest, wheels[0])


def write_zip(wheel, path):
    """The artifact: the wheel at the zip's root, so the nucleus unpacks it into
    {artifacts:decompressedPath}/edge_ssre/."""
    info = zipfile.ZipInfo(os.path.basename(wheel), ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED  # a wheel is already compressed
    info.external_attr = 0o644 << 16
    with open(wheel, "rb") as src, zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, src.read())


def fill(template, name, version, author, bucket=None):
    text = (template.replace("{COMPONENT_NAME}", name).replace("{COMPONENT_VERSION}", version)
            .replace("{COMPONENT_AUTHOR}", author))
    if bucket:
        text = text.replace("s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/",
                            "s3://%s/%s/%s/" % (bucket, name, version))
    return text


def _walk_strings(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, "%s/%s" % (path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_strings(v, "%s/%d" % (path, i))
    elif isinstance(node, str):
        yield path, node


def _pointer(conf, pointer):
    """The value at a JSON pointer (RFC 6901, as the nucleus's Jackson ``at`` reads it), or KeyError."""
    if not pointer.startswith("/"):
        raise KeyError(pointer)
    node = conf
    for part in pointer[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(pointer)
    return node


def check_recipe(recipe, name, project):
    """(errors, warnings): what the nucleus (or GDK's publish) would refuse in the filled-in recipe."""
    sys.path.insert(0, project)
    from edge_ssre.adapters import greengrass as gg
    errors, warnings = [], []
    if recipe.get("RecipeFormatVersion") != "2020-01-25":
        errors.append("RecipeFormatVersion must be 2020-01-25")
    if recipe.get("ComponentName") != name:
        errors.append("ComponentName %r is not gdk-config.json's %r" % (recipe.get("ComponentName"), name))
    conf = ((recipe.get("ComponentConfiguration") or {}).get("DefaultConfiguration")) or {}
    manifests = recipe.get("Manifests") or []
    if not manifests:
        errors.append("no Manifests")
    for i, m in enumerate(manifests):
        plat = m.get("Platform") or {}
        if plat.get("os") not in NUCLEUS_OSES:
            errors.append("Manifests/%d: os %r is not one the nucleus reports (%s)"
                          % (i, plat.get("os"), ", ".join(NUCLEUS_OSES)))
        arch = plat.get("architecture")
        if arch is not None and arch not in NUCLEUS_ARCHITECTURES:
            errors.append("Manifests/%d: architecture %r is not one the nucleus reports (%s); 32-bit ARM is "
                          "'arm' (armv7l is architecture.detail)" % (i, arch, ", ".join(NUCLEUS_ARCHITECTURES)))
    for where, text in _walk_strings(manifests, "/Manifests"):
        for ptr in POINTER.findall(text):
            try:
                value = _pointer(conf, ptr)
            except KeyError:
                errors.append("%s: {configuration:%s} names no DefaultConfiguration value (the nucleus "
                              "would leave the text as it is)" % (where, ptr))
                continue
            if isinstance(value, (dict, list)):
                errors.append("%s: {configuration:%s} is not a scalar; the component reads structured "
                              "configuration over IPC (GetConfiguration)" % (where, ptr))
    acl = conf.get("accessControl") or {}
    for service, policies in acl.items():
        for pid, pol in (policies or {}).items():
            for res in (pol or {}).get("resources") or []:
                if res in ("*", "#"):
                    errors.append("accessControl %s %s grants every topic (%r): list the topics" % (service, pid, res))
    try:
        settings = gg.parse_configuration(conf)
    except ValueError as exc:
        errors.append("DefaultConfiguration: %s" % exc)
    else:
        errors.extend("accessControl does not grant %s (the default configuration uses it)" % line
                      for line in gg.missing_grants(settings, acl))
        needed = gg.required_grants(settings)
        for service, ops in needed.items():
            for op in ops:
                extra = [r for r in gg.granted(acl, service, op) if r not in ops[op]]
                if extra:
                    warnings.append("accessControl grants %s %s beyond the default configuration: %s"
                                    % (service, op, ", ".join(extra)))
    return errors, warnings


def build(project=ROOT, out=None, version=None, bucket=None):
    """Build; returns (recipe path, artifact path). Raises BuildError."""
    try:
        import yaml
    except ImportError:
        raise BuildError("PyYAML is needed to check the recipe: pip install pyyaml (GDK depends on it)") from None
    project = os.path.abspath(project)
    out = os.path.abspath(out or os.path.join(project, "greengrass-build"))
    name, gdk_version, author = gdk_settings(project)
    folder = version or gdk_version
    recipe_version = version or (gdk_version if gdk_version != "NEXT_PATCH" else package_version(project))
    with open(os.path.join(project, TEMPLATE)) as fh:
        template = fh.read()
    text = fill(template, name, recipe_version, author, bucket)
    recipe = yaml.safe_load(text)
    errors, warnings = check_recipe(recipe, name, project)
    if len(text.encode()) > MAX_RECIPE_BYTES:
        errors.append("the recipe is %d bytes; GDK publishes at most %d" % (len(text.encode()), MAX_RECIPE_BYTES))
    for w in warnings:
        sys.stderr.write("build_greengrass: warning: %s\n" % w)
    if errors:
        raise BuildError("the recipe would not deploy:\n  " + "\n  ".join(errors))
    art_dir = os.path.join(out, "artifacts", name, folder)
    rec_dir = os.path.join(out, "recipes")
    shutil.rmtree(art_dir, ignore_errors=True)
    os.makedirs(art_dir)
    os.makedirs(rec_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(project, tmp)
        write_zip(wheel, os.path.join(art_dir, ARTIFACT))
    for m in recipe.get("Manifests") or []:
        for art in m.get("Artifacts") or []:
            file_name = str(art.get("URI", "")).rsplit("/", 1)[-1]
            if not os.path.isfile(os.path.join(art_dir, file_name)):
                raise BuildError("the recipe names artifact %s, which the build does not make (it makes %s)"
                                 % (file_name, ARTIFACT))
    path = os.path.join(rec_dir, TEMPLATE)
    with open(path, "w") as fh:
        fh.write(text)
    return path, os.path.join(art_dir, ARTIFACT)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=ROOT, help="the edge_ssre checkout (default: this script's)")
    ap.add_argument("--out", default=None, help="output folder (default: PROJECT/greengrass-build)")
    ap.add_argument("--version", default=None, help="component version (default: gdk-config.json's)")
    ap.add_argument("--bucket", default=None, help="fill the artifact URI for this S3 bucket (GDK's publish "
                                                   "does it otherwise)")
    args = ap.parse_args(argv)
    try:
        recipe, artifact = build(args.project, args.out, args.version, args.bucket)
    except BuildError as exc:
        sys.stderr.write("build_greengrass: %s\n" % exc)
        return 1
    except OSError as exc:
        sys.stderr.write("build_greengrass: %s\n" % exc)
        return 2
    print("wrote %s and %s" % (recipe, artifact))
    return 0


if __name__ == "__main__":
    sys.exit(main())
