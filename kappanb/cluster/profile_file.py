"""The profile file `kappanb cluster up` writes: profile ``local-cluster`` reaches the local
cluster as any existing cluster is reached (kappanb.profiles.load describes the format).

Kafka through the SASL listeners, Flink's REST API with its state on S3, the Iceberg REST
catalog with S3 file IO. Every secret is named by its file (``{file: PATH}``), never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from kappanb.cluster import flink_nodes, kafka_nodes, object_store
from kappanb.cluster.layout import PROFILE_NAME, WAREHOUSE_BUCKET, ClusterLayout
from kappanb.cluster.secrets import KAFKA_USER


def profile(layout: ClusterLayout, ports: Mapping[str, int]) -> dict[str, Any]:
    """The profile ``local-cluster`` as the profile file holds it."""

    def secret(path: object) -> dict[str, str]:
        return {"file": str(path)}

    s3 = object_store.s3_url(ports)
    catalog = object_store.catalog_url(ports)
    return {
        "kafka": {
            "bootstrap_servers": kafka_nodes.sasl_bootstrap(ports),
            "properties": {
                "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "PLAIN",
                "sasl.username": KAFKA_USER,
            },
            "secrets": {"sasl.password": secret(layout.kafka_password)},
        },
        "flink": {
            "rest_url": flink_nodes.rest_url(ports),
            "checkpoints": flink_nodes.CHECKPOINTS,
            "savepoints": flink_nodes.SAVEPOINTS,
            "job_archive": flink_nodes.JOB_ARCHIVE,
            "state_backend": "rocksdb",
            "properties": {
                "s3.endpoint": s3,
                "s3.path.style.access": "true",
                "s3.endpoint.region": flink_nodes.S3_REGION,
            },
            "secrets": {
                "s3.access-key": secret(layout.s3_access_key),
                "s3.secret-key": secret(layout.s3_secret_key),
            },
        },
        "iceberg": {
            "uri": catalog,
            "warehouse": f"s3://{WAREHOUSE_BUCKET}",
            "properties": {
                "rest.auth.type": "oauth2",
                "oauth2-server-uri": f"{catalog}/v1/oauth/tokens",
                "view-endpoints-supported": "true",
                "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
                "s3.endpoint": s3,
                "s3.path-style-access": "true",
                "s3.region": object_store.REGION,
                "client.region": object_store.REGION,
            },
            "secrets": {
                "credential": secret(layout.catalog_credential),
                "s3.access-key-id": secret(layout.s3_access_key),
                "s3.secret-access-key": secret(layout.s3_secret_key),
            },
        },
    }


def write_profile_file(layout: ClusterLayout, ports: Mapping[str, int]) -> None:
    """Write (or rewrite: the ports may have moved) the cluster's profile file."""
    head = (
        f"# Written by `kappanb cluster up` for the local cluster in {layout.home};\n"
        "# each `up` writes it again. Secrets are named by their files, never written here.\n"
        f"# Use it: KAPPANB_CONFIG={layout.profile_file} kappanb --profile {PROFILE_NAME} "
        "status\n"
    )
    # local_cluster: the cluster's home (no secret), so that `up` on the profile starts
    # what of it is stopped and kappanb knows its TaskManagers' processes.
    own = {**profile(layout, ports), "local_cluster": str(layout.home)}
    data = {"default": PROFILE_NAME, "profiles": {PROFILE_NAME: own}}
    tmp = layout.profile_file.with_suffix(".tmp")
    tmp.write_text(head + yaml.safe_dump(data, sort_keys=False))
    tmp.replace(layout.profile_file)
