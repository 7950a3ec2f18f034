"""The jars an Apache Spark session needs to read kappanb's JDBC catalog (and its views).

Resolved by Maven from kappanb/jvm/spark/pom.xml (so the user's settings.xml mirrors and
proxies apply), checked against kappanb/jvm/spark/jars.lock, cached per user beside the
stack's jars in a folder named after the lock's digest. The Flink stack never asks for
them: only a Spark reader does (``spark.jars``, see README "Reading the served version
from another engine").
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from kappanb.exceptions import JarResolutionError, JarVerificationError, MavenNotFoundError
from kappanb.settings import StackSettings
from kappanb.stack.jars import sha256_of

_VERIFIED_MARKER = ".verified"


def _spark_folder() -> Path:
    return Path(str(resources.files("kappanb") / "jvm" / "spark"))


def read_lock(path: Path | None = None) -> dict[str, str]:
    """``{jar file name: sha256}`` from the Spark reader's jars.lock."""
    lock: dict[str, str] = {}
    for line in (path or _spark_folder() / "jars.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            lock[name.strip()] = digest
    return lock


def cache_root(settings: StackSettings) -> Path:
    digest = hashlib.sha256((_spark_folder() / "jars.lock").read_bytes()).hexdigest()[:12]
    return settings.cache_dir / "spark-jars" / digest


def spark_jars(settings: StackSettings | None = None) -> list[Path]:
    """The verified jars (resolving them first when the cache lacks them)."""
    root = cache_root(settings or StackSettings.from_env())
    lock = read_lock()
    if not (root / _VERIFIED_MARKER).is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root.parent, prefix=".resolving-") as tmp:
            staging = Path(tmp) / "jars"
            resolve(staging)
            verify(staging, lock)
            (staging / _VERIFIED_MARKER).write_text("ok\n")
            if root.exists():
                shutil.rmtree(root)
            staging.replace(root)
    return [root / name for name in sorted(lock)]


def resolve(out_dir: Path) -> None:
    """Maven's copy-dependencies of the Spark reader's pom into ``out_dir``."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise MavenNotFoundError(
            "Maven (mvn) is needed to fetch the Spark reader's jars and is not on PATH: "
            "install it (Debian/Ubuntu: `apt-get install maven`)"
        )
    with tempfile.TemporaryDirectory(prefix="kappanb-spark-pom-") as work:
        pom = Path(work) / "pom.xml"
        shutil.copyfile(_spark_folder() / "pom.xml", pom)
        argv = [mvn, "-B", "-C", "-f", str(pom), "dependency:copy-dependencies",
                f"-DoutputDirectory={out_dir}", "-DincludeScope=runtime",
                "-DexcludeTransitive=true"]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=work, check=False)
    if proc.returncode != 0:
        errors = [ln for ln in proc.stdout.splitlines() if ln.startswith("[ERROR]")][:6]
        raise JarResolutionError(
            "Maven could not resolve the Spark reader's jars:\n"
            + ("\n".join(errors) or proc.stdout[-2000:])
            + "\nIf you use a proxy or a mirror, set it in ~/.m2/settings.xml."
        )


def verify(folder: Path, lock: dict[str, str]) -> None:
    """Raise unless ``folder`` holds exactly the locked jars with their checksums."""
    problems = [
        f"missing {name}" if not (folder / name).is_file() else f"wrong checksum {name}"
        for name, digest in lock.items()
        if not (folder / name).is_file() or sha256_of(folder / name) != digest
    ]
    problems += [f"unexpected {p.name}" for p in folder.glob("*.jar") if p.name not in lock]
    if problems:
        raise JarVerificationError(
            f"the Spark reader's jars in {folder} do not match kappanb/jvm/spark/jars.lock: "
            + ", ".join(problems)
        )


def _main(argv: list[str]) -> int:
    if argv[:1] == ["lock"]:
        with tempfile.TemporaryDirectory() as tmp:
            resolve(Path(tmp))
            lines = ["# sha256  jar — the Spark reader's jars (kappanb/jvm/spark/pom.xml); "
                     "`python -m kappanb.stack.spark_jars lock` rewrites it"]  # fmt: skip
            lines += [f"{sha256_of(p)}  {p.name}" for p in sorted(Path(tmp).glob("*.jar"))]
            (_spark_folder() / "jars.lock").write_text("\n".join(lines) + "\n")
        return 0
    if argv:
        print(
            f"unknown argument {argv[0]!r}: `python -m kappanb.stack.spark_jars` prints the "
            "jars for spark.jars; `... lock` rewrites kappanb/jvm/spark/jars.lock",
            file=sys.stderr,
        )
        return 2
    print(",".join(str(p) for p in spark_jars()))  # for spark.jars
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
