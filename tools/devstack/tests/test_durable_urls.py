"""A presigned URL from the durable stack opens: the pages show photographs through them."""

from __future__ import annotations

from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config

from labelgraph_devstack import EmbeddedStack
from labelgraph_devstack.clients import aws_client


@pytest.mark.stack
def test_a_presigned_url_signed_with_the_stacks_credentials_serves_the_image(
    tmp_path: Path,
) -> None:
    # ministack checks a presigned URL's signature against its own root key: signed with
    # the credentials every service gets, the URL must open, as the api's do in a browser.
    with EmbeddedStack(tmp_path / "devstack", durable=True) as stack:
        env = stack.env
        bucket, key, body = env["IMAGE_BUCKET"], "alarms/porch/presigned.jpg", b"\xff\xd8jpeg"
        aws_client(env, "s3").put_object(Bucket=bucket, Key=key, Body=body)
        # Signed as the api signs (SigV4, path style), with the credentials it gets.
        signer = boto3.client(
            "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                        ExpiresIn=300)
        answer = httpx.get(url, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.content == body
