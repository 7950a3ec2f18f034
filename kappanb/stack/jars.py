"""The stack's JVM jars: resolved by Maven from kappanb/jvm/pom.xml, verified by jars.lock.

Layout of a jar folder (the per-user cache, or ``KAPPANB_JARS_DIR``)::

    <root>/kafka/*.jar   the broker's classpath
    <root>/flink/*.jar   added to the Flink session cluster's lib/
    <root>/flink-sql-client/*.jar   for Flink's own SQL client, beside the cluster's lib/
    <root>/flink-s3-plugin/*.jar    the local cluster's Flink S3 file system plugin
    <root>/flink-cluster/*.jar      added to the local cluster's Flink lib/ (Iceberg on S3)

The cache folder is named after the lock file's digest, so a new pin gets a new
folder and an old kappanb keeps working beside a new one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kappanb.exceptions import JarResolutionError, JarVerificationError, MavenNotFoundError
from kappanb.settings import StackSettings

PROFILES = ("kafka", "flink", "flink-sql-client", "flink-s3-plugin", "flink-cluster")
_MAVEN_ARGS = {
    "kafka": ["-DincludeScope=runtime"],
    # Shaded jars: their own dependencies are inside them or in Flink's lib/.
    "flink": ["-DincludeScope=runtime", "-DexcludeTransitive=true"],
    # The rest of the SQL client's classpath is the Flink distribution's lib/.
    "flink-sql-client": ["-DincludeScope=runtime", "-DexcludeTransitive=true"],
    # A plugin is one self-contained jar; the AWS bundle is shaded.
    "flink-s3-plugin": ["-DincludeScope=runtime", "-DexcludeTransitive=true"],
    "flink-cluster": ["-DincludeScope=runtime", "-DexcludeTransitive=true"],
}
_VERIFIED_MARKER = ".verified"

Lock = dict[str, dict[str, str]]


def pom_file() -> Path:
    return Path(str(resources.files("kappanb") / "jvm" / "pom.xml"))


def lock_file() -> Path:
    return Path(str(resources.files("kappanb") / "jvm" / "jars.lock"))


def read_lock(path: Path | None = None) -> Lock:
    """``{profile: {file name: sha256}}`` from jars.lock."""
    lock: Lock = {p: {} for p in PROFILES}
    for line in (path or lock_file()).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, name = line.split(maxsplit=1)
        profile, _, filename = name.partition("/")
        lock[profile][filename] = digest
    return lock


def lock_digest() -> str:
    return hashlib.sha256(lock_file().read_bytes()).hexdigest()[:12]


@dataclass(frozen=True)
class JarSet:
    """Verified jar folders, one per profile."""

    root: Path

    def folder(self, profile: str) -> Path:
        return self.root / profile

    def jars(self, profile: str) -> list[Path]:
        return sorted(self.folder(profile).glob("*.jar"))


@dataclass(frozen=True)
class SetupResult:
    jars: JarSet
    resolved: bool
    """False when the cache was already complete and nothing was fetched."""


class JarCache:
    """Finds, fetches and verifies the stack's jars for one set of settings."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.lock = read_lock()

    @property
    def root(self) -> Path:
        if self.settings.jars_dir is not None:
            return self.settings.jars_dir
        return self.settings.cache_dir / "jars" / lock_digest()

    def is_complete(self) -> bool:
        """Cheap check: every locked jar present with a verified marker for this lock."""
        marker = self.root / _VERIFIED_MARKER
        if not marker.is_file() or marker.read_text().strip() != lock_digest():
            return False
        return all(
            (self.root / profile / name).is_file()
            for profile, files in self.lock.items()
            for name in files
        )

    def jar_set(self) -> JarSet:
        """The verified jars, resolving them first if needed."""
        return self.ensure().jars

    def ensure(self, say: Callable[[str], None] = lambda _msg: None) -> SetupResult:
        """Make the jar folder complete and verified; a no-op when it already is."""
        if self.is_complete():
            return SetupResult(JarSet(self.root), resolved=False)
        if self.settings.jars_dir is not None:
            verify(self.root, self.lock)
            _write_marker(self.root)
            return SetupResult(JarSet(self.root), resolved=False)
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root.parent, prefix=".resolving-") as tmp:
            staging = Path(tmp) / "jars"
            for profile in PROFILES:
                say(f"resolving {profile} jars with Maven ...")
                resolve_profile(profile, staging / profile)
            verify(staging, self.lock)
            _write_marker(staging)
            if self.root.exists():
                shutil.rmtree(self.root)
            staging.replace(self.root)
        return SetupResult(JarSet(self.root), resolved=True)


