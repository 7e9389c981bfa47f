"""A real S3-compatible server on loopback for the object-store tests: S3Proxy.

S3Proxy (org.gaul:s3proxy, Apache-2.0, Maven Central) is a Jetty server speaking the S3 REST
API with AWS signature v2/v4 checks over a filesystem backend: one 55 MB jar that Maven fetches
in ~12 s, Java 17, up in ~2 s. It is a separate process the lake talks to over HTTP, not an
in-process mock. Each server gets fresh random credentials, written only to its own
properties file (mode 600) and handed to the caller; they are never printed.

    python -m tests.object_store serve [--port 9000] [--dir .thresher/s3]   (make object-store)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port, port_open, running

S3PROXY = ("org.gaul", "s3proxy", "4.1.0")
JAR = (
    Path.home()
    / ".m2/repository"
    / S3PROXY[0].replace(".", "/")
    / S3PROXY[1]
    / S3PROXY[2]
    / f"{S3PROXY[1]}-{S3PROXY[2]}-jar-with-dependencies.jar"
)


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def environment(self) -> dict[str, str]:
        """What a process needs to reach the store: the AWS SDKs' standard variables."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ALLOW_HTTP": "true",  # deltalake's switch for a plain-HTTP endpoint
        }

    def create_bucket(self, name: str) -> None:
        """Create ``name`` through the S3 API (CreateBucket), as an operator would."""
        from pyarrow import fs

        store = fs.S3FileSystem(
            access_key=self.access_key,
            secret_key=self.secret_key,
            endpoint_override=self.endpoint.removeprefix("http://"),
            scheme="http",
            region=self.region,
            allow_bucket_creation=True,
        )
        store.create_dir(name)


def s3proxy_jar() -> Path:
    """The S3Proxy jar from the local Maven repository, fetched from Maven Central if absent."""
    if JAR.is_file():
        return JAR
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("S3Proxy is fetched with Maven: install it (apt-get install maven)")
    artifact = ":".join([*S3PROXY, "jar", "jar-with-dependencies"])
    subprocess.run(
        [mvn, "-q", "dependency:get", f"-Dartifact={artifact}", "-Dtransitive=false"],
        check=True,
        timeout=600,
    )
    return JAR


@contextlib.contextmanager
def s3_server(folder: Path, port: int | None = None) -> Iterator[S3Server]:
    """Run S3Proxy on 127.0.0.1 over ``folder`` until the block ends."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("S3Proxy needs a Java 17 runtime on PATH")
    jar = s3proxy_jar()
    port = port or free_port()
    data = folder / "buckets"
    data.mkdir(parents=True, exist_ok=True)
    server = S3Server(
        f"http://127.0.0.1:{port}", f"thresher-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    )
    properties = folder / "s3proxy.properties"
    properties.touch(mode=0o600)
    properties.write_text(
        f"s3proxy.endpoint={server.endpoint}\n"
        "s3proxy.authorization=aws-v2-or-v4\n"
        f"s3proxy.identity={server.access_key}\n"
        f"s3proxy.credential={server.secret_key}\n"
        "jclouds.provider=filesystem-nio2\n"
        f"jclouds.filesystem.basedir={data}\n"
    )
    argv = [java, "-jar", str(jar), "--properties", str(properties)]
    with running(
        argv,
        log=folder / "s3proxy.log",
        ready=port_open(port),
        env={**os.environ, "LOG_LEVEL": "warn"},
        timeout=60,
    ):
        yield server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="S3Proxy on loopback for a lake at s3a://")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a server until Ctrl-C, with a bucket 'thresher'")
    serve.add_argument("--port", type=int, default=9000)
    serve.add_argument("--dir", type=Path, default=Path(".thresher/s3"))
    sub.add_parser("install", help="fetch the S3Proxy jar from Maven Central")
    args = parser.parse_args(argv)
    if args.command == "install":
        print(s3proxy_jar())
        return
    folder = args.dir.resolve()
    # A plain `kill` ends the server too: SystemExit unwinds the context, which stops S3Proxy.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with s3_server(folder, args.port) as server:
        server.create_bucket("thresher")
        env_file = folder / "credentials.env"
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"export {k}='{v}'\n" for k, v in server.environment().items()))
        print(f"S3Proxy at {server.endpoint}, bucket 'thresher', data in {folder / 'buckets'}")
        print(f"credentials: source {env_file}; then THRESHER_STORAGE_ROOT=s3a://thresher/lake")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
