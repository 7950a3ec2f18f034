"""kappanb's own Flink format, ``kappa-json``: compiled from the Java source in kappanb/jvm/formats.

The format wraps Flink's JSON format so a malformed event becomes a row with its reason
instead of a failed job (see docs/reliability.md). It is compiled with ``javac`` against
the very Flink jars of the apache-flink wheel (no download, no version drift), once per
source digest, into the per-user cache, and linked into each home's flink/lib.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from kappanb.exceptions import FormatBuildError

JAR_NAME = "kappanb-formats.jar"
_SERVICE = "META-INF/services/org.apache.flink.table.factories.Factory"


def source_root() -> Path:
    return Path(str(resources.files("kappanb") / "jvm" / "formats" / "src" / "main"))


def _sources() -> list[Path]:
    return sorted((source_root() / "java").rglob("*.java"))


def source_digest(flink_lib: Path) -> str:
    """Digest of the Java sources, the service file and the Flink jars they compile against."""
    digest = hashlib.sha256()
    for path in [*_sources(), source_root() / "resources" / _SERVICE]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for jar in sorted(flink_lib.glob("*.jar")):
        digest.update(jar.name.encode())
    return digest.hexdigest()[:12]


def formats_jar(
    cache_dir: Path, flink_lib: Path, say: Callable[[str], None] = lambda _m: None
) -> Path:
    """The compiled format jar, building it first when the cache has none for this source."""
    target = cache_dir / "formats" / source_digest(flink_lib) / JAR_NAME
    if target.is_file():
        return target
    javac = shutil.which("javac")
    if javac is None:
        raise FormatBuildError(
            "javac is needed once to compile kappanb's kappa-json format and is not on PATH: "
            "install a JDK 17 (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`), "
            "the same one Maven uses"
        )
    say("compiling kappanb's kappa-json format (once) ...")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kappanb-formats-") as tmp:
        classes = Path(tmp) / "classes"
        argv = [javac, "--release", "11", "-nowarn", "-d", str(classes),
                "-cp", str(flink_lib / "*"), *map(str, _sources())]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise FormatBuildError(f"javac could not compile the kappa-json format:\n{proc.stderr}")
        staged = target.with_suffix(".tmp")
        with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as jar:
            for path in sorted(classes.rglob("*.class")):
                jar.write(path, path.relative_to(classes).as_posix())
            jar.write(source_root() / "resources" / _SERVICE, _SERVICE)
        staged.replace(target)
    return target
