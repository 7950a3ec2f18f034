"""Find a Java runtime the stack can use (17 or newer)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kappanb.exceptions import JavaNotFoundError

MIN_JAVA = 17
_INSTALL_HINT = (
    "Install a JDK 17 or newer (on Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) "
    "or point JAVA_HOME at one."
)


@dataclass(frozen=True)
class JavaRuntime:
    """A java executable and its major version."""

    executable: Path
    major: int

    @property
    def home(self) -> Path:
        return self.executable.resolve().parent.parent


def find_java(env: Mapping[str, str] | None = None) -> JavaRuntime:
    """The java from JAVA_HOME, else from PATH; raise with advice when unusable."""
    env = os.environ if env is None else env
    java_home = env.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if not candidate.is_file():
            raise JavaNotFoundError(
                f"JAVA_HOME={java_home} has no bin/java. Fix or unset JAVA_HOME. {_INSTALL_HINT}"
            )
        source = f"JAVA_HOME={java_home}"
    else:
        found = shutil.which("java", path=env.get("PATH", ""))
        if not found:
            raise JavaNotFoundError(f"Java was not found on PATH. {_INSTALL_HINT}")
        candidate = Path(found)
        source = f"PATH ({found})"
    major = _java_major(candidate)
    if major < MIN_JAVA:
        raise JavaNotFoundError(
            f"Java {major} found via {source}, but Kafka 4 and Flink 2 need Java {MIN_JAVA} "
            f"or newer. {_INSTALL_HINT}"
        )
    return JavaRuntime(candidate, major)


def _java_major(java: Path) -> int:
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        raise JavaNotFoundError(f"{java} could not be run ({exc}). {_INSTALL_HINT}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise JavaNotFoundError(
            f"{java} -version printed no version I understand:\n{out.stderr.strip()[:300]}"
        )
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major
