"""What `make deploy-check` proves of the stack as shipped, beside `sam validate` and `sam build`.

Subcommands (each prints what it measured and exits non-zero when a bound is broken):
  runtime-python          the path of the Lambda runtime's Python on this machine
  layer BUILD_DIR         the built layer's unzipped size (bound: 230 MB) and what is in it
  image-root OUT          the image's task root as functions/Dockerfile makes it, without
                          Docker: its requirements as binary wheels for the runtime's Python and
                          Lambda's platform, and the code it copies
  resolve-arm64           whether every pin has a binary wheel for arm64 too (dry run)
  import-times BUILD_DIR IMAGE_ROOT
                          each handler's cold import from the artifacts alone, in units of
                          `import boto3` measured in the same runs (bound: 3x for the zip
                          functions)
  layer-usage BUILD_DIR IMAGE_ROOT REPORTS
                          after the built-artifact e2e: every distribution in the layer was
                          loaded by some zip function, and no function loaded anything from
                          outside its artifacts and the runtime's standard library

Only the standard library and samtranslator's YAML parser: it runs before anything else is
known to work.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
LAYER_LIMIT_BYTES = 230 * 1000 * 1000
# A zip handler's import is boto3, Powertools (whose Tracer patches httpx), pydantic and its
# own modules: 2.1-2.8x boto3's here. Start once imported qdrant-client at load: ~10x.
IMPORT_BOUND_BOTO3 = 3.0
IMPORT_RUNS = 9
# What the layer holds for the zip functions' invocations, never for their cold import: the
# Qdrant client and what only it loads (the bound above would miss numpy's ~0.1 s alone).
LAZY_IN_ZIP_FUNCTIONS = ("qdrant_client", "numpy", "grpc", "google.protobuf", "h2", "portalocker")
LAYER = "DocprocLayer"
# In the layer because a distribution there requires it, though no zip function imports it.
UNUSED_BUT_REQUIRED = {
    "portalocker": "qdrant-client's file lock for its embedded mode (~100 KB); REST never loads it",
}
# The bootstrap that stands in for Lambda's runtime client, under its two names.
RUNTIME_MODULES = {"__main__", "__mp_main__"}
# Lambda's python3.13 runtime is Amazon Linux 2023: glibc 2.34.
GLIBC_MINOR = 34


def _template() -> dict:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse((ROOT / "template.yaml").read_text())  # type: ignore[no-any-return]


def runtime_version() -> str:
    """ "3.13" from the functions' Runtime (one place says which Python Lambda runs)."""
    runtimes = {
        resource["Properties"]["Runtime"]
        for resource in _template()["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource["Properties"].get("PackageType") != "Image"
    }
    (runtime,) = runtimes
    return runtime.removeprefix("python")


def architecture() -> str:
    (arch,) = _template()["Globals"]["Function"]["Architectures"]
    return {"x86_64": "x86_64", "arm64": "aarch64"}[arch]


def find_runtime_python() -> str:
    version = runtime_version()
    name = f"python{version}"
    candidates = [shutil.which(name)]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    versions = Path(pyenv_root, "versions")
    candidates += [str(p) for p in sorted(versions.glob(f"{version}.*/bin/{name}"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    sys.exit(f"no working {name} found (PATH or pyenv): the Lambda runtime is {name}")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _distributions(site: Path) -> dict[str, set[Path]]:
    """Each installed distribution's files, from its RECORD."""
    out: dict[str, set[Path]] = {}
    for record in site.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0]
        files = set()
        for line in record.read_text().splitlines():
            relative = line.split(",")[0]
            if relative and not relative.startswith(".."):
                files.add((site / relative).resolve())
        out[name] = files
    return out


def layer(build_dir: Path) -> int:
    site = build_dir / LAYER / "python"
    total = _tree_size(build_dir / LAYER)
    print(f"layer {LAYER}: {_megabytes(total)} unzipped (bound {_megabytes(LAYER_LIMIT_BYTES)})")
    sizes = sorted(
        (
            (sum(f.stat().st_size for f in files if f.is_file()), name)
            for name, files in _distributions(site).items()
        ),
        reverse=True,
    )
    for size, name in sizes[:8]:
        print(f"  {name:<28} {_megabytes(size):>10}")
    if total > LAYER_LIMIT_BYTES:
        print("layer is over its bound", file=sys.stderr)
        return 1
    return 0


def platform_tags(arch: str) -> list[str]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)]
    return [*tags, f"manylinux2014_{arch}"]


def _pip_binary_args(python: str, arch: str) -> list[str]:
    version = runtime_version()
    # -qq: errors only (pip's notes about this machine's index settings are noise here)
    args = [
        python,
        "-m",
        "pip",
        "install",
        "-qq",
        "--root-user-action=ignore",
        "--only-binary=:all:",
    ]
    for tag in platform_tags(arch):
        args += ["--platform", tag]
    return [*args, "--python-version", version, "--implementation", "cp"]


def _dockerfile() -> tuple[str, list[tuple[list[str], str]], list[list[str]]]:
    """FROM image, COPY (sources, destination) and RUN pip install arguments, in order."""
    text = (ROOT / "functions" / "Dockerfile").read_text().replace("\\\n", " ")
    base, copies, installs = "", [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction == "FROM":
            base = rest.strip()
        elif instruction == "COPY":
            *sources, destination = shlex.split(rest)
            copies.append((sources, destination))
        elif instruction == "RUN":
            command = rest.split("&&")[0]
            words = shlex.split(command)
            if words[:2] != ["pip", "install"]:
                sys.exit(f"functions/Dockerfile: deploy-check cannot reproduce RUN {command}")
            installs.append(words[2:])
        elif instruction != "CMD":
            sys.exit(f"functions/Dockerfile: deploy-check cannot reproduce {instruction}")
    return base, copies, installs


def _dockerignore_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: ``*`` and ``?`` stay within one path
    element, ``**`` crosses them."""
    parts = re.split(r"(\*\*|\*|\?)", pattern.strip("/"))
    wildcards = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts) + "$")


def _in_build_context(source: str) -> bool:
    """Whether ``docker build`` would send ``source`` (a path in the repository) with the
    build context: the last .dockerignore rule that matches it or a folder above it decides."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, _dockerignore_pattern(line.lstrip("!"))))
    path = source.strip("/")
    parents = [str(p) for p in reversed(PurePosixPath(path).parents) if str(p) != "."]
    included = True
    for negated, pattern in rules:
        if any(pattern.match(candidate) for candidate in [*parents, path]):
            included = negated
    return included


def image_root(out: Path) -> int:
    python = find_runtime_python()
    base, copies, installs = _dockerfile()
    version = runtime_version()
    if not base.endswith(f"python:{version}"):
        print(f"Dockerfile FROM {base} is not the runtime python{version}", file=sys.stderr)
        return 1
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    task_root = "${LAMBDA_TASK_ROOT}"
    # A COPY of something .dockerignore leaves out of the context fails `docker build`.
    excluded = [src for sources, _ in copies for src in sources if not _in_build_context(src)]
    if excluded:
        print(f".dockerignore leaves out what the Dockerfile copies: {excluded}", file=sys.stderr)
        return 1
    # Where the Dockerfile's COPYs put files that are not in the task root (requirements).
    staged: dict[str, Path] = {}
    for sources, destination in copies:
        for source in sources:
            if destination.startswith(task_root):
                target = out / destination.removeprefix(task_root).lstrip("/")
                if (ROOT / source).is_dir():
                    shutil.copytree(
                        ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / source, target)
            else:
                staged[str(Path(destination) / Path(source).name)] = ROOT / source
    for words in installs:
        args = []
        for word in words:
            args.append(str(staged.get(word, word)).replace(task_root, str(out)))
        command = [
            *_pip_binary_args(python, architecture()),
            *[a for a in args if a != "--no-cache-dir"],
        ]
        subprocess.run(command, check=True)
    size = _megabytes(_tree_size(out))
    print(f"image task root (python{version}, {architecture()}): {size} in {out}")
    return 0


def resolve_arm64() -> int:
    python = find_runtime_python()
    requirements = sorted((ROOT / "layers" / "docproc").glob("requirements*.txt"))
    command = [
        *_pip_binary_args(python, "aarch64"),
        "--dry-run",
        "--ignore-installed",
        "--target",
        str(ROOT / "build" / "arm64-dry-run"),
    ]
    for path in requirements:
        if path.name != "requirements-local.txt":
            command += ["-r", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        print("arm64: some pin has no binary wheel for it", file=sys.stderr)
        return 1
    print(f"arm64 (python{runtime_version()}): every pin resolves to a binary wheel")
    return 0


def _functions() -> list[tuple[str, str, bool]]:
    """(logical id, handler, is an image) of every function."""
    out = []
    for name, resource in _template()["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        if properties.get("PackageType") == "Image":
            out.append((name, properties["ImageConfig"]["Command"][0], True))
        else:
            out.append((name, properties["Handler"], False))
    return out


def _paths(name: str, image: bool, build_dir: Path, image_dir: Path) -> list[str]:
    if image:
        return [str(image_dir)]
    return [str(build_dir / name), str(build_dir / LAYER / "python")]


def _lambda_environment(name: str, image: bool, build_dir: Path, image_dir: Path) -> dict[str, str]:
    """What Lambda's runtime sets that an import reacts to (the X-Ray SDK, for one, samples
    locally when LAMBDA_TASK_ROOT is set instead of creating a client for central sampling)."""
    return {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "LAMBDA_TASK_ROOT": str(image_dir if image else build_dir / name),
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }


def _cold_import(
    python: str, module: str, paths: list[str], env: dict[str, str]
) -> tuple[float, list[str]]:
    """CPU seconds to import ``module`` in a fresh ``python -I -S -B`` whose path is ``paths``,
    and which of ``LAZY_IN_ZIP_FUNCTIONS`` that loaded."""
    probe = (
        "import importlib, sys, time; sys.path[:0] = sys.argv[3:]; t = time.process_time(); "
        "importlib.import_module(sys.argv[1]); print(time.process_time() - t); "
        "print(' '.join(m for m in sys.argv[2].split() if m in sys.modules))"
    )
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", probe, module, " ".join(LAZY_IN_ZIP_FUNCTIONS), *paths],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr[-2000:]}")
    seconds, loaded = result.stdout.splitlines()[-2:]
    return float(seconds), loaded.split()


def import_ratio(handler_runs: list[float], sdk_runs: list[float]) -> float:
    """A handler's cold import in units of the AWS SDK's, each the fastest of its runs: this
    shared machine's noise only adds time, and the runs are interleaved so that a slow spell
    slows both."""
    return min(handler_runs) / min(sdk_runs)


def import_times(build_dir: Path, image_dir: Path) -> int:
    """Lambda's file system is read-only: nothing compiled at one cold start is kept for the
    next, so each run here writes no bytecode either (``-B``). The bound is a ratio to
    ``import boto3`` from the same layer, measured in the same runs, not a time: how fast this
    machine is moves both alike."""
    python = find_runtime_python()
    layer_path = str(build_dir / LAYER / "python")
    print(
        f"cold import of each handler from its artifacts, CPU time, fastest of {IMPORT_RUNS} runs,"
        " no bytecode written, against `import boto3` from the layer in runs interleaved with"
        f" them; a zip function's import loads none of {', '.join(LAZY_IN_ZIP_FUNCTIONS)}:"
    )
    failures = 0
    for name, handler, image in _functions():
        env = _lambda_environment(name, image, build_dir, image_dir)
        paths = _paths(name, image, build_dir, image_dir)
        module = handler.rpartition(".")[0]
        handler_runs: list[float] = []
        sdk_runs: list[float] = []
        try:
            for _ in range(IMPORT_RUNS):
                seconds, loaded = _cold_import(python, module, paths, env)
                handler_runs.append(seconds)
                sdk_runs.append(_cold_import(python, "boto3", [layer_path], env)[0])
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        ratio = import_ratio(handler_runs, sdk_runs)
        bound = None if image else IMPORT_BOUND_BOTO3
        eager = [] if image else loaded
        verdict = "" if bound is None else ("ok" if ratio <= bound and not eager else "OVER")
        failures += verdict == "OVER"
        limit = f"<= {bound}x" if bound else "(image)"
        print(
            f"  {name:<24} {min(handler_runs):.3f} s, boto3 {min(sdk_runs):.3f} s:"
            f" {ratio:.2f}x  {limit:>8}  {verdict}"
            + (f"  loads {', '.join(eager)} at import" if eager else "")
        )
    return 1 if failures else 0


def layer_usage(build_dir: Path, image_root: Path, reports: Path) -> int:
    site = (build_dir / LAYER / "python").resolve()
    distributions = _distributions(site)
    runtime_lib = Path(find_runtime_python()).resolve().parents[1] / "lib"
    allowed = [site, build_dir.resolve()]
    used: set[str] = set()
    outside: dict[str, set[str]] = defaultdict(set)
    zip_functions = {name for name, _, image in _functions() if not image}
    for report in sorted(reports.glob("*.txt")):
        function = report.stem
        for line in report.read_text().splitlines():
            module, _, file = line.partition("\t")
            if not file or module in RUNTIME_MODULES:
                continue
            path = Path(file).resolve()
            if function in zip_functions:
                for distribution, files in distributions.items():
                    if path in files:
                        used.add(distribution)
                if not any(path.is_relative_to(root) for root in allowed) and not _stdlib(
                    path, runtime_lib
                ):
                    outside[function].add(module)
            elif not path.is_relative_to(image_root.resolve()) and not _stdlib(path, runtime_lib):
                outside[function].add(module)
    status = 0
    seen = sorted(p.stem for p in reports.glob("*.txt"))
    print(f"modules loaded by: {', '.join(seen)}")
    missing = sorted(zip_functions - set(seen))
    if missing:
        print(f"no report from {', '.join(missing)}: did the e2e invoke them?", file=sys.stderr)
        status = 1
    unused = sorted(set(distributions) - used - set(UNUSED_BUT_REQUIRED))
    print(f"layer distributions: {len(distributions)}, loaded by a zip function: {len(used)}")
    for name, why in UNUSED_BUT_REQUIRED.items():
        print(f"  not loaded, kept: {name} ({why})")
    if unused:
        print(f"in the layer but loaded by no zip function: {', '.join(unused)}", file=sys.stderr)
        status = 1
    for function, modules in sorted(outside.items()):
        print(
            f"{function} loaded from outside its artifacts: {', '.join(sorted(modules)[:10])}",
            file=sys.stderr,
        )
        status = 1
    return status


def _stdlib(path: Path, runtime_lib: Path) -> bool:
    """Part of the runtime's own standard library, not a site-packages of its."""
    return path.is_relative_to(runtime_lib) and "site-packages" not in path.parts


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    command, *args = argv
    if command == "runtime-python":
        print(find_runtime_python())
        return 0
    if command == "layer":
        return layer(Path(args[0]))
    if command == "image-root":
        return image_root(Path(args[0]))
    if command == "resolve-arm64":
        return resolve_arm64()
    if command == "import-times":
        return import_times(Path(args[0]), Path(args[1]))
    if command == "layer-usage":
        return layer_usage(Path(args[0]), Path(args[1]), Path(args[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