def resolve_profile(profile: str, out_dir: Path) -> None:
    """Run Maven's copy-dependencies for one profile of the pom into ``out_dir``."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise MavenNotFoundError(
            "Maven (mvn) is needed to fetch the stack's jars and is not on PATH. Install it "
            "(Debian/Ubuntu: `apt-get install maven`), or set KAPPANB_JARS_DIR to a folder "
            "filled by `kappanb setup` on a machine that has Maven (see README)."
        )
    with tempfile.TemporaryDirectory(prefix="kappanb-pom-") as work:
        pom = Path(work) / "pom.xml"
        shutil.copyfile(pom_file(), pom)
        argv = [
            mvn,
            "-B",
            "-C",
            "-f",
            str(pom),
            "-P",
            profile,
            "dependency:copy-dependencies",
            f"-DoutputDirectory={out_dir}",
            *_MAVEN_ARGS[profile],
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=work, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stdout.splitlines() if _is_cause(ln)][:6]
        detail = "\n".join(lines) or proc.stdout[-2000:]
        raise JarResolutionError(
            f"Maven could not resolve the {profile} jars:\n{detail}\n"
            "If you use a proxy or a mirror, set it in ~/.m2/settings.xml (kappanb runs plain "
            "`mvn`, so your settings apply). Offline, set KAPPANB_JARS_DIR to a pre-filled folder."
        )


_MAVEN_BOILERPLATE = ("re-run maven", "for more information", "[help 1] http", "full stack trace")


def _is_cause(line: str) -> bool:
    """An [ERROR] line of Maven's that says something, not its advice on how to debug."""
    text = line.removeprefix("[ERROR]").strip()
    return (
        line.startswith("[ERROR]")
        and bool(text)
        and not any(phrase in text.lower() for phrase in _MAVEN_BOILERPLATE)
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(root: Path, lock: Lock) -> None:
    """Raise unless ``root`` holds exactly the locked jars with the locked checksums."""
    problems: list[str] = []
    for profile, files in lock.items():
        folder = root / profile
        for name, expected in files.items():
            path = folder / name
            if not path.is_file():
                problems.append(f"missing {profile}/{name}")
            elif sha256_of(path) != expected:
                problems.append(f"wrong checksum {profile}/{name}")
        extra = {p.name for p in folder.glob("*.jar")} - set(files)
        problems.extend(f"unexpected {profile}/{name}" for name in sorted(extra))
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise JarVerificationError(
            f"the jars in {root} do not match kappanb's pinned list:\n  {shown}{more}\n"
            "Run `kappanb setup` to fetch them again (or refill KAPPANB_JARS_DIR)."
        )


def _write_marker(root: Path) -> None:
    (root / _VERIFIED_MARKER).write_text(lock_digest() + "\n")


def write_lock(root: Path, path: Path) -> None:
    """Record the checksums of a freshly resolved folder (a maintainer's step after a pin)."""
    lines = ["# sha256  profile/jar — generated by `python -m kappanb.stack.jars lock`"]
    for profile in PROFILES:
        lines += [
            f"{sha256_of(p)}  {profile}/{p.name}" for p in sorted((root / profile).glob("*.jar"))
        ]
    path.write_text("\n".join(lines) + "\n")


def _main(argv: list[str]) -> int:
    if argv[:1] != ["lock"]:
        print(
            "usage: python -m kappanb.stack.jars lock   # re-resolve the pom and rewrite jars.lock"
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        for profile in PROFILES:
            resolve_profile(profile, Path(tmp) / profile)
        write_lock(Path(tmp), lock_file())
    print(f"wrote {lock_file()}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
